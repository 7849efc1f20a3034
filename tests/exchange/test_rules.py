"""The rules of the house on the exchange: the whole trade runs under row-level security as the acting business,
dispute status changes leave event rows, creating actions are idempotent, ship and receive keep their details."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import NotFound, ValidationFailed
from icc_app.exchange import disputes, lots, offers, orders
from icc_app.exchange.models import DisputeEvent, Lot, LotStatus, Order, OrderEvent, OrderStatus, PaymentTerms
from icc_app.identity.models import BusinessType
from tests.exchange.conftest import lot_input
from tests.factories import make_business, make_user


def test_a_whole_trade_runs_as_the_tenant_under_row_level_security(market):
    """Every step in unit_of_work(tenant=...) (RLS on): the policies allow the trade and nothing more."""
    seller, buyer = market.principal(market.seller_user), market.principal(market.buyer_user)
    with unit_of_work(tenant=buyer) as session:
        assert session.execute(sa.text("SELECT current_user")).scalar_one() == "icc_tenant"
        offer = offers.make_offer(session, principal=buyer, buyer_business_id=market.buyer.id, lot_id=market.lot_id,
                                  quantity="20", price_per_unit="1100")
    with unit_of_work(tenant=seller) as session:
        offers.counter(session, principal=seller, offer_id=offer.id, quantity="20", price_per_unit="1150")
    with unit_of_work(tenant=buyer) as session:  # the buyer's acceptance changes the seller's lot
        order = offers.accept(session, principal=buyer, offer_id=offer.id, payment_terms=PaymentTerms.net_15)
    with unit_of_work(tenant=seller) as session:
        orders.act(session, principal=seller, order_id=order.id, verb="confirm")
        orders.act(session, principal=seller, order_id=order.id, verb="ship", manifest_number="0001234567",
                   carrier="Green Line Transport", tracking_number="GL-88")
    with unit_of_work(tenant=buyer) as session:
        orders.act(session, principal=buyer, order_id=order.id, verb="receive", received_qty="18")
        dispute = disputes.open_dispute(session, principal=buyer, order_id=order.id, reason="quantity_short",
                                        description="Only 18 lb arrived of the 20 lb on the manifest.")
    with unit_of_work() as session:  # a worker's view: everything is there
        stored = session.get(Order, order.id)
        assert (stored.manifest_number, stored.carrier, stored.tracking_number) == ("0001234567",
                                                                                    "Green Line Transport", "GL-88")
        assert stored.received_qty == Decimal("18.000") and OrderStatus(stored.status) == OrderStatus.disputed
        notes = session.exec(select(OrderEvent.note).where(OrderEvent.order_id == order.id)).all()
        assert any("SHORT by 2 lb" in n for n in notes) and any("manifest number 0001234567" in n for n in notes)
        assert session.get(Lot, market.lot_id).available_qty == Decimal("80.000")
    with unit_of_work() as session:
        stranger = make_user(session)
        make_business(session, owner=stranger, business_type=BusinessType.retailer)
    outsider = market.principal(stranger)
    with unit_of_work(tenant=outsider) as session:
        assert session.exec(select(func.count()).select_from(Order)).one() == 0  # the database hides them too
        with pytest.raises(NotFound):
            disputes.thread(session, principal=outsider, dispute_id=dispute.id)


def test_dispute_transitions_write_event_rows(market):
    with unit_of_work() as session:
        offer = offers.make_offer(session, principal=market.principal(market.buyer_user),
                                  buyer_business_id=market.buyer.id, lot_id=market.lot_id, quantity="20",
                                  price_per_unit="1100")
    with unit_of_work() as session:
        order = offers.accept(session, principal=market.principal(market.seller_user), offer_id=offer.id,
                              payment_terms=PaymentTerms.net_30)
    buyer = market.principal(market.buyer_user)
    with unit_of_work() as session:
        dispute = disputes.open_dispute(session, principal=buyer, order_id=order.id, reason="other",
                                        description="The seller stopped answering the phone.", idempotency_key="k1")
        again = disputes.open_dispute(session, principal=buyer, order_id=order.id, reason="other",
                                      description="The seller stopped answering the phone.", idempotency_key="k1")
        admin = make_user(session, is_platform_admin=True)
    assert again.id == dispute.id  # a double click opens one dispute, no "already open" error
    with unit_of_work() as session:
        disputes.resolve(session, principal=market.principal(admin), dispute_id=dispute.id, resolution="no_action",
                         decision="The seller answered meanwhile; nothing to refund.")
        rows = session.exec(select(DisputeEvent).where(DisputeEvent.dispute_id == dispute.id)
                            .order_by(DisputeEvent.id)).all()
    assert [(r.from_status, r.to_status, r.actor_id) for r in rows] == [
        ("", "open", market.buyer_user.id), ("open", "resolved", admin.id)]
    assert rows[1].note.startswith("no_action: The seller answered")


def test_saving_a_draft_twice_with_one_key_makes_one_lot(market):
    seller = market.principal(market.seller_user)
    made = []
    for _ in range(2):  # the double click: two submissions of one form render
        with unit_of_work(tenant=seller) as session:
            made.append(lots.create_lot(session, principal=seller, business_id=market.seller.id,
                                        data=lot_input(title="Double click"), idempotency_key="form-render-1").id)
    with unit_of_work() as session:
        other = lots.create_lot(session, principal=seller, business_id=market.seller.id,
                                data=lot_input(title="Double click"), idempotency_key="form-render-2")
        titles = session.exec(select(Lot.id).where(Lot.title == "Double click")).all()
    assert made[0] == made[1] and len(titles) == 2 and other.id != made[0]
    with pytest.raises(ValidationFailed, match="another action"), unit_of_work() as session:
        disputes.idempotency.claim(session, business_id=market.seller.id, key="form-render-1", action="dispute.open")


def test_received_quantity_cannot_exceed_the_order(market):
    with unit_of_work() as session:
        offer = offers.make_offer(session, principal=market.principal(market.buyer_user),
                                  buyer_business_id=market.buyer.id, lot_id=market.lot_id, quantity="20",
                                  price_per_unit="1100")
    seller, buyer = market.principal(market.seller_user), market.principal(market.buyer_user)
    with unit_of_work() as session:
        order = offers.accept(session, principal=seller, offer_id=offer.id, payment_terms=PaymentTerms.net_30)
        orders.act(session, principal=seller, order_id=order.id, verb="confirm")
        orders.act(session, principal=seller, order_id=order.id, verb="ship")
    with pytest.raises(ValidationFailed, match="at most that") as err, unit_of_work() as session:
        orders.act(session, principal=buyer, order_id=order.id, verb="receive", received_qty="25")
    assert err.value.field == "received_qty"
    with pytest.raises(ValidationFailed), unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="cancel", carrier="bad\x00name")
    with unit_of_work() as session:
        done = orders.act(session, principal=buyer, order_id=order.id, verb="receive")
    assert done.received_qty == Decimal("20.000") and OrderStatus(done.status) == OrderStatus.received


def test_a_draft_lot_is_a_404_for_other_businesses(market):
    seller = market.principal(market.seller_user)
    with unit_of_work() as session:
        draft = lots.create_lot(session, principal=seller, business_id=market.seller.id, data=lot_input())
    for principal in (market.principal(market.buyer_user), None):
        with pytest.raises(NotFound), unit_of_work() as session:
            lots.visible_lot(session, principal, draft.id)
    with unit_of_work() as session:
        assert LotStatus(lots.visible_lot(session, seller, draft.id).status) == LotStatus.draft
