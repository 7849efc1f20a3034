"""The one place that decides who may do what. UI state, API routes and tasks all call these."""

from __future__ import annotations

import uuid

from icc_app.core.errors import NotFound, PermissionDenied
from icc_app.identity.models import Product, Role
from icc_app.identity.schemas import MembershipRead, Principal

ROLE_RANK = {Role.staff: 1, Role.manager: 2, Role.admin: 3}


def has_product(membership: MembershipRead, product: Product) -> bool:
    """Admins reach every product of their business; others only the products they were given."""
    return membership.role == Role.admin or product.value in membership.products


def can_use_product(principal: Principal | None, product: Product) -> bool:
    if principal is None:
        return False
    if principal.is_platform_admin:
        return True
    return any(has_product(m, product) for m in principal.memberships)


def require_member(
    principal: Principal, business_id: uuid.UUID, *, product: Product | None = None, min_role: Role = Role.staff
) -> MembershipRead:
    """Return the membership or refuse. Another tenant's business is a 404: its existence is not revealed."""
    membership = principal.membership(business_id)
    if membership is None:
        raise NotFound("Business not found.")
    if ROLE_RANK[membership.role] < ROLE_RANK[min_role]:
        raise PermissionDenied(f"This needs the {min_role.value.title()} role or higher.")
    if product is not None and not has_product(membership, product):
        raise PermissionDenied(f"You do not have access to {product.value} for this business.")
    return membership


def require_platform_admin(principal: Principal | None) -> Principal:
    if principal is None or not principal.is_platform_admin:
        raise PermissionDenied("Platform administrators only.")
    return principal
