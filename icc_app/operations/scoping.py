"""Who may see and change a business's operations data, and the scoped statements every service starts from:
each one filters by the acting business inside the query, so another business's row is simply not found (404).
Row-level security on PostgreSQL (migration 0015) is the second line."""

from __future__ import annotations

import uuid

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from icc_app.identity.models import Product, Role
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import MembershipRead, Principal


def tenant_ids(principal: Principal) -> list[uuid.UUID]:
    return [m.business_id for m in principal.memberships]


def member(principal: Principal, business_id: uuid.UUID, *, min_role: Role = Role.staff) -> MembershipRead:
    """Staff given operations read and work; approving purchase orders and prices needs a Manager."""
    return require_member(principal, business_id, product=Product.operations, min_role=min_role)


def rows(model, principal: Principal, business_id: uuid.UUID) -> SelectOfScalar:
    """`select(model)` limited to one business the principal belongs to (an empty result for any other)."""
    return select(model).where(model.business_id == business_id, col(model.business_id).in_(tenant_ids(principal)))
