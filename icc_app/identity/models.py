"""Identity tables: people, businesses, memberships with roles and product access, sign-in sessions.

This is the base the SSO issue extends (KYB, licenses, invitations, MFA, OIDC clients).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import UTCDateTime, UUIDModel


class UserKind(str, enum.Enum):
    operator = "operator"  # a member of one or more licensed businesses
    consumer = "consumer"  # a pseudonymous member of the public (Maps, budtender, social)


class BusinessType(str, enum.Enum):
    cultivator = "cultivator"
    manufacturer = "manufacturer"
    distributor = "distributor"
    retailer = "retailer"
    testing_lab = "testing_lab"
    microbusiness = "microbusiness"


class Role(str, enum.Enum):
    admin = "admin"  # manages the business, its team and every product
    manager = "manager"  # runs day-to-day work and manages Staff
    staff = "staff"  # works inside the products they were given


class Product(str, enum.Enum):
    exchange = "exchange"
    console = "console"
    quality = "quality"
    maps = "maps"
    budtender = "budtender"
    integrations = "integrations"
    operations = "operations"
    logistics = "logistics"
    social = "social"
    gardens = "gardens"


class User(UUIDModel, table=True):
    __tablename__ = "users"

    email: str = Field(max_length=320, sa_column_kwargs={"unique": True}, index=False)
    display_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    kind: UserKind = Field(default=UserKind.operator, sa_type=sa.String(20))
    is_platform_admin: bool = Field(default=False)
    is_active: bool = Field(default=True)
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Business(UUIDModel, table=True):
    __tablename__ = "businesses"

    legal_name: str = Field(max_length=200)
    dba: str | None = Field(default=None, max_length=200)
    business_type: BusinessType = Field(sa_type=sa.String(30))
    timezone: str = Field(default="America/Denver", max_length=64)


class BusinessMember(UUIDModel, table=True):
    __tablename__ = "business_members"
    __table_args__ = (sa.UniqueConstraint("business_id", "user_id", name="uq_business_members_business_user"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    role: Role = Field(sa_type=sa.String(20))
    products: list[str] = Field(default_factory=list, sa_type=sa.JSON)


class UserSession(UUIDModel, table=True):
    """A signed-in browser. Only the keyed hash of the cookie token is stored."""

    __tablename__ = "user_sessions"

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip: str | None = Field(default=None, max_length=45)
    user_agent: str | None = Field(default=None, max_length=300)
