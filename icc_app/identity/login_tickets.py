"""Login tickets: how a session opened inside a websocket event handler reaches the browser as an HttpOnly cookie.

The sign-in handler (Reflex) cannot set an HttpOnly cookie: it runs over the websocket. So after the password
(and second factor) are checked it asks for a ticket, a random single-use secret that lives two minutes, and
sends the browser to /auth/session?ticket=... (a full navigation). That route redeems the ticket: the session's
token is rotated, so the token minted during sign-in never leaves the server, and the new one is written only
into the Set-Cookie header. Only the keyed hash of a ticket is kept (Redis, or memory in embedded mode, which
runs one process).
"""

from __future__ import annotations

import threading
import time
import uuid

from sqlmodel import Session

from icc_app.core.errors import ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.redis import get_redis
from icc_app.core.security import hash_token, new_token
from icc_app.identity.models import UserSession

TICKET_LIFETIME_SECONDS = 120
_local: dict[str, tuple[str, float]] = {}
_local_lock = threading.Lock()


def _key(ticket: str) -> str:
    return f"login-ticket:{hash_token(ticket or '')}"


def issue(*, session_id: uuid.UUID) -> str:
    """A ticket for a session that was just opened; the raw value goes into one redirect URL."""
    ticket = new_token()
    redis = get_redis()
    if redis is not None:
        redis.set(_key(ticket), str(session_id), ex=TICKET_LIFETIME_SECONDS)
    else:
        with _local_lock:
            now = time.monotonic()
            for key in [k for k, (_, expires) in _local.items() if expires <= now]:
                del _local[key]
            _local[_key(ticket)] = (str(session_id), now + TICKET_LIFETIME_SECONDS)
    return ticket


def _take(ticket: str) -> str | None:
    """The session id behind a ticket, removed in the same step (a second redemption finds nothing)."""
    redis = get_redis()
    if redis is not None:
        return redis.getdel(_key(ticket))
    with _local_lock:
        value = _local.pop(_key(ticket), None)
    return value[0] if value and value[1] > time.monotonic() else None


def redeem(session: Session, *, ticket: str) -> tuple[str, UserSession]:
    """Spend a ticket: rotate its session's token and return the new raw token (for the cookie only)."""
    session_id = _take(ticket) if ticket else None
    row = session.get(UserSession, uuid.UUID(session_id)) if session_id else None
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise ValidationFailed("This sign-in link is not valid any more. Sign in again.", field="ticket")
    token = new_token()
    row.token_hash = hash_token(token)
    session.add(row)
    session.flush()
    return token, row
