"""IVB, the virtual budtender: recommendations, effect quiz, Find My Product, POS widget: tables.

Consumers' own rows (quiz profile, favourites, feedback, recommendation runs) are keyed by user; the checkout
widget's rows are owned by the dispensary's business (row-level security) and name a customer only by a hash
salted per business, so no raw customer identifier ever reaches ICC."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import BigIntModel, UTCDateTime, UUIDModel


class FeedbackKind(enum.StrEnum):
    shown = "shown"  # the result appeared in a list (impressions, for click-through rates)
    click = "click"
    add_to_cart = "add_to_cart"
    purchase = "purchase"
    review = "review"  # the consumer later reviewed the product (maps review)
    favourite = "favourite"


class ModelStatus(enum.StrEnum):
    candidate = "candidate"  # trained and evaluated, waiting for the promotion gate
    promoted = "promoted"  # the one model serving requests
    rejected = "rejected"  # did worse offline than the model serving at the time
    retired = "retired"  # was promoted, replaced by a better one


class StrainProfile(UUIDModel, table=True):
    """Reference facts about a strain (effects reported by reviewers with their review count, lab terpenes)."""

    __tablename__ = "budtender_strains"

    key: str = Field(max_length=120, sa_column_kwargs={"unique": True})  # slug of the name (reference.strain_key)
    name: str = Field(max_length=200)
    strain_type: str | None = Field(default=None, max_length=10)
    thc_level: float | None = None
    dominant_terpene: str | None = Field(default=None, max_length=40)
    effects: dict = Field(default_factory=dict, sa_type=sa.JSON)  # effect -> share of reviewers (0..1)
    review_count: int = 0  # reviews behind `effects`
    terpenes: dict = Field(default_factory=dict, sa_type=sa.JSON)  # terpene -> mean % by weight
    source: str = Field(default="leafly", max_length=40)


class QuizProfile(UUIDModel, table=True):
    """A consumer's quiz answers; one per user, updated when they refine."""

    __tablename__ = "budtender_profiles"

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", sa_column_kwargs={"unique": True})
    wanted: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    avoided: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    experience: str = Field(default="occasional", max_length=20)  # new / occasional / regular
    formats: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # menu categories; empty: any
    budget_max: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 2))
    currency: str = Field(default="USD", max_length=3)
    radius_miles: float = 15.0
    latitude: float | None = None  # where they last searched from
    longitude: float | None = None
    place: str | None = Field(default=None, max_length=200)  # the words they typed (a ZIP or an address)


class Favourite(UUIDModel, table=True):
    """A product a consumer saved; the strain is kept so the favourite still teaches the model after the item goes."""

    __tablename__ = "budtender_favourites"
    __table_args__ = (sa.UniqueConstraint("user_id", "menu_item_id", name="uq_budtender_favourites_user_item"),)

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    menu_item_id: uuid.UUID | None = Field(default=None, foreign_key="menu_items.id", ondelete="SET NULL")
    strain_key: str = Field(default="", max_length=120)
    name: str = Field(max_length=300)  # as it was saved, shown if the item is gone
    terpenes: list[dict] = Field(default_factory=list, sa_type=sa.JSON)


class RecommendationRun(UUIDModel, table=True):
    """One answered request: who asked (a user, or a widget's business and hashed customer), with what, what was
    shown, by which model. A consumer's history is their runs and their feedback."""

    __tablename__ = "budtender_runs"
    __table_args__ = (sa.Index("ix_budtender_runs_user_created", "user_id", "created_at"),)

    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    source: str = Field(default="find_my_product", max_length=20)  # find_my_product / api
    request: dict = Field(default_factory=dict, sa_type=sa.JSON)  # the quiz and place, no free text
    results: list[dict] = Field(default_factory=list, sa_type=sa.JSON)  # [{menu_item_id, name, strain_key, score}]
    model_version: int | None = None


class Feedback(BigIntModel, table=True):
    """What a consumer did with a recommendation (or product): retraining reads these."""

    __tablename__ = "budtender_feedback"
    __table_args__ = (sa.Index("ix_budtender_feedback_user", "user_id", "created_at"),)

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    run_id: uuid.UUID | None = Field(default=None, foreign_key="budtender_runs.id", ondelete="SET NULL")
    menu_item_id: uuid.UUID | None = Field(default=None, foreign_key="menu_items.id", ondelete="SET NULL")
    strain_key: str = Field(default="", max_length=120)
    kind: FeedbackKind = Field(sa_type=sa.String(20))


class WidgetSettings(UUIDModel, table=True):
    """A business's checkout widget: on or off, and the salt its customers' ids are hashed with."""

    __tablename__ = "budtender_widget_settings"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", ondelete="CASCADE",
                                   sa_column_kwargs={"unique": True})
    customer_salt: str = Field(max_length=64)  # hex; shared with the business's POS, never with other businesses
    enabled: bool = Field(default=True)


class WidgetEvent(BigIntModel, table=True):
    """A widget's request or a customer's action at checkout, keyed by the salted hash of the POS customer id."""

    __tablename__ = "budtender_widget_events"
    __table_args__ = (sa.Index("ix_budtender_widget_events_customer", "business_id", "customer_ref"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", ondelete="CASCADE")
    dispensary_id: uuid.UUID = Field(foreign_key="dispensaries.id", ondelete="CASCADE")
    customer_ref: str | None = Field(default=None, max_length=64)  # sha256 hex of salt + POS customer id
    menu_item_id: uuid.UUID | None = Field(default=None, foreign_key="menu_items.id", ondelete="SET NULL")
    strain_key: str = Field(default="", max_length=120)
    kind: FeedbackKind = Field(sa_type=sa.String(20))


class TrainedModel(UUIDModel, table=True):
    """One retrain's model with its offline metrics; the promotion gate decides whether it serves."""

    __tablename__ = "budtender_models"

    version: int = Field(sa_column_kwargs={"unique": True})
    status: ModelStatus = Field(default=ModelStatus.candidate, sa_type=sa.String(12))
    promoted: bool = Field(default=False, index=True)
    metrics: dict = Field(default_factory=dict, sa_type=sa.JSON)  # hit_rate_at_10, coverage, users
    compared_to: dict = Field(default_factory=dict, sa_type=sa.JSON)  # the serving model's metrics on the same split
    trained_on: dict = Field(default_factory=dict, sa_type=sa.JSON)  # counts of interactions by source
    artifact: bytes = Field(sa_type=sa.LargeBinary)
    promoted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ModelEvent(BigIntModel, table=True):
    """A model's status change: from, to, why (written by training.transition only)."""

    __tablename__ = "budtender_model_events"

    model_id: uuid.UUID = Field(foreign_key="budtender_models.id", index=True, ondelete="CASCADE")
    from_status: str = Field(max_length=12)
    to_status: str = Field(max_length=12)
    why: str = Field(max_length=500)
