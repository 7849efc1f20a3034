"""Append-only, keyed hash-chained audit log with checkpoints kept outside the database.

Every state change writes one row: who did what to which object, the before/after values, from which IP.
Each row stores the hash of the previous row and its own HMAC-SHA256 over its content, keyed with a secret
that is not in the database (AUDIT_KEY, or one derived from SECRET_KEY under its own label). Editing a row
and re-chaining the rest needs that key. Deleting the newest rows leaves a valid but shorter chain, so a beat
task writes a signed checkpoint of the head (id, hash, row count) to storage every few minutes; verify checks
the chain still contains the newest checkpoint's head. `python -m icc_app.cli audit verify` reports where the
chain breaks. On PostgreSQL a trigger also refuses UPDATE and DELETE on the table (foundation migration).

Rows written before the chain was keyed (plain SHA-256) still verify, but only before the first keyed row:
a plain row after a keyed one is a re-chain.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, select

from icc_app.core.models import UTCDateTime, utcnow

GENESIS_HASH = "0" * 64
ANCHOR_PREFIX = "audit_anchors"
_KEY_LABEL = b"icc audit chain v1"
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


@functools.cache
def _chain_key(secret: str) -> bytes:
    """The HMAC key: AUDIT_KEY when set, else derived from SECRET_KEY with a label used for nothing else."""
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def chain_key() -> bytes:
    from icc_app.settings import get_settings

    settings = get_settings()
    return _chain_key(settings.audit_key or settings.secret_key)


def _canonical(row: AuditLog) -> bytes:
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
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _row_hash(row: AuditLog) -> str:
    return hmac.new(chain_key(), _canonical(row), hashlib.sha256).hexdigest()


def _legacy_hash(row: AuditLog) -> str:
    """Plain SHA-256 of rows written before the chain was keyed."""
    return hashlib.sha256(_canonical(row)).hexdigest()


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


def verify_chain(session: Session, *, batch_size: int = 5000, anchors: bool = True) -> ChainReport:
    """Walk the chain in id order; report the first row whose content or link does not match, then check that
    the chain still holds the newest signed checkpoint (else its newest rows were deleted or re-chained)."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    keyed_seen = False
    hashes: dict[int, str] = {}
    anchor, anchor_problem = latest_anchor() if anchors else (None, None)
    if anchor_problem:
        return ChainReport(0, False, None, anchor_problem)
    while True:
        rows = session.exec(
            select(AuditLog).where(AuditLog.id > last_id).order_by(AuditLog.id).limit(batch_size)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.prev_hash != expected_prev:
                return ChainReport(checked, False, row.id, "link broken: a row before it was changed or deleted")
            if hmac.compare_digest(_row_hash(row), row.hash):
                keyed_seen = True
            elif keyed_seen or not hmac.compare_digest(_legacy_hash(row), row.hash):
                return ChainReport(checked, False, row.id, "content changed after it was written "
                                   "(its keyed hash does not match: edited, or re-chained without the key)")
            expected_prev = row.hash
            checked += 1
            last_id = row.id
            if anchor is not None and row.id == anchor.head_id:
                hashes[row.id] = row.hash
        session.expunge_all()
    if anchor is not None:
        if anchor.head_id not in hashes:
            return ChainReport(checked, False, anchor.head_id,
                               f"truncated: the checkpoint of {anchor.written_at} holds row {anchor.head_id} "
                               f"({anchor.rows} rows) but the chain ends at row {last_id or 'none'} ({checked} rows)")
        if not hmac.compare_digest(hashes[anchor.head_id], anchor.head_hash):
            return ChainReport(checked, False, anchor.head_id,
                               f"re-chained: row {anchor.head_id} differs from the checkpoint of {anchor.written_at}")
    return ChainReport(rows_checked=checked, ok=True)


# ---------------------------------------------------------------- checkpoints outside the database


@dataclass(frozen=True)
class Anchor:
    head_id: int
    head_hash: str
    rows: int
    written_at: str


def _sign(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(chain_key(), b"anchor|" + canonical, hashlib.sha256).hexdigest()


def write_anchor(session: Session, *, storage=None) -> Anchor | None:
    """Store a signed checkpoint of the chain's head in storage; None while the log is empty."""
    from icc_app.core.storage import get_storage

    head = session.exec(select(AuditLog.id, AuditLog.hash).order_by(AuditLog.id.desc()).limit(1)).first()
    if head is None:
        return None
    latest, _ = latest_anchor(storage)
    if latest is not None and latest.head_id == head[0]:
        return latest  # nothing appended since: a second run writes nothing new
    rows = session.exec(select(sa.func.count()).select_from(AuditLog).where(AuditLog.id <= head[0])).one()
    anchor = Anchor(head_id=head[0], head_hash=head[1], rows=rows, written_at=utcnow().isoformat(timespec="seconds"))
    body = asdict(anchor)
    data = json.dumps({**body, "signature": _sign(body)}, sort_keys=True).encode()
    (storage or get_storage()).save(ANCHOR_PREFIX, data, filename=f"anchor-{anchor.head_id}.json")
    return anchor


def latest_anchor(storage=None) -> tuple[Anchor | None, str | None]:
    """(the checkpoint with the highest head id, None) or (None, what is wrong with a stored checkpoint)."""
    from icc_app.core.storage import get_storage

    storage = storage or get_storage()
    best: Anchor | None = None
    for key in storage.keys(ANCHOR_PREFIX):
        try:
            raw = json.loads(storage.read(key))
            signature = raw.pop("signature")
            anchor = Anchor(**raw)
        except (ValueError, KeyError, TypeError):
            return None, f"checkpoint {key} is unreadable"
        if not hmac.compare_digest(signature, _sign(raw)):
            return None, f"checkpoint {key} has a bad signature (forged, or written with another key)"
        if best is None or anchor.head_id > best.head_id:
            best = anchor
    return best, None
