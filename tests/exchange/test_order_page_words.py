"""The order pages through OrderState on the real database, as a first-time trader meets them: an action that
cannot succeed yet is disabled with its reason shown up front, the dispute form makes the person choose a reason,
and the history and the list read as words ("1 round", "$22,000.00", "Awaiting payment", "Selling")."""

import json
from decimal import Decimal

from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.exchange import offers, orders
from icc_app.exchange.models import Dispute, PaymentTerms
from icc_app.exchange.ui.order_pages import OrderListState, OrderState, _actions, _dispute_card
from tests.factories import session_token
from tests.ui.harness import make_state, run


def _prepay_order(market):
    buyer, seller = market.principal(market.buyer_user), market.principal(market.seller_user)
    with unit_of_work() as session:
        offer = offers.make_offer(session, principal=buyer, buyer_business_id=market.buyer.id, lot_id=market.lot_id,
                                  quantity="20", price_per_unit="1100")
    with unit_of_work() as session:
        order = offers.accept(session, principal=seller, offer_id=offer.id, payment_terms=PaymentTerms.prepay)
    with unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="confirm")
    return order


def _page(market, user, order):
    with unit_of_work() as session:
        token = session_token(session, user)
    state = make_state(OrderState, token=token, path=f"/exchange/orders/{order.id}")
    run(OrderState.load, state)
    assert state.found, state.form_error
    return state


def test_ship_is_disabled_with_its_reason_until_both_sides_confirmed_the_payment(market):
    order = _prepay_order(market)
    seller_page = _page(market, market.seller_user, order)
    assert "both sides must confirm the payment" in seller_page.order.ship_blocked
    rendered = json.dumps(_actions().render(), default=str)
    button = rendered[:rendered.index('id:\\"ship-order\\"')]
    assert "ship_blocked" in button[button.rindex("disabled:"):]  # the button is disabled while it is blocked
    assert 'id:\\"ship-blocked\\"' in rendered  # and the reason is shown beside it
    with unit_of_work() as session:
        orders.mark_payment_sent(session, principal=market.principal(market.buyer_user), order_id=order.id,
                                 reference="WIRE-1", amount=order.total)
    run(OrderState.load, seller_page)
    assert "both sides" in seller_page.order.ship_blocked  # one side is not enough
    with unit_of_work() as session:
        orders.mark_payment_received(session, principal=market.principal(market.seller_user), order_id=order.id,
                                     amount=order.total)
    run(OrderState.load, seller_page)
    assert seller_page.order.ship_blocked == ""
    notes = [e.note for e in seller_page.events]
    assert "offer accepted (1 round)" in notes
    assert "payment received: $22,000.00" in notes
    assert any(n.startswith("payment sent: $22,000.00 ref WIRE-1") for n in notes)


def test_a_dispute_needs_a_chosen_reason(market):
    order = _prepay_order(market)
    page = _page(market, market.buyer_user, order)
    assert page.reason == ""
    assert "Choose a reason" in json.dumps(_dispute_card().render(), default=str)
    run(OrderState.open_dispute, page, {"seen": page.snapshot, "description": "The buds arrived wet and mouldy."})
    assert page.errors.get("reason") == "Choose a reason."
    with unit_of_work() as session:
        assert session.exec(select(Dispute).where(Dispute.order_id == order.id)).first() is None
    run(OrderState.set_reason, page, "quality_not_as_described")
    run(OrderState.open_dispute, page, {"seen": page.snapshot, "description": "The buds arrived wet and mouldy."})
    assert page.errors == {} and page.dispute.reason == "Quality not as described"


def test_the_orders_list_reads_as_words(market):
    order = _prepay_order(market)
    with unit_of_work() as session:
        token = session_token(session, market.seller_user)
    state = make_state(OrderListState, token=token, path="/exchange/orders")
    run(OrderListState.load, state)
    [row] = [r for r in state.rows if r.id == str(order.id)]
    assert (row.side_label, row.payment_label, row.total) == ("Selling", "Awaiting payment", "$22,000.00")
    assert order.total == Decimal("22000.00")
