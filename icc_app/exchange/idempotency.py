"""Creating actions are idempotent: a form render (or an API request) carries a key, and a repeat of the same
key by the same business returns what the first one made instead of making another (a double click, a retried
request). The key is claimed with a unique row (business, key) before the object is made; a concurrent repeat
waits on that row's unique index and, once the first commits, reads the first one's object."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from icc_app.core.errors import ValidationFailed
from icc_app.exchange.models import IdempotencyKey

MAX_KEY = 80


def _clean(key: str | None) -> str | None:
    key = (key or "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY or any(ord(c) < 32 for c in key):
        raise ValidationFailed(f"An idempotency key is at most {MAX_KEY} printable characters.", field="idempotency_key")
    return key


def _existing(session: Session, business_id: uuid.UUID, key: str, action: str) -> uuid.UUID | None:
    row = session.exec(select(IdempotencyKey).where(IdempotencyKey.business_id == business_id,
                                                    IdempotencyKey.key == key)).first()
    if row is None:
        return None
    if row.action != action:
        raise ValidationFailed("This idempotency key was already used for another action.", field="idempotency_key")
    return row.object_id


def claim(session: Session, *, business_id: uuid.UUID, key: str | None, action: str) -> uuid.UUID | None:
    """The id of what an earlier request with this key made, or None: the key is new and now this request's."""
    key = _clean(key)
    if key is None:
        return None
    earlier = _existing(session, business_id, key, action)
    if earlier is not None:
        return earlier
    try:
        with session.begin_nested():
            session.add(IdempotencyKey(business_id=business_id, key=key, action=action))
    except IntegrityError:  # a concurrent request with the same key committed first
        return _existing(session, business_id, key, action)
    return None


def settle(session: Session, *, business_id: uuid.UUID, key: str | None, object_id: uuid.UUID) -> None:
    """Record what this request made under its key (same transaction as the object)."""
    key = _clean(key)
    if key is None:
        return
    row = session.exec(select(IdempotencyKey).where(IdempotencyKey.business_id == business_id,
                                                    IdempotencyKey.key == key)).one()
    row.object_id = object_id
    session.add(row)
