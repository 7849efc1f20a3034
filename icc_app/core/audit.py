"""Append-only, hash-chained audit log.

Every state change writes one row: who did what to which object, the before/after values, from which IP.
Each row stores the hash of the previous row and its own hash over its content, so editing or deleting any
row breaks the chain from that point on, and `python -m icc_app.cli audit verify` reports where. On
PostgreSQL a trigger also refuses UPDATE and DELETE on the table (see the foundation migration).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, select

from icc_app.core.models import UTCDateTime, utcnow

GENESIS_HASH = "0" * 64
# Serializes appends so that two transactions never chain onto the same previous row.
_AUDIT_LOCK_KEY = 0x1CC_A0D1


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    business_id: uuid.UUID | None = Field(default=None, index=True)
    action: str = Field(max_length=100, index=True)
    object_type: str = Field(max_length=60)
    object_id: str | None = Field(default=None, max_length=64)
    before: dict | None = Field(default=None, sa_type=sa.JSON)
    after: dict | None = Field(default=None, sa_type=sa.JSON)
    ip: str | None = Field(default=None, max_length=45)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # UUID, Decimal, enums, dates


def _row_hash(row: AuditLog) -> str:
    payload = {
        "prev_hash": row.prev_hash,
        "occurred_at": row.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": str(row.actor_id) if row.actor_id else None,
        "business_id": str(row.business_id) if row.business_id else None,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "before": row.before,
        "after": row.after,
        "ip": row.ip,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: Any = None,
    actor_id: uuid.UUID | None = None,
    business_id: uuid.UUID | None = None,
    before: dict | None = None,
    after: dict | None = None,
    ip: str | None = None,
) -> AuditLog:
    """Append one audit row in the caller's transaction (it is kept only if the change is)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})
    last_hash = session.exec(select(AuditLog.hash).order_by(AuditLog.id.desc()).limit(1)).first()
    row = AuditLog(
        actor_id=actor_id,
        business_id=business_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        ip=ip,
        prev_hash=last_hash or GENESIS_HASH,
    )
    row.hash = _row_hash(row)
    session.add(row)
    session.flush()
    return row


def list_entries(
    session: Session, *, action_contains: str = "", limit: int = 25, offset: int = 0
) -> tuple[list[AuditLog], int]:
    """Newest first, optionally filtered by a fragment of the action name; returns (rows, total)."""
    query = select(AuditLog)
    count = select(sa.func.count()).select_from(AuditLog)
    if action_contains.strip():
        like = f"%{action_contains.strip()}%"
        query = query.where(AuditLog.action.ilike(like))
        count = count.where(AuditLog.action.ilike(like))
    total = session.exec(count).one()
    rows = session.exec(query.order_by(AuditLog.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


@dataclass(frozen=True)
class ChainReport:
    rows_checked: int
    ok: bool
    first_bad_id: int | None = None
    problem: str | None = None


def verify_chain(session: Session, *, batch_size: int = 5000) -> ChainReport:
    """Walk the chain in id order; report the first row whose content or link does not match."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditLog).where(AuditLog.id > last_id).order_by(AuditLog.id).limit(batch_size)
        ).all()
        if not rows:
            return ChainReport(rows_checked=checked, ok=True)
        for row in rows:
            if row.prev_hash != expected_prev:
                return ChainReport(checked, False, row.id, "link broken: a row before it was changed or deleted")
            if _row_hash(row) != row.hash:
                return ChainReport(checked, False, row.id, "content changed after it was written")
            expected_prev = row.hash
            checked += 1
            last_id = row.id
        session.expunge_all()
