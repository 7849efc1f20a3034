"""Single-use secrets sent by email or held by a browser between two steps (verify, reset, MFA challenge).

The raw value goes to the user once; the table keeps its keyed hash, an expiry, the attempts made and when it
was used. Codes typed by hand (6 digits) allow a few attempts before they are spent.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlmodel import Session, col, select

from icc_app.core.errors import ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import hash_token, new_token
from icc_app.identity.models import OneTimeToken, TokenPurpose

LIFETIMES = {
    TokenPurpose.verify_email: timedelta(days=3),
    TokenPurpose.reset_password: timedelta(hours=1),
    TokenPurpose.mfa_challenge: timedelta(minutes=10),
    TokenPurpose.mfa_email_code: timedelta(minutes=10),
}
MAX_CODE_ATTEMPTS = 5


def issue(session: Session, *, user_id: uuid.UUID, purpose: TokenPurpose, context: dict | None = None,
          numeric: bool = False) -> str:
    """Create a token and return its raw value (shown or sent once). Earlier unused ones of the purpose die."""
    for old in session.exec(select(OneTimeToken).where(
        OneTimeToken.user_id == user_id, OneTimeToken.purpose == purpose, col(OneTimeToken.used_at).is_(None)
    )):
        old.used_at = utcnow()
        session.add(old)
    raw = f"{secrets.randbelow(10**6):06d}" if numeric else new_token()
    session.add(OneTimeToken(user_id=user_id, purpose=purpose, token_hash=hash_token(_scoped(raw, user_id, numeric)),
                             expires_at=utcnow() + LIFETIMES[purpose], context=context or {}))
    session.flush()
    return raw


def _scoped(raw: str, user_id: uuid.UUID, numeric: bool) -> str:
    # A 6-digit code is only unique per user: its hash is keyed by the user too.
    return f"{user_id}:{raw}" if numeric else raw


def consume(session: Session, *, raw: str, purpose: TokenPurpose, what: str = "link") -> OneTimeToken:
    """Spend a link token; a clear error when it is unknown, used or expired."""
    row = session.exec(select(OneTimeToken).where(
        OneTimeToken.token_hash == hash_token(raw or ""), OneTimeToken.purpose == purpose
    )).first()
    if row is None:
        raise ValidationFailed(f"This {what} is not valid.", field="token")
    if row.used_at is not None:
        raise ValidationFailed(f"This {what} was already used.", field="token")
    if row.expires_at <= utcnow():
        raise ValidationFailed(f"This {what} has expired. Ask for a new one.", field="token")
    row.used_at = utcnow()
    session.add(row)
    session.flush()
    return row


def check_code(session: Session, *, user_id: uuid.UUID, code: str, purpose: TokenPurpose) -> str | None:
    """Spend a typed code. Returns an error message instead of raising, so the caller commits the attempt
    count (five wrong codes spend it)."""
    row = session.exec(select(OneTimeToken).where(
        OneTimeToken.user_id == user_id, OneTimeToken.purpose == purpose, col(OneTimeToken.used_at).is_(None)
    ).order_by(col(OneTimeToken.created_at).desc())).first()
    if row is None or row.expires_at <= utcnow():
        return "That code has expired. Send a new one."
    if row.token_hash != hash_token(_scoped((code or "").strip(), user_id, True)):
        row.attempts += 1
        if row.attempts >= MAX_CODE_ATTEMPTS:
            row.used_at = utcnow()
        session.add(row)
        session.flush()
        return "That code is not right." if row.used_at is None else "Too many wrong codes. Send a new one."
    row.used_at = utcnow()
    session.add(row)
    session.flush()
    return None


def peek(session: Session, *, raw: str, purpose: TokenPurpose) -> OneTimeToken | None:
    """The live token behind a raw value, without spending it."""
    row = session.exec(select(OneTimeToken).where(
        OneTimeToken.token_hash == hash_token(raw or ""), OneTimeToken.purpose == purpose
    )).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row
