"""Incoming vendor webhooks: one endpoint per vendor. A delivery is verified by the adapter of the connection it
belongs to (signature or token, timestamp window), made idempotent by the vendor's event id (a replay is answered
"duplicate" and changes nothing), stored raw with what it maps to, and applied by a task on the default queue.
A delivery that no connection can verify is refused with its reason, logged and kept (status "rejected")."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.errors import NotFound
from icc_app.core.lifecycle import Lifecycle
from icc_app.core.models import utcnow
from icc_app.integrations import apply, base, normalize, service
from icc_app.integrations.models import Connection, WebhookEvent

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
SECRET_HEADERS = {"authorization", "cookie", "x-api-key", "proxy-authorization"}
_SYNCING = ("new", "healthy", "failing")


class Rejected(base.WebhookRejected):
    pass


# ------------------------------------------------------------------------------- records <-> JSON (stored)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$dec"}:
            return Decimal(value["$dec"])
        if set(value) == {"$dt"}:
            return datetime.fromisoformat(value["$dt"])
        if set(value) == {"$date"}:
            return date.fromisoformat(value["$date"])
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return value


def message_to_json(message: base.WebhookMessage) -> dict:
    return normalize.storable(_plain({"menu": [dataclasses.asdict(r) for r in message.menu],
                   "sales": [dataclasses.asdict(s) for s in message.sales]}))


def records_from_json(data: dict) -> tuple[list[base.MenuRecord], list[base.SaleRecord]]:
    data = _typed(data)
    menu = []
    for raw in data.get("menu", []):
        inventory = base.InventoryRecord(**raw["inventory"]) if raw.get("inventory") else None
        menu.append(base.MenuRecord(**{**raw, "inventory": inventory}))
    sales = [base.SaleRecord(**{**raw, "lines": [base.SaleLineRecord(**line) for line in raw.get("lines", [])]})
             for raw in data.get("sales", [])]
    return menu, sales


# ------------------------------------------------------------------------------- receiving


def _body_for_storage(body: bytes) -> Any:
    try:
        return normalize.storable(json.loads(body))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {"text": body[:10_000].decode("utf-8", errors="replace").replace("\x00", "")}


def _candidates(session: Session, vendor: str, body: bytes, connection_id: uuid.UUID | None) -> list[Connection]:
    query = select(Connection).where(Connection.vendor == vendor, col(Connection.status).in_(_SYNCING))
    if connection_id is not None:
        query = query.where(Connection.id == connection_id)
    connections = list(session.exec(query.order_by(col(Connection.created_at))))
    text = body.decode("utf-8", errors="replace")
    named = [c for c in connections if c.location_id and c.location_id in text]
    return named or connections


def receive(session: Session, *, vendor: str, headers: Mapping[str, str], body: bytes,
            connection_id: uuid.UUID | None = None, now: datetime | None = None) -> tuple[WebhookEvent, bool]:
    """Verify and store one delivery. Returns (event, duplicate). Raises Rejected (the reason) or NotFound."""
    now = now or utcnow()
    if vendor not in base.VENDOR_LABELS:
        raise NotFound("No webhooks are received for that vendor.")
    try:
        adapter_cls = base.adapter_class(vendor)
    except base.Unsupported:
        raise NotFound("No webhooks are received for that vendor.") from None
    if base.Capability.webhooks not in adapter_cls.capabilities:
        raise NotFound(f"{base.VENDOR_LABELS[vendor]} does not send webhooks to ICC.")
    headers = {k.lower(): v for k, v in headers.items()}
    if len(body) > MAX_BODY_BYTES:
        raise _reject(session, vendor, body, headers, "The body is larger than 1 MB.")
    reason = "No connection of this vendor is set up to receive webhooks."
    for connection in _candidates(session, vendor, body, connection_id):
        if not connection.webhook_secret:
            reason = "The connection has no webhook secret: set one in the console first."
            continue
        adapter = base.make_adapter(service.config_for(connection))
        try:
            message = adapter.verify_webhook(headers, body, now=now)
        except base.WebhookRejected as exc:
            reason = exc.message
            continue
        except base.IntegrationError as exc:
            reason = exc.message
            continue
        finally:
            service._close(adapter)
        return _store(session, connection, message, headers, body)
    raise _reject(session, vendor, body, headers, reason)


def _store(session: Session, connection: Connection, message: base.WebhookMessage, headers: dict[str, str],
           body: bytes) -> tuple[WebhookEvent, bool]:
    event_id = (message.event_id or "")[:200]
    if not event_id:
        raise _reject(session, connection.vendor, body, headers, "The event has no id.")
    existing = session.exec(select(WebhookEvent).where(WebhookEvent.vendor == connection.vendor,
                                                       WebhookEvent.event_id == event_id)).first()
    if existing is not None:
        return existing, True
    event = WebhookEvent(vendor=connection.vendor, event_id=event_id, connection_id=connection.id,
                         business_id=connection.business_id, event_type=(message.event_type or "")[:80],
                         payload={"body": _body_for_storage(body), "mapped": message_to_json(message),
                                  "headers": {k: v[:500] for k, v in headers.items() if k not in SECRET_HEADERS}})
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except sa.exc.IntegrityError:  # the same event delivered twice at the same moment
        existing = session.exec(select(WebhookEvent).where(WebhookEvent.vendor == connection.vendor,
                                                           WebhookEvent.event_id == event_id)).one()
        return existing, True
    enqueue(session, "integrations.process_webhook", str(event.id))
    return event, False


def _reject(session: Session, vendor: str, body: bytes, headers: dict[str, str], reason: str) -> Rejected:
    log.warning("webhook from %s rejected: %s", vendor, reason)
    session.add(WebhookEvent(vendor=vendor, event_id=f"rejected:{uuid.uuid4()}", status="rejected",
                             reason=reason[:500], event_type="",
                             payload={"body": _body_for_storage(body[:10_000]),
                                      "headers": {k: v[:500] for k, v in headers.items() if k not in SECRET_HEADERS}}))
    return Rejected(reason)


# ------------------------------------------------------------------------------- processing

# A rejected delivery is stored as "rejected" and never moves; an accepted one is processed once, or fails with
# its reason (its body is kept; the connection's next scheduled sync reads the same changes from the vendor).
EVENT_LIFECYCLE = Lifecycle(object_type="integration_webhook_event", action="integrations.webhook_event", moves={
    "accepted": ["processed", "failed"],
})


def process(event_id: str | uuid.UUID) -> str:
    """Apply a stored event (menu patches, sales) in one transaction; safe to run twice."""
    with unit_of_work() as session:
        event = session.exec(select(WebhookEvent).where(WebhookEvent.id == uuid.UUID(str(event_id)))
                             .with_for_update()).first()
        if event is None or event.status != "accepted":
            return "skipped"
        connection = session.get(Connection, event.connection_id) if event.connection_id else None
        if connection is None:
            EVENT_LIFECYCLE.move(session, event, "failed", reason="The connection is gone.")
            return "failed"
        menu, sales = records_from_json(event.payload.get("mapped") or {})
        if menu:
            menu = _reconciled(connection, menu, event.id)
        counts = apply.Counts()
        try:
            with session.begin_nested():
                if menu and connection.dispensary_id is not None:
                    apply.apply_menu(session, connection, menu, counts, complete=False)
                if sales:
                    apply.apply_sales(session, connection, sales, counts)
        except Exception as exc:  # noqa: BLE001 - record why, keep the event and its body
            log.exception("webhook event %s failed", event.id)
            EVENT_LIFECYCLE.move(session, event, "failed", reason=f"{type(exc).__name__}: {str(exc)[:300]}")
            return "failed"
        EVENT_LIFECYCLE.move(session, event, "processed", processed_at=utcnow(),
                             reason="; ".join(f"{e['item']}: {e['reason']}" for e in counts.errors)[:500])
        return "processed"


def _reconciled(connection: Connection, menu: list[base.MenuRecord], event_id: uuid.UUID) -> list[base.MenuRecord]:
    """A vendor whose event counts one package of a product (Treez) can correct it from its list; if that read
    fails, the event's own count is kept (the next poll settles it)."""
    adapter = base.make_adapter(service.config_for(connection))
    try:
        reconcile = getattr(adapter, "reconcile_patches", None)
        return reconcile(menu) if callable(reconcile) else menu
    except base.IntegrationError as exc:
        log.warning("webhook event %s: kept the event's count (%s)", event_id, exc.message)
        return menu
    finally:
        service._close(adapter)
