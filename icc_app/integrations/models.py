"""Integrations hub tables: a business's connections to its POS / seed-to-sale systems, the runs that sync them,
the webhook events they push, and what the sync brings in for the other products to read (sales and customers;
the menu itself lives in maps.MenuItem). Credentials and PII are encrypted at rest; external customer ids are
stored only as keyed hashes."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import JSONDocument, UTCDateTime, UUIDModel
from icc_app.core.security import EncryptedString


class Vendor(enum.StrEnum):
    dutchie = "dutchie"
    treez = "treez"
    flowhub = "flowhub"
    jane = "jane"
    metrc = "metrc"


class ConnectionStatus(enum.StrEnum):
    new = "new"  # created, never synced or tested
    healthy = "healthy"  # the last run succeeded
    failing = "failing"  # the last run or test failed: last_error says why
    paused = "paused"  # an operator stopped scheduled syncs
    disconnected = "disconnected"  # removed by an operator; kept for its history


class RunStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"  # applied, possibly with per-item errors (skipped items)
    failed = "failed"  # nothing applied: the vendor failed or a page could not be read


class Connection(UUIDModel, table=True):
    """One business's link to one vendor location. `credentials` is a JSON document, encrypted; it is never shown
    again after it is saved (only `credentials_hint`)."""

    __tablename__ = "integration_connections"
    __table_args__ = (sa.Index("ix_integration_connections_due", "status", "next_sync_at"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    vendor: Vendor = Field(sa_type=sa.String(20))
    name: str = Field(max_length=120)
    base_url: str = Field(max_length=500)
    location_id: str | None = Field(default=None, max_length=120)  # the vendor's store / location / license
    dispensary_id: uuid.UUID | None = Field(default=None, foreign_key="dispensaries.id", ondelete="SET NULL")
    credentials: str = Field(sa_type=EncryptedString())
    credentials_hint: str = Field(default="", max_length=40)
    webhook_secret: str | None = Field(default=None, sa_type=EncryptedString())
    status: ConnectionStatus = Field(default=ConnectionStatus.new, sa_type=sa.String(20))
    interval_minutes: int = Field(default=15)  # 15..60
    next_sync_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=1000)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cursors: dict = Field(default_factory=dict, sa_type=sa.JSON)  # stream -> incremental cursor (ISO time)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class ConnectionEvent(UUIDModel, table=True):
    """Every status change of a connection (who, from, to, why)."""

    __tablename__ = "integration_connection_events"

    connection_id: uuid.UUID = Field(foreign_key="integration_connections.id", index=True, ondelete="CASCADE")
    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    reason: str = Field(default="", max_length=1000)


class SyncRun(UUIDModel, table=True):
    """One sync of one connection. A run applies all of its batch or nothing; `errors` lists the items it skipped
    (item, reason). `lease_until` lets a run whose worker died be taken over after it lapses."""

    __tablename__ = "integration_sync_runs"
    __table_args__ = (sa.Index("ix_integration_sync_runs_connection_created", "connection_id", "created_at"),)

    connection_id: uuid.UUID = Field(foreign_key="integration_connections.id", index=True, ondelete="CASCADE")
    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    trigger: str = Field(default="schedule", max_length=20)  # schedule / manual / webhook / cli / retry
    streams: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # menu / sales / customers
    status: RunStatus = Field(default=RunStatus.queued, sa_type=sa.String(20))
    requested_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    progress: str = Field(default="", max_length=200)  # "menu: page 3 of 12"
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    out_of_stock: int = 0
    skipped: int = 0
    sales: int = 0
    customers: int = 0
    errors: list[dict] = Field(default_factory=list, sa_type=sa.JSON)  # [{item, reason}] (first 200)
    error: str | None = Field(default=None, max_length=1000)  # why the run failed as a whole
    duration_ms: int | None = None


class WebhookEvent(UUIDModel, table=True):
    """Every webhook delivery, accepted or not, with its raw body: idempotency by (vendor, event id)."""

    __tablename__ = "integration_webhook_events"
    __table_args__ = (sa.UniqueConstraint("vendor", "event_id", name="uq_integration_webhook_events_vendor_event"),)

    vendor: str = Field(max_length=20)
    event_id: str = Field(max_length=200)
    connection_id: uuid.UUID | None = Field(default=None, foreign_key="integration_connections.id", index=True,
                                            ondelete="SET NULL")
    business_id: uuid.UUID | None = Field(default=None, foreign_key="businesses.id", index=True, ondelete="CASCADE")
    event_type: str = Field(default="", max_length=80)
    status: str = Field(default="accepted", max_length=20)  # accepted / processed / failed
    reason: str = Field(default="", max_length=500)
    payload: dict = Field(default_factory=dict, sa_type=JSONDocument)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SyncedRecord(UUIDModel, table=True):
    """The raw vendor payload behind each synced menu item (kept for audit and re-mapping) and its content hash, so
    an unchanged item is recognised without touching the menu row."""

    __tablename__ = "integration_synced_records"
    __table_args__ = (sa.UniqueConstraint("connection_id", "kind", "external_id",
                                          name="uq_integration_synced_records_key"),)

    connection_id: uuid.UUID = Field(foreign_key="integration_connections.id", ondelete="CASCADE")
    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)  # menu_item
    external_id: str = Field(max_length=120)
    content_hash: str = Field(max_length=64)
    payload: dict = Field(default_factory=dict, sa_type=JSONDocument)


class PosCustomer(UUIDModel, table=True):
    """A customer as the business's POS knows them. The vendor's id, email and phone are kept only as keyed hashes
    (dedup across systems); name, email, phone and birth date are encrypted."""

    __tablename__ = "pos_customers"
    __table_args__ = (sa.UniqueConstraint("connection_id", "external_ref", name="uq_pos_customers_external"),
                      sa.Index("ix_pos_customers_business_email", "business_id", "email_hash"),
                      sa.Index("ix_pos_customers_business_phone", "business_id", "phone_hash"))

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    connection_id: uuid.UUID = Field(foreign_key="integration_connections.id", ondelete="CASCADE")
    external_ref: str = Field(max_length=64)  # keyed hash of the vendor's customer id
    email_hash: str | None = Field(default=None, max_length=64)
    phone_hash: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, sa_type=EncryptedString())
    email: str | None = Field(default=None, sa_type=EncryptedString())
    phone: str | None = Field(default=None, sa_type=EncryptedString())
    birth_date: str | None = Field(default=None, sa_type=EncryptedString())  # ISO date, encrypted
    customer_type: str | None = Field(default=None, max_length=20)  # medical / recreational
    email_opt_in: bool | None = None  # as the POS reports it; the loyalty product keeps its own consent ledger
    sms_opt_in: bool | None = None
    state: str | None = Field(default=None, max_length=2)
    postal_code: str | None = Field(default=None, max_length=10)
    first_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    content_hash: str = Field(default="", max_length=64)


class Sale(UUIDModel, table=True):
    """One POS transaction (a return is negative), with its lines; `customer_ref` is the keyed hash of the vendor's
    customer id (join to PosCustomer.external_ref)."""

    __tablename__ = "pos_sales"
    __table_args__ = (sa.UniqueConstraint("connection_id", "external_id", name="uq_pos_sales_external"),
                      sa.Index("ix_pos_sales_business_time", "business_id", "occurred_at"))

    business_id: uuid.UUID = Field(foreign_key="businesses.id", ondelete="CASCADE")
    connection_id: uuid.UUID = Field(foreign_key="integration_connections.id", index=True, ondelete="CASCADE")
    dispensary_id: uuid.UUID | None = Field(default=None, foreign_key="dispensaries.id", ondelete="SET NULL")
    external_id: str = Field(max_length=120)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    customer_ref: str | None = Field(default=None, max_length=64, index=True)
    subtotal: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 2))
    discount: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 2))
    tax: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 2))
    total: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 2))
    currency: str = Field(default="USD", max_length=3)
    is_return: bool = False
    is_void: bool = False
    payload: dict = Field(default_factory=dict, sa_type=JSONDocument)
    content_hash: str = Field(default="", max_length=64)


class SaleLine(UUIDModel, table=True):
    """One product on a sale: what the demand forecasts count."""

    __tablename__ = "pos_sale_lines"
    __table_args__ = (sa.Index("ix_pos_sale_lines_business_product", "business_id", "product_external_id"),)

    sale_id: uuid.UUID = Field(foreign_key="pos_sales.id", index=True, ondelete="CASCADE")
    business_id: uuid.UUID = Field(foreign_key="businesses.id", ondelete="CASCADE")
    product_external_id: str = Field(max_length=120)  # the menu item's external_id for the same connection
    menu_item_id: uuid.UUID | None = Field(default=None, foreign_key="menu_items.id", ondelete="SET NULL")
    name: str = Field(default="", max_length=300)
    category: str | None = Field(default=None, max_length=40)
    quantity: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 3))
    unit: str = Field(default="each", max_length=10)  # each / g / mg / ml
    unit_price: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(12, 2))
    discount: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(12, 2))
    total: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 2))
    unit_cost: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 2))


class InventoryLevel(UUIDModel, table=True):
    """Stock of one product at one connection's location, as the POS reports it: quantity, cost, expiry. The menu
    shows `in_stock_qty`; the operations suite reads cost and expiry from here."""

    __tablename__ = "pos_inventory"
    __table_args__ = (sa.UniqueConstraint("connection_id", "external_id", name="uq_pos_inventory_external"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    connection_id: uuid.UUID = Field(foreign_key="integration_connections.id", ondelete="CASCADE")
    menu_item_id: uuid.UUID | None = Field(default=None, foreign_key="menu_items.id", ondelete="SET NULL")
    external_id: str = Field(max_length=120)
    quantity: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 3))
    unit: str = Field(default="each", max_length=10)
    unit_cost: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 2))
    expires_on: date | None = None
    batch: str | None = Field(default=None, max_length=120)
    package_label: str | None = Field(default=None, max_length=60)  # the state's package tag (Metrc)
