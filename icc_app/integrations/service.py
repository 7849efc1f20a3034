"""Connections: a business links its POS / seed-to-sale location (vendor, base URL, credentials encrypted at rest and
never shown again, the dispensary whose menu it feeds), tests it, rotates its credentials, pauses and resumes it.
Every status change goes through `transition` (an event row and an audit entry). Reads start from
`readable(principal)`, so another business's connection is a 404."""

from __future__ import annotations

import ipaddress
import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from icc_app.core import audit
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.netguard import internal_addresses
from icc_app.core.validation import safe_text
from icc_app.identity.models import Business, Product, Role
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import Principal
from icc_app.integrations import base
from icc_app.integrations.models import Connection, ConnectionEvent, ConnectionStatus
from icc_app.maps.models import Dispensary
from icc_app.settings import get_settings

MIN_INTERVAL, MAX_INTERVAL, DEFAULT_INTERVAL = 15, 60, 15
MAX_CREDENTIALS_BYTES = 4000

# (from, to) pairs a verb may take; anything else is refused with the reason.
_ALLOWED = {
    "tested_ok": {ConnectionStatus.new, ConnectionStatus.failing, ConnectionStatus.healthy},
    "sync_succeeded": {ConnectionStatus.new, ConnectionStatus.failing, ConnectionStatus.healthy},
    "failed": {ConnectionStatus.new, ConnectionStatus.failing, ConnectionStatus.healthy},
    "pause": {ConnectionStatus.new, ConnectionStatus.failing, ConnectionStatus.healthy},
    "resume": {ConnectionStatus.paused},
    "disconnect": {ConnectionStatus.new, ConnectionStatus.failing, ConnectionStatus.healthy, ConnectionStatus.paused},
    "credentials_rotated": {ConnectionStatus.new, ConnectionStatus.failing, ConnectionStatus.healthy,
                            ConnectionStatus.paused},
}
_TARGET = {"tested_ok": ConnectionStatus.healthy, "sync_succeeded": ConnectionStatus.healthy,
           "failed": ConnectionStatus.failing, "pause": ConnectionStatus.paused, "resume": ConnectionStatus.new,
           "disconnect": ConnectionStatus.disconnected, "credentials_rotated": ConnectionStatus.new}

STATUS_LABELS = {"new": "Not synced yet", "healthy": "Healthy", "failing": "Failing", "paused": "Paused",
                 "disconnected": "Disconnected"}


def tenant_ids(principal: Principal) -> list[uuid.UUID]:
    return [m.business_id for m in principal.memberships]


def readable(principal: Principal) -> SelectOfScalar[Connection]:
    """The connections of the principal's businesses (disconnected ones included: their history stays)."""
    return select(Connection).where(col(Connection.business_id).in_(tenant_ids(principal)))


def get(session: Session, principal: Principal, connection_id: uuid.UUID, *, manage: bool = False) -> Connection:
    connection = session.exec(readable(principal).where(Connection.id == connection_id)).first()
    if connection is None:
        raise NotFound("Connection not found.")
    require_member(principal, connection.business_id, product=Product.integrations,
                   min_role=Role.manager if manage else Role.staff)
    return connection


def list_for_business(session: Session, principal: Principal, business_id: uuid.UUID) -> list[Connection]:
    require_member(principal, business_id, product=Product.integrations)
    return list(session.exec(readable(principal).where(Connection.business_id == business_id)
                             .order_by(col(Connection.created_at))))


def transition(session: Session, connection: Connection, verb: str, *, actor_id: uuid.UUID | None = None,
               reason: str = "") -> Connection:
    """The one way a connection's status changes: checks the move, writes the event row and the audit entry."""
    current = ConnectionStatus(connection.status)
    if current not in _ALLOWED[verb]:
        raise Conflict(f"A {STATUS_LABELS[current.value].lower()} connection cannot be {verb.replace('_', ' ')}.")
    target = _TARGET[verb]
    now = utcnow()
    if verb == "failed":
        connection.last_error, connection.last_error_at = reason[:1000], now
    elif verb in ("tested_ok", "sync_succeeded"):
        connection.last_error = None
        if verb == "sync_succeeded":
            connection.last_success_at = now
    if target == current and verb in ("failed", "tested_ok", "sync_succeeded"):
        session.add(connection)  # no status change: the details above are all that moved
        return connection
    connection.status = target
    session.add(connection)
    session.add(ConnectionEvent(connection_id=connection.id, business_id=connection.business_id, actor_id=actor_id,
                                from_status=current.value, to_status=target.value, reason=reason[:1000]))
    audit.record(session, action=f"integrations.connection.{verb}", object_type="integration_connection",
                 object_id=connection.id, actor_id=actor_id, business_id=connection.business_id,
                 before={"status": current.value}, after={"status": target.value, "reason": reason[:200]})
    return connection


def _is_local(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clean_base_url(value: str) -> str:
    """https only; no credentials in the URL; no address inside our own network. Where the app itself runs on
    this machine (PUBLIC_URL on localhost: development, staging, tests), local servers are allowed, over http too."""
    url = safe_text(value, "base_url", max_length=500).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationFailed("The base URL starts with https:// and names a host, e.g. https://api.example.com.",
                               field="base_url")
    if parts.username or parts.password:
        raise ValidationFailed("Put credentials in the credential fields, not in the URL.", field="base_url")
    local_ok = get_settings().runs_locally and _is_local(parts.hostname)
    if parts.scheme == "http" and not local_ok:
        raise ValidationFailed("Use https:// for a vendor's address (plain http only for a local test server).",
                               field="base_url")
    if not local_ok and internal_addresses(parts.hostname):
        raise ValidationFailed("That address is inside a private network; use the vendor's public API address.",
                               field="base_url")
    return url


def clean_credentials(vendor: str, credentials: Any) -> dict[str, str]:
    if isinstance(credentials, str):
        try:
            credentials = json.loads(credentials or "{}")
        except json.JSONDecodeError:
            raise ValidationFailed("Credentials must be a JSON object, e.g. {\"location_key\": \"...\"}.",
                                   field="credentials") from None
    if not isinstance(credentials, dict):
        raise ValidationFailed("Credentials must be a JSON object of text values.", field="credentials")
    fields = base.adapter_class(vendor).credential_fields
    clean: dict[str, str] = {}
    for key, value in credentials.items():
        if key not in fields:
            raise ValidationFailed(f"Unknown credential {str(key)[:40]!r}; {base.VENDOR_LABELS[vendor]} takes: "
                                   f"{', '.join(fields)}.", field="credentials")
        if not isinstance(value, str) or not value.strip():
            raise ValidationFailed(f"{fields[key]} must be non-empty text.", field="credentials")
        clean[key] = safe_text(value, key, max_length=1000).strip()
    missing = [label for key, label in fields.items() if key not in clean and not key.startswith("optional_")
               and not label.lower().endswith("(optional)")]
    if missing:
        raise ValidationFailed(f"Missing: {', '.join(missing)}.", field="credentials")
    if len(json.dumps(clean)) > MAX_CREDENTIALS_BYTES:
        raise ValidationFailed("The credentials are too long.", field="credentials")
    return clean


def _hint(credentials: dict[str, str]) -> str:
    """What the console shows instead of the secret: the last 4 characters of the longest value."""
    longest = max(credentials.values(), key=len, default="")
    return f"…{longest[-4:]}" if len(longest) >= 8 else "set"


def _interval(value: int | None) -> int:
    value = DEFAULT_INTERVAL if value is None else value
    if not isinstance(value, int) or not MIN_INTERVAL <= value <= MAX_INTERVAL:
        raise ValidationFailed(f"Sync every {MIN_INTERVAL} to {MAX_INTERVAL} minutes.", field="interval_minutes")
    return value


@dataclass(frozen=True)
class ConnectInput:
    vendor: str
    name: str
    base_url: str
    credentials: dict[str, str] | str
    location_id: str | None = None
    dispensary_id: uuid.UUID | None = None
    webhook_secret: str | None = None
    interval_minutes: int | None = None


def connect(session: Session, *, principal: Principal | None, business_id: uuid.UUID, data: ConnectInput
            ) -> Connection:
    """A new connection for the business (Admins and Managers; `principal` None: the operator's command line).
    The first sync is scheduled at a random moment within its interval, so a thousand connections made at once do
    not all fire together."""
    if principal is not None:
        require_member(principal, business_id, product=Product.integrations, min_role=Role.manager)
    elif session.get(Business, business_id) is None:
        raise NotFound("Business not found.")
    vendor = (data.vendor or "").strip().lower()
    if vendor not in base.VENDOR_LABELS:
        raise ValidationFailed(f"Choose a vendor: {', '.join(base.VENDOR_LABELS)}.", field="vendor")
    base.adapter_class(vendor)  # Unsupported -> clear error
    name = safe_text(data.name, "name", max_length=120).strip() or base.VENDOR_LABELS[vendor]
    credentials = clean_credentials(vendor, data.credentials)
    dispensary_id = _own_dispensary(session, business_id, data.dispensary_id)
    location = safe_text(data.location_id or "", "location_id", max_length=120).strip() or None
    interval = _interval(data.interval_minutes)
    connection = Connection(
        business_id=business_id, vendor=vendor, name=name, base_url=clean_base_url(data.base_url),
        location_id=location, dispensary_id=dispensary_id, credentials=json.dumps(credentials),
        credentials_hint=_hint(credentials), interval_minutes=interval,
        created_by=principal.user_id if principal else None,
        webhook_secret=(safe_text(data.webhook_secret, "webhook_secret", max_length=500).strip() or None)
        if data.webhook_secret else None,
        next_sync_at=utcnow() + timedelta(seconds=random.uniform(0, interval * 60)))
    session.add(connection)
    session.flush()
    audit.record(session, action="integrations.connection.created", object_type="integration_connection",
                 object_id=connection.id, actor_id=principal.user_id if principal else None, business_id=business_id,
                 after={"vendor": vendor, "name": name, "base_url": connection.base_url, "location_id": location,
                        "dispensary_id": str(dispensary_id) if dispensary_id else None})
    return connection


def _own_dispensary(session: Session, business_id: uuid.UUID, dispensary_id: uuid.UUID | None) -> uuid.UUID | None:
    if dispensary_id is None:
        return None
    dispensary = session.get(Dispensary, dispensary_id)
    if dispensary is None or dispensary.claimed_by_business_id != business_id:
        raise ValidationFailed("Choose one of your claimed dispensaries (ICC Maps > My dispensary).",
                               field="dispensary_id")
    return dispensary.id


def update_settings(session: Session, *, principal: Principal, connection_id: uuid.UUID, name: str | None = None,
                    interval_minutes: int | None = None, dispensary_id: uuid.UUID | None = None,
                    base_url: str | None = None, location_id: str | None = None) -> Connection:
    connection = get(session, principal, connection_id, manage=True)
    before = {"name": connection.name, "interval_minutes": connection.interval_minutes,
              "dispensary_id": str(connection.dispensary_id) if connection.dispensary_id else None,
              "base_url": connection.base_url, "location_id": connection.location_id}
    if name is not None:
        connection.name = safe_text(name, "name", max_length=120).strip() or connection.name
    if interval_minutes is not None:
        connection.interval_minutes = _interval(interval_minutes)
        connection.next_sync_at = utcnow() + timedelta(seconds=random.uniform(0, connection.interval_minutes * 60))
    if dispensary_id is not None:
        connection.dispensary_id = _own_dispensary(session, connection.business_id, dispensary_id)
    if base_url is not None:
        connection.base_url = clean_base_url(base_url)
    if location_id is not None:
        connection.location_id = safe_text(location_id, "location_id", max_length=120).strip() or None
    session.add(connection)
    audit.record(session, action="integrations.connection.updated", object_type="integration_connection",
                 object_id=connection.id, actor_id=principal.user_id, business_id=connection.business_id,
                 before=before, after={"name": connection.name, "interval_minutes": connection.interval_minutes,
                                       "dispensary_id": str(connection.dispensary_id) if connection.dispensary_id
                                       else None, "base_url": connection.base_url,
                                       "location_id": connection.location_id})
    return connection


def rotate_credentials(session: Session, *, principal: Principal, connection_id: uuid.UUID,
                       credentials: dict[str, str] | str, webhook_secret: str | None = None) -> Connection:
    """Replace the stored credentials (the old ones are gone); the next sync or test uses the new ones."""
    connection = get(session, principal, connection_id, manage=True)
    clean = clean_credentials(connection.vendor, credentials)
    connection.credentials, connection.credentials_hint = json.dumps(clean), _hint(clean)
    if webhook_secret:
        connection.webhook_secret = safe_text(webhook_secret, "webhook_secret", max_length=500).strip()
    transition(session, connection, "credentials_rotated", actor_id=principal.user_id,
               reason="Credentials replaced.")
    return connection


def set_paused(session: Session, *, principal: Principal, connection_id: uuid.UUID, paused: bool) -> Connection:
    connection = get(session, principal, connection_id, manage=True)
    if paused:
        return transition(session, connection, "pause", actor_id=principal.user_id, reason="Paused by an operator.")
    connection.next_sync_at = utcnow()
    return transition(session, connection, "resume", actor_id=principal.user_id, reason="Resumed by an operator.")


def disconnect(session: Session, *, principal: Principal, connection_id: uuid.UUID) -> Connection:
    """Stop syncing and forget the credentials; the connection's runs, sales and menu history stay."""
    connection = get(session, principal, connection_id, manage=True)
    if principal.membership(connection.business_id).role != Role.admin:
        raise PermissionDenied("Only an Admin can disconnect a point of sale.")
    connection.credentials, connection.webhook_secret, connection.credentials_hint = "{}", None, ""
    return transition(session, connection, "disconnect", actor_id=principal.user_id, reason="Disconnected.")


def config_for(connection: Connection, **http_options: Any) -> base.ConnectionConfig:
    """What the adapter needs, credentials decrypted (the Connection column decrypts on load)."""
    return base.ConnectionConfig(vendor=connection.vendor, base_url=connection.base_url,
                                 credentials=json.loads(connection.credentials or "{}"),
                                 location_id=connection.location_id, webhook_secret=connection.webhook_secret,
                                 rate_key=str(connection.id), http_options=http_options)


def test_connection(session: Session, *, principal: Principal | None, connection: Connection,
                    now: datetime | None = None) -> tuple[bool, str]:
    """Ask the vendor who we are. Returns (ok, a sentence for the operator); the connection's status follows."""
    actor = principal.user_id if principal else None
    if connection.status == ConnectionStatus.disconnected:
        return False, "This connection is disconnected."
    adapter = base.make_adapter(config_for(connection, max_retries=1, timeout_s=10))
    try:
        answer = adapter.test_connection()
    except base.IntegrationError as exc:
        transition(session, connection, "failed", actor_id=actor, reason=f"Connection test: {exc.message}")
        return False, exc.message
    finally:
        _close(adapter)
    if connection.status != ConnectionStatus.paused:
        transition(session, connection, "tested_ok", actor_id=actor, reason=f"Connection test: {answer}")
    audit.record(session, action="integrations.connection.tested", object_type="integration_connection",
                 object_id=connection.id, actor_id=actor, business_id=connection.business_id, after={"answer": answer})
    return True, answer


def _close(adapter: Any) -> None:
    close = getattr(adapter, "close", None)
    if callable(close):
        close()
