"""Read models passed across boundaries (UI state, API, tasks); never live ORM rows."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel

from icc_app.identity.models import BusinessType, LicenseStatus, Role, UserKind, Verification


class LicenseClaim(BaseModel):
    """A license as it travels in principals and OIDC claims."""

    number: str
    state: str
    license_type: str
    verification: Verification
    status: LicenseStatus
    expires_on: date | None = None

    @property
    def in_force(self) -> bool:
        return self.verification == Verification.verified and self.status == LicenseStatus.active


class MembershipRead(BaseModel):
    business_id: uuid.UUID
    business_name: str
    business_type: BusinessType
    role: Role
    products: list[str]
    require_mfa: bool = False
    licenses: list[LicenseClaim] = []

    @property
    def verified(self) -> bool:
        """A verified business holds at least one verified license that has not expired."""
        return any(lic.in_force for lic in self.licenses)


class Principal(BaseModel):
    """Who is acting: a signed-in user (browser session or OAuth access token) or an OAuth client acting for
    one business (client credentials, user_id None). `scopes` None means a first-party session: every scope."""

    user_id: uuid.UUID | None
    email: str
    display_name: str
    kind: UserKind
    is_platform_admin: bool
    memberships: list[MembershipRead] = []
    session_id: uuid.UUID | None = None
    mfa_enabled: bool = False
    email_verified: bool = False
    scopes: list[str] | None = None
    client_id: str | None = None

    def membership(self, business_id: uuid.UUID) -> MembershipRead | None:
        return next((m for m in self.memberships if m.business_id == business_id), None)

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


class SessionRead(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime | None
    ip: str | None
    user_agent: str | None
    current: bool
