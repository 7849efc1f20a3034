"""Status lifecycles of records that move on their own (sync runs, webhook events and deliveries, Metrc transfer
links, compliance checks): the allowed moves in one table, and the one function that makes a move, checks it and
writes the audit entry in the same transaction.

Records with richer rules (orders, lots, disputes, connections) keep their own transition functions with parties
and verbs; this is for the machine-driven ones, whose rule is simply "from these statuses to those".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from icc_app.core import audit
from icc_app.core.errors import Conflict


def _value(status: Any) -> str:
    return str(getattr(status, "value", status) or "")


@dataclass(frozen=True)
class Lifecycle:
    """`moves` maps a status to the statuses it may move to ("" is a record being created with that status).
    A status listed among its own targets may be re-entered (a lease taken over, a retry rescheduled)."""

    object_type: str  # the audit log's object type ("integration_sync_run")
    action: str  # the audit action prefix ("integrations.sync_run"): the entry is "<action>.<new status>"
    moves: Mapping[str, Iterable[str]]
    labels: Mapping[str, str] | None = None  # human words for the statuses, for the refusal

    def label(self, status: str) -> str:
        return (self.labels or {}).get(status, status.replace("_", " ") or "new")

    def allowed(self, current: Any, target: Any) -> bool:
        return _value(target) in set(self.moves.get(_value(current), ()))

    def move(self, session: Session, record: Any, to: Any, *, actor_id: uuid.UUID | None = None,
             why: str = "", business_id: uuid.UUID | None = None, **changes: Any) -> Any:
        """Move `record` to `to`, set `changes` on its fields, and audit the move (with `why`); a move the table does not allow is
        refused (Conflict) and changes nothing."""
        current, target = _value(record.status), _value(to)
        if not self.allowed(current, target):
            raise Conflict(f"A {self.object_type.replace('_', ' ')} cannot go from {self.label(current)} to "
                           f"{self.label(target)}.")
        record.status = to
        for name, value in changes.items():
            setattr(record, name, value)
        session.add(record)
        session.flush()  # the record's id exists before the audit entry names it
        after: dict[str, Any] = {"status": target}
        if why:
            after["why"] = why[:300]
        audit.record(session, action=f"{self.action}.{target}", object_type=self.object_type, object_id=record.id,
                     actor_id=actor_id, business_id=business_id or getattr(record, "business_id", None),
                     before={"status": current} if current else None, after=after)
        return record
