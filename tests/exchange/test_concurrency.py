"""Two sellers' clicks at the same instant, on PostgreSQL with real transactions: two acceptances can never
oversell a lot. The data is committed (no rollback fixture), so every name here is unique to this test."""

import threading
import uuid
from decimal import Decimal

from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict
from icc_app.exchange import offers
from icc_app.exchange.models import Lot, Offer, OfferStatus, Order
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType
from tests.exchange.conftest import listed_lot, place
from tests.factories import make_business, make_user


def test_concurrent_acceptances_never_oversell(redis_client, shared_data):
    tag = uuid.uuid4().hex[:6]
    with unit_of_work() as session:
        seller_user = make_user(session, email=f"race-seller-{tag}@example.test")
        seller = make_business(session, owner=seller_user, name=f"Race Farms {tag}", business_type=BusinessType.cultivator)
        place(session, seller, lat=46.6, lon=-120.5, number=f"9{tag[:5]}".translate(str.maketrans("abcdef", "123456")))
        buyers = []
        for i in range(2):
            user = make_user(session, email=f"race-buyer{i}-{tag}@example.test")
            shop = make_business(session, owner=user, name=f"Race Shop {i} {tag}", business_type=BusinessType.retailer)
            place(session, shop, lat=47.6, lon=-122.3, number=f"8{i}{tag[:4]}".translate(str.maketrans("abcdef", "123456")))
            buyers.append((user, shop))
        seller_principal = identity.build_principal(session, seller_user)
    lot_id = listed_lot(shared_data, seller_principal, seller.id, quantity="100", min_order_qty="10")
    offer_ids = []
    for user, shop in buyers:
        with unit_of_work() as session:
            principal = identity.build_principal(session, user)
            offer_ids.append(offers.make_offer(session, principal=principal, buyer_business_id=shop.id, lot_id=lot_id,
                                               quantity="60", price_per_unit="1000").id)

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(offer_id):
        barrier.wait()
        try:
            with unit_of_work() as session:
                offers.accept(session, principal=seller_principal, offer_id=offer_id)
            outcomes.append("accepted")
        except Conflict as exc:
            outcomes.append(f"refused: {exc.message}")

    threads = [threading.Thread(target=accept, args=(oid,)) for oid in offer_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    with unit_of_work() as session:
        lot = session.get(Lot, lot_id)
        order_count = len(session.exec(select(Order.id).where(Order.lot_id == lot_id)).all())
        statuses = sorted(OfferStatus(session.get(Offer, oid).status).value for oid in offer_ids)
    assert sorted(o.split(":")[0] for o in outcomes) == ["accepted", "refused"], outcomes
    assert order_count == 1
    assert lot.available_qty == Decimal("40.000")
    assert statuses == ["accepted", "closed"]  # the loser was closed: 60 no longer fits in 40
    with unit_of_work() as session:  # committed data: take the lot off the market for the tests that follow
        from icc_app.exchange import lots

        lots.withdraw(session, principal=seller_principal, lot_id=lot_id, note="test over")
