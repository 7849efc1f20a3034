"""Who may work on a business's loyalty programme: members with the operations product (the ops suite owns
loyalty/CRM). Another tenant's business is a 404, as everywhere."""

from __future__ import annotations

import uuid

from icc_app.identity.models import Product, Role
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import MembershipRead, Principal


def reader(principal: Principal, business_id: uuid.UUID) -> MembershipRead:
    return require_member(principal, business_id, product=Product.operations)


def editor(principal: Principal, business_id: uuid.UUID) -> MembershipRead:
    """Campaigns, programme rules and segments: Managers and Admins."""
    return require_member(principal, business_id, product=Product.operations, min_role=Role.manager)
