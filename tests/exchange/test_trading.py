"""Offers, orders, payment and disputes: every transition and every refused one."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.notifications import Notification
from icc_app.exchange import disputes, offers, orders
from icc_app.exchange.models import (
    Lot,
    LotStatus,
    Offer,
    OfferRound,
    OfferStatus,
    OrderEvent,
    OrderStatus,
    PaymentTerms,
)
from icc_app.identity.models import BusinessType
from tests.exchange.conftest import place
from tests.factories import make_business, make_user


def _offer(market, quantity="20", price="1100", **kwargs):
    with unit_of_work() as session:
        return offers.make_offer(session, principal=market.principal(market.buyer_user),
                                 buyer_business_id=market.buyer.id, lot_id=market.lot_id, quantity=quantity,
                                 price_per_unit=price, **kwargs)


def _order(market, quantity="20", terms=PaymentTerms.prepay):
    offer = _offer(market, quantity=quantity)
    with unit_of_work() as session:
        return offers.accept(session, principal=market.principal(market.seller_user), offer_id=offer.id,
                             payment_terms=terms)


def test_offer_counter_counter_accept_keeps_every_round(market):
    offer = _offer(market, message="Can you do 1100?")
    seller, buyer = market.principal(market.seller_user), market.principal(market.buyer_user)
    with pytest.raises(Conflict, match="other side's turn"), unit_of_work() as session:
        offers.counter(session, principal=buyer, offer_id=offer.id, quantity="20", price_per_unit="1000")
    with unit_of_work() as session:
        offers.counter(session, principal=seller, offer_id=offer.id, quantity="20", price_per_unit="1180",
                       message="1180 and it's yours")
    with pytest.raises(Conflict, match="accepts it"), unit_of_work() as session:
        offers.accept(session, principal=seller, offer_id=offer.id)
    with unit_of_work() as session:
        offers.counter(session, principal=buyer, offer_id=offer.id, quantity="25", price_per_unit="1150")
    with unit_of_work() as session:
        order = offers.accept(session, principal=seller, offer_id=offer.id)
        rounds = session.exec(select(OfferRound.action).where(OfferRound.offer_id == offer.id)
                              .order_by(OfferRound.id)).all()
        lot = session.get(Lot, market.lot_id)
    assert rounds == ["offer", "counter", "counter", "accept"]
    assert order.quantity == Decimal("25.000") and order.total == Decimal("28750.00")
    assert lot.available_qty == Decimal("75.000")
    with unit_of_work() as session:
        notes = session.exec(select(Notification.title).where(Notification.user_id == market.buyer_user.id)).all()
    assert any("Counter-offer" in t for t in notes) and any("Offer accepted" in t for t in notes)


@pytest.mark.parametrize(("quantity", "price", "message"), [("5", "1000", "minimum order"),
                                                            ("500", "1000", "available"), ("20", "0", "more than zero")])
def test_offer_terms_are_checked(market, quantity, price, message):
    with pytest.raises(ValidationFailed, match=message):
        _offer(market, quantity=quantity, price=price)


def test_refused_offers(market):
    with unit_of_work() as session:  # a distributor may buy and sell, but not from itself
        from icc_app.identity.models import Business

        seller = session.get(Business, market.seller.id)
        seller.business_type = BusinessType.distributor
        session.add(seller)
    with pytest.raises(PermissionDenied, match="own lot"), unit_of_work() as session:
        offers.make_offer(session, principal=market.principal(market.seller_user), buyer_business_id=market.seller.id,
                          lot_id=market.lot_id, quantity="20", price_per_unit="1")
    _offer(market)
    with pytest.raises(Conflict, match="already have an open offer"):
        _offer(market)
    with unit_of_work() as session:  # a cultivator cannot buy
        grower = make_user(session)
        farm = make_business(session, owner=grower, business_type=BusinessType.cultivator)
        place(session, farm, lat=47.0, lon=-120.0, number="401777")
    with pytest.raises(PermissionDenied, match="Only retailers"), unit_of_work() as session:
        offers.make_offer(session, principal=market.principal(grower), buyer_business_id=farm.id, lot_id=market.lot_id,
                          quantity="20", price_per_unit="1")


def test_withdraw_reject_and_expiry(market):
    seller, buyer = market.principal(market.seller_user), market.principal(market.buyer_user)
    offer = _offer(market)
    with pytest.raises(Conflict, match="reject it instead"), unit_of_work() as session:
        offers.withdraw(session, principal=seller, offer_id=offer.id)
    with unit_of_work() as session:
        assert OfferStatus(offers.withdraw(session, principal=buyer, offer_id=offer.id).status) == OfferStatus.withdrawn
    offer = _offer(market)
    with unit_of_work() as session:
        offers.reject(session, principal=seller, offer_id=offer.id, message="Too low")
    offer = _offer(market)
    with unit_of_work() as session:
        row = session.get(Offer, offer.id)
        row.expires_at = utcnow() - timedelta(minutes=1)
        session.add(row)
    with pytest.raises(Conflict, match="expired"), unit_of_work() as session:
        offers.accept(session, principal=seller, offer_id=offer.id)
    with unit_of_work() as session:
        assert offers.expire_offers(session) == 1  # the beat sweep
        assert OfferStatus(session.get(Offer, offer.id).status) == OfferStatus.expired
        assert offers.expire_offers(session) == 0  # idempotent
    with pytest.raises(ValidationFailed, match="14 days"):
        _offer(market, expires_at=utcnow() + timedelta(days=30))


def test_accepting_closes_offers_that_no_longer_fit(market, connection):
    with unit_of_work() as session:
        other_user = make_user(session)
        other = make_business(session, owner=other_user, business_type=BusinessType.retailer)
        place(session, other, lat=47.2, lon=-122.4, number="401555")
    with unit_of_work() as session:
        big = offers.make_offer(session, principal=market.principal(other_user), buyer_business_id=other.id,
                                lot_id=market.lot_id, quantity="50", price_per_unit="1000")
    _order(market, quantity="60")
    with unit_of_work() as session:
        closed = session.get(Offer, big.id)
        assert OfferStatus(closed.status) == OfferStatus.closed and "40" in closed.closed_reason
        assert session.exec(select(Notification).where(Notification.user_id == other_user.id,
                                                       Notification.title.contains("closed"))).first()


def test_proof_of_funds_can_be_required_and_only_the_parties_see_it(market):
    seller = market.principal(market.seller_user)
    with unit_of_work() as session:
        lot = session.get(Lot, market.lot_id)
        lot.require_proof_of_funds = True
        session.add(lot)
    offer = _offer(market)
    with pytest.raises(ValidationFailed, match="proof of funds"), unit_of_work() as session:
        offers.accept(session, principal=seller, offer_id=offer.id)
    pdf = b"%PDF-1.4 bank letter"
    with unit_of_work() as session:
        offers.attach_proof_of_funds(session, principal=market.principal(market.buyer_user), offer_id=offer.id,
                                     data=pdf, filename="bank-letter.pdf")
    with unit_of_work() as session:
        assert offers.read_proof_of_funds(session, principal=seller, offer_id=offer.id)[0] == pdf
        stranger = make_user(session)
        make_business(session, owner=stranger, business_type=BusinessType.retailer)
    with pytest.raises(NotFound), unit_of_work() as session:
        offers.read_proof_of_funds(session, principal=market.principal(stranger), offer_id=offer.id)
    with unit_of_work() as session:
        assert offers.accept(session, principal=seller, offer_id=offer.id).quantity == Decimal("20.000")


def test_order_lifecycle_with_dual_payment_confirmation(market):
    order = _order(market)
    seller, buyer = market.principal(market.seller_user), market.principal(market.buyer_user)
    with pytest.raises(PermissionDenied, match="Only the seller"), unit_of_work() as session:
        orders.act(session, principal=buyer, order_id=order.id, verb="confirm")
    with unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="confirm")
    with pytest.raises(Conflict, match="prepay"), unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="ship")
    with pytest.raises(PermissionDenied), unit_of_work() as session:
        orders.mark_payment_received(session, principal=buyer, order_id=order.id, amount=order.total)
    with unit_of_work() as session:
        sent = orders.mark_payment_sent(session, principal=buyer, order_id=order.id, reference="WIRE-7731",
                                        amount=order.total)
        assert not sent.paid
    with unit_of_work() as session:
        done = orders.mark_payment_received(session, principal=seller, order_id=order.id, amount=order.total)
        assert done.paid and not done.payment_mismatch
    with unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="ship")
    with pytest.raises(PermissionDenied, match="Only the buyer"), unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="receive")
    with unit_of_work() as session:
        orders.act(session, principal=buyer, order_id=order.id, verb="receive")
        history = [(e.actor_party, e.to_status) for e in orders.events(session, principal=buyer, order_id=order.id)]
    assert history == [("seller", "pending"), ("seller", "confirmed"), ("buyer", "confirmed"), ("seller", "confirmed"),
                       ("seller", "in_transit"), ("buyer", "received")]
    with pytest.raises(Conflict, match="received order cannot be cancel"), unit_of_work() as session:
        orders.act(session, principal=buyer, order_id=order.id, verb="cancel")


def test_payment_amount_mismatch_is_flagged(market):
    order = _order(market, terms=PaymentTerms.net_30)
    with unit_of_work() as session:
        orders.mark_payment_sent(session, principal=market.principal(market.buyer_user), order_id=order.id,
                                 reference="CHK 1009", amount=order.total - 100)
    with unit_of_work() as session:
        flagged = orders.mark_payment_received(session, principal=market.principal(market.seller_user),
                                               order_id=order.id, amount=order.total - 100)
        assert flagged.payment_mismatch
        note = session.exec(select(OrderEvent.note).where(OrderEvent.order_id == order.id)
                            .order_by(OrderEvent.id.desc())).first()
    assert "MISMATCH" in note


def test_cancel_returns_the_quantity_and_restocks_a_sold_out_lot(market):
    order = _order(market, quantity="100")
    with unit_of_work() as session:
        assert LotStatus(session.get(Lot, market.lot_id).status) == LotStatus.sold_out
    with unit_of_work() as session:
        orders.act(session, principal=market.principal(market.buyer_user), order_id=order.id, verb="cancel",
                   note="Budget cut")
    with unit_of_work() as session:
        lot = session.get(Lot, market.lot_id)
        assert LotStatus(lot.status) == LotStatus.active and lot.available_qty == Decimal("100.000")


def test_another_tenant_cannot_see_or_touch_an_order(market, connection):
    order = _order(market)
    with unit_of_work() as session:
        stranger = make_user(session)
        make_business(session, owner=stranger, business_type=BusinessType.retailer)
    for verb in ("confirm", "cancel"):
        with pytest.raises(NotFound), unit_of_work() as session:
            orders.act(session, principal=market.principal(stranger), order_id=order.id, verb=verb)
    with pytest.raises(NotFound), unit_of_work() as session:
        orders.events(session, principal=market.principal(stranger), order_id=order.id)


def test_dispute_opened_discussed_and_resolved_by_an_admin(market):
    order = _order(market, terms=PaymentTerms.net_15)
    seller, buyer = market.principal(market.seller_user), market.principal(market.buyer_user)
    with unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="confirm")
        orders.act(session, principal=seller, order_id=order.id, verb="ship")
    with pytest.raises(ValidationFailed, match="20 characters"), unit_of_work() as session:
        disputes.open_dispute(session, principal=buyer, order_id=order.id, reason="quantity_short", description="short")
    with unit_of_work() as session:
        dispute = disputes.open_dispute(session, principal=buyer, order_id=order.id, reason="quantity_short",
                                        description="Only 18 lb arrived of the 20 lb ordered; photos attached.",
                                        evidence=[(b"\x89PNG\r\n\x1a\n" + b"0" * 64, "scale.png")])
        admin = make_user(session, is_platform_admin=True)
    with unit_of_work() as session:
        disputes.post_message(session, principal=seller, dispute_id=dispute.id, body="We shipped 20 lb, see manifest.")
    with pytest.raises(PermissionDenied), unit_of_work() as session:
        disputes.resolve(session, principal=seller, dispute_id=dispute.id, resolution="no_action",
                         decision="I decide in my own favour, obviously.")
    admin_principal = market.principal(admin)
    with pytest.raises(ValidationFailed, match="less than the order total"), unit_of_work() as session:
        disputes.resolve(session, principal=admin_principal, dispute_id=dispute.id, resolution="partial_refund",
                         decision="Refund for the missing two pounds.", refund_amount=order.total)
    with unit_of_work() as session:
        done = disputes.resolve(session, principal=admin_principal, dispute_id=dispute.id, resolution="partial_refund",
                                decision="Refund for the missing two pounds.", refund_amount="2200")
        assert done.refund_amount == Decimal("2200.00")
        _, thread = disputes.thread(session, principal=buyer, dispute_id=dispute.id)
    assert [m.author_party for m in thread] == ["buyer", "seller", "admin"]
    assert thread[0].evidence[0]["filename"] == "scale.png"
    with unit_of_work() as session:
        from icc_app.exchange.models import Order

        assert OrderStatus(session.get(Order, order.id).status) == OrderStatus.in_transit  # back where it was
    with pytest.raises(Conflict, match="final"), unit_of_work() as session:
        disputes.resolve(session, principal=admin_principal, dispute_id=dispute.id, resolution="cancel",
                         decision="Changed my mind about this one.")
