"""Loyalty and CRM tables: customers, consent ledger and suppressions, programmes, tiers, the points ledger,
redemptions, scores and segments, templates, campaigns and their messages, and one status-event table.

PII (name, email, phone, birth date) is encrypted at rest; email and phone are also kept as keyed hashes so the
same person is recognised across POS systems and sign-ups without storing the address in clear. Balances are
never stored as a number that gets overwritten: the balance is the sum of the ledger's entries.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import BigIntModel, UTCDateTime, UUIDModel
from icc_app.core.security import EncryptedString


class CustomerType(enum.StrEnum):
    recreational = "recreational"
    medical = "medical"


class Enrollment(enum.StrEnum):
    enrolled = "enrolled"  # of age (checked against the birth date and the state's rule): may earn and be messaged
    under_age = "under_age"  # below the state's minimum age: never enrolled, never messaged
    age_unknown = "age_unknown"  # no birth date on file: not enrolled or messaged until one is recorded


class Channel(enum.StrEnum):
    email = "email"
    sms = "sms"


class Customer(UUIDModel, table=True):
    """One person known to one business (merged across its POS systems and sign-ups)."""

    __tablename__ = "loyalty_customers"
    __table_args__ = (sa.Index("ix_loyalty_customers_business_email", "business_id", "email_hash"),
                      sa.Index("ix_loyalty_customers_business_phone", "business_id", "phone_hash"))

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    email_hash: str | None = Field(default=None, max_length=64)
    phone_hash: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, sa_type=EncryptedString())
    email: str | None = Field(default=None, sa_type=EncryptedString())
    phone: str | None = Field(default=None, sa_type=EncryptedString())  # E.164
    birth_date: str | None = Field(default=None, sa_type=EncryptedString())  # ISO date
    customer_type: CustomerType = Field(default=CustomerType.recreational, sa_type=sa.String(20))
    state: str | None = Field(default=None, max_length=2)
    timezone: str = Field(default="America/Denver", max_length=64)
    source: str = Field(default="pos", max_length=20)  # pos / counter / web / import
    enrollment: Enrollment = Field(default=Enrollment.age_unknown, sa_type=sa.String(20))
    email_consent: bool = False  # the latest consent entry (the ledger is the record; these are for fast filters)
    sms_consent: bool = False
    first_purchase_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_purchase_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CustomerLink(UUIDModel, table=True):
    """Which POS customer records are this customer (a person may be in two POS systems)."""

    __tablename__ = "loyalty_customer_links"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    customer_id: uuid.UUID = Field(foreign_key="loyalty_customers.id", index=True, ondelete="CASCADE")
    pos_customer_id: uuid.UUID = Field(foreign_key="pos_customers.id", unique=True, ondelete="CASCADE")
    external_ref: str = Field(max_length=64, index=True)  # PosCustomer.external_ref (Sale.customer_ref)


class ConsentEntry(BigIntModel, table=True):
    """The consent ledger: every grant and withdrawal per channel, with when and from where. Never updated."""

    __tablename__ = "loyalty_consents"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    customer_id: uuid.UUID = Field(foreign_key="loyalty_customers.id", index=True, ondelete="CASCADE")
    channel: Channel = Field(sa_type=sa.String(10))
    granted: bool
    source: str = Field(max_length=30)  # pos / counter / web / sms_stop / sms_start / unsubscribe_link / operator
    detail: str = Field(default="", max_length=300)
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    effective: bool = True  # False: recorded but not applied (e.g. a POS opt-in after the customer said STOP)


class Suppression(UUIDModel, table=True):
    """A contact that said STOP / unsubscribed: never messaged again on that channel, whatever record it comes back
    under (keyed by the hashed address, so it outlives the customer row)."""

    __tablename__ = "loyalty_suppressions"
    __table_args__ = (sa.UniqueConstraint("business_id", "channel", "contact_hash",
                                          name="uq_loyalty_suppressions_contact"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    channel: Channel = Field(sa_type=sa.String(10))
    contact_hash: str = Field(max_length=64)
    source: str = Field(max_length=30)


class Program(UUIDModel, table=True):
    """A business's loyalty programme and messaging rules (one per business)."""

    __tablename__ = "loyalty_programs"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", unique=True, ondelete="CASCADE")
    name: str = Field(default="Rewards", max_length=120)
    points_per_dollar: Decimal = Field(default=Decimal("1"), sa_type=sa.Numeric(8, 2))
    category_multipliers: dict = Field(default_factory=dict, sa_type=sa.JSON)  # {"Edibles": 2}
    bonus_days: list = Field(default_factory=list, sa_type=sa.JSON)  # [{"weekday": 1, "multiplier": 2}] (Mon=0)
    points_per_dollar_off: int = 100  # redemption value: this many points = $1 off
    min_redeem_points: int = 100
    quiet_start_hour: int = 21  # no messages from 21:00 ...
    quiet_end_hour: int = 9  # ... to 09:00, customer's local time
    max_messages_per_week: int = 2  # frequency cap per customer across campaigns
    sms_provider: str = Field(default="twilio", max_length=20)
    sms_base_url: str | None = Field(default=None, max_length=300)  # None: the provider's public API
    sms_account_sid: str | None = Field(default=None, max_length=64)
    sms_auth_token: str | None = Field(default=None, sa_type=EncryptedString())
    sms_from: str | None = Field(default=None, max_length=40)
    active: bool = True


class Tier(UUIDModel, table=True):
    __tablename__ = "loyalty_tiers"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    program_id: uuid.UUID = Field(foreign_key="loyalty_programs.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=60)
    threshold_points: int = 0  # lifetime points earned to reach it
    multiplier: Decimal = Field(default=Decimal("1"), sa_type=sa.Numeric(6, 2))
    benefits: str = Field(default="", max_length=500)


class EntryKind(enum.StrEnum):
    earn = "earn"
    redeem = "redeem"
    adjust = "adjust"
    reversal = "reversal"


class PointsEntry(BigIntModel, table=True):
    """One change of a customer's points. The balance is the sum of the entries; `balance_after` is written under
    the customer's row lock as a running check (the sum must equal it at every entry)."""

    __tablename__ = "loyalty_points"
    __table_args__ = (sa.UniqueConstraint("business_id", "idempotency_key", name="uq_loyalty_points_idempotency"),
                      sa.Index("ix_loyalty_points_customer", "customer_id", "id"))

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    customer_id: uuid.UUID = Field(foreign_key="loyalty_customers.id", ondelete="CASCADE")
    kind: EntryKind = Field(sa_type=sa.String(10))
    points: int  # signed
    balance_after: int
    reason: str = Field(default="", max_length=200)
    idempotency_key: str | None = Field(default=None, max_length=120)  # "sale:<id>", "redeem:<key>"
    sale_id: uuid.UUID | None = Field(default=None, foreign_key="pos_sales.id", ondelete="SET NULL")
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class RedemptionStatus(enum.StrEnum):
    issued = "issued"  # points taken, reward code waiting for the POS
    applied = "applied"  # the POS applied it to a sale
    voided = "voided"  # cancelled: the points came back (a reversal entry)


class Redemption(UUIDModel, table=True):
    __tablename__ = "loyalty_redemptions"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    customer_id: uuid.UUID = Field(foreign_key="loyalty_customers.id", index=True, ondelete="CASCADE")
    points: int
    value: Decimal = Field(sa_type=sa.Numeric(10, 2))
    currency: str = Field(default="USD", max_length=3)
    code: str = Field(max_length=20, index=True)
    status: RedemptionStatus = Field(default=RedemptionStatus.issued, sa_type=sa.String(10))
    campaign_id: uuid.UUID | None = Field(default=None, foreign_key="loyalty_campaigns.id", ondelete="SET NULL")


class CustomerScore(UUIDModel, table=True):
    """Nightly scores of one customer: RFM, the behavioural segment, the churn model's probability and reasons."""

    __tablename__ = "loyalty_customer_scores"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    customer_id: uuid.UUID = Field(foreign_key="loyalty_customers.id", unique=True, ondelete="CASCADE")
    segment: str = Field(default="new", max_length=20)  # new / regular / high_value / lapsing / lost / occasional
    recency_days: int = 0
    frequency: int = 0  # visit days in the last 365 days
    monetary: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(12, 2))  # spend in the last 365 days
    rfm_score: int = 0  # 3..15 (quintiles)
    buy_again_probability: float | None = None
    recency_rule_probability: float | None = None  # what the plain recency rule would say (for the comparison)
    reasons: list = Field(default_factory=list, sa_type=sa.JSON)  # [{feature, words, value, contribution}]
    model: str = Field(default="", max_length=20)  # own / pooled / none
    computed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ModelRun(UUIDModel, table=True):
    """One nightly training of a business's churn model and how it did on customers it did not learn from, next to
    the recency rule and RFM on the same customers (what the console shows so the operator sees it earns its keep)."""

    __tablename__ = "loyalty_model_runs"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    trained_on: str = Field(max_length=20)  # own / pooled / none (too little history anywhere)
    horizon_days: int = 90
    customers: int = 0
    positives: int = 0
    auc_model: float | None = None
    auc_recency: float | None = None
    auc_rfm: float | None = None
    importance: dict = Field(default_factory=dict, sa_type=sa.JSON)  # feature -> gain share


class Segment(UUIDModel, table=True):
    """An operator-built segment: filters over the scores and consent (rules), with its latest count."""

    __tablename__ = "loyalty_segments"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    rules: list = Field(default_factory=list, sa_type=sa.JSON)  # [{"field": "recency_days", "op": ">", "value": 60}]
    member_count: int = 0
    counted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class SegmentSnapshot(BigIntModel, table=True):
    """Daily count per segment (built-in key or operator segment id): the trend line."""

    __tablename__ = "loyalty_segment_snapshots"
    __table_args__ = (sa.UniqueConstraint("business_id", "segment_key", "day", name="uq_loyalty_segment_snapshots"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    segment_key: str = Field(max_length=60)
    day: datetime = Field(sa_type=UTCDateTime)
    member_count: int


class MessageTemplate(UUIDModel, table=True):
    """A saved message a campaign starts from ({first_name}, {points}, {business} are filled in per customer)."""

    __tablename__ = "loyalty_templates"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    channel: Channel = Field(sa_type=sa.String(10))
    subject: str = Field(default="", max_length=200)
    body: str = Field(sa_type=sa.Text)


class CampaignStatus(enum.StrEnum):
    draft = "draft"  # being edited
    scheduled = "scheduled"  # approved by the compliance checks; goes out at scheduled_at
    sending = "sending"  # the audience is drawn and messages are going out
    sent = "sent"  # every message was sent, deferred or refused
    cancelled = "cancelled"  # stopped before it was sent


class Campaign(UUIDModel, table=True):
    __tablename__ = "loyalty_campaigns"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    channel: Channel = Field(sa_type=sa.String(10))
    segment_key: str = Field(max_length=60)  # a built-in segment ("lapsing") or "custom:<segment id>"
    subject: str = Field(default="", max_length=200)  # email only
    body_a: str = Field(sa_type=sa.Text)
    body_b: str | None = Field(default=None, sa_type=sa.Text)  # A/B test when set
    holdout_percent: int = 10  # kept out, to measure lift
    status: CampaignStatus = Field(default=CampaignStatus.draft, sa_type=sa.String(12))
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attribution_days: int = 14  # a purchase this soon after the send counts as a conversion
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class MessageStatus(enum.StrEnum):
    queued = "queued"  # drawn, waiting for its send time (quiet hours push it to the morning)
    sent = "sent"  # accepted by the SMTP server / SMS provider
    delivered = "delivered"  # provider's status callback says delivered
    failed = "failed"  # refused by the provider (error kept)
    held_out = "held_out"  # the control group: deliberately not sent
    skipped = "skipped"  # not sent: consent withdrawn, suppressed, frequency cap, age (reason kept)


class Message(BigIntModel, table=True):
    __tablename__ = "loyalty_messages"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "customer_id", name="uq_loyalty_messages_campaign_customer"),
                      sa.Index("ix_loyalty_messages_due", "status", "send_after"),
                      sa.Index("ix_loyalty_messages_customer_sent", "customer_id", "sent_at"))

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    campaign_id: uuid.UUID = Field(foreign_key="loyalty_campaigns.id", index=True, ondelete="CASCADE")
    customer_id: uuid.UUID = Field(foreign_key="loyalty_customers.id", ondelete="CASCADE")
    channel: Channel = Field(sa_type=sa.String(10))
    variant: str = Field(max_length=10)  # a / b / holdout
    status: MessageStatus = Field(default=MessageStatus.queued, sa_type=sa.String(12))
    send_after: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_id: str | None = Field(default=None, max_length=64, index=True)  # SMS sid / email Message-ID
    error: str | None = Field(default=None, max_length=300)
    converted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # first purchase within attribution


class StatusEvent(UUIDModel, table=True):
    """Every status change of a campaign or redemption (who, when, from, to, why)."""

    __tablename__ = "loyalty_events"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    object_type: str = Field(max_length=20)  # campaign / redemption
    object_id: uuid.UUID = Field(index=True)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    reason: str = Field(default="", max_length=300)


TENANT_TABLES = ("loyalty_customers", "loyalty_customer_links", "loyalty_consents", "loyalty_suppressions",
                 "loyalty_programs", "loyalty_tiers", "loyalty_points", "loyalty_redemptions",
                 "loyalty_customer_scores", "loyalty_model_runs", "loyalty_segments", "loyalty_segment_snapshots",
                 "loyalty_templates", "loyalty_campaigns", "loyalty_messages", "loyalty_events")
