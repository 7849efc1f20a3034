"""Partner API keys and outbound webhooks: tables.

An API key belongs to one business; only its keyed hash is stored (the raw key is shown once) with a short
visible prefix so people can tell keys apart. A webhook endpoint is a partner's HTTPS URL with the events it wants
and a signing secret (encrypted at rest). Every event sent to an endpoint is one delivery, and every HTTP attempt
of a delivery is one attempt row: the delivery log the console shows.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import BigIntModel, JSONDocument, UTCDateTime, UUIDModel
from icc_app.core.security import EncryptedString


class ApiKeyStatus(enum.StrEnum):
    active = "active"  # works until expires_at
    rotated = "rotated"  # replaced by a new key; works until grace_until, then refused
    revoked = "revoked"  # refused from the moment it was revoked


class ApiKey(UUIDModel, table=True):
    __tablename__ = "partner_api_keys"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=20)  # the first characters of the raw key, shown in lists ("icc_pk_Ab3x")
    key_hash: str = Field(max_length=64, unique=True)  # core.security.hash_token of the raw key
    scopes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    status: ApiKeyStatus = Field(default=ApiKeyStatus.active, sa_type=sa.String(20))
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: never expires
    rate_limit_per_minute: int = Field(default=120)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_ip: str | None = Field(default=None, max_length=45)
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    grace_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # a rotated key works until then
    replaced_by_id: uuid.UUID | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class ApiKeyEvent(UUIDModel, table=True):
    """Every status change of a key: who, from, to, why."""

    __tablename__ = "partner_api_key_events"

    key_id: uuid.UUID = Field(foreign_key="partner_api_keys.id", index=True, ondelete="CASCADE")
    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    reason: str = Field(default="", max_length=500)


class WebhookEndpoint(UUIDModel, table=True):
    __tablename__ = "partner_webhook_endpoints"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    url: str = Field(max_length=500)
    description: str = Field(default="", max_length=200)
    events: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # event types, or ["*"] for all
    secret: str = Field(sa_type=EncryptedString())  # "whsec_...": shown once, signs every delivery
    secret_hint: str = Field(default="", max_length=20)
    enabled: bool = True
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting for its first attempt
    retrying = "retrying"  # an attempt failed; the next one is due at next_attempt_at
    delivered = "delivered"  # the partner answered 2xx
    failed = "failed"  # gave up after MAX_ATTEMPTS (or the endpoint was disabled); can be redelivered


class WebhookDelivery(UUIDModel, table=True):
    """One event for one endpoint. `event_id` is the same for every endpoint and every redelivery of an event, so
    the receiver can drop duplicates."""

    __tablename__ = "partner_webhook_deliveries"
    __table_args__ = (sa.Index("ix_partner_webhook_deliveries_due", "status", "next_attempt_at"),
                      sa.Index("ix_partner_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"))

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    endpoint_id: uuid.UUID = Field(foreign_key="partner_webhook_endpoints.id", ondelete="CASCADE")
    event_id: str = Field(max_length=40, index=True)
    event_type: str = Field(max_length=60)
    payload: dict = Field(default_factory=dict, sa_type=JSONDocument)  # the whole body that is signed and sent
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=sa.String(20))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # an attempt is in flight
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    response_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    duration_ms: int | None = None
    redelivery_of: uuid.UUID | None = Field(default=None)
    requested_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class WebhookAttempt(BigIntModel, table=True):
    """One HTTP attempt of a delivery: the status code or the error, and how long it took."""

    __tablename__ = "partner_webhook_attempts"

    delivery_id: uuid.UUID = Field(foreign_key="partner_webhook_deliveries.id", index=True, ondelete="CASCADE")
    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    number: int
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    response_excerpt: str = Field(default="", max_length=300)
    duration_ms: int = 0
