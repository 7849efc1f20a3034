"""Orders: Pending -> Confirmed -> In Transit -> Received, plus Cancelled and Disputed.

Every transition is one entry of TRANSITIONS: who may do it (buyer, seller, admin, system), from which states,
and its precondition; `transition()` is the only code that changes an order's status, and it writes an
OrderEvent (who, when, from, to, note) and an audit entry. Payment is settled offline and confirmed by both
sides: the buyer marks it sent, the seller marks it received; an amount mismatch is flagged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.validation import safe_text
from icc_app.exchange import lots as lots_service
from icc_app.exchange import scoping
from icc_app.exchange.common import notify_traders
from icc_app.exchange.lots import decimal
from icc_app.exchange.models import Lot, LotStatus, Order, OrderEvent, OrderStatus, PaymentTerms
from icc_app.identity.models import Product
from icc_app.identity.permissions import require_member, require_verified_license
from icc_app.identity.schemas import Principal
from icc_app.integrations.partners import events as partner_events

S = OrderStatus


def dollars(amount: Decimal) -> str:
    """Money as the order page shows it, "$1,700.00", also in the history notes written here."""
    return f"${amount:,.2f}"


def _prepaid_if_required(order: Order) -> str | None:
    if PaymentTerms(order.payment_terms) == PaymentTerms.prepay and not order.paid:
        return "The terms are prepay: both sides must confirm the payment before the seller ships."
    return None


@dataclass(frozen=True)
class Rule:
    sources: frozenset[OrderStatus]
    target: OrderStatus | None  # None: back to the status the order had before its dispute
    parties: frozenset[str]
    precondition: Callable[[Order], str | None] | None = None


TRANSITIONS: dict[str, Rule] = {
    "confirm": Rule(frozenset({S.pending}), S.confirmed, frozenset({"seller"})),
    "ship": Rule(frozenset({S.confirmed}), S.in_transit, frozenset({"seller"}), _prepaid_if_required),
    "receive": Rule(frozenset({S.in_transit}), S.received, frozenset({"buyer"})),
    "cancel": Rule(frozenset({S.pending, S.confirmed}), S.cancelled, frozenset({"buyer", "seller"})),
    "dispute": Rule(frozenset({S.pending, S.confirmed, S.in_transit, S.received}), S.disputed,
                    frozenset({"buyer", "seller"})),
    # Only a dispute's resolution moves an order out of Disputed (disputes.resolve).
    "resolve_cancel": Rule(frozenset({S.disputed}), S.cancelled, frozenset({"admin"})),
    "resolve_resume": Rule(frozenset({S.disputed}), None, frozenset({"admin"})),
}


def party_of(principal: Principal, order: Order) -> str:
    """buyer / seller / admin for the principal on this order; anybody else gets a 404."""
    if principal.membership(order.buyer_business_id) is not None:
        require_member(principal, order.buyer_business_id, product=Product.exchange)
        return "buyer"
    if principal.membership(order.seller_business_id) is not None:
        require_member(principal, order.seller_business_id, product=Product.exchange)
        return "seller"
    if principal.is_platform_admin:
        return "admin"
    raise NotFound("Order not found.")


def load(session: Session, principal: Principal, order_id: uuid.UUID, *, lock: bool = False) -> tuple[Order, str]:
    query = scoping.writable_orders(principal).where(Order.id == order_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    order = session.exec(query).first()
    if order is None:
        raise NotFound("Order not found.")
    return order, party_of(principal, order)


# The seller's actions that move goods or money need a license in force: a business whose license was revoked or
# expired can still cancel, dispute and see its orders, but not ship (or confirm a sale) and be paid.
SELLER_NEEDS_LICENSE = {"confirm": "confirm a sale", "ship": "ship goods", "payment_received": "be paid"}


def require_licensed_seller(principal: Principal, order: Order, party: str, action: str) -> None:
    if party == "seller":
        membership = principal.membership(order.seller_business_id)
        require_verified_license(membership, action=SELLER_NEEDS_LICENSE[action])


def why_not(order: Order, verb: str) -> str | None:
    """Why `verb` cannot be done to this order now (its status, or the rule's precondition), or None when it can.
    Pages disable the button and show this before anyone presses it; transition() refuses with the same words."""
    rule = TRANSITIONS[verb]
    current = OrderStatus(order.status)
    if current not in rule.sources:
        return f"A {current.value.replace('_', ' ')} order cannot be {verb.replace('_', ' ')}ed."
    return rule.precondition(order) if rule.precondition else None


def transition(session: Session, order: Order, verb: str, *, party: str, actor_id: uuid.UUID | None,
               note: str = "") -> Order:
    rule = TRANSITIONS[verb]
    current = OrderStatus(order.status)
    if party not in rule.parties:
        raise PermissionDenied(f"Only the {' or '.join(sorted(rule.parties))} can {verb.replace('_', ' ')} this order.")
    if problem := why_not(order, verb):
        raise Conflict(problem)
    target = rule.target or OrderStatus(order.status_before_dispute or S.received.value)
    order.status = target
    session.add(order)
    session.add(OrderEvent(order_id=order.id, actor_id=actor_id, actor_party=party, from_status=current.value,
                           to_status=target.value, note=note[:1000]))
    audit.record(session, action=f"exchange.order.{verb}", object_type="order", object_id=order.id,
                 actor_id=actor_id, business_id=order.seller_business_id, before={"status": current.value},
                 after={"status": target.value, "party": party, "note": note[:200]})
    if target == S.cancelled:
        _return_quantity(session, order, actor_id)
    _announce(session, order, f"Order {order.reference} is now {target.value.replace('_', ' ')}", note)
    partner_events.order_status_changed(session, order, previous_status=current.value)
    return order


def _return_quantity(session: Session, order: Order, actor_id) -> None:
    query = select(Lot).where(Lot.id == order.lot_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    lot = session.exec(query.execution_options(populate_existing=True)).one()
    lot.available_qty = min(lot.quantity, lot.available_qty + order.quantity)
    session.add(lot)
    if LotStatus(lot.status) == LotStatus.sold_out and lot.available_qty >= lot.min_order_qty:
        lots_service.transition(session, lot, "restock", actor_id=actor_id, note=f"order {order.reference} cancelled")


def _announce(session: Session, order: Order, title: str, body: str = "") -> None:
    for business_id in (order.buyer_business_id, order.seller_business_id):
        notify_traders(session, business_id, kind="exchange.order", title=title, body=body,
                       link=f"/exchange/orders/{order.id}")


def _text(value: str | None, field: str, limit: int) -> str | None:
    value = (value or "").strip()
    if any(ord(c) < 32 for c in value):
        raise ValidationFailed("Use letters, digits and punctuation only.", field=field)
    if len(value) > limit:
        raise ValidationFailed(f"At most {limit} characters.", field=field)
    return value or None


def act(session: Session, *, principal: Principal, order_id: uuid.UUID, verb: str, note: str = "",
        manifest_number: str | None = None, carrier: str | None = None, tracking_number: str | None = None,
        received_qty=None) -> Order:
    """The entry point of the buyer's and seller's buttons: confirm, ship (with the transfer manifest, carrier
    and tracking number), receive (with the quantity that arrived; less than ordered is noted), cancel."""
    if verb not in ("confirm", "ship", "receive", "cancel"):
        raise ValidationFailed(f"Unknown action {verb!r}.", field="action")
    note = safe_text(note, "note", max_length=500)  # the event's note (1000) also carries the shipping details
    shipping = {"manifest_number": _text(manifest_number, "manifest_number", 40),
                "carrier": _text(carrier, "carrier", 80), "tracking_number": _text(tracking_number, "tracking_number", 80)}
    order, party = load(session, principal, order_id, lock=True)
    if verb in SELLER_NEEDS_LICENSE:
        require_licensed_seller(principal, order, party, verb)
    received = None
    if verb == "receive" and received_qty not in (None, ""):
        received = decimal(received_qty, "received_qty")
        if received > order.quantity:
            raise ValidationFailed(f"The order is for {lots_service.qty_text(order.quantity)} {order.unit}: enter what "
                                   "arrived, at most that.", field="received_qty")
    details = []
    if verb == "ship":
        order.manifest_number, order.carrier, order.tracking_number = (shipping["manifest_number"], shipping["carrier"],
                                                                       shipping["tracking_number"])
        details = [f"{k.replace('_', ' ')} {v}" for k, v in shipping.items() if v]
    elif verb == "receive":
        order.received_qty = received if received is not None else order.quantity
        details = [f"received {lots_service.qty_text(order.received_qty)} {order.unit}"]
        if order.received_qty < order.quantity:
            details.append(f"SHORT by {lots_service.qty_text(order.quantity - order.received_qty)} {order.unit}")
    note = "; ".join(filter(None, [note, *details]))
    return transition(session, order, verb, party=party, actor_id=principal.user_id, note=note)


def mark_payment_sent(session: Session, *, principal: Principal, order_id: uuid.UUID, reference: str, amount,
                      sent_on: date | None = None) -> Order:
    reference = safe_text(reference, "reference", max_length=120)
    amount = decimal(amount, "amount", places=2)
    order, party = load(session, principal, order_id, lock=True)
    if party != "buyer":
        raise PermissionDenied("Only the buyer marks the payment as sent.")
    if OrderStatus(order.status) in (S.cancelled,):
        raise Conflict("This order was cancelled.")
    if order.payment_sent_at is not None:
        raise Conflict("The payment was already marked as sent.")
    if not reference:
        raise ValidationFailed("Enter the payment reference (wire or check number).", field="reference")
    sent_on = sent_on or date.today()
    if sent_on > date.today():
        raise ValidationFailed("The payment date is in the future.", field="sent_on")
    order.payment_sent_at, order.payment_sent_by = utcnow(), principal.user_id
    order.payment_reference, order.payment_sent_amount, order.payment_sent_on = reference, amount, sent_on
    _check_amounts(order)
    return _payment_event(session, order, principal, party, "payment_sent",
                          f"payment sent: {dollars(amount)} ref {reference} on {sent_on.isoformat()}")


def mark_payment_received(session: Session, *, principal: Principal, order_id: uuid.UUID, amount) -> Order:
    amount = decimal(amount, "amount", places=2)
    order, party = load(session, principal, order_id, lock=True)
    if party != "seller":
        raise PermissionDenied("Only the seller marks the payment as received.")
    require_licensed_seller(principal, order, party, "payment_received")
    if order.payment_received_at is not None:
        raise Conflict("The payment was already marked as received.")
    order.payment_received_at, order.payment_received_by, order.payment_received_amount = utcnow(), principal.user_id, amount
    _check_amounts(order)
    return _payment_event(session, order, principal, party, "payment_received", f"payment received: {dollars(amount)}")


def _check_amounts(order: Order) -> None:
    amounts = [a for a in (order.payment_sent_amount, order.payment_received_amount) if a is not None]
    order.payment_mismatch = any(a != order.total for a in amounts) or len(set(amounts)) > 1


def _payment_event(session: Session, order: Order, principal: Principal, party: str, action: str, note: str) -> Order:
    session.add(order)
    status = OrderStatus(order.status).value
    session.add(OrderEvent(order_id=order.id, actor_id=principal.user_id, actor_party=party, from_status=status,
                           to_status=status, note=note + (" — AMOUNT MISMATCH" if order.payment_mismatch else "")))
    audit.record(session, action=f"exchange.order.{action}", object_type="order", object_id=order.id,
                 actor_id=principal.user_id, business_id=order.seller_business_id,
                 after={"note": note, "paid": order.paid, "mismatch": order.payment_mismatch})
    title = f"Order {order.reference}: {note.split(':')[0]}"
    if order.payment_mismatch:
        title += " (amounts do not match)"
    _announce(session, order, title, note)
    return order


def events(session: Session, *, principal: Principal, order_id: uuid.UUID) -> list[OrderEvent]:
    load(session, principal, order_id)
    return list(session.exec(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(col(OrderEvent.id))))


def list_orders(session: Session, *, principal: Principal, business_id: uuid.UUID, side: str = "all",
                status: str | None = None, limit: int = 50, offset: int = 0) -> list[tuple[Order, Lot]]:
    require_member(principal, business_id, product=Product.exchange)
    query = scoping.trades_of(Order, principal, business_id, side=side, status=status)
    return list(session.exec(query.order_by(col(Order.created_at).desc()).limit(limit).offset(offset)))


def total_value(orders: list[Order]) -> Decimal:
    return sum((o.total for o in orders), Decimal("0"))
