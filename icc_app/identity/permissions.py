"""The one place that decides who may do what. UI state, API routes and tasks all call these."""

from __future__ import annotations

import uuid

from icc_app.core.errors import NotFound, PermissionDenied
from icc_app.identity.models import BusinessType, Product, Role
from icc_app.identity.schemas import MembershipRead, Principal

ROLE_RANK = {Role.staff: 1, Role.manager: 2, Role.admin: 3}
# Business types whose license lets them sell wholesale on the exchange.
SELLER_TYPES = frozenset({BusinessType.cultivator, BusinessType.manufacturer, BusinessType.microbusiness,
                          BusinessType.distributor})
BUYER_TYPES = frozenset({BusinessType.retailer, BusinessType.distributor, BusinessType.manufacturer,
                         BusinessType.microbusiness})
MFA_REQUIRED_MESSAGE = "Your business requires two-factor authentication. Turn it on under Account > Security."


def has_product(membership: MembershipRead, product: Product) -> bool:
    """Admins reach every product of their business; others only the products they were given."""
    return membership.role == Role.admin or product.value in membership.products


def can_use_product(principal: Principal | None, product: Product) -> bool:
    if principal is None:
        return False
    if principal.is_platform_admin:
        return True
    return any(has_product(m, product) for m in principal.memberships)


def mfa_blocked(principal: Principal, membership: MembershipRead) -> bool:
    """A business that requires MFA refuses members who have not turned it on (client credentials excepted)."""
    return membership.require_mfa and principal.user_id is not None and not principal.mfa_enabled


def require_member(
    principal: Principal, business_id: uuid.UUID, *, product: Product | None = None, min_role: Role = Role.staff
) -> MembershipRead:
    """Return the membership or refuse. Another tenant's business is a 404: its existence is not revealed."""
    membership = principal.membership(business_id)
    if membership is None:
        raise NotFound("Business not found.")
    if mfa_blocked(principal, membership):
        raise PermissionDenied(MFA_REQUIRED_MESSAGE)
    if ROLE_RANK[membership.role] < ROLE_RANK[min_role]:
        raise PermissionDenied(f"This needs the {min_role.value.title()} role or higher.")
    if product is not None and not has_product(membership, product):
        raise PermissionDenied(f"You do not have access to {product.value} for this business.")
    return membership


def require_verified_license(membership: MembershipRead, *, action: str = "do this") -> None:
    """Actions that rest on a license (trading, listing) need one verified and unexpired."""
    if membership.verified:
        return
    if any(lic.verification.value == "verified" for lic in membership.licenses):
        raise PermissionDenied(f"Your license has expired: renew it to {action}.")
    raise PermissionDenied(f"A verified license is needed to {action}.")


def can_sell(membership: MembershipRead) -> bool:
    return membership.business_type in SELLER_TYPES and membership.verified


def can_buy(membership: MembershipRead) -> bool:
    return membership.business_type in BUYER_TYPES and membership.verified


def can_manage_member(actor: MembershipRead, target_role: Role) -> bool:
    """Admins manage everyone; Managers manage Staff only; Staff manage nobody."""
    if actor.role == Role.admin:
        return True
    return actor.role == Role.manager and target_role == Role.staff


def require_platform_admin(principal: Principal | None) -> Principal:
    if principal is None or not principal.is_platform_admin:
        raise PermissionDenied("Platform administrators only.")
    return principal


def require_scope(principal: Principal, scope: str) -> None:
    if not principal.has_scope(scope):
        raise PermissionDenied(f"This token lacks the '{scope}' scope.")
