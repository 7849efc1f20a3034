"""CCX tables: lots and their photos, offer threads with every round, orders with their event history and
two-sided payment marks, disputes with their message threads.

Money is Decimal (Numeric) in USD; quantities carry their unit. Status fields change only through the
transition functions of their module (lots.py, offers.py, orders.py, disputes.py), which check who may act,
check the current state, and write an event row and an audit entry.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import BigIntModel, UTCDateTime, UUIDModel

MONEY = sa.Numeric(14, 2)
QUANTITY = sa.Numeric(14, 3)


class ProductType(enum.StrEnum):
    flower = "flower"
    pre_roll = "pre_roll"
    concentrate = "concentrate"
    vape = "vape"
    edible = "edible"
    tincture = "tincture"
    topical = "topical"
    trim = "trim"
    biomass = "biomass"
    clones = "clones"


class StrainType(enum.StrEnum):
    indica = "indica"
    sativa = "sativa"
    hybrid = "hybrid"
    cbd = "cbd"


class Unit(enum.StrEnum):
    g = "g"
    lb = "lb"
    units = "units"


class LotStatus(enum.StrEnum):
    draft = "draft"  # being prepared by the seller; invisible to buyers
    active = "active"  # listed: buyers can find it and make offers
    paused = "paused"  # hidden by the seller, or because its license expired
    sold_out = "sold_out"  # nothing left to sell
    expired = "expired"  # its listing window ended
    withdrawn = "withdrawn"  # taken off the exchange for good


class Lot(UUIDModel, table=True):
    __tablename__ = "lots"
    __table_args__ = (
        sa.Index("ix_lots_status_listed", "status", "listed_at"),
        sa.Index("ix_lots_status_price", "status", "price_per_unit"),
        sa.Index("ix_lots_lat_lon", "latitude", "longitude"),
        sa.CheckConstraint("available_qty >= 0", name="available_not_negative"),
        sa.CheckConstraint("available_qty <= quantity", name="available_within_quantity"),
    )

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    title: str = Field(max_length=200)
    product_type: ProductType = Field(sa_type=sa.String(20), index=True)
    strain_name: str = Field(max_length=120)
    strain_type: StrainType = Field(sa_type=sa.String(10))
    quantity: Decimal = Field(sa_type=QUANTITY)
    available_qty: Decimal = Field(sa_type=QUANTITY)
    min_order_qty: Decimal = Field(sa_type=QUANTITY)
    unit: Unit = Field(sa_type=sa.String(10))
    price_per_unit: Decimal = Field(sa_type=MONEY)
    currency: str = Field(default="USD", max_length=3)
    harvest_date: date | None = None
    package_date: date | None = None
    metrc_tag: str | None = Field(default=None, max_length=24, index=True)
    description: str = Field(default="", sa_type=sa.Text)
    delivery_terms: str = Field(default="", max_length=500)
    require_proof_of_funds: bool = Field(default=False)
    status: LotStatus = Field(default=LotStatus.draft, sa_type=sa.String(20))
    status_reason: str | None = Field(default=None, max_length=300)
    listed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    listing_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)  # optimistic concurrency for edits
    # Where the lot is: the seller's licensed premises (registry coordinates).
    latitude: float | None = None
    longitude: float | None = None
    state: str | None = Field(default=None, max_length=2)
    # Lab values copied from the lot's parsed COA, for filters and sorting (refreshed when a COA is parsed).
    coa_id: uuid.UUID | None = Field(default=None, foreign_key="coa_documents.id", ondelete="SET NULL")
    thc_pct: float | None = None
    cbd_pct: float | None = None
    terpenes_pct: float | None = None
    safety_passed: bool | None = None  # None: not every panel was tested (never treated as passed)
    tested_on: date | None = None
    cqi_score: float | None = None  # filled by CQI (quality issue)


class LotPhoto(UUIDModel, table=True):
    __tablename__ = "lot_photos"

    lot_id: uuid.UUID = Field(foreign_key="lots.id", index=True, ondelete="CASCADE")
    storage_key: str = Field(max_length=300)
    thumbnail_key: str | None = Field(default=None, max_length=300)  # made by the exchange.make_thumbnail task
    filename: str = Field(max_length=255)
    position: int = 0


class LotEvent(BigIntModel, table=True):
    __tablename__ = "lot_events"

    lot_id: uuid.UUID = Field(foreign_key="lots.id", index=True, ondelete="CASCADE")
    actor_id: uuid.UUID | None = None
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)


class OfferStatus(enum.StrEnum):
    open = "open"  # waiting for the other side's answer to the latest round
    accepted = "accepted"  # became an order
    rejected = "rejected"  # the other side said no
    withdrawn = "withdrawn"  # the side that made the latest round took it back
    expired = "expired"  # nobody answered before the round's expiry
    closed = "closed"  # the lot no longer has enough left (another offer took it)


class OfferParty(enum.StrEnum):
    buyer = "buyer"
    seller = "seller"


class Offer(UUIDModel, table=True):
    """A negotiation thread between one buyer and the seller of one lot; the current terms are its last round."""

    __tablename__ = "offers"
    __table_args__ = (
        sa.Index("ix_offers_lot_status", "lot_id", "status"),
        # One open thread per buyer business and lot, enforced by the database (parallel requests included).
        sa.Index("uq_offers_open_per_buyer_lot", "lot_id", "buyer_business_id", unique=True,
                 postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'")),
    )

    lot_id: uuid.UUID = Field(foreign_key="lots.id", index=True, ondelete="CASCADE")
    seller_business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    buyer_business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    status: OfferStatus = Field(default=OfferStatus.open, sa_type=sa.String(20))
    awaiting: OfferParty = Field(sa_type=sa.String(10))  # whose answer the latest round waits for
    quantity: Decimal = Field(sa_type=QUANTITY)
    price_per_unit: Decimal = Field(sa_type=MONEY)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    rounds: int = 1
    closed_reason: str | None = Field(default=None, max_length=300)
    proof_of_funds_key: str | None = Field(default=None, max_length=300)
    proof_of_funds_filename: str | None = Field(default=None, max_length=255)


class OfferRound(BigIntModel, table=True):
    __tablename__ = "offer_rounds"

    offer_id: uuid.UUID = Field(foreign_key="offers.id", index=True, ondelete="CASCADE")
    party: OfferParty = Field(sa_type=sa.String(10))
    action: str = Field(max_length=20)  # offer / counter / accept / reject / withdraw / expire / close
    quantity: Decimal | None = Field(default=None, sa_type=QUANTITY)
    price_per_unit: Decimal | None = Field(default=None, sa_type=MONEY)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message: str = Field(default="", max_length=2000)
    actor_id: uuid.UUID | None = None


class OrderStatus(enum.StrEnum):
    pending = "pending"  # created by an accepted offer; the seller confirms it
    confirmed = "confirmed"  # the seller committed to deliver
    in_transit = "in_transit"  # shipped (or ready for pickup)
    received = "received"  # the buyer has it: done
    cancelled = "cancelled"  # called off before shipping (quantity goes back to the lot)
    disputed = "disputed"  # a party opened a dispute; platform admins decide


class PaymentMethod(enum.StrEnum):
    wire = "wire"
    ach = "ach"
    check = "check"
    cash_on_delivery = "cash_on_delivery"


class PaymentTerms(enum.StrEnum):
    prepay = "prepay"
    cod = "cod"
    net_15 = "net_15"
    net_30 = "net_30"


class Order(UUIDModel, table=True):
    __tablename__ = "orders"

    lot_id: uuid.UUID = Field(foreign_key="lots.id", index=True)
    offer_id: uuid.UUID = Field(foreign_key="offers.id", sa_column_kwargs={"unique": True})
    seller_business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True)
    buyer_business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True)
    quantity: Decimal = Field(sa_type=QUANTITY)
    unit: Unit = Field(sa_type=sa.String(10))
    price_per_unit: Decimal = Field(sa_type=MONEY)
    total: Decimal = Field(sa_type=MONEY)
    currency: str = Field(default="USD", max_length=3)
    status: OrderStatus = Field(default=OrderStatus.pending, sa_type=sa.String(20), index=True)
    status_before_dispute: str | None = Field(default=None, max_length=20)
    payment_method: PaymentMethod = Field(default=PaymentMethod.wire, sa_type=sa.String(20))
    payment_terms: PaymentTerms = Field(default=PaymentTerms.prepay, sa_type=sa.String(10))
    payment_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payment_sent_by: uuid.UUID | None = None
    payment_reference: str | None = Field(default=None, max_length=120)
    payment_sent_amount: Decimal | None = Field(default=None, sa_type=MONEY)
    payment_sent_on: date | None = None
    payment_received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payment_received_by: uuid.UUID | None = None
    payment_received_amount: Decimal | None = Field(default=None, sa_type=MONEY)
    payment_mismatch: bool = Field(default=False)
    # For in-app payments later; nothing here moves money.
    escrow_status: str | None = Field(default=None, max_length=20)
    escrow_reference: str | None = Field(default=None, max_length=120)
    # What the seller wrote when shipping and the buyer when receiving (the confirmation dialogs).
    manifest_number: str | None = Field(default=None, max_length=40)  # Metrc transfer manifest
    carrier: str | None = Field(default=None, max_length=80)
    tracking_number: str | None = Field(default=None, max_length=80)
    received_qty: Decimal | None = Field(default=None, sa_type=QUANTITY)

    @property
    def reference(self) -> str:
        """What people quote on the phone and on a wire: the first 8 characters of the id."""
        return "CCX-" + self.id.hex[:8].upper()

    @property
    def paid(self) -> bool:
        """Paid means both sides said so: the buyer sent and the seller received."""
        return self.payment_sent_at is not None and self.payment_received_at is not None


class OrderEvent(BigIntModel, table=True):
    __tablename__ = "order_events"

    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    actor_id: uuid.UUID | None = None
    actor_party: str = Field(max_length=10)  # buyer / seller / admin / system
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    note: str = Field(default="", max_length=1000)


class DisputeStatus(enum.StrEnum):
    open = "open"
    resolved = "resolved"


class DisputeResolution(enum.StrEnum):
    full_refund = "full_refund"
    partial_refund = "partial_refund"
    no_action = "no_action"
    cancel = "cancel"


class Dispute(UUIDModel, table=True):
    __tablename__ = "disputes"

    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    opened_by_business_id: uuid.UUID = Field(foreign_key="businesses.id")
    opened_by: uuid.UUID | None = None
    reason: str = Field(max_length=60)
    description: str = Field(sa_type=sa.Text)
    status: DisputeStatus = Field(default=DisputeStatus.open, sa_type=sa.String(10), index=True)
    resolution: DisputeResolution | None = Field(default=None, sa_type=sa.String(20))
    refund_amount: Decimal | None = Field(default=None, sa_type=MONEY)
    decision: str | None = Field(default=None, sa_type=sa.Text)
    resolved_by: uuid.UUID | None = None
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DisputeEvent(BigIntModel, table=True):
    """Who moved a dispute from which status to which, and why (disputes.transition writes it)."""

    __tablename__ = "dispute_events"

    dispute_id: uuid.UUID = Field(foreign_key="disputes.id", index=True, ondelete="CASCADE")
    actor_id: uuid.UUID | None = None
    from_status: str = Field(max_length=10)
    to_status: str = Field(max_length=10)
    note: str = Field(default="", max_length=1000)


class IdempotencyKey(BigIntModel, table=True):
    """A creating action's key (one per form render or API request): a repeat returns the first object."""

    __tablename__ = "exchange_idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("business_id", "key", name="uq_exchange_idempotency_business_key"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", ondelete="CASCADE")
    key: str = Field(max_length=80)
    action: str = Field(max_length=40)  # lot.create / offer.create / dispute.open
    object_id: uuid.UUID | None = None


class DisputeMessage(BigIntModel, table=True):
    __tablename__ = "dispute_messages"

    dispute_id: uuid.UUID = Field(foreign_key="disputes.id", index=True, ondelete="CASCADE")
    author_id: uuid.UUID | None = None
    author_party: str = Field(max_length=10)  # buyer / seller / admin
    body: str = Field(sa_type=sa.Text)
    evidence: list[dict] = Field(default_factory=list, sa_type=sa.JSON)  # [{key, filename}]
