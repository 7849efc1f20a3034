"""Read models passed across boundaries (UI state, API, tasks); never live ORM rows."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from icc_app.identity.models import BusinessType, Role, UserKind


class MembershipRead(BaseModel):
    business_id: uuid.UUID
    business_name: str
    business_type: BusinessType
    role: Role
    products: list[str]


class Principal(BaseModel):
    """Who is acting: the signed-in user and the businesses they act for."""

    user_id: uuid.UUID
    email: str
    display_name: str
    kind: UserKind
    is_platform_admin: bool
    memberships: list[MembershipRead] = []
    session_id: uuid.UUID | None = None

    def membership(self, business_id: uuid.UUID) -> MembershipRead | None:
        return next((m for m in self.memberships if m.business_id == business_id), None)
