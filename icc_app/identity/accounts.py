"""Accounts: sign-up (business members and consumers, with the 21+ age gate and pseudonymous handles), email
verification, password reset and change.

Email, phone and birth date are encrypted at rest; `email_lookup` (a keyed hash) finds an account by email.
"""

from __future__ import annotations

import re
import uuid
from datetime import date

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.db import enqueue
from icc_app.core.errors import Conflict, RateLimited, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.notifications import render_email
from icc_app.core.security import RateLimiter, email_lookup, hash_password, verify_password
from icc_app.identity import tokens
from icc_app.identity.models import TokenPurpose, User, UserKind, UserSession

MIN_PASSWORD_LENGTH = 10
MIN_CONSUMER_AGE = 21
HANDLE_RE = re.compile(r"^[a-z0-9_]{3,30}$")
reset_by_account = RateLimiter(name="reset-account", limit=3, window_seconds=3600)
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
