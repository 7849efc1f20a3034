"""Accounts and sign-in sessions.

Sign-in is rate limited per account and per IP; every attempt, success or failure, is audited. A session
cookie carries a random token; the database keeps only its keyed hash, so a leaked table signs nobody in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, RateLimited, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import (
    RateLimiter,
    hash_password,
    hash_token,
    new_token,
    password_needs_rehash,
    verify_password,
)
from icc_app.identity.models import Business, BusinessMember, BusinessType, Role, User, UserKind, UserSession
from icc_app.identity.schemas import MembershipRead, Principal

SESSION_LIFETIME = timedelta(days=14)
MIN_PASSWORD_LENGTH = 10
login_by_account = RateLimiter(name="login-account", limit=5, window_seconds=300)
login_by_ip = RateLimiter(name="login-ip", limit=30, window_seconds=300)
# Spends the same argon2 time for unknown emails, so response timing does not reveal which accounts exist.
_DUMMY_HASH = hash_password("not-a-real-password-0000")


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise ValidationFailed("Enter a valid email address.", field="email")
    return email


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if password.lower() == password or password.upper() == password or not any(c.isdigit() for c in password):
        raise ValidationFailed("Mix upper and lower case letters and at least one digit.", field="password")


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    kind: UserKind = UserKind.operator,
    is_platform_admin: bool = False,
    actor_id: uuid.UUID | None = None,
) -> User:
    email = normalize_email(email)
    validate_password(password)
    if not display_name.strip():
        raise ValidationFailed("Enter a name.", field="display_name")
    if session.exec(select(User.id).where(User.email == email)).first():
        raise Conflict("An account with this email already exists.", field="email")
    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        kind=kind,
        is_platform_admin=is_platform_admin,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        action="identity.user.created",
        object_type="user",
        object_id=user.id,
        actor_id=actor_id or user.id,
        after={"email": email, "kind": kind.value, "is_platform_admin": is_platform_admin},
    )
    return user


def create_business(
    session: Session, *, legal_name: str, business_type: BusinessType, owner: User, dba: str | None = None
) -> Business:
    business = Business(legal_name=legal_name, dba=dba, business_type=business_type)
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


@dataclass(frozen=True)
class SignInOutcome:
    """The result of one attempt. Failures are returned, not raised, so the caller commits their audit row."""

    token: str | None = None
    principal: Principal | None = None
    error: str | None = None
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return self.token is not None


def sign_in(
    session: Session, *, email: str, password: str, ip: str | None = None, user_agent: str | None = None
) -> SignInOutcome:
    """Check credentials and open a session. On success the raw cookie token is returned (shown once)."""
    email = (email or "").strip().lower()
    try:
        login_by_ip.hit(ip or "unknown")
        login_by_account.hit(email)
    except RateLimited as exc:
        audit.record(
            session, action="identity.sign_in.rate_limited", object_type="user", after={"email": email}, ip=ip
        )
        return SignInOutcome(error=exc.message, retry_after=exc.retry_after)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        if user is None:
            verify_password(_DUMMY_HASH, password)
        audit.record(
            session,
            action="identity.sign_in.failed",
            object_type="user",
            object_id=user.id if user else None,
            actor_id=user.id if user else None,
            after={"email": email, "reason": "inactive" if user and not user.is_active else "bad credentials"},
            ip=ip,
        )
        return SignInOutcome(error="Email or password is incorrect.")
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    login_by_account.reset(email)
    token = new_token()
    user_session = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        expires_at=utcnow() + SESSION_LIFETIME,
        last_seen_at=utcnow(),
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    user.last_login_at = utcnow()
    session.add_all([user, user_session])
    session.flush()
    audit.record(
        session,
        action="identity.sign_in.succeeded",
        object_type="user_session",
        object_id=user_session.id,
        actor_id=user.id,
        ip=ip,
    )
    return SignInOutcome(token=token, principal=build_principal(session, user, session_id=user_session.id))


def build_principal(session: Session, user: User, *, session_id: uuid.UUID | None = None) -> Principal:
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
        memberships=[
            MembershipRead(
                business_id=b.id,
                business_name=b.dba or b.legal_name,
                business_type=b.business_type,
                role=m.role,
                products=list(m.products or []),
            )
            for m, b in rows
        ],
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
