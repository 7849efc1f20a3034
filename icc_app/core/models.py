"""Base mixins shared by every product's tables.

Every table gets timezone-aware UTC timestamps, a predictable constraint naming convention (so Alembic
migrations are reproducible on SQLite and PostgreSQL) and either a UUID id (objects users see and link to)
or a bigint id (high-volume append-only rows).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores aware datetimes as UTC; SQLite drops the offset, so it is restored on load."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(*, nullable: bool = False, index: bool = False, **kwargs) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index, **kwargs)


class TimestampMixin(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )


class UUIDModel(TimestampMixin):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)


class BigIntModel(TimestampMixin):
    id: int | None = Field(
        default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    )


# A JSON document: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite. Raw vendor payloads use it.
JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
