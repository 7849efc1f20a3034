"""ICC Maps tables: dispensaries (from the regulator lists, claimable by their verified business) and the cache
of geocoded addresses. Coordinates always carry their source and a confidence."""

from __future__ import annotations

import enum
import uuid
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import UUIDModel


class ReviewStatus(enum.StrEnum):
    published = "published"  # visible to everyone, counted in the summary
    hidden = "hidden"  # hidden by a moderator, or by HIDE_AFTER_REPORTS reports until a moderator looks


class Dispensary(UUIDModel, table=True):
    __tablename__ = "dispensaries"
    __table_args__ = (
        sa.UniqueConstraint("state", "license_number", name="uq_dispensaries_state_license"),
        sa.Index("ix_dispensaries_lat_lon", "latitude", "longitude"),
    )

    name: str = Field(max_length=300)
    dba: str | None = Field(default=None, max_length=300)
    license_number: str = Field(max_length=60)
    state: str = Field(max_length=2, index=True)
    registry_entry_id: uuid.UUID | None = Field(default=None, foreign_key="license_registry.id", ondelete="SET NULL")
    street: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=120)
    postal_code: str | None = Field(default=None, max_length=10)
    latitude: float | None = None
    longitude: float | None = None
    geo_source: str = Field(default="", max_length=40)  # registry / zip-centroid / census ...
    geo_confidence: float = 0.0  # 1.0 rooftop ... 0.3 a ZIP's centroid
    phone: str | None = Field(default=None, max_length=40)
    website: str | None = Field(default=None, max_length=300)
    hours: dict = Field(default_factory=dict, sa_type=sa.JSON)  # weekday -> [open, close] ("09:00", "21:00")
    services: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # pickup, delivery, medical, adult_use
    slug: str = Field(max_length=200, index=True)
    city_slug: str = Field(default="", max_length=120)
    claimed_by_business_id: uuid.UUID | None = Field(default=None, foreign_key="businesses.id", ondelete="SET NULL")
    is_active: bool = Field(default=True)


class GeocodeCache(UUIDModel, table=True):
    """One geocoded address (normalized, hashed) per provider, so the same address is never looked up twice."""

    __tablename__ = "geocode_cache"

    address_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    query: str = Field(max_length=500)
    latitude: float | None = None
    longitude: float | None = None
    confidence: float = 0.0
    provider: str = Field(max_length=40)


class MenuItem(UUIDModel, table=True):
    """One product on a dispensary's menu: typed by hand in the console (source "manual") or synced from a POS."""

    __tablename__ = "menu_items"
    __table_args__ = (sa.UniqueConstraint("dispensary_id", "source", "external_id", name="uq_menu_items_source_external"),)

    dispensary_id: uuid.UUID = Field(foreign_key="dispensaries.id", index=True, ondelete="CASCADE")
    source: str = Field(default="manual", max_length=20)  # manual / dutchie / jane / treez / flowhub
    external_id: str = Field(max_length=120)
    name: str = Field(max_length=300)
    brand: str | None = Field(default=None, max_length=200)
    category: str = Field(max_length=40, index=True)
    strain_name: str | None = Field(default=None, max_length=120)
    strain_type: str | None = Field(default=None, max_length=10)
    thc_min: float | None = None
    thc_max: float | None = None
    thc_unit: str = Field(default="%", max_length=5)  # % or mg
    cbd_min: float | None = None
    cbd_max: float | None = None
    cbd_unit: str = Field(default="%", max_length=5)
    terpenes: list[dict] = Field(default_factory=list, sa_type=sa.JSON)  # [{name, pct}]
    variants: list[dict] = Field(default_factory=list, sa_type=sa.JSON)  # [{label, weight_g, price}]
    # The lowest variant price, for sorting and filters: money, so a Decimal to the cent with its currency.
    price: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 2))
    currency: str = Field(default="USD", max_length=3)
    in_stock_qty: int = 0
    lot_id: uuid.UUID | None = Field(default=None, foreign_key="lots.id", ondelete="SET NULL")  # the exchange lot
    is_active: bool = Field(default=True)


class Review(UUIDModel, table=True):
    """A consumer's rating (1-5) of a product or a dispensary, with effect tags and text; one per consumer and item."""

    __tablename__ = "reviews"
    __table_args__ = (sa.UniqueConstraint("author_id", "target_type", "target_id", name="uq_reviews_author_target"),
                      sa.Index("ix_reviews_target", "target_type", "target_id", "status"))

    author_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    target_type: str = Field(max_length=10)  # product / dispensary
    target_id: uuid.UUID
    dispensary_id: uuid.UUID = Field(foreign_key="dispensaries.id", index=True, ondelete="CASCADE")
    rating: int
    effects: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    text: str = Field(default="", sa_type=sa.Text)
    verified_purchase: bool = Field(default=False)
    # Changed only by maps.reviews.transition (one verb each, with an event row); stored as its value.
    status: ReviewStatus = Field(default=ReviewStatus.published, sa_type=sa.String(10))
    reports: int = 0
    moderation_note: str | None = Field(default=None, max_length=500)
    reply: str | None = Field(default=None, sa_type=sa.Text)  # the dispensary's public answer
    reply_by: uuid.UUID | None = None


class ReviewSummary(UUIDModel, table=True):
    """The aggregate a product or dispensary shows: count, mean rating, share of reviews naming each effect."""

    __tablename__ = "review_summaries"
    __table_args__ = (sa.UniqueConstraint("target_type", "target_id", name="uq_review_summaries_target"),)

    target_type: str = Field(max_length=10)
    target_id: uuid.UUID
    count: int = 0
    rating: float | None = None
    effects: dict = Field(default_factory=dict, sa_type=sa.JSON)  # tag -> share of reviews (0..1)


class DispensaryPhoto(UUIDModel, table=True):
    """A photo of the store, uploaded by its people; the thumbnail is made by the maps.make_thumbnail task."""

    __tablename__ = "dispensary_photos"

    dispensary_id: uuid.UUID = Field(foreign_key="dispensaries.id", index=True, ondelete="CASCADE")
    storage_key: str = Field(max_length=300)
    thumbnail_key: str | None = Field(default=None, max_length=300)
    filename: str = Field(max_length=255)
    position: int = 0


class ReviewReport(UUIDModel, table=True):
    """Who reported a review and why: one report per person and review, so one person cannot hide a review."""

    __tablename__ = "review_reports"
    __table_args__ = (sa.UniqueConstraint("review_id", "reporter_id", name="uq_review_reports_reporter"),)

    review_id: uuid.UUID = Field(foreign_key="reviews.id", index=True, ondelete="CASCADE")
    reporter_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    reason: str = Field(max_length=500)


def menu_price(value: float | Decimal | str | None) -> Decimal | None:
    """A price from a form, a CSV or a POS feed as stored: a Decimal rounded to the cent (feeds send floats)."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))
