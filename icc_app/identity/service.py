"""Accounts: sign-up (business members and consumers), email verification, password reset, sign-in with an
optional second factor, and the sessions a person can list and revoke.

Sign-in is rate limited per account and per IP; every authentication event, success or failure, is audited. A
session cookie carries a random token; the database keeps only its keyed hash, so a leaked table signs nobody
in. Email addresses are encrypted; `email_lookup` (a keyed hash) finds them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.db import enqueue
from icc_app.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.notifications import render_email
from icc_app.core.security import (
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
from icc_app.identity.schemas import LicenseClaim, MembershipRead, Principal, SessionRead

SESSION_LIFETIME = timedelta(days=14)
MIN_PASSWORD_LENGTH = 10
MIN_CONSUMER_AGE = 21
HANDLE_RE = re.compile(r"^[a-z0-9_]{3,30}$")
login_by_account = RateLimiter(name="login-account", limit=5, window_seconds=300)
login_by_ip = RateLimiter(name="login-ip", limit=30, window_seconds=300)
mfa_by_account = RateLimiter(name="mfa-account", limit=10, window_seconds=300)
reset_by_account = RateLimiter(name="reset-account", limit=3, window_seconds=3600)
# Spends the same argon2 time for unknown emails, so response timing does not reveal which accounts exist.
_DUMMY_HASH = hash_password("not-a-real-password-0000")
_COMMON_PASSWORDS = {"password123", "password1234", "qwerty12345", "letmein1234", "welcome1234", "iloveyou123"}


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or domain.startswith(".") or " " in email or len(email) > 320:
        raise ValidationFailed("Enter a valid email address.", field="email")
    return email


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if password.lower() == password or password.upper() == password or not any(c.isdigit() for c in password):
        raise ValidationFailed("Mix upper and lower case letters and at least one digit.", field="password")
    if password.lower() in _COMMON_PASSWORDS:
        raise ValidationFailed("This password is too common.", field="password")


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email_lookup == email_lookup(email))).first()


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    kind: UserKind = UserKind.operator,
    is_platform_admin: bool = False,
    handle: str | None = None,
    birth_date: date | None = None,
    phone: str | None = None,
    actor_id: uuid.UUID | None = None,
    email_verified: bool = False,
) -> User:
    email = normalize_email(email)
    validate_password(password)
    if kind == UserKind.consumer:
        handle = validate_handle(session, handle or display_name)
        display_name = handle
        if birth_date is not None:
            check_age(birth_date)
    if not (display_name or "").strip():
        raise ValidationFailed("Enter a name.", field="display_name")
    if find_user_by_email(session, email):
        raise Conflict("An account with this email already exists.", field="email")
    user = User(
        email=email,
        email_lookup=email_lookup(email),
        display_name=display_name.strip()[:120],
        handle=handle,
        birth_date=birth_date.isoformat() if birth_date else None,
        phone=(phone or "").strip() or None,
        password_hash=hash_password(password),
        kind=kind,
        is_platform_admin=is_platform_admin,
        password_changed_at=utcnow(),
        email_verified_at=utcnow() if email_verified else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        action="identity.user.created",
        object_type="user",
        object_id=user.id,
        actor_id=actor_id or user.id,
        after={"kind": kind.value, "is_platform_admin": is_platform_admin, "handle": handle},  # no PII in the log
    )
    return user


def validate_handle(session: Session, handle: str) -> str:
    handle = (handle or "").strip().lower()
    if not HANDLE_RE.match(handle):
        raise ValidationFailed("Use 3-30 lowercase letters, digits or underscores.", field="handle")
    if session.exec(select(User.id).where(User.handle == handle)).first():
        raise Conflict("This handle is taken.", field="handle")
    return handle


def check_age(birth_date: date, *, today: date | None = None) -> None:
    today = today or date.today()
    if birth_date > today:
        raise ValidationFailed("Enter your real birth date.", field="birth_date")
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if age < MIN_CONSUMER_AGE:
        raise ValidationFailed(f"You must be {MIN_CONSUMER_AGE} or older to use ICC.", field="birth_date")


def sign_up_operator(session: Session, *, email: str, password: str, display_name: str, ip: str | None = None) -> User:
    """A person who will run or join a licensed business; onboarding (KYB) comes next."""
    user = create_user(session, email=email, password=password, display_name=display_name)
    send_verification_email(session, user=user)
    return user


def sign_up_consumer(session: Session, *, email: str, password: str, handle: str, birth_date: date | None,
                     phone: str | None = None) -> User:
    """A pseudonymous consumer: a public handle, no real name; email, phone and birth date stay encrypted."""
    if birth_date is None:
        raise ValidationFailed("Enter your birth date.", field="birth_date")
    check_age(birth_date)
    user = create_user(session, email=email, password=password, display_name=handle, kind=UserKind.consumer,
                       handle=handle, birth_date=birth_date, phone=phone)
    send_verification_email(session, user=user)
    return user


def send_email(session: Session, *, to: str, template: str, context: dict) -> None:
    """Queue one email after the commit; the template is rendered now so a bad one fails the transaction."""
    render_email(template, context)
    enqueue(session, "notifications.send_email", to=to, template=template, context=context)


def send_verification_email(session: Session, *, user: User) -> None:
    if user.email_verified_at is not None:
        return
    token = tokens.issue(session, user_id=user.id, purpose=TokenPurpose.verify_email)
    send_email(session, to=user.email, template="verify_email", context={"name": user.display_name, "token": token})


def verify_email(session: Session, *, token: str) -> User:
    row = tokens.consume(session, raw=token, purpose=TokenPurpose.verify_email, what="verification link")
    user = session.get(User, row.user_id)
    user.email_verified_at = utcnow()
    session.add(user)
    audit.record(session, action="identity.email.verified", object_type="user", object_id=user.id, actor_id=user.id)
    return user


def request_password_reset(session: Session, *, email: str, ip: str | None = None) -> None:
    """Always looks the same to the caller, whether or not the account exists (no enumeration)."""
    user = find_user_by_email(session, (email or "").strip())
    if user is None or not user.is_active:
        return
    try:
        reset_by_account.hit(str(user.id))
    except RateLimited:
        return
    token = tokens.issue(session, user_id=user.id, purpose=TokenPurpose.reset_password)
    send_email(session, to=user.email, template="reset_password", context={"name": user.display_name, "token": token})
    audit.record(session, action="identity.password.reset_requested", object_type="user", object_id=user.id, ip=ip)


def reset_password(session: Session, *, token: str, new_password: str, ip: str | None = None) -> User:
    validate_password(new_password)
    row = tokens.consume(session, raw=token, purpose=TokenPurpose.reset_password, what="reset link")
    user = session.get(User, row.user_id)
    _set_password(session, user, new_password)
    revoked = _revoke_all_sessions(session, user.id)
    audit.record(session, action="identity.password.reset", object_type="user", object_id=user.id, actor_id=user.id,
                 after={"sessions_revoked": revoked}, ip=ip)
    return user


def change_password(session: Session, *, user_id: uuid.UUID, current: str, new_password: str,
                    keep_session_id: uuid.UUID | None = None, ip: str | None = None) -> None:
    user = session.get(User, user_id)
    if user is None or not verify_password(user.password_hash, current or ""):
        raise ValidationFailed("Your current password is not right.", field="current_password")
    validate_password(new_password)
    _set_password(session, user, new_password)
    revoked = _revoke_all_sessions(session, user.id, keep=keep_session_id)
    audit.record(session, action="identity.password.changed", object_type="user", object_id=user.id,
                 actor_id=user.id, after={"other_sessions_revoked": revoked}, ip=ip)


def _set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    session.add(user)


def _revoke_all_sessions(session: Session, user_id: uuid.UUID, keep: uuid.UUID | None = None) -> int:
    count = 0
    for row in session.exec(select(UserSession).where(
        UserSession.user_id == user_id, col(UserSession.revoked_at).is_(None)
    )):
        if row.id != keep:
            row.revoked_at = utcnow()
            session.add(row)
            count += 1
    return count


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
    try:
        login_by_ip.hit(ip or "unknown")
        login_by_account.hit(email_lookup(email))
    except RateLimited as exc:
        audit.record(session, action="identity.sign_in.rate_limited", object_type="user",
                     after={"account": email_lookup(email)[:16]}, ip=ip)
        return SignInOutcome(error=exc.message, retry_after=exc.retry_after)
    user = find_user_by_email(session, email) if email else None
    if user is None or not user.is_active or not verify_password(user.password_hash, password or ""):
        if user is None:
            verify_password(_DUMMY_HASH, password or "")
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
    login_by_account.reset(email_lookup(email))
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
    if not token:
        return None
    row = session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
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
