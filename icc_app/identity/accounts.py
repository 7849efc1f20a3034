"""Accounts: sign-up (business members and consumers, with the 21+ age gate and pseudonymous handles), email
verification, password reset and change.

Email, phone and birth date are encrypted at rest; `email_lookup` (a keyed hash) finds an account by email.

Sign-up answers the same for a new and a taken address (the owner of a taken one gets an email instead), and is
rate limited per IP and per address like sign-in, so the form cannot be used to find out who has an account.
Passwords are scored by zxcvbn (with the person's own name and email as known words) and checked against the
30,000 most common breached passwords that the zxcvbn package ships (offline, nothing is downloaded).
"""

from __future__ import annotations

import functools
import re
import uuid
from datetime import date

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from sqlmodel import Session, col, select

from icc_app.core import audit, notifications
from icc_app.core.errors import Conflict, RateLimited, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import RateLimiter, email_lookup, hash_password, verify_password
from icc_app.identity import tokens
from icc_app.identity.models import TokenPurpose, User, UserKind, UserSession

MIN_PASSWORD_LENGTH = 10
MIN_CONSUMER_AGE = 21
HANDLE_RE = re.compile(r"^[a-z0-9_]{3,30}$")
MIN_PASSWORD_SCORE = 3  # zxcvbn 0-4; 3 is "safely unguessable: moderate protection from offline attacks"
reset_by_account = RateLimiter(name="reset-account", limit=3, window_seconds=3600)
signup_by_ip = RateLimiter(name="signup-ip", limit=20, window_seconds=3600)
signup_by_address = RateLimiter(name="signup-address", limit=3, window_seconds=3600)
_EDGES = re.compile(r"^[^a-z]+|[^a-z]+$")
_LEET = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or domain.startswith(".") or " " in email or len(email) > 320:
        raise ValidationFailed("Enter a valid email address.", field="email")
    return email


@functools.cache
def _breached() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def is_breached(password: str) -> bool:
    """In the common-breached list as typed, without the digits and symbols around a word ("Summer2026!"),
    or with its look-alike characters read back ("P@ssw0rd")."""
    lowered = (password or "").lower()
    candidates = {lowered, _EDGES.sub("", lowered), lowered.translate(_LEET), _EDGES.sub("", lowered.translate(_LEET))}
    return any(c and c in _breached() for c in candidates)


def validate_password(password: str, *, known_words: tuple[str, ...] = ()) -> None:
    """Refuse short, breached and guessable passwords with a message that says how to pick a better one.
    `known_words` (the person's name, email) count as guessable too."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if len(password) > 256:
        raise ValidationFailed("Use at most 256 characters.", field="password")
    if is_breached(password):
        raise ValidationFailed("This password (or a common word with digits and symbols added) appears in lists "
                               "of breached passwords. Use three or four unrelated words instead.", field="password")
    words = {part for w in known_words for part in [w, *re.split(r"[\s@._-]+", w or "")] if len(part or "") > 2}
    result = zxcvbn(password[:100], user_inputs=sorted(words))
    if result["score"] < MIN_PASSWORD_SCORE:
        feedback = result.get("feedback") or {}
        hint = " ".join([feedback.get("warning") or "", *(feedback.get("suggestions") or [])]).strip()
        raise ValidationFailed(f"This password is too easy to guess. {hint or 'Add another word or two.'}",
                               field="password")


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
    validate_password(password, known_words=(email, email.partition("@")[0], display_name or "", handle or ""))
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


def _taken_address(session: Session, *, email: str, password: str, ip: str | None, known: tuple[str, ...]
                   ) -> User | None:
    """The shared front of both sign-ups: the rate limits (for callers from the network, who pass `ip`), the
    same input checks whatever the address, then the account already using the address, if any."""
    email = normalize_email(email)
    validate_password(password, known_words=(email, email.partition("@")[0], *known))
    if ip is not None:  # counted once the form is valid: fixing a typo does not use up the allowance
        signup_by_ip.hit(ip)
        signup_by_address.hit(email_lookup(email))
    return find_user_by_email(session, email)


def _tell_owner(session: Session, owner: User, password: str, ip: str | None) -> None:
    """Someone signed up with a taken address: the owner is told by email; the caller sees the usual answer."""
    hash_password(password)  # the same argon2 time as creating an account
    send_email(session, to=owner.email, template="signup_existing", context={"name": owner.display_name})
    audit.record(session, action="identity.sign_up.existing_address", object_type="user", object_id=owner.id, ip=ip)


def sign_up_operator(session: Session, *, email: str, password: str, display_name: str, ip: str | None = None
                     ) -> User | None:
    """A person who will run or join a licensed business; onboarding (KYB) comes next, once they sign in.
    Returns None (and emails the owner) when the address already has an account: tell the caller the same
    thing either way ("we sent you an email")."""
    if not (display_name or "").strip():
        raise ValidationFailed("Enter a name.", field="display_name")
    owner = _taken_address(session, email=email, password=password, ip=ip, known=(display_name,))
    if owner is not None:
        _tell_owner(session, owner, password, ip)
        return None
    user = create_user(session, email=email, password=password, display_name=display_name)
    send_verification_email(session, user=user)
    return user


def sign_up_consumer(session: Session, *, email: str, password: str, handle: str, birth_date: date | None,
                     phone: str | None = None, ip: str | None = None) -> User | None:
    """A pseudonymous consumer: a public handle, no real name; email, phone and birth date stay encrypted.
    None when the address is taken (the owner is emailed), as for sign_up_operator."""
    if birth_date is None:
        raise ValidationFailed("Enter your birth date.", field="birth_date")
    check_age(birth_date)
    handle = validate_handle(session, handle)
    owner = _taken_address(session, email=email, password=password, ip=ip, known=(handle,))
    if owner is not None:
        _tell_owner(session, owner, password, ip)
        return None
    user = create_user(session, email=email, password=password, display_name=handle, kind=UserKind.consumer,
                       handle=handle, birth_date=birth_date, phone=phone)
    send_verification_email(session, user=user)
    return user


def send_email(session: Session, *, to: str, template: str, context: dict) -> None:
    """Queue one email through the outbox: sent after the commit, once however often its task runs."""
    notifications.queue_email(session, to=to, template=template, context=context)


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
    validate_password(new_password, known_words=(user.email, user.display_name, user.handle or ""))
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
