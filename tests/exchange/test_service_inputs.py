"""Hostile input sent to the exchange services the way the Reflex pages send it (raw form strings): every value is
refused with a ValidationFailed that names the field the page shows it next to, and nothing is written.

Why: the pages call these services directly, so a NUL, 1e30 or "0.004" typed into a form reached PostgreSQL
(a 500) or was silently rounded into a $0.00 price."""

import uuid

import pytest
from sqlmodel import func, select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.exchange import disputes, lots, offers, orders
from icc_app.exchange.models import (
    Dispute,
    DisputeMessage,
    IdempotencyKey,
    Lot,
    Offer,
    OfferRound,
    Order,
    OrderEvent,
)
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType
from tests.exchange.conftest import lot_input, place
from tests.factories import make_business, make_user

# Numbers a client can type: too big for the column, not numbers at all, below the range, NUL inside.
BAD_NUMBERS = ["1e20", "1e30", "1E+400", "-5", "0", "NaN", "Infinity", "-Infinity", "sNaN", "12\x00", "abc", ""]
BAD_MONEY = BAD_NUMBERS + ["0.004", "12.345", "1000000000"]  # more than cents, or a billion dollars
BAD_QUANTITY = BAD_NUMBERS + ["0.0004", "10.0005", "100000000"]  # more than 3 decimals, or beyond the column
NUL = "Nice\x00 text"


def _count(*models) -> tuple[int, ...]:
    with unit_of_work() as session:
        return tuple(session.exec(select(func.count()).select_from(m)).one() for m in models)


def _refused(field: str, models: tuple, call) -> ValidationFailed:
    """Run `call(session)` in its own unit of work (as a page does); it must be refused naming `field`, with the
    row counts of `models` unchanged."""
    before = _count(*models)
    with pytest.raises(ValidationFailed) as refused, unit_of_work() as session:
        call(session)
    assert refused.value.field == field, refused.value.message
    assert refused.value.message
    assert _count(*models) == before
    return refused.value


def _refuses_each(field: str, values: list[str], models: tuple, call) -> None:
    """_refused for every value (the tests that need a listed lot loop here instead of paying its set-up per
    value); the failure names the value that got through."""
    for value in values:
        try:
            _refused(field, models, lambda s, value=value: call(s, value))
        except BaseException as exc:  # pytest.fail / AssertionError / an unexpected error
            raise AssertionError(f"{field}={value!r} was not refused cleanly: {exc!r}") from exc


@pytest.fixture()
def seller(connection):
    """A verified cultivator (no listed lot: creating a lot needs none)."""
    with unit_of_work() as session:
        user = make_user(session, name="Sid Seller")
        business = make_business(session, owner=user, name="Sid Farms LLC", business_type=BusinessType.cultivator)
        place(session, business, lat=46.60, lon=-120.50, number="401001")
        return identity.build_principal(session, user), business.id


def _offer(market, **overrides):
    values = dict(quantity="20", price_per_unit="1100")
    values.update(overrides)
    with unit_of_work() as session:
        return offers.make_offer(session, principal=market.principal(market.buyer_user),
                                 buyer_business_id=market.buyer.id, lot_id=market.lot_id, **values)


def _order(market):
    offer = _offer(market)
    with unit_of_work() as session:
        return offers.accept(session, principal=market.principal(market.seller_user), offer_id=offer.id)


# --------------------------------------------------------------------------------------------- lots

@pytest.mark.parametrize("value", BAD_QUANTITY)
@pytest.mark.parametrize("field", ["quantity", "min_order_qty"])
def test_create_lot_refuses_bad_quantities(seller, field, value):
    overrides = {field: value} if field == "quantity" else {field: value, "quantity": "1000"}
    principal, business_id = seller
    _refused(field, (Lot, IdempotencyKey), lambda s: lots.create_lot(
        s, principal=principal, business_id=business_id, data=lot_input(**overrides),
        idempotency_key=uuid.uuid4().hex))


@pytest.mark.parametrize("value", BAD_MONEY)
def test_create_lot_refuses_bad_prices(seller, value):
    principal, business_id = seller
    error = _refused("price_per_unit", (Lot, IdempotencyKey), lambda s: lots.create_lot(
        s, principal=principal, business_id=business_id, data=lot_input(price_per_unit=value),
        idempotency_key=uuid.uuid4().hex))
    if value == "0.004":
        assert "2 decimal" in error.message  # said, not rounded to $0.00


@pytest.mark.parametrize("field,value", [
    ("title", NUL), ("title", "x" * 201), ("strain_name", NUL), ("strain_name", "x" * 121),
    ("description", NUL), ("description", "x" * 5001), ("delivery_terms", NUL), ("delivery_terms", "x" * 501),
    ("metrc_tag", "1A4FF01000000220000\x0000123"),
])
def test_create_lot_refuses_nul_and_overlong_text(seller, field, value):
    principal, business_id = seller
    _refused(field, (Lot, IdempotencyKey), lambda s: lots.create_lot(
        s, principal=principal, business_id=business_id, data=lot_input(**{field: value}),
        idempotency_key=uuid.uuid4().hex))


def test_update_lot_refuses_and_keeps_the_lot(market):
    principal = market.principal(market.seller_user)
    with unit_of_work() as session:
        before = session.get(Lot, market.lot_id).model_dump()
    for field, values in (("price_per_unit", BAD_MONEY), ("quantity", BAD_QUANTITY), ("description", [NUL])):
        _refuses_each(field, values, (Lot,), lambda s, v, field=field: lots.update_lot(
            s, principal=principal, lot_id=market.lot_id, data=lot_input(**{field: v}), version=before["version"]))
    with unit_of_work() as session:
        assert session.get(Lot, market.lot_id).model_dump() == before


@pytest.mark.parametrize("verb", [lots.pause, lots.withdraw])
def test_lot_notes_refuse_nul(market, verb):
    principal = market.principal(market.seller_user)
    _refused("note", (Lot,), lambda s: verb(s, principal=principal, lot_id=market.lot_id, note=NUL))
    with unit_of_work() as session:
        assert session.get(Lot, market.lot_id).status == "active"


# --------------------------------------------------------------------------------------------- offers

@pytest.mark.parametrize("field,values", [("quantity", BAD_QUANTITY), ("price_per_unit", BAD_MONEY),
                                          ("message", [NUL, "x" * 2001])])
def test_make_offer_refuses_hostile_input(market, field, values):
    principal = market.principal(market.buyer_user)
    _refuses_each(field, values, (Offer, OfferRound, IdempotencyKey), lambda s, v, field=field: offers.make_offer(
        s, principal=principal, buyer_business_id=market.buyer.id, lot_id=market.lot_id,
        idempotency_key=uuid.uuid4().hex, **{"quantity": "20", "price_per_unit": "1100", "message": "", field: v}))


def test_counter_refuses_hostile_input_and_keeps_the_terms(market):
    offer = _offer(market)
    seller = market.principal(market.seller_user)
    for field, values in (("quantity", BAD_QUANTITY), ("price_per_unit", BAD_MONEY), ("message", [NUL])):
        _refuses_each(field, values, (OfferRound,), lambda s, v, field=field: offers.counter(
            s, principal=seller, offer_id=offer.id,
            **{"quantity": "20", "price_per_unit": "1150", "message": "", field: v}))
    with unit_of_work() as session:
        kept = session.get(Offer, offer.id)
        assert (kept.quantity, kept.price_per_unit, kept.rounds) == (offer.quantity, offer.price_per_unit, offer.rounds)


@pytest.mark.parametrize("verb", ["reject", "withdraw", "accept"])
def test_offer_answers_refuse_a_nul_message(market, verb):
    offer = _offer(market)
    who = market.seller_user if verb in ("reject", "accept") else market.buyer_user
    principal = market.principal(who)
    _refused("message", (OfferRound, Order), lambda s: getattr(offers, verb)(s, principal=principal,
                                                                           offer_id=offer.id, message=NUL))
    with unit_of_work() as session:
        assert session.get(Offer, offer.id).status == "open"


def test_a_double_click_makes_one_offer(market):
    key = uuid.uuid4().hex
    before = _count(Offer, OfferRound)
    first = _offer(market, idempotency_key=key)
    second = _offer(market, idempotency_key=key)
    assert second.id == first.id
    assert _count(Offer, OfferRound) == (before[0] + 1, before[1] + 1)


# --------------------------------------------------------------------------------------------- orders

def test_payments_refuse_hostile_input(market):
    order = _order(market)
    seller, buyer = market.principal(market.seller_user), market.principal(market.buyer_user)
    for field, values in (("amount", BAD_MONEY), ("reference", [NUL, "x" * 121])):
        _refuses_each(field, values, (OrderEvent,), lambda s, v, field=field: orders.mark_payment_sent(
            s, principal=buyer, order_id=order.id, **{"reference": "WIRE-1", "amount": str(order.total), field: v}))
    _refuses_each("amount", BAD_MONEY, (OrderEvent,), lambda s, v: orders.mark_payment_received(
        s, principal=seller, order_id=order.id, amount=v))
    with unit_of_work() as session:
        kept = session.get(Order, order.id)
        assert (kept.payment_sent_at, kept.payment_sent_amount, kept.payment_received_at) == (None, None, None)


def test_receive_refuses_hostile_input(market):
    order = _order(market)
    seller, buyer = market.principal(market.seller_user), market.principal(market.buyer_user)
    with unit_of_work() as session:
        orders.mark_payment_sent(session, principal=buyer, order_id=order.id, reference="W1", amount=str(order.total))
    with unit_of_work() as session:
        orders.mark_payment_received(session, principal=seller, order_id=order.id, amount=str(order.total))
    for verb in ("confirm", "ship"):
        with unit_of_work() as session:
            orders.act(session, principal=seller, order_id=order.id, verb=verb)
    for field, values in (("received_qty", [v for v in BAD_QUANTITY if v]), ("note", [NUL, "x" * 501])):
        _refuses_each(field, values, (OrderEvent,), lambda s, v, field=field: orders.act(
            s, principal=buyer, order_id=order.id, verb="receive", **{"received_qty": "20", "note": "", field: v}))
    with unit_of_work() as session:
        kept = session.get(Order, order.id)
        assert (kept.status, kept.received_qty) == ("in_transit", None)


# --------------------------------------------------------------------------------------------- disputes

def test_open_dispute_refuses_nul_and_overlong_text(market):
    order = _order(market)
    buyer = market.principal(market.buyer_user)
    for description in ("The buds arrived mouldy\x00 and wet.", "x" * 10001):
        _refused("description", (Dispute, DisputeMessage, IdempotencyKey), lambda s, description=description: disputes.open_dispute(
            s, principal=buyer, order_id=order.id, reason="quality_not_as_described", description=description,
            idempotency_key=uuid.uuid4().hex))
    _refused("evidence", (Dispute, DisputeMessage), lambda s: disputes.open_dispute(
        s, principal=buyer, order_id=order.id, reason="quality_not_as_described",
        description="The buds arrived mouldy and wet.", evidence=[(b"%PDF-1.4", "photo\x00.pdf")]))
    with unit_of_work() as session:
        assert session.get(Order, order.id).status == "pending"


def test_resolve_refuses_hostile_refunds_and_dispute_text(market):
    order = _order(market)
    buyer = market.principal(market.buyer_user)
    with unit_of_work() as session:
        dispute = disputes.open_dispute(session, principal=buyer, order_id=order.id, reason="quantity_short",
                                        description="Only 15 of the 20 lb arrived at our dock.")
        admin = make_user(session, is_platform_admin=True)
    admin_principal = market.principal(admin)
    _refuses_each("refund_amount", BAD_MONEY, (DisputeMessage,), lambda s, v: disputes.resolve(
        s, principal=admin_principal, dispute_id=dispute.id, resolution="partial_refund",
        decision="Five pounds were short: refund them.", refund_amount=v))
    _refuses_each("decision", ["Five pounds were short\x00: cancel it.", "x" * 10001], (DisputeMessage,),
                  lambda s, v: disputes.resolve(s, principal=admin_principal, dispute_id=dispute.id,
                                                resolution="cancel", decision=v))
    _refuses_each("body", [NUL, "x" * 10001], (DisputeMessage,), lambda s, v: disputes.post_message(
        s, principal=buyer, dispute_id=dispute.id, body=v))
    with unit_of_work() as session:
        kept = session.get(Dispute, dispute.id)
        assert (kept.status, kept.refund_amount) == ("open", None)


@pytest.mark.parametrize("field", ["payment_method", "payment_terms"])
def test_accept_refuses_unknown_payment_choices(market, field):
    offer = _offer(market)
    seller = market.principal(market.seller_user)
    _refused(field, (Order, OfferRound), lambda s: offers.accept(s, principal=seller, offer_id=offer.id,
                                                               **{field: "bitcoin\x00"}))
    with unit_of_work() as session:
        assert session.get(Offer, offer.id).status == "open"
