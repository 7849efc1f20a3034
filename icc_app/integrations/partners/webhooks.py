"""Outbound webhooks to partners: a business's endpoints, the events they subscribe to, and the deliveries.

`emit()` is called in the transaction that made the change; it records one delivery per matching endpoint and the
task "integrations.deliver_partner_webhook" is sent after the commit (nothing is sent for a rolled-back change).
How a delivery is signed, sent and retried is in delivery.py; an Admin can redeliver any delivery (same event id).
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.db import enqueue
from icc_app.core.netguard import internal_addresses
from icc_app.core.errors import NotFound, PermissionDenied, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import new_token
from icc_app.core.validation import safe_text
from icc_app.identity.models import Role
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import Principal
from icc_app.integrations.partners.delivery import DELIVER_TASK
from icc_app.integrations.partners.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from icc_app.settings import get_settings

EMIT_TASK = "integrations.emit_partner_event"
EVENT_TYPES: dict[str, str] = {
    "lot.listed": "A lot of yours was listed on the exchange",
    "lot.updated": "A lot of yours changed (terms, quantity or status)",
    "order.created": "An order was placed (you buy or sell)",
    "order.status_changed": "An order of yours moved to another status",
    "menu.item_changed": "An item on your dispensary's menu was added or changed (price, stock)",
    "ping": "A test event sent from the console",
}
MAX_ENDPOINTS = 10


# ---- endpoints -------------------------------------------------------------------------------------------------


def _manager(principal: Principal, business_id: uuid.UUID) -> None:
    """A signed-in Admin of the business, or a partner key of that business with the webhooks:manage scope."""
    if principal.scopes is None:
        require_member(principal, business_id, min_role=Role.admin)
        return
    require_member(principal, business_id)
    if "webhooks:manage" not in principal.scopes:
        raise PermissionDenied("This token lacks the 'webhooks:manage' scope.")


def loopback_allowed() -> bool:
    """Plain http to localhost is accepted only where the platform itself runs on localhost (development, tests)."""
    host = urlsplit(get_settings().public_url).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1")


def check_url(url: str) -> str:
    url = safe_text(url, "url", max_length=500)
    try:
        parts = urlsplit(url)
        host, _ = (parts.hostname or "").lower(), parts.port
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme not in ("https", "http") or not host or any(c.isspace() for c in url):
        raise ValidationFailed("Give the full address, e.g. https://partner.example.com/icc/webhooks.", field="url")
    if parts.username or parts.password:
        raise ValidationFailed("Leave credentials out of the address; verify our signature instead.", field="url")
    loopback = host == "localhost" or host.endswith(".localhost")
    try:
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    private = bool(internal_addresses(host))  # literal addresses and what a host name resolves to
    if loopback and loopback_allowed():
        return url
    if loopback or private:
        raise ValidationFailed("The address must be reachable on the internet (no local or private addresses).",
                               field="url")
    if parts.scheme != "https":
        raise ValidationFailed("Webhook addresses must use https://.", field="url")
    return url


def _clean_events(events: list[str]) -> list[str]:
    chosen = sorted({(e or "").strip() for e in events if (e or "").strip()})
    if not chosen:
        raise ValidationFailed("Choose at least one event.", field="events")
    if "*" in chosen:
        return ["*"]
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(f"Unknown event {', '.join(unknown)}; choose from {', '.join(EVENT_TYPES)} or *.",
                               field="events")
    return chosen


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def _new_secret() -> str:
    return "whsec_" + new_token(32)


def create_endpoint(session: Session, *, principal: Principal, business_id: uuid.UUID, url: str, events: list[str],
                    description: str = "", ip: str | None = None) -> NewEndpoint:
    _manager(principal, business_id)
    url, events = check_url(url), _clean_events(events)
    description = safe_text(description, "description", max_length=200)
    count = session.exec(select(sa.func.count()).select_from(WebhookEndpoint)
                         .where(WebhookEndpoint.business_id == business_id)).one()
    if count >= MAX_ENDPOINTS:
        raise ValidationFailed(f"A business has at most {MAX_ENDPOINTS} webhook endpoints.", field="url")
    secret = _new_secret()
    endpoint = WebhookEndpoint(business_id=business_id, url=url, events=events, description=description,
                               secret=secret, secret_hint=secret[:10], created_by=principal.user_id)
    session.add(endpoint)
    session.flush()
    audit.record(session, action="integrations.webhook_endpoint.created", object_type="webhook_endpoint",
                 object_id=endpoint.id, actor_id=principal.user_id, business_id=business_id,
                 after={"url": url, "events": events}, ip=ip)
    return NewEndpoint(endpoint, secret)


def own_endpoint(session: Session, principal: Principal, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    ids = [m.business_id for m in principal.memberships]
    endpoint = session.exec(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                                          col(WebhookEndpoint.business_id).in_(ids))).first()
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.")
    _manager(principal, endpoint.business_id)
    return endpoint


def list_endpoints(session: Session, *, principal: Principal, business_id: uuid.UUID) -> list[WebhookEndpoint]:
    _manager(principal, business_id)
    return list(session.exec(select(WebhookEndpoint).where(WebhookEndpoint.business_id == business_id)
                             .order_by(col(WebhookEndpoint.created_at))))


def update_endpoint(session: Session, *, principal: Principal, endpoint_id: uuid.UUID, url: str | None = None,
                    events: list[str] | None = None, description: str | None = None, enabled: bool | None = None,
                    ip: str | None = None) -> WebhookEndpoint:
    endpoint = own_endpoint(session, principal, endpoint_id)
    before = {"url": endpoint.url, "events": endpoint.events, "enabled": endpoint.enabled}
    if url is not None:
        endpoint.url = check_url(url)
    if events is not None:
        endpoint.events = _clean_events(events)
    if description is not None:
        endpoint.description = safe_text(description, "description", max_length=200)
    if enabled is not None:
        endpoint.enabled = bool(enabled)
    session.add(endpoint)
    audit.record(session, action="integrations.webhook_endpoint.updated", object_type="webhook_endpoint",
                 object_id=endpoint.id, actor_id=principal.user_id, business_id=endpoint.business_id, before=before,
                 after={"url": endpoint.url, "events": endpoint.events, "enabled": endpoint.enabled}, ip=ip)
    return endpoint


def rotate_secret(session: Session, *, principal: Principal, endpoint_id: uuid.UUID, ip: str | None = None) -> NewEndpoint:
    """A new signing secret, used from the next attempt on (shown once)."""
    endpoint = own_endpoint(session, principal, endpoint_id)
    secret = _new_secret()
    endpoint.secret, endpoint.secret_hint = secret, secret[:10]
    session.add(endpoint)
    audit.record(session, action="integrations.webhook_endpoint.secret_rotated", object_type="webhook_endpoint",
                 object_id=endpoint.id, actor_id=principal.user_id, business_id=endpoint.business_id, ip=ip)
    return NewEndpoint(endpoint, secret)


def delete_endpoint(session: Session, *, principal: Principal, endpoint_id: uuid.UUID, ip: str | None = None) -> None:
    """Removes the endpoint and its delivery log."""
    endpoint = own_endpoint(session, principal, endpoint_id)
    audit.record(session, action="integrations.webhook_endpoint.deleted", object_type="webhook_endpoint",
                 object_id=endpoint.id, actor_id=principal.user_id, business_id=endpoint.business_id,
                 before={"url": endpoint.url, "events": endpoint.events}, ip=ip)
    session.delete(endpoint)


# ---- events ----------------------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _acting_tenants(session: Session) -> str | None:
    """The businesses a PostgreSQL transaction is restricted to by row-level security ("" or None: none)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return session.execute(sa.text("SELECT current_setting('app.business_ids', true)")).scalar()


def emit(session: Session, *, business_id: uuid.UUID, event_type: str, payload: dict,
         event_id: str | None = None) -> list[WebhookDelivery]:
    """Record one delivery of this event to every enabled endpoint of the business that subscribes to it; each is
    sent after the commit. Within one transaction a repeated (event type, object) updates the deliveries already
    recorded instead of sending the partner two events for one change.

    A transaction acting for another business (row-level security) cannot see this business's endpoints: then the
    event is handed to a task that records the deliveries after the commit, with the same event id."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown partner event {event_type!r}")
    payload = _jsonable(payload)
    pending: dict = session.info.setdefault("icc_partner_events", {})
    same = (business_id, event_type, str(payload.get("id", "")))
    if same in pending and payload.get("id"):
        if isinstance(pending[same], dict):  # handed to the fan-out task (its args hold this dict): latest data
            pending[same]["payload"].clear()
            pending[same]["payload"].update(payload)
            return []
        for delivery in pending[same]:
            delivery.payload = {**delivery.payload, "data": payload}
            session.add(delivery)
        return pending[same]
    tenants = _acting_tenants(session)
    if tenants and str(business_id) not in tenants.split(","):
        handed = {"payload": payload}
        pending[same] = handed
        enqueue(session, EMIT_TASK, str(business_id), event_type, handed["payload"],
                event_id or f"evt_{uuid.uuid4().hex}")
        return []
    endpoints = [e for e in session.exec(select(WebhookEndpoint).where(WebhookEndpoint.business_id == business_id,
                                                                       WebhookEndpoint.enabled == True))  # noqa: E712
                 if "*" in e.events or event_type in e.events]
    if not endpoints:
        return []
    event_id = event_id or f"evt_{uuid.uuid4().hex}"
    body = {"id": event_id, "type": event_type, "created_at": utcnow().isoformat(), "business_id": str(business_id),
            "data": payload}
    deliveries = [WebhookDelivery(business_id=business_id, endpoint_id=e.id, event_id=event_id, event_type=event_type,
                                  payload=body, next_attempt_at=utcnow()) for e in endpoints]
    session.add_all(deliveries)
    session.flush()
    for delivery in deliveries:
        enqueue(session, DELIVER_TASK, str(delivery.id))
    pending[same] = deliveries
    return deliveries


def send_test_event(session: Session, *, principal: Principal, endpoint_id: uuid.UUID) -> WebhookDelivery:
    """A "ping" to one endpoint, whatever it subscribes to: lets the partner check their receiver."""
    endpoint = own_endpoint(session, principal, endpoint_id)
    event_id = f"evt_{uuid.uuid4().hex}"
    delivery = WebhookDelivery(business_id=endpoint.business_id, endpoint_id=endpoint.id, event_id=event_id,
                               event_type="ping", next_attempt_at=utcnow(), requested_by=principal.user_id,
                               payload={"id": event_id, "type": "ping", "created_at": utcnow().isoformat(),
                                        "business_id": str(endpoint.business_id),
                                        "data": {"message": "Hello from ICC"}})
    session.add(delivery)
    session.flush()
    enqueue(session, DELIVER_TASK, str(delivery.id))
    return delivery


def own_delivery(session: Session, principal: Principal, delivery_id: uuid.UUID) -> WebhookDelivery:
    ids = [m.business_id for m in principal.memberships]
    delivery = session.exec(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                          col(WebhookDelivery.business_id).in_(ids))).first()
    if delivery is None:
        raise NotFound("Delivery not found.")
    _manager(principal, delivery.business_id)
    return delivery


def deliveries(session: Session, *, principal: Principal, endpoint_id: uuid.UUID, status: str | None = None,
               limit: int = 50) -> list[WebhookDelivery]:
    """The endpoint's delivery log, newest first."""
    endpoint = own_endpoint(session, principal, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status:
        try:
            query = query.where(WebhookDelivery.status == DeliveryStatus(status))
        except ValueError:
            raise ValidationFailed(f"Unknown status {status!r}; one of {', '.join(DeliveryStatus)}.",
                                   field="status") from None
    return list(session.exec(query.order_by(col(WebhookDelivery.created_at).desc()).limit(min(limit, 200))))


def attempts_of(session: Session, *, principal: Principal, delivery_id: uuid.UUID) -> list[WebhookAttempt]:
    delivery = own_delivery(session, principal, delivery_id)
    return list(session.exec(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)
                             .order_by(col(WebhookAttempt.number))))


def redeliver(session: Session, *, principal: Principal, delivery_id: uuid.UUID, ip: str | None = None
              ) -> WebhookDelivery:
    """Send an event again as a new delivery with the same event id and body (signed afresh), whatever became of
    the first one; the first one's log stays as it was."""
    original = own_delivery(session, principal, delivery_id)
    endpoint = session.get(WebhookEndpoint, original.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        raise ValidationFailed("Enable the endpoint before redelivering to it.", field="endpoint")
    copy = WebhookDelivery(business_id=original.business_id, endpoint_id=original.endpoint_id,
                           event_id=original.event_id, event_type=original.event_type, payload=original.payload,
                           next_attempt_at=utcnow(), redelivery_of=original.id, requested_by=principal.user_id)
    session.add(copy)
    session.flush()
    enqueue(session, DELIVER_TASK, str(copy.id))
    audit.record(session, action="integrations.webhook_delivery.redelivered", object_type="webhook_delivery",
                 object_id=copy.id, actor_id=principal.user_id, business_id=copy.business_id,
                 after={"event_id": copy.event_id, "redelivery_of": original.id}, ip=ip)
    return copy
