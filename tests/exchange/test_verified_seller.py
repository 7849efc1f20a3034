"""A seller whose license was revoked after the sale can still cancel or dispute, but not ship or be paid."""

import pytest
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import PermissionDenied
from icc_app.exchange import offers, orders
from icc_app.exchange.models import Order, OrderEvent, OrderStatus, PaymentTerms
from icc_app.identity import license_states
from icc_app.identity.models import BusinessLicense


def _order(market, terms=PaymentTerms.net_30):  # net terms: shipping has no payment precondition
    with unit_of_work() as session:
        offer = offers.make_offer(session, principal=market.principal(market.buyer_user),
                                  buyer_business_id=market.buyer.id, lot_id=market.lot_id, quantity="20",
                                  price_per_unit="1100")
    with unit_of_work() as session:
        return offers.accept(session, principal=market.principal(market.seller_user), offer_id=offer.id,
                             payment_terms=terms)


def _revoke_seller_license(market):
    with unit_of_work() as session:
        for lic in session.exec(select(BusinessLicense).where(BusinessLicense.business_id == market.seller.id)):
            license_states.transition(session, lic, "revoke", by="admin", actor_id=None, note="test: revoked")


def _events(order_id):
    with unit_of_work() as session:
        return len(session.exec(select(OrderEvent).where(OrderEvent.order_id == order_id)).all())


def test_revoked_seller_cannot_be_paid_or_ship(market):
    order = _order(market)
    seller, buyer = market.principal(market.seller_user), market.principal(market.buyer_user)
    with unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="confirm")
        orders.mark_payment_sent(session, principal=buyer, order_id=order.id, reference="WIRE-1", amount=order.total)
    _revoke_seller_license(market)
    seller = market.principal(market.seller_user)  # the principal is rebuilt per request
    before = _events(order.id)

    with pytest.raises(PermissionDenied, match="be paid"), unit_of_work() as session:
        orders.mark_payment_received(session, principal=seller, order_id=order.id, amount=order.total)
    with pytest.raises(PermissionDenied, match="ship"), unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="ship")
    with unit_of_work() as session:
        row = session.get(Order, order.id)
        assert row.payment_received_at is None and OrderStatus(row.status) == OrderStatus.confirmed
    assert _events(order.id) == before

    # The buyer's side and the seller's way out are untouched.
    with unit_of_work() as session:
        cancelled = orders.act(session, principal=seller, order_id=order.id, verb="cancel", note="license revoked")
    assert OrderStatus(cancelled.status) == OrderStatus.cancelled


def test_revoked_seller_cannot_confirm_a_sale(market):
    order = _order(market)
    _revoke_seller_license(market)
    with pytest.raises(PermissionDenied, match="confirm a sale"), unit_of_work() as session:
        orders.act(session, principal=market.principal(market.seller_user), order_id=order.id, verb="confirm")
    with unit_of_work() as session:
        assert OrderStatus(session.get(Order, order.id).status) == OrderStatus.pending
