"""Tenant scoping in the query: for each exchange aggregate, the statement of the rows a principal may read and
the rows it may change. Services start from these (`readable(p).where(Lot.id == lot_id)`), so a forgotten check
cannot leak another business's rows: what is not in the statement is a 404. On PostgreSQL the same rules are
enforced a second time by row-level security (migration 0010, core/db.unit_of_work(tenant=...)).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from icc_app.exchange.models import Dispute, Lot, LotStatus, Offer, Order
from icc_app.identity.schemas import Principal

PUBLIC_LOT_STATUSES = (LotStatus.active, LotStatus.sold_out)  # what buyers browse


def tenant_ids(principal: Principal | None) -> list[uuid.UUID]:
    return [m.business_id for m in principal.memberships] if principal is not None else []


def readable_lots(principal: Principal | None) -> SelectOfScalar[Lot]:
    """Listed lots for everybody; a business's own lots in any state; a lot the business made an offer on."""
    ids = tenant_ids(principal)
    offered = select(Offer.lot_id).where(col(Offer.buyer_business_id).in_(ids))
    return select(Lot).where(sa.or_(col(Lot.status).in_(PUBLIC_LOT_STATUSES), col(Lot.business_id).in_(ids),
                                    col(Lot.id).in_(offered)))


def writable_lots(principal: Principal) -> SelectOfScalar[Lot]:
    """The principal's businesses' own lots (the seller's role checks come on top)."""
    return select(Lot).where(col(Lot.business_id).in_(tenant_ids(principal)))


def _party_filter(model, principal: Principal):
    ids = tenant_ids(principal)
    return sa.or_(col(model.buyer_business_id).in_(ids), col(model.seller_business_id).in_(ids))


def readable_offers(principal: Principal) -> SelectOfScalar[Offer]:
    """Both sides of a negotiation, nobody else (platform admins included: offers are private)."""
    return select(Offer).where(_party_filter(Offer, principal))


writable_offers = readable_offers  # either side answers, counters or withdraws (turns are checked on top)


def readable_orders(principal: Principal) -> SelectOfScalar[Order]:
    """Buyer and seller; platform admins too (they decide disputes)."""
    if principal.is_platform_admin:
        return select(Order)
    return select(Order).where(_party_filter(Order, principal))


def writable_orders(principal: Principal) -> SelectOfScalar[Order]:
    """Buyer and seller act on an order; an admin only through a dispute's resolution."""
    return readable_orders(principal)


def readable_disputes(principal: Principal) -> SelectOfScalar[Dispute]:
    if principal.is_platform_admin:
        return select(Dispute)
    return select(Dispute).join(Order, col(Order.id) == Dispute.order_id).where(_party_filter(Order, principal))


writable_disputes = readable_disputes  # parties post messages; only admins resolve (checked by the transition)


def condition(statement) -> sa.ColumnElement[bool]:
    """The WHERE of a scoped statement, to filter a query that selects more than the aggregate (joins, tuples)."""
    return statement.whereclause if statement.whereclause is not None else sa.true()


def trades_of(model, principal: Principal, business_id: uuid.UUID, *, side: str = "all", status: str | None = None):
    """A business's offers or orders (`model` Offer or Order) with their lot, readable by the principal, on one
    side of the trade ("selling", "buying", or "all") and optionally in one status: what the list pages show."""
    if side == "selling":
        mine = model.seller_business_id == business_id
    elif side == "buying":
        mine = model.buyer_business_id == business_id
    else:
        mine = sa.or_(model.seller_business_id == business_id, model.buyer_business_id == business_id)
    readable = readable_offers(principal) if model is Offer else readable_orders(principal)
    query = select(model, Lot).join(Lot, col(Lot.id) == model.lot_id).where(condition(readable), mine)
    return query.where(model.status == status) if status else query
