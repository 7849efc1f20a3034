"""Identity tables: people, businesses (KYB), licenses and the regulator registry, memberships with roles and
product access, invitations, sign-in sessions, one-time tokens and MFA.

Email, phone and birth date are PII: stored Fernet-encrypted. Email is found by `email_lookup`, a keyed hash
of the normalized address (a blind index), so sign-in never needs to decrypt a table.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import BigIntModel, UTCDateTime, UUIDModel
from icc_app.core.security import EncryptedString


class UserKind(str, enum.Enum):
    operator = "operator"  # a member of one or more licensed businesses
    consumer = "consumer"  # a pseudonymous member of the public (Maps, budtender, social)
    service = "service"  # an OAuth client acting for a business (client credentials); never a row in users


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

    email: str = Field(sa_type=EncryptedString)
    email_lookup: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    display_name: str = Field(max_length=120)
    handle: str | None = Field(default=None, max_length=40, sa_column_kwargs={"unique": True})
    phone: str | None = Field(default=None, sa_type=EncryptedString)
    birth_date: str | None = Field(default=None, sa_type=EncryptedString)  # ISO date, encrypted
    password_hash: str = Field(max_length=255)
    kind: UserKind = Field(default=UserKind.operator, sa_type=sa.String(20))
    is_platform_admin: bool = Field(default=False)
    is_active: bool = Field(default=True)
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_secret: str | None = Field(default=None, sa_type=EncryptedString)
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_last_step: int | None = None  # the last accepted 30 s step: a code is never accepted twice
    email_otp_enabled: bool = Field(default=False)

    @property
    def mfa_enabled(self) -> bool:
        return self.totp_enabled_at is not None or self.email_otp_enabled


class Business(UUIDModel, table=True):
    __tablename__ = "businesses"

    legal_name: str = Field(max_length=200)
    dba: str | None = Field(default=None, max_length=200)
    business_type: BusinessType = Field(sa_type=sa.String(30))
    timezone: str = Field(default="America/Denver", max_length=64)
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=2)
    postal_code: str | None = Field(default=None, max_length=10)
    phone: str | None = Field(default=None, max_length=30)
    require_mfa: bool = Field(default=False)
    onboarding_submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BusinessMember(UUIDModel, table=True):
    __tablename__ = "business_members"
    __table_args__ = (sa.UniqueConstraint("business_id", "user_id", name="uq_business_members_business_user"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    role: Role = Field(sa_type=sa.String(20))
    products: list[str] = Field(default_factory=list, sa_type=sa.JSON)


class LicenseStatus(str, enum.Enum):
    active = "active"  # within its dates
    expired = "expired"  # past its expiry date: the permissions that depend on it are suspended


class Verification(str, enum.Enum):
    """Number, state and name are public, so a registry match alone never verifies: a confirmed email, the
    premises address of the registry and proof of control (a code sent to the regulator's contact for the license,
    or documents a platform admin reviewed) are all needed. Changes go through licenses.transition()."""

    pending = "pending"  # submitted; a check is still open (email, address, registry), the reasons say which
    code_sent = "code_sent"  # the checks passed; a one-time code went to the contact the regulator lists
    needs_review = "needs_review"  # in the platform admins' review queue (documents, contested claims)
    verified = "verified"  # proved control (code) or approved by a platform admin
    rejected = "rejected"  # refused by a platform admin, with a reason
    revoked = "revoked"  # was verified; a platform admin gave the license to the business that proved control


class LicenseRegistryEntry(UUIDModel, table=True):
    """One row of a state regulator's licensee list, as imported (`cli licenses import FILE --state XX`)."""

    __tablename__ = "license_registry"
    __table_args__ = (sa.UniqueConstraint("state", "license_number", name="uq_license_registry_state_number"),)

    state: str = Field(max_length=2, index=True)
    license_number: str = Field(max_length=60)
    legal_name: str = Field(max_length=300)
    email: str | None = Field(default=None, max_length=254)  # the licensee contact the regulator lists
    dba: str | None = Field(default=None, max_length=300)
    license_type: str = Field(default="", max_length=120)
    status: str = Field(default="", max_length=80)  # as the regulator prints it
    is_active: bool = Field(default=True)
    street: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=120)
    postal_code: str | None = Field(default=None, max_length=10)
    county: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    latitude: float | None = None
    longitude: float | None = None
    issued_on: date | None = None
    expires_on: date | None = None
    source: str = Field(default="", max_length=200)


class BusinessLicense(UUIDModel, table=True):
    __tablename__ = "business_licenses"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    license_number: str = Field(max_length=60, index=True)
    state: str = Field(max_length=2)
    license_type: str = Field(default="", max_length=120)
    issued_on: date | None = None
    expires_on: date | None = None
    status: LicenseStatus = Field(default=LicenseStatus.active, sa_type=sa.String(20))
    verification: Verification = Field(default=Verification.pending, sa_type=sa.String(20))
    verification_reasons: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    verified_by: str | None = Field(default=None, max_length=20)  # "registry" or "admin"
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    registry_entry_id: uuid.UUID | None = Field(default=None, foreign_key="license_registry.id", ondelete="SET NULL")
    document_key: str | None = Field(default=None, max_length=300)
    document_filename: str | None = Field(default=None, max_length=255)
    reviewed_by: uuid.UUID | None = Field(default=None)
    review_note: str | None = Field(default=None, max_length=1000)
    expiry_alert_sent_for: date | None = None  # the expiry date the 60-day alert was sent for
    submitted_by: uuid.UUID | None = Field(default=None)
    premise_street: str | None = Field(default=None, max_length=200)  # as the claimant entered it
    premise_city: str | None = Field(default=None, max_length=100)
    premise_postal_code: str | None = Field(default=None, max_length=10)
    code_hash: str | None = Field(default=None, max_length=64)  # keyed hash of the one-time code, never the code
    code_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    code_attempts: int = 0


class LicenseEvent(BigIntModel, table=True):
    """One change of a license's verification or status: who, when, from, to, why (licenses.transition)."""

    __tablename__ = "license_events"

    license_id: uuid.UUID = Field(foreign_key="business_licenses.id", index=True, ondelete="CASCADE")
    actor_id: uuid.UUID | None = None  # None: the platform (registry check, expiry sweep)
    verb: str = Field(max_length=30)
    from_state: str = Field(max_length=20)
    to_state: str = Field(max_length=20)
    note: str = Field(default="", max_length=1000)


class Invitation(UUIDModel, table=True):
    """An emailed, single-use, expiring invitation to join a business with a role and product access."""

    __tablename__ = "invitations"

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    email: str = Field(sa_type=EncryptedString)
    email_lookup: str = Field(max_length=64, index=True)
    role: Role = Field(sa_type=sa.String(20))
    products: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    invited_by: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_by: uuid.UUID | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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
    mfa_verified: bool = Field(default=False)


class TokenPurpose(str, enum.Enum):
    verify_email = "verify_email"
    reset_password = "reset_password"
    mfa_challenge = "mfa_challenge"  # password was right; a second factor is owed
    mfa_email_code = "mfa_email_code"  # a 6-digit code emailed for a challenge or for enrollment


class OneTimeToken(UUIDModel, table=True):
    """Single-use secrets (links and codes): only their keyed hash is stored; attempts are counted."""

    __tablename__ = "one_time_tokens"

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    purpose: TokenPurpose = Field(sa_type=sa.String(30))
    token_hash: str = Field(max_length=64, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    context: dict = Field(default_factory=dict, sa_type=sa.JSON)


class RecoveryCode(UUIDModel, table=True):
    __tablename__ = "mfa_recovery_codes"

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
