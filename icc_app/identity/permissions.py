"""The one place that decides who may do what. UI state, API routes and tasks all call these."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from icc_app.core.errors import NotFound, PermissionDenied
from icc_app.identity.models import BusinessType, Product, Role, Verification
from icc_app.identity.schemas import LicenseClaim, MembershipRead, Principal
from icc_app.identity.service import license_claims

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


def not_verified_reason(claims: list[LicenseClaim], action: str) -> str | None:
    """Why a business with these licenses may not `action`, in words its people understand; None when one
    license is verified (a confirmed email, the registry's premises address and proof of control) and in force."""
    if any(lic.in_force for lic in claims):
        return None
    states = {lic.verification for lic in claims}
    if Verification.verified in states:
        return f"Your license has expired: renew it to {action}."
    if Verification.code_sent in states:
        return (f"Your business is not verified yet: enter the code we sent to the contact the state lists for your "
                f"license (Business & licenses) to {action}.")
    if Verification.needs_review in states:
        return f"Your license is in review by a platform administrator: you can {action} once it is verified."
    if Verification.pending in states:
        return (f"Your business is not verified yet: finish the checks under Business & licenses to {action}.")
    return f"A verified license is needed to {action}: add your license under Business & licenses."


def require_verified_license(membership: MembershipRead, *, action: str = "do this") -> None:
    """Actions that rest on a license (listing, offering, being paid) need one verified and unexpired."""
    if reason := not_verified_reason(membership.licenses, action):
        raise PermissionDenied(reason)


def require_verified_business(session: Session, business_id: uuid.UUID, *, action: str = "list, offer or be paid "
                              "on the exchange") -> None:
    """The same rule read from the database, for code that holds a business id rather than a principal (tasks,
    the other side of a trade): until verified, a business can browse but not list, offer or be paid."""
    if reason := not_verified_reason(license_claims(session, business_id), action):
        raise PermissionDenied(reason)


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
