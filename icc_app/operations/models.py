"""Operations suite: demand forecasts, reorder and purchase orders, expirations, pricing: tables.

Sales and stock arrive from two places: the POS sync (integrations: pos_sale_lines, pos_inventory) and CSV import
for businesses without a connected POS. Both land in the same two tables here (daily demand per product, stock per
product and batch), so forecasts, reorder points, expirations and prices read one shape. A "location" is the
connection's id for POS data, or the name given in the CSV (default "main")."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import BigIntModel, UTCDateTime, UUIDModel
from icc_app.exchange import models as _exchange  # noqa: F401 - lots and offers, which purchase order lines reference
from icc_app.maps import models as _maps  # noqa: F401 - menu items

MONEY = sa.Numeric(12, 2)
QUANTITY = sa.Numeric(14, 3)


class DemandDay(BigIntModel, table=True):
    """Units of one product sold at one location on one day (returns net), with the revenue: the series the
    forecasts learn from and, where prices moved, the price elasticity."""

    __tablename__ = "ops_demand_days"
    __table_args__ = (sa.UniqueConstraint("business_id", "location_key", "product_key", "day",
                                          name="uq_ops_demand_days_key"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    location_key: str = Field(max_length=120)
    product_key: str = Field(max_length=120)  # the POS's product external id, or the CSV's sku
    category: str = Field(default="other", max_length=40)
    day: date
    quantity: Decimal = Field(default=Decimal("0"), sa_type=QUANTITY)
    revenue: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    source: str = Field(default="pos", max_length=10)  # pos / csv


class StockItem(UUIDModel, table=True):
    """What is on the shelf: one product (and batch) at one location, with its cost, price and expiry."""

    __tablename__ = "ops_stock_items"
    __table_args__ = (sa.UniqueConstraint("business_id", "location_key", "product_key", "batch",
                                          name="uq_ops_stock_items_key"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    location_key: str = Field(max_length=120)
    product_key: str = Field(max_length=120)
    batch: str = Field(default="", max_length=120)
    menu_item_id: uuid.UUID | None = Field(default=None, foreign_key="menu_items.id", ondelete="SET NULL")
    name: str = Field(default="", max_length=300)
    category: str = Field(default="other", max_length=40)
    strain_name: str | None = Field(default=None, max_length=120)
    size_label: str | None = Field(default=None, max_length=40)  # "3.5g", "1g", "100mg"
    quantity: Decimal = Field(default=Decimal("0"), sa_type=QUANTITY)
    unit_cost: Decimal | None = Field(default=None, sa_type=MONEY)
    price: Decimal | None = Field(default=None, sa_type=MONEY)
    currency: str = Field(default="USD", max_length=3)
    expires_on: date | None = None
    source: str = Field(default="pos", max_length=10)


class StoredForecast(UUIDModel, table=True):
    """The latest forecast of one node: a product at a location, a category there, or the whole location."""

    __tablename__ = "ops_forecasts"
    __table_args__ = (sa.UniqueConstraint("business_id", "location_key", "level", "node_key",
                                          name="uq_ops_forecasts_node"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    location_key: str = Field(max_length=120)
    level: str = Field(max_length=10)  # product / category / location
    node_key: str = Field(max_length=120)  # product key, category, or the location key
    name: str = Field(default="", max_length=300)
    menu_item_id: uuid.UUID | None = Field(default=None, foreign_key="menu_items.id", ondelete="SET NULL")
    frequency: str = Field(default="daily", max_length=10)
    model: str = Field(max_length=60)
    model_version: str = Field(max_length=40)
    backtest_mase: float | None = None
    backtest_mae: float | None = None
    residual_sd: float | None = None  # one-day error size: safety stock reads it
    history_points: int = 0
    horizon: int = 0
    values: list[dict] = Field(default_factory=list, sa_type=sa.JSON)  # [{date, mean, lo_80, hi_80, lo_95, hi_95}]
    notes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    fast_mover: bool = True  # refreshed daily (fast) or weekly (slow)
    refreshed_at: datetime = Field(sa_type=UTCDateTime)


class ReorderPolicy(UUIDModel, table=True):
    """How one product is bought: from whom, how long delivery takes, the smallest order, the service level."""

    __tablename__ = "ops_reorder_policies"
    __table_args__ = (sa.UniqueConstraint("business_id", "location_key", "product_key",
                                          name="uq_ops_reorder_policies_key"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    location_key: str = Field(max_length=120)
    product_key: str = Field(max_length=120)
    supplier_name: str = Field(max_length=200)
    supplier_business_id: uuid.UUID | None = Field(default=None, foreign_key="businesses.id", ondelete="SET NULL")
    supplier_email: str | None = Field(default=None, max_length=254)
    lead_time_days: int = 7
    review_period_days: int = 7
    min_order_qty: Decimal = Field(default=Decimal("1"), sa_type=QUANTITY)
    service_level: float = 0.95
    is_active: bool = True


class PurchaseOrderStatus(enum.StrEnum):
    draft = "draft"  # drafted by the reorder check or by hand; lines can be edited
    approved = "approved"  # an operator checked it; ready to send
    sent = "sent"  # emailed / offered on CCX
    received = "received"  # goods arrived (end)
    cancelled = "cancelled"  # (end)


class PurchaseOrder(UUIDModel, table=True):
    __tablename__ = "ops_purchase_orders"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    location_key: str = Field(max_length=120)
    number: str = Field(max_length=30)  # PO-20261202-ab12
    supplier_name: str = Field(max_length=200)
    supplier_business_id: uuid.UUID | None = Field(default=None, foreign_key="businesses.id", ondelete="SET NULL")
    supplier_email: str | None = Field(default=None, max_length=254)
    # Changed only by purchasing.transition (one event row per change).
    status: PurchaseOrderStatus = Field(default=PurchaseOrderStatus.draft, sa_type=sa.String(12), index=True)
    total: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    currency: str = Field(default="USD", max_length=3)
    auto: bool = True  # drafted by the reorder check
    note: str = Field(default="", max_length=1000)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_via: str | None = Field(default=None, max_length=10)  # exchange / email


class PurchaseOrderLine(UUIDModel, table=True):
    __tablename__ = "ops_purchase_order_lines"

    purchase_order_id: uuid.UUID = Field(foreign_key="ops_purchase_orders.id", index=True, ondelete="CASCADE")
    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    product_key: str = Field(max_length=120)
    name: str = Field(default="", max_length=300)
    category: str = Field(default="other", max_length=40)
    strain_name: str | None = Field(default=None, max_length=120)
    quantity: Decimal = Field(sa_type=QUANTITY)
    unit_cost: Decimal | None = Field(default=None, sa_type=MONEY)
    on_hand: Decimal = Field(default=Decimal("0"), sa_type=QUANTITY)
    reorder_point: Decimal = Field(default=Decimal("0"), sa_type=QUANTITY)
    order_up_to: Decimal = Field(default=Decimal("0"), sa_type=QUANTITY)
    lot_id: uuid.UUID | None = Field(default=None, foreign_key="lots.id", ondelete="SET NULL")  # chosen CCX lot
    offer_id: uuid.UUID | None = Field(default=None, foreign_key="offers.id", ondelete="SET NULL")


class PurchaseOrderEvent(BigIntModel, table=True):
    __tablename__ = "ops_purchase_order_events"

    purchase_order_id: uuid.UUID = Field(foreign_key="ops_purchase_orders.id", index=True, ondelete="CASCADE")
    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    from_status: str = Field(max_length=12)
    to_status: str = Field(max_length=12)
    reason: str = Field(default="", max_length=1000)


class CategoryRule(UUIDModel, table=True):
    """Per category: the pricing guard rails and when an expiry is close enough to alert."""

    __tablename__ = "ops_category_rules"
    __table_args__ = (sa.UniqueConstraint("business_id", "category", name="uq_ops_category_rules_key"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    category: str = Field(max_length=40)
    min_margin_pct: Decimal = Field(default=Decimal("30"), sa_type=sa.Numeric(5, 2))  # over unit cost, of price
    max_discount_pct: Decimal = Field(default=Decimal("25"), sa_type=sa.Numeric(5, 2))  # below the list price
    max_change_pct_per_day: Decimal = Field(default=Decimal("10"), sa_type=sa.Numeric(5, 2))
    radius_miles: float = 10.0
    expiry_alert_days: int = 30


class SuggestionStatus(enum.StrEnum):
    suggested = "suggested"
    approved = "approved"
    rejected = "rejected"
    superseded = "superseded"  # a newer suggestion for the same product replaced it


class PriceSuggestion(UUIDModel, table=True):
    __tablename__ = "ops_price_suggestions"
    __table_args__ = (sa.Index("ix_ops_price_suggestions_open", "business_id", "status"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", ondelete="CASCADE")
    location_key: str = Field(max_length=120)
    product_key: str = Field(max_length=120)
    menu_item_id: uuid.UUID | None = Field(default=None, foreign_key="menu_items.id", ondelete="SET NULL")
    name: str = Field(default="", max_length=300)
    category: str = Field(default="other", max_length=40)
    kind: str = Field(default="pricing", max_length=10)  # pricing / markdown (expiring stock)
    current_price: Decimal = Field(sa_type=MONEY)
    suggested_price: Decimal = Field(sa_type=MONEY)
    floor_price: Decimal = Field(sa_type=MONEY)  # unit cost / (1 - minimum margin): never crossed
    currency: str = Field(default="USD", max_length=3)
    reason: str = Field(default="", max_length=500)
    factors: dict = Field(default_factory=dict, sa_type=sa.JSON)
    expected_revenue_change_pct: float | None = None  # from the category's elasticity, where known
    status: SuggestionStatus = Field(default=SuggestionStatus.suggested, sa_type=sa.String(12))
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    applied_via: str | None = Field(default=None, max_length=10)  # pos / csv
