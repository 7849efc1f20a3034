"""REST API of identity: who am I (with license identity), a business's licenses and team. Scopes apply to
OAuth tokens; browser sessions carry every scope."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from icc_app.core.db import unit_of_work
from icc_app.core.errors import error_responses
from icc_app.identity import licenses, permissions, teams
from icc_app.identity.api_auth import current_principal, requires
from icc_app.identity.schemas import MembershipRead, Principal

router = APIRouter(tags=["identity"])


class MeOut(BaseModel):
    user_id: uuid.UUID | None
    display_name: str
    kind: str
    client_id: str | None
    scopes: list[str] | None
    memberships: list[MembershipRead]


class LicenseOut(BaseModel):
    id: uuid.UUID
    license_number: str
    state: str
    license_type: str
    expires_on: date | None
    status: str
    verification: str
    verification_reasons: list[str]
    review_note: str | None


class MemberOut(BaseModel):
    member_id: uuid.UUID
    name: str
    role: str
    products: list[str]
    mfa_enabled: bool


@router.get("/me", response_model=MeOut, responses=error_responses(401))
def me(principal: Principal = Depends(current_principal)) -> MeOut:
    """The caller and the businesses (with licenses and verification) it acts for."""
    return MeOut(user_id=principal.user_id, display_name=principal.display_name, kind=principal.kind.value,
                 client_id=principal.client_id, scopes=principal.scopes, memberships=principal.memberships)


@router.get("/businesses/{business_id}/licenses", response_model=list[LicenseOut],
            responses=error_responses(401, 403, 404, 422))
def business_licenses(business_id: uuid.UUID, principal: Principal = Depends(requires("business"))) -> list[LicenseOut]:
    permissions.require_member(principal, business_id)
    with unit_of_work() as session:
        rows = licenses.list_licenses(session, business_id=business_id)
        return [LicenseOut(id=r.id, license_number=r.license_number, state=r.state, license_type=r.license_type,
                           expires_on=r.expires_on, status=r.status, verification=r.verification,
                           verification_reasons=r.verification_reasons, review_note=r.review_note) for r in rows]


@router.get("/businesses/{business_id}/members", response_model=list[MemberOut],
            responses=error_responses(401, 403, 404, 422))
def business_members(business_id: uuid.UUID, principal: Principal = Depends(requires("team:read"))) -> list[MemberOut]:
    with unit_of_work() as session:
        rows = teams.list_members(session, principal=principal, business_id=business_id)
    return [MemberOut(member_id=r.member_id, name=r.name, role=r.role.value, products=r.products,
                      mfa_enabled=r.mfa_enabled) for r in rows]
