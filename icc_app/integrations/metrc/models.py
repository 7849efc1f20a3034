"""Metrc seed-to-sale tables, all owned by one business (tenant filters and row-level security):

- `metrc_packages`: the last known state of each Metrc package of a connection's license (quantity, unit, lab
  state, hold), kept so a compliance re-check reads only what Metrc says changed since (lastModified windows).
- `metrc_compliance_checks`: one row per check (calls made, calls avoided, discrepancies found).
- `metrc_alerts` and `metrc_alert_events`: each discrepancy a check finds, with severity, evidence and a suggested
  fix; its status changes only through compliance.transition, which writes an event row (history kept).
- `metrc_transfers`: the Metrc side of a CCX order (outgoing template, manifest, incoming receipt per package).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import BigIntModel, UTCDateTime, UUIDModel


class AlertKind(enum.StrEnum):
    missing_in_metrc = "missing_in_metrc"  # ICC or the POS sells a package Metrc does not list as active
    missing_in_icc = "missing_in_icc"  # Metrc has an active package that ICC and the POS do not know
    quantity_mismatch = "quantity_mismatch"
    lab_status_mismatch = "lab_status_mismatch"  # offered or sold while Metrc says it has not passed testing
    on_hold_for_sale = "on_hold_for_sale"  # Metrc has it on hold, ICC or the POS still sells it
    sale_not_reported = "sale_not_reported"  # the POS sold it, Metrc has no receipt for it

    @property
    def label(self) -> str:
        return {"missing_in_metrc": "Missing in Metrc", "missing_in_icc": "Missing in ICC",
                "quantity_mismatch": "Quantity mismatch", "lab_status_mismatch": "Lab status mismatch",
                "on_hold_for_sale": "On hold but for sale", "sale_not_reported": "Sale not reported"}[self.value]


class AlertSeverity(enum.StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class AlertStatus(enum.StrEnum):
    open = "open"
    resolved = "resolved"  # fixed (by an operator, or no longer found by a check)
    dismissed = "dismissed"  # an operator says it is not a problem


class MetrcPackage(UUIDModel, table=True):
    __tablename__ = "metrc_packages"
    __table_args__ = (sa.UniqueConstraint("connection_id", "label", name="uq_metrc_packages_label"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    connection_id: uuid.UUID = Field(foreign_key="integration_connections.id", ondelete="CASCADE")
    label: str = Field(max_length=24)
    package_id: int = Field(sa_type=sa.BigInteger)
    item_name: str = Field(default="", max_length=300)
    category: str | None = Field(default=None, max_length=80)
    strain_name: str | None = Field(default=None, max_length=120)
    quantity: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 3))
    unit: str = Field(default="", max_length=30)
    lab_state: str = Field(default="", max_length=40)
    on_hold: bool = False
    active: bool = True
    last_modified: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sale_reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # latest Metrc receipt line


class ComplianceCheck(UUIDModel, table=True):
    __tablename__ = "metrc_compliance_checks"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    connection_id: uuid.UUID = Field(foreign_key="integration_connections.id", index=True, ondelete="CASCADE")
    license_number: str = Field(max_length=40)
    trigger: str = Field(default="schedule", max_length=20)  # schedule / manual / cli
    mode: str = Field(default="full", max_length=20)  # full / incremental
    status: str = Field(default="running", max_length=20)  # running / succeeded / failed
    read_from: datetime | None = Field(default=None, sa_type=UTCDateTime)  # lastModified start of this read
    read_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    calls: int = 0
    calls_avoided: int = 0  # pages a full re-read would have fetched that this incremental read did not
    packages: int = 0
    discrepancies: int = 0
    opened: int = 0
    resolved: int = 0
    error: str | None = Field(default=None, max_length=1000)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Alert(UUIDModel, table=True):
    __tablename__ = "metrc_alerts"
    __table_args__ = (
        sa.Index("ix_metrc_alerts_business_status", "business_id", "status"),
        # One open alert per connection, kind and package (a re-check updates it instead of opening another).
        sa.Index("uq_metrc_alerts_open", "connection_id", "kind", "package_label", unique=True,
                 postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'")),
    )

    business_id: uuid.UUID = Field(foreign_key="businesses.id", ondelete="CASCADE")
    connection_id: uuid.UUID = Field(foreign_key="integration_connections.id", index=True, ondelete="CASCADE")
    license_number: str = Field(max_length=40)
    kind: AlertKind = Field(sa_type=sa.String(30))
    severity: AlertSeverity = Field(sa_type=sa.String(10))
    status: AlertStatus = Field(default=AlertStatus.open, sa_type=sa.String(20))
    package_label: str = Field(max_length=60)
    title: str = Field(max_length=300)
    evidence: dict = Field(default_factory=dict, sa_type=sa.JSON)
    suggested_fix: str = Field(default="", max_length=1000)
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    check_id: uuid.UUID | None = Field(default=None, foreign_key="metrc_compliance_checks.id",
                                       ondelete="SET NULL")


class AlertEvent(BigIntModel, table=True):
    __tablename__ = "metrc_alert_events"

    alert_id: uuid.UUID = Field(foreign_key="metrc_alerts.id", index=True, ondelete="CASCADE")
    business_id: uuid.UUID = Field(foreign_key="businesses.id", ondelete="CASCADE")
    actor_id: uuid.UUID | None = None
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    note: str = Field(default="", max_length=1000)


class TransferLink(UUIDModel, table=True):
    """The Metrc side of one CCX order: the seller's outgoing template and transfer, the buyer's receipt."""

    __tablename__ = "metrc_transfers"

    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")  # the seller
    buyer_business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    connection_id: uuid.UUID | None = Field(default=None, foreign_key="integration_connections.id",
                                            ondelete="SET NULL")
    buyer_connection_id: uuid.UUID | None = Field(default=None, foreign_key="integration_connections.id",
                                                  ondelete="SET NULL")
    template_name: str = Field(max_length=60)
    template_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    manifest_number: str | None = Field(default=None, max_length=40)
    transfer_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    recipient_license: str | None = Field(default=None, max_length=40)
    status: str = Field(default="pending", max_length=20)  # pending / blocked / template_created / manifested
    #   / in_transit / received / closed
    packages: list[dict] = Field(default_factory=list, sa_type=sa.JSON)  # [{label, quantity, unit, wholesale_price,
    #   state: shipped/accepted/rejected, reason}]
    last_error: str | None = Field(default=None, max_length=1000)
