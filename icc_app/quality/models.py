"""CQI tables: scoring configurations (weights, bands and half-lives in the database, versioned, exactly one
active), the potency calibration computed from real lab data, and every score with its full breakdown."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import BigIntModel, UTCDateTime, UUIDModel


class ConfigStatus(enum.StrEnum):
    draft = "draft"  # being edited and previewed
    active = "active"  # the one config that scores lots
    retired = "retired"  # was active once; kept so old scores stay explainable


class ScoringConfig(UUIDModel, table=True):
    __tablename__ = "cqi_configs"

    version: int = Field(sa_column_kwargs={"unique": True})
    status: ConfigStatus = Field(default=ConfigStatus.draft, sa_type=sa.String(10), index=True)
    weights: dict = Field(sa_type=sa.JSON)  # component -> weight, summing to 1
    params: dict = Field(sa_type=sa.JSON)  # bands, half-lives, thresholds, the reputation prior
    note: str = Field(default="", max_length=500)
    created_by: uuid.UUID | None = None
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    activated_by: uuid.UUID | None = None


class PotencyCalibration(UUIDModel, table=True):
    """Percentiles (0..100) of a lab metric for a product group, from a reference set of real lab results."""

    __tablename__ = "cqi_calibrations"
    __table_args__ = (sa.UniqueConstraint("product_group", "metric", name="uq_cqi_calibrations_group_metric"),)

    product_group: str = Field(max_length=20)  # flower / concentrate
    metric: str = Field(max_length=20)  # total_thc_pct / total_cbd_pct / total_terpenes_pct
    percentiles: list[float] = Field(sa_type=sa.JSON)  # 101 values: p0 .. p100
    samples: int
    source: str = Field(max_length=300)


class CQIScore(BigIntModel, table=True):
    __tablename__ = "cqi_scores"
    __table_args__ = (sa.Index("ix_cqi_scores_lot_current", "lot_id", "is_current"),)

    lot_id: uuid.UUID = Field(foreign_key="lots.id", index=True, ondelete="CASCADE")
    config_version: int
    total: float | None = None  # None: not scored (the reason says why), never 0
    reason: str = Field(default="", max_length=500)
    flagged: bool = Field(default=False)  # a failed safety panel
    components: list[dict] = Field(default_factory=list, sa_type=sa.JSON)  # name, score, weight, inputs, reason, improve
    is_current: bool = Field(default=True)
    scorer: str = Field(default="rules", max_length=20)  # rules / model:<version> (shadow)


class ModelStatus(enum.StrEnum):
    shadow = "shadow"  # scores beside the rules; shown to admins, never to buyers
    promoted = "promoted"  # passed the gate (enough data, beats the baseline) and was promoted by an admin
    retired = "retired"


class PriceModel(UUIDModel, table=True):
    """A model of the clearing price per unit of accepted offers, learned from lot features (phase 3)."""

    __tablename__ = "cqi_price_models"

    version: int = Field(sa_column_kwargs={"unique": True})
    status: ModelStatus = Field(default=ModelStatus.shadow, sa_type=sa.String(10), index=True)
    algorithm: str = Field(default="lightgbm", max_length=40)
    features: list[str] = Field(sa_type=sa.JSON)
    metrics: dict = Field(sa_type=sa.JSON)  # n_train, n_val, mae, baseline_mae, split_at
    artifact: str = Field(sa_type=sa.Text)  # the booster as text (LightGBM model_to_string)
    trained_at: datetime = Field(sa_type=UTCDateTime)
    promoted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    promoted_by: uuid.UUID | None = None


class QualityEvent(BigIntModel, table=True):
    """A status change of a scoring config or a price model: who, when, from, to, why."""

    __tablename__ = "cqi_events"

    object_type: str = Field(max_length=20)  # cqi_config / cqi_price_model
    object_id: uuid.UUID = Field(index=True)
    version: int
    actor_id: uuid.UUID | None = None
    from_status: str = Field(max_length=10)
    to_status: str = Field(max_length=10)
    note: str = Field(default="", max_length=500)
