"""Sign-in with an optional second factor, the sessions a person can list and revoke, principals (who is
acting, for which businesses, with which licenses), and businesses with their members. Sign-up, verification
and passwords live in accounts.py and are re-exported here.

Sign-in failures slow down guesses per (account, IP): after a few, each attempt from that address waits twice as
long, so a stranger who knows an address cannot lock its owner out; failures spread over many IPs slow down only
IPs the account has not signed in from before. Attempts per IP are capped too (password spraying). Every
authentication event, success or failure, is audited. A
session cookie carries a random token; the database keeps only its keyed hash, so a leaked table signs nobody
in. Email addresses are encrypted; `email_lookup` (a keyed hash) finds them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import NotFound, RateLimited, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import (
    ProgressiveThrottle,
    RateLimiter,
    email_lookup,
    hash_password,
    hash_token,
    new_token,
    password_needs_rehash,
    verify_password,
)
from icc_app.identity import tokens
from icc_app.identity.models import (
    Business,
    BusinessLicense,
    BusinessMember,
    BusinessType,
    LicenseStatus,
    Role,
    TokenPurpose,
    User,
    UserKind,
    UserSession,
    Verification,
)
from icc_app.identity.accounts import (  # noqa: F401 - the account functions are part of this service's API
    change_password,
    check_age,
    create_user,
    find_user_by_email,
    normalize_email,
    request_password_reset,
    reset_password,
    send_email,
    send_verification_email,
    sign_up_consumer,
    sign_up_operator,
    signup_by_address,
    signup_by_ip,
    validate_handle,
    validate_password,
    verify_email,
)
from icc_app.identity.schemas import LicenseClaim, MembershipRead, Principal, SessionRead

SESSION_LIFETIME = timedelta(days=14)
login_by_ip = RateLimiter(name="login-ip", limit=30, window_seconds=300)
failures_by_account_ip = ProgressiveThrottle(name="login-account-ip", free=5)
failures_by_account = ProgressiveThrottle(name="login-account", free=50)  # many IPs: a distributed guesser
KNOWN_IP_DAYS = 30
mfa_by_account = RateLimiter(name="mfa-account", limit=10, window_seconds=300)
# Spends the same argon2 time for unknown emails, so response timing does not reveal which accounts exist.
_DUMMY_HASH = hash_password("not-a-real-password-0000")


@dataclass(frozen=True)
class SignInOutcome:
    """The result of one attempt. Failures are returned, not raised, so the caller commits their audit row.

    With MFA on, a right password yields `mfa_challenge` (a short-lived secret the browser keeps) and the
    methods that can answer it; `complete_mfa` then opens the session."""

    token: str | None = None
    principal: Principal | None = None
    error: str | None = None
    retry_after: int | None = None
    mfa_challenge: str | None = None
    mfa_methods: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.token is not None


def sign_in(
    session: Session, *, email: str, password: str, ip: str | None = None, user_agent: str | None = None
) -> SignInOutcome:
    """Check credentials; open a session, or ask for the second factor."""
    email = (email or "").strip().lower()
    account = email_lookup(email)
    pair = f"{account}:{ip or 'unknown'}"
    user = find_user_by_email(session, email) if email else None
    try:
        login_by_ip.hit(ip or "unknown")
        wait = failures_by_account_ip.wait_seconds(pair)
        if not wait and not _known_ip(session, user, ip):
            wait = failures_by_account.wait_seconds(account)
        if wait:
            raise RateLimited(f"Too many attempts. Try again in {wait} s.", retry_after=wait)
    except RateLimited as exc:
        audit.record(session, action="identity.sign_in.rate_limited", object_type="user",
                     after={"account": account[:16]}, ip=ip)
        return SignInOutcome(error=exc.message, retry_after=exc.retry_after)
    if user is None or not user.is_active or not verify_password(user.password_hash, password or ""):
        if user is None:
            verify_password(_DUMMY_HASH, password or "")
        failures_by_account_ip.failure(pair)
        failures_by_account.failure(account)
        audit.record(
            session,
            action="identity.sign_in.failed",
            object_type="user",
            object_id=user.id if user else None,
            actor_id=user.id if user else None,
            after={"reason": "inactive" if user and not user.is_active else "bad credentials"},
            ip=ip,
        )
        return SignInOutcome(error="Email or password is incorrect.")
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    failures_by_account_ip.reset(pair)
    if user.mfa_enabled:
        from icc_app.identity import mfa

        challenge = tokens.issue(session, user_id=user.id, purpose=TokenPurpose.mfa_challenge,
                                 context={"ip": ip, "user_agent": (user_agent or "")[:300]})
        methods = mfa.methods_for(user)
        if methods == ["email", "recovery"]:
            mfa.send_email_code(session, user=user)
        audit.record(session, action="identity.sign_in.mfa_required", object_type="user", object_id=user.id,
                     actor_id=user.id, ip=ip)
        return SignInOutcome(mfa_challenge=challenge, mfa_methods=methods)
    return _open_session(session, user, ip=ip, user_agent=user_agent, mfa_verified=False)


def _known_ip(session: Session, user: User | None, ip: str | None) -> bool:
    """The account signed in from this IP within the last month (its owner, most likely): failures from other
    addresses do not slow it down."""
    if user is None or not ip:
        return False
    return session.exec(select(UserSession.id).where(
        UserSession.user_id == user.id, UserSession.ip == ip,
        UserSession.created_at > utcnow() - timedelta(days=KNOWN_IP_DAYS)).limit(1)).first() is not None


def complete_mfa(session: Session, *, challenge: str, code: str, method: str, ip: str | None = None) -> SignInOutcome:
    """Answer the challenge with a TOTP code, an emailed code or a recovery code."""
    from icc_app.identity import mfa

    row = tokens.peek(session, raw=challenge, purpose=TokenPurpose.mfa_challenge)
    if row is None:
        return SignInOutcome(error="This sign-in has expired. Enter your password again.")
    user = session.get(User, row.user_id)
    try:
        mfa_by_account.hit(str(user.id))
    except RateLimited as exc:
        return SignInOutcome(error=exc.message, retry_after=exc.retry_after, mfa_challenge=challenge,
                             mfa_methods=mfa.methods_for(user))
    error = mfa.check_second_factor(session, user=user, method=method, code=code)
    if error:
        audit.record(session, action="identity.sign_in.mfa_failed", object_type="user", object_id=user.id,
                     actor_id=user.id, after={"method": method}, ip=ip)
        return SignInOutcome(error=error, mfa_challenge=challenge, mfa_methods=mfa.methods_for(user))
    tokens.consume(session, raw=challenge, purpose=TokenPurpose.mfa_challenge)
    return _open_session(session, user, ip=ip, user_agent=row.context.get("user_agent"), mfa_verified=True,
                         method=method)


def send_challenge_email_code(session: Session, *, challenge: str) -> bool:
    """'Email me a code' on the second sign-in step; False when the challenge has expired."""
    from icc_app.identity import mfa

    row = tokens.peek(session, raw=challenge, purpose=TokenPurpose.mfa_challenge)
    user = session.get(User, row.user_id) if row else None
    if user is None or "email" not in mfa.methods_for(user):
        return False
    mfa.send_email_code(session, user=user)
    return True


def open_session_for(session: Session, *, user_id: uuid.UUID, ip: str | None = None,
                     user_agent: str | None = None) -> SignInOutcome:
    """Sign a person in right after they proved who they are another way (sign-up, accepted invitation)."""
    user = session.get(User, user_id)
    return _open_session(session, user, ip=ip, user_agent=user_agent, mfa_verified=False, method="sign_up")


def _open_session(session: Session, user: User, *, ip: str | None, user_agent: str | None, mfa_verified: bool,
                  method: str = "password") -> SignInOutcome:
    token = new_token()
    user_session = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        expires_at=utcnow() + SESSION_LIFETIME,
        last_seen_at=utcnow(),
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
        mfa_verified=mfa_verified,
    )
    user.last_login_at = utcnow()
    session.add_all([user, user_session])
    session.flush()
    audit.record(session, action="identity.sign_in.succeeded", object_type="user_session", object_id=user_session.id,
                 actor_id=user.id, after={"method": method}, ip=ip)
    return SignInOutcome(token=token, principal=build_principal(session, user, session_id=user_session.id))


def license_claims(session: Session, business_id: uuid.UUID) -> list[LicenseClaim]:
    rows = session.exec(select(BusinessLicense).where(BusinessLicense.business_id == business_id)
                        .order_by(BusinessLicense.state, BusinessLicense.license_number)).all()
    return [LicenseClaim(number=lic.license_number, state=lic.state, license_type=lic.license_type,
                         verification=Verification(lic.verification), status=LicenseStatus(lic.status),
                         expires_on=lic.expires_on) for lic in rows]


def build_principal(session: Session, user: User, *, session_id: uuid.UUID | None = None,
                    scopes: list[str] | None = None, client_id: str | None = None) -> Principal:
    rows = session.exec(
        select(BusinessMember, Business)
        .join(Business, col(Business.id) == BusinessMember.business_id)
        .where(BusinessMember.user_id == user.id)
        .order_by(Business.legal_name)
    ).all()
    return Principal(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        kind=user.kind,
        is_platform_admin=user.is_platform_admin,
        session_id=session_id,
        mfa_enabled=user.mfa_enabled,
        email_verified=user.email_verified_at is not None,
        scopes=scopes,
        client_id=client_id,
        memberships=[membership_read(session, m, b) for m, b in rows],
    )


def membership_read(session: Session, member: BusinessMember, business: Business) -> MembershipRead:
    return MembershipRead(
        business_id=business.id,
        business_name=business.dba or business.legal_name,
        business_type=business.business_type,
        role=member.role,
        products=list(member.products or []),
        require_mfa=business.require_mfa,
        licenses=license_claims(session, business.id),
    )


def resolve_session(session: Session, *, token: str) -> Principal | None:
    """The principal behind a cookie token, or None when it is unknown, expired or revoked."""
    return resolve_session_hash(session, token_hash=hash_token(token)) if token else None


def resolve_session_hash(session: Session, *, token_hash: str) -> Principal | None:
    """The same, from the keyed hash of the token: what the web app's websocket sees instead of the token
    (core/web_security.py swaps the cookie for its hash), so the UI state never holds a usable credential."""
    if not token_hash:
        return None
    row = session.exec(select(UserSession).where(UserSession.token_hash == token_hash)).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if row.last_seen_at is None or utcnow() - row.last_seen_at > timedelta(minutes=5):
        row.last_seen_at = utcnow()
        session.add(row)
    return build_principal(session, user, session_id=row.id)


def sign_out(session: Session, *, token: str, ip: str | None = None) -> None:
    row = session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    session.add(row)
    audit.record(
        session, action="identity.sign_out", object_type="user_session", object_id=row.id, actor_id=row.user_id, ip=ip
    )


def list_sessions(session: Session, *, user_id: uuid.UUID, current_session_id: uuid.UUID | None = None
                  ) -> list[SessionRead]:
    rows = session.exec(select(UserSession).where(
        UserSession.user_id == user_id, col(UserSession.revoked_at).is_(None), UserSession.expires_at > utcnow()
    ).order_by(col(UserSession.last_seen_at).desc())).all()
    return [SessionRead(id=r.id, created_at=r.created_at, last_seen_at=r.last_seen_at, ip=r.ip,
                        user_agent=r.user_agent, current=r.id == current_session_id) for r in rows]


def revoke_session(session: Session, *, user_id: uuid.UUID, session_id: uuid.UUID, ip: str | None = None) -> None:
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFound("Session not found.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        audit.record(session, action="identity.session.revoked", object_type="user_session", object_id=row.id,
                     actor_id=user_id, ip=ip)


def create_business(
    session: Session, *, legal_name: str, business_type: BusinessType, owner: User, dba: str | None = None,
    street: str | None = None, city: str | None = None, state: str | None = None, postal_code: str | None = None,
    phone: str | None = None, timezone: str | None = None,
) -> Business:
    """The business a person onboards; they become its first Admin."""
    legal_name = (legal_name or "").strip()
    if len(legal_name) < 2:
        raise ValidationFailed("Enter the business's legal name.", field="legal_name")
    if owner.kind != UserKind.operator:
        raise ValidationFailed("Consumer accounts cannot own a business; sign up as a business.", field="owner")
    state = (state or "").strip().upper() or None
    if state is not None and not re.fullmatch(r"[A-Z]{2}", state):
        raise ValidationFailed("Use the two-letter state code.", field="state")
    business = Business(legal_name=legal_name, dba=(dba or "").strip() or None, business_type=business_type,
                        street=street, city=city, state=state, postal_code=postal_code, phone=phone,
                        **({"timezone": timezone} if timezone else {}))
    session.add(business)
    session.flush()
    session.add(BusinessMember(business_id=business.id, user_id=owner.id, role=Role.admin, products=[]))
    audit.record(
        session,
        action="identity.business.created",
        object_type="business",
        object_id=business.id,
        actor_id=owner.id,
        business_id=business.id,
        after={"legal_name": legal_name, "business_type": business_type.value, "admin": str(owner.id)},
    )
    return business


def add_member(
    session: Session, *, business: Business, user: User, role: Role, products: list[str], actor_id: uuid.UUID
) -> BusinessMember:
    member = BusinessMember(business_id=business.id, user_id=user.id, role=role, products=products)
    session.add(member)
    session.flush()
    audit.record(
        session,
        action="identity.member.added",
        object_type="business_member",
        object_id=member.id,
        actor_id=actor_id,
        business_id=business.id,
        after={"user": str(user.id), "role": role.value, "products": products},
    )
    return member
