"""What a partner key reads about its business: the menu of its claimed dispensaries, its lots, its orders, its POS
sales. Every query is filtered by the acting business inside the query (and by row-level security under a tenant
unit of work); another business's rows do not exist for the caller."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.core.errors import ValidationFailed
from icc_app.identity.models import Product
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import Principal

MAX_PAGE = 500


def acting_business(principal: Principal, business_id: uuid.UUID | None) -> uuid.UUID:
    """The business asked for, or the caller's only one (a key always has exactly one)."""
    if business_id is not None:
        return business_id
    if len(principal.memberships) == 1:
        return principal.memberships[0].business_id
    raise ValidationFailed("Name the business: business_id.", field="business_id")


def _aware(moment: datetime | None) -> datetime | None:
    """A time from a query string: without an offset it is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _page(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValidationFailed(f"limit is 1 to {MAX_PAGE}, offset 0 or more.", field="limit")
    return limit, offset


def menu(session: Session, *, principal: Principal, business_id: uuid.UUID | None, updated_since: datetime | None,
         limit: int = 100, offset: int = 0) -> list:
    from icc_app.maps.models import Dispensary, MenuItem

    business_id = acting_business(principal, business_id)
    require_member(principal, business_id, product=Product.maps)
    limit, offset = _page(limit, offset)
    query = select(MenuItem).join(Dispensary, col(Dispensary.id) == MenuItem.dispensary_id).where(
        Dispensary.claimed_by_business_id == business_id)
    if updated_since is not None:
        query = query.where(col(MenuItem.updated_at) > _aware(updated_since))
    return list(session.exec(query.order_by(col(MenuItem.updated_at), col(MenuItem.id)).limit(limit).offset(offset)))


def lots(session: Session, *, principal: Principal, business_id: uuid.UUID | None, status: str | None,
         limit: int = 100, offset: int = 0) -> list:
    from icc_app.exchange.models import Lot

    business_id = acting_business(principal, business_id)
    require_member(principal, business_id, product=Product.exchange)
    limit, offset = _page(limit, offset)
    query = select(Lot).where(Lot.business_id == business_id)
    if status:
        query = query.where(Lot.status == status)
    return list(session.exec(query.order_by(col(Lot.created_at).desc()).limit(limit).offset(offset)))


def orders(session: Session, *, principal: Principal, business_id: uuid.UUID | None, status: str | None,
           limit: int = 100, offset: int = 0) -> list[tuple]:
    """(order, side) pairs, newest first; side is "selling" or "buying" for this business."""
    from icc_app.exchange.models import Order

    business_id = acting_business(principal, business_id)
    require_member(principal, business_id, product=Product.exchange)
    limit, offset = _page(limit, offset)
    query = select(Order).where(sa.or_(Order.seller_business_id == business_id,
                                       Order.buyer_business_id == business_id))
    if status:
        query = query.where(Order.status == status)
    rows = session.exec(query.order_by(col(Order.created_at).desc()).limit(limit).offset(offset)).all()
    return [(o, "selling" if o.seller_business_id == business_id else "buying") for o in rows]


def sales(session: Session, *, principal: Principal, business_id: uuid.UUID | None, since: datetime | None,
          until: datetime | None, limit: int = 100, offset: int = 0) -> list:
    from icc_app.integrations.models import Sale

    business_id = acting_business(principal, business_id)
    require_member(principal, business_id, product=Product.integrations)
    limit, offset = _page(limit, offset)
    query = select(Sale).where(Sale.business_id == business_id)
    if since is not None:
        query = query.where(col(Sale.occurred_at) >= _aware(since))
    if until is not None:
        query = query.where(col(Sale.occurred_at) < _aware(until))
    return list(session.exec(query.order_by(col(Sale.occurred_at).desc()).limit(limit).offset(offset)))
