"""The partner events other products emit, one small function per kind: each builds the public payload of the
changed object and hands it to webhooks.emit for the business(es) it concerns. Called in the same transaction as
the change (one line at the point of change), so a rolled-back change sends nothing."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlmodel import Session

from icc_app.integrations.partners import webhooks

if TYPE_CHECKING:
    from icc_app.exchange.models import Lot, Order
    from icc_app.maps.models import MenuItem


def lot_payload(lot: Lot) -> dict:
    return {"id": str(lot.id), "business_id": str(lot.business_id), "title": lot.title, "status": str(lot.status),
            "product_type": str(lot.product_type), "strain_name": lot.strain_name,
            "strain_type": str(lot.strain_type), "quantity": str(lot.quantity),
            "available_qty": str(lot.available_qty), "min_order_qty": str(lot.min_order_qty), "unit": str(lot.unit),
            "price_per_unit": str(lot.price_per_unit), "currency": lot.currency, "thc_pct": lot.thc_pct,
            "cqi_score": lot.cqi_score, "listed_at": lot.listed_at.isoformat() if lot.listed_at else None,
            "version": lot.version}


def order_payload(order: Order, previous_status: str | None = None) -> dict:
    body = {"id": str(order.id), "reference": order.reference, "lot_id": str(order.lot_id),
            "buyer_business_id": str(order.buyer_business_id), "seller_business_id": str(order.seller_business_id),
            "status": str(order.status), "quantity": str(order.quantity), "unit": str(order.unit),
            "price_per_unit": str(order.price_per_unit), "total": str(order.total), "currency": order.currency,
            "payment_terms": str(order.payment_terms), "paid": order.paid}
    if previous_status is not None:
        body["previous_status"] = str(previous_status)
    return body


def menu_item_payload(item: MenuItem) -> dict:
    return {"id": str(item.id), "dispensary_id": str(item.dispensary_id), "sku": item.external_id,
            "source": item.source, "name": item.name, "brand": item.brand, "category": item.category,
            "strain_type": item.strain_type, "price": None if item.price is None else str(item.price),
            "currency": getattr(item, "currency", "USD"), "in_stock_qty": item.in_stock_qty,
            "is_active": item.is_active, "thc_min": item.thc_min, "thc_max": item.thc_max}


def lot_changed(session: Session, lot: Lot, *, listed: bool = False) -> None:
    """lot.listed when a lot goes on the market, else lot.updated (terms, quantity, status)."""
    webhooks.emit(session, business_id=lot.business_id, event_type="lot.listed" if listed else "lot.updated",
                  payload=lot_payload(lot))


def order_created(session: Session, order: Order) -> None:
    """Both sides of the trade hear of it."""
    for business_id in (order.seller_business_id, order.buyer_business_id):
        webhooks.emit(session, business_id=business_id, event_type="order.created", payload=order_payload(order))


def order_status_changed(session: Session, order: Order, *, previous_status: str) -> None:
    for business_id in (order.seller_business_id, order.buyer_business_id):
        webhooks.emit(session, business_id=business_id, event_type="order.status_changed",
                      payload=order_payload(order, previous_status))


def menu_item_changed(session: Session, item: MenuItem, *, business_id: uuid.UUID | None) -> None:
    """An item of a claimed dispensary's menu changed; unclaimed stores have nobody to tell."""
    if business_id is not None:
        webhooks.emit(session, business_id=business_id, event_type="menu.item_changed",
                      payload=menu_item_payload(item))
