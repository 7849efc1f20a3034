"""The demo tells the README's story: Capitol Hill Cannabis bought Evergreen Farms' Cherry Punch, the order ran
to the end (paid, shipped, received), and the farm's record shows it."""

from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.seed import seed_demo, seed_exchange_demo, seed_maps_demo
from icc_app.exchange import lots
from icc_app.exchange.models import Lot, Order, OrderStatus
from icc_app.identity.models import Business


def test_the_demo_cherry_punch_order_is_completed_and_counts_for_the_seller(connection, shared_data):
    with unit_of_work() as session:
        seed_demo(session)
    assert seed_exchange_demo(shared_data / "coas") >= 1
    seed_maps_demo(shared_data)
    with unit_of_work() as session:
        farm = session.exec(select(Business).where(Business.legal_name == "Evergreen Farms LLC")).one()
        order, lot = session.exec(select(Order, Lot).join(Lot, Lot.id == Order.lot_id)
                                  .where(Lot.title.startswith("Cherry Punch"))).one()
        assert OrderStatus(order.status) == OrderStatus.received and order.paid and not order.payment_mismatch
        assert order.manifest_number and order.received_qty == order.quantity
        assert lots.reputation(session, farm.id).label == "1 completed order"
