"""Offers: a buyer proposes quantity and price, the other side accepts, rejects or counters, round after round;
the party who made the latest round may withdraw it; unanswered rounds expire (beat task).

Accepting reserves the quantity atomically: the lot row is locked (SELECT ... FOR UPDATE on PostgreSQL) while
the remaining quantity is checked and decremented, so two acceptances can never oversell a lot. Offers that no
longer fit what is left are closed, and both sides are told.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.storage import get_storage
from icc_app.core.validation import safe_text
from icc_app.exchange import lots as lots_service
from icc_app.exchange import idempotency, scoping
from icc_app.exchange.common import business_name, buyer, notify_traders, seller
from icc_app.exchange.models import (
    Lot,
    LotStatus,
    Offer,
    OfferParty,
    OfferRound,
    OfferStatus,
    Order,
    OrderEvent,
    OrderStatus,
    PaymentMethod,
    PaymentTerms,
)
from icc_app.exchange.lots import decimal, qty_text
from icc_app.exchange.orders import dollars
from icc_app.identity.schemas import Principal
from icc_app.integrations.partners import events as partner_events
from icc_app.ui.format import plural

MAX_OFFER_DAYS = 14
MAX_MESSAGE = 2000  # OfferRound.message
ALREADY_OPEN = "You already have an open offer on this lot: counter or withdraw it there."
DEFAULT_OFFER_HOURS = 72


# An offer thread ends once: every end state is reached only from open, through end().
ENDS = {OfferStatus.accepted, OfferStatus.rejected, OfferStatus.withdrawn, OfferStatus.expired, OfferStatus.closed}


def end(offer: Offer, status: OfferStatus) -> None:
    """The one place an offer's status changes; the caller records the round (who, what, why) beside it."""
    if status not in ENDS:
        raise ValueError(f"{status} is not an end state")
    if OfferStatus(offer.status) != OfferStatus.open:
        raise Conflict(f"This offer is {OfferStatus(offer.status).value}.")
    offer.status = status


def _expiry(expires_at: datetime | None) -> datetime:
    now = utcnow()
    expires_at = expires_at or now + timedelta(hours=DEFAULT_OFFER_HOURS)
    if expires_at.tzinfo is None:
        raise ValidationFailed("The expiry needs a timezone.", field="expires_at")
    if expires_at <= now + timedelta(minutes=5):
        raise ValidationFailed("The offer must stay open at least a few minutes.", field="expires_at")
    if expires_at > now + timedelta(days=MAX_OFFER_DAYS):
        raise ValidationFailed(f"An offer can stay open {MAX_OFFER_DAYS} days at most.", field="expires_at")
    return expires_at


def _terms(lot: Lot, quantity, price) -> tuple[Decimal, Decimal]:
    quantity = decimal(quantity, "quantity")
    price = decimal(price, "price_per_unit", places=2)
    if quantity < lot.min_order_qty:
        raise ValidationFailed(f"The minimum order is {qty_text(lot.min_order_qty)} {lot.unit}.", field="quantity")
    if quantity > lot.available_qty:
        raise ValidationFailed(f"Only {qty_text(lot.available_qty)} {lot.unit} are available.", field="quantity")
    return quantity, price


def _message(message: str | None) -> str:
    return safe_text(message, "message", max_length=MAX_MESSAGE)


def _choice(kind, value, field: str):
    try:
        return kind(value)
    except ValueError:
        raise ValidationFailed(f"Choose one of: {', '.join(m.value for m in kind)}.", field=field) from None


def _party(principal: Principal, offer: Offer) -> OfferParty:
    """Which side of the thread the principal is on; a stranger gets a 404."""
    if principal.membership(offer.buyer_business_id) is not None:
        buyer(principal, offer.buyer_business_id)
        return OfferParty.buyer
    if principal.membership(offer.seller_business_id) is not None:
        seller(principal, offer.seller_business_id)
        return OfferParty.seller
    raise NotFound("Offer not found.")


def _load(session: Session, principal: Principal, offer_id: uuid.UUID) -> tuple[Offer, OfferParty]:
    offer = session.exec(scoping.writable_offers(principal).where(Offer.id == offer_id)).first()
    if offer is None:
        raise NotFound("Offer not found.")
    return offer, _party(principal, offer)


def _other(party: OfferParty) -> OfferParty:
    return OfferParty.seller if party == OfferParty.buyer else OfferParty.buyer


def _business_of(offer: Offer, party: OfferParty) -> uuid.UUID:
    return offer.buyer_business_id if party == OfferParty.buyer else offer.seller_business_id


def _record(session: Session, offer: Offer, party: OfferParty, action: str, actor_id, *, message: str = "",
            with_terms: bool = False) -> None:
    session.add(OfferRound(offer_id=offer.id, party=party, action=action, actor_id=actor_id, message=message[:2000],
                           quantity=offer.quantity if with_terms else None,
                           price_per_unit=offer.price_per_unit if with_terms else None,
                           expires_at=offer.expires_at if with_terms else None))
    audit.record(session, action=f"exchange.offer.{action}", object_type="offer", object_id=offer.id,
                 actor_id=actor_id, business_id=_business_of(offer, party),
                 after={"status": OfferStatus(offer.status).value, "quantity": offer.quantity,
                        "price_per_unit": offer.price_per_unit, "message": message[:200]})


def _tell(session: Session, offer: Offer, party: OfferParty, title: str, body: str = "") -> None:
    notify_traders(session, _business_of(offer, party), kind="exchange.offer", title=title, body=body,
                   link=f"/exchange/offers?offer={offer.id}")


def _still_open(session: Session, offer: Offer) -> None:
    if OfferStatus(offer.status) == OfferStatus.open and offer.expires_at <= utcnow():
        raise Conflict("This offer has expired.")  # the expire_offers sweep records it
    if OfferStatus(offer.status) != OfferStatus.open:
        raise Conflict(f"This offer is {OfferStatus(offer.status).value}.")


def make_offer(session: Session, *, principal: Principal, buyer_business_id: uuid.UUID, lot_id: uuid.UUID,
               quantity, price_per_unit, expires_at: datetime | None = None, message: str = "",
               idempotency_key: str | None = None) -> Offer:
    """An open offer on an active lot; a repeat of the same idempotency key (a double click) returns the first."""
    buyer(principal, buyer_business_id)
    lot = session.get(Lot, lot_id)
    if lot is None or LotStatus(lot.status) != LotStatus.active:
        raise NotFound("This lot is not listed.")
    if lot.business_id == buyer_business_id:
        raise PermissionDenied("You cannot make an offer on your own lot.")
    message = _message(message)
    quantity, price = _terms(lot, quantity, price_per_unit)
    expires_at = _expiry(expires_at)
    # The key is claimed once the input is known to be good, so a refused submission leaves nothing behind.
    earlier = idempotency.claim(session, business_id=buyer_business_id, key=idempotency_key, action="offer.make")
    if earlier is not None:
        return session.exec(scoping.writable_offers(principal).where(Offer.id == earlier)).one()
    if session.exec(select(Offer.id).where(Offer.lot_id == lot.id, Offer.buyer_business_id == buyer_business_id,
                                           Offer.status == OfferStatus.open)).first():
        raise Conflict(ALREADY_OPEN)
    offer = Offer(lot_id=lot.id, seller_business_id=lot.business_id, buyer_business_id=buyer_business_id,
                  awaiting=OfferParty.seller, quantity=quantity, price_per_unit=price, expires_at=expires_at)
    try:  # the check above is the friendly path; the partial unique index decides a race between two requests
        with session.begin_nested():
            session.add(offer)
    except IntegrityError:
        raise Conflict(ALREADY_OPEN) from None
    idempotency.settle(session, business_id=buyer_business_id, key=idempotency_key, object_id=offer.id)
    _record(session, offer, OfferParty.buyer, "offer", principal.user_id, message=message, with_terms=True)
    _tell(session, offer, OfferParty.seller, f"New offer on {lot.title}",
          f"{business_name(session, buyer_business_id)} offers {qty_text(quantity)} {lot.unit} at "
          f"${price} per {lot.unit}.")
    return offer


def counter(session: Session, *, principal: Principal, offer_id: uuid.UUID, quantity, price_per_unit,
            expires_at: datetime | None = None, message: str = "") -> Offer:
    message = _message(message)
    offer, party = _load(session, principal, offer_id)
    _still_open(session, offer)
    if OfferParty(offer.awaiting) != party:
        raise Conflict("It is the other side's turn: wait for their answer, or withdraw your offer.")
    lot = session.get(Lot, offer.lot_id)
    quantity, price = _terms(lot, quantity, price_per_unit)
    if quantity == offer.quantity and price == offer.price_per_unit:
        raise ValidationFailed("A counter-offer changes the quantity or the price.", field="price_per_unit")
    offer.quantity, offer.price_per_unit, offer.expires_at = quantity, price, _expiry(expires_at)
    offer.awaiting, offer.rounds = _other(party), offer.rounds + 1
    session.add(offer)
    _record(session, offer, party, "counter", principal.user_id, message=message, with_terms=True)
    _tell(session, offer, _other(party), f"Counter-offer on {lot.title}",
          f"{qty_text(quantity)} {lot.unit} at ${price} per {lot.unit}.")
    return offer


def reject(session: Session, *, principal: Principal, offer_id: uuid.UUID, message: str = "") -> Offer:
    message = _message(message)
    offer, party = _load(session, principal, offer_id)
    _still_open(session, offer)
    if OfferParty(offer.awaiting) != party:
        raise Conflict("You made the latest round: withdraw it instead.")
    end(offer, OfferStatus.rejected)
    session.add(offer)
    _record(session, offer, party, "reject", principal.user_id, message=message)
    _tell(session, offer, _other(party), "Your offer was rejected", message)
    return offer


def withdraw(session: Session, *, principal: Principal, offer_id: uuid.UUID, message: str = "") -> Offer:
    message = _message(message)
    offer, party = _load(session, principal, offer_id)
    _still_open(session, offer)
    if OfferParty(offer.awaiting) == party:
        raise Conflict("The latest round is the other side's: reject it instead.")
    end(offer, OfferStatus.withdrawn)
    session.add(offer)
    _record(session, offer, party, "withdraw", principal.user_id, message=message)
    _tell(session, offer, _other(party), "An offer was withdrawn", message)
    return offer


def attach_proof_of_funds(session: Session, *, principal: Principal, offer_id: uuid.UUID, data: bytes,
                          filename: str) -> Offer:
    filename = safe_text(filename, "proof_of_funds", max_length=1000)[:255] or "proof-of-funds"
    offer, party = _load(session, principal, offer_id)
    if party != OfferParty.buyer:
        raise PermissionDenied("Only the buyer uploads proof of funds.")
    if OfferStatus(offer.status) not in (OfferStatus.open, OfferStatus.accepted):
        raise Conflict(f"This offer is {OfferStatus(offer.status).value}.")
    stored = get_storage().save("proof_of_funds", data, filename=filename)
    offer.proof_of_funds_key, offer.proof_of_funds_filename = stored.key, filename
    session.add(offer)
    audit.record(session, action="exchange.offer.proof_of_funds", object_type="offer", object_id=offer.id,
                 actor_id=principal.user_id, business_id=offer.buyer_business_id,
                 after={"sha256": stored.sha256, "size": stored.size})
    _tell(session, offer, OfferParty.seller, "Proof of funds uploaded", filename)
    return offer


def read_proof_of_funds(session: Session, *, principal: Principal, offer_id: uuid.UUID) -> tuple[bytes, str]:
    """Both sides of the thread (and nobody else) may see the document."""
    offer, _ = _load(session, principal, offer_id)
    if not offer.proof_of_funds_key:
        raise NotFound("No proof of funds was uploaded.")
    return get_storage().read(offer.proof_of_funds_key), offer.proof_of_funds_filename or "proof-of-funds"


def accept(session: Session, *, principal: Principal, offer_id: uuid.UUID,
           payment_method: PaymentMethod = PaymentMethod.wire, payment_terms: PaymentTerms = PaymentTerms.prepay,
           message: str = "") -> Order:
    """Accept the latest round: reserve the quantity under a lock on the lot, create the order, close what no
    longer fits."""
    message = _message(message)
    payment_method = _choice(PaymentMethod, payment_method, "payment_method")
    payment_terms = _choice(PaymentTerms, payment_terms, "payment_terms")
    offer, party = _load(session, principal, offer_id)
    lot = session.exec(_lot_for_update(session, offer.lot_id)).one()
    session.refresh(offer)  # re-read under the lot lock: a concurrent acceptance may have closed it
    _still_open(session, offer)
    if OfferParty(offer.awaiting) != party:
        raise Conflict("You made the latest round: the other side accepts it.")
    if LotStatus(lot.status) not in (LotStatus.active,):
        raise Conflict(f"The lot is {LotStatus(lot.status).value.replace('_', ' ')}.")
    if party == OfferParty.seller and lot.require_proof_of_funds and not offer.proof_of_funds_key:
        raise ValidationFailed("This lot requires proof of funds before you accept: ask the buyer to upload it.",
                               field="proof_of_funds")
    if offer.quantity > lot.available_qty:
        raise Conflict(f"Only {qty_text(lot.available_qty)} {lot.unit} are left.")
    lot.available_qty -= offer.quantity
    lot.version += 1
    end(offer, OfferStatus.accepted)
    session.add_all([lot, offer])
    _record(session, offer, party, "accept", principal.user_id, message=message)
    order = Order(lot_id=lot.id, offer_id=offer.id, seller_business_id=offer.seller_business_id,
                  buyer_business_id=offer.buyer_business_id, quantity=offer.quantity, unit=lot.unit,
                  price_per_unit=offer.price_per_unit, total=(offer.quantity * offer.price_per_unit).quantize(Decimal("0.01")),
                  payment_method=payment_method, payment_terms=payment_terms)
    session.add(order)
    session.flush()
    session.add(OrderEvent(order_id=order.id, actor_id=principal.user_id, actor_party=party.value, from_status="",
                           to_status=OrderStatus.pending.value, note=f"offer accepted ({plural(offer.rounds, 'round')})"))
    audit.record(session, action="exchange.order.created", object_type="order", object_id=order.id,
                 actor_id=principal.user_id, business_id=offer.seller_business_id,
                 after={"lot": str(lot.id), "quantity": order.quantity, "total": order.total})
    partner_events.order_created(session, order)
    if lot.available_qty < lot.min_order_qty or lot.available_qty == 0:
        lots_service.transition(session, lot, "sell_out", actor_id=None, note=f"order {order.reference}")
    _close_misfits(session, lot, keep=offer.id)
    for side in (OfferParty.buyer, OfferParty.seller):
        notify_traders(session, _business_of(offer, side), kind="exchange.order",
                       title=f"Offer accepted: order {order.reference} for {lot.title}",
                       body=f"{qty_text(order.quantity)} {lot.unit} at {dollars(order.price_per_unit)}, total {dollars(order.total)}.",
                       link=f"/exchange/orders/{order.id}")
    from icc_app.integrations.metrc import workflows as metrc_workflows  # Metrc: the outgoing transfer template
    metrc_workflows.order_accepted(session, order)  # (queued after commit when the seller is Metrc-connected)
    return order


def _lot_for_update(session: Session, lot_id: uuid.UUID):
    query = select(Lot).where(Lot.id == lot_id)
    query = query.execution_options(populate_existing=True)
    return query.with_for_update() if session.get_bind().dialect.name == "postgresql" else query


def _close_misfits(session: Session, lot: Lot, *, keep: uuid.UUID) -> None:
    left = lot.available_qty
    for other in session.exec(select(Offer).where(Offer.lot_id == lot.id, Offer.status == OfferStatus.open,
                                                  Offer.id != keep)):
        if other.quantity <= left and LotStatus(lot.status) == LotStatus.active:
            continue
        end(other, OfferStatus.closed)
        other.closed_reason = f"only {qty_text(left)} {lot.unit} left"
        session.add(other)
        _record(session, other, OfferParty.seller, "close", None, message=other.closed_reason)
        for side in (OfferParty.buyer, OfferParty.seller):
            _tell(session, other, side, f"Offer on {lot.title} closed", f"Another offer took the lot: {other.closed_reason}.")


def expire(session: Session, offer: Offer) -> None:
    end(offer, OfferStatus.expired)
    session.add(offer)
    _record(session, offer, OfferParty(offer.awaiting), "expire", None)
    for side in (OfferParty.buyer, OfferParty.seller):
        _tell(session, offer, side, "An offer expired", "Nobody answered the latest round in time.")


def expire_offers(session: Session) -> int:
    """Beat: open rounds past their expiry end as expired (idempotent)."""
    rows = session.exec(select(Offer).where(Offer.status == OfferStatus.open, Offer.expires_at <= utcnow())).all()
    for offer in rows:
        expire(session, offer)
    return len(rows)


def rounds(session: Session, *, principal: Principal, offer_id: uuid.UUID) -> list[OfferRound]:
    _load(session, principal, offer_id)
    return list(session.exec(select(OfferRound).where(OfferRound.offer_id == offer_id).order_by(col(OfferRound.id))))


def list_offers(session: Session, *, principal: Principal, business_id: uuid.UUID, side: str = "all",
                status: str | None = None, limit: int = 50, offset: int = 0) -> list[tuple[Offer, Lot]]:
    from icc_app.identity.permissions import require_member
    from icc_app.identity.models import Product

    require_member(principal, business_id, product=Product.exchange)
    query = scoping.trades_of(Offer, principal, business_id, side=side, status=status)
    return list(session.exec(query.order_by(col(Offer.updated_at).desc()).limit(limit).offset(offset)))
