"""Twenty parallel "make offer" requests of one buyer on one lot, on PostgreSQL with real transactions: the partial
unique index lets exactly one open offer through and every other request gets a clean 409. The data is committed
(no rollback fixture), so every name here is unique to this test."""

import threading
import uuid
from collections import Counter

from fastapi.testclient import TestClient
from sqlmodel import select

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.exchange.models import Offer, OfferStatus
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType
from tests.exchange.conftest import listed_lot, place
from tests.factories import make_business, make_user, session_token

PARALLEL = 20


def _license_number(prefix: str, tag: str) -> str:
    return f"{prefix}{tag[:4]}".translate(str.maketrans("abcdef", "123456"))


def test_parallel_offers_of_one_buyer_on_one_lot_make_one_offer(redis_client, shared_data):
    tag = uuid.uuid4().hex[:6]
    with unit_of_work() as session:
        seller_user = make_user(session, email=f"offer-race-seller-{tag}@example.test")
        seller = make_business(session, owner=seller_user, name=f"Offer Race Farms {tag}",
                               business_type=BusinessType.cultivator)
        place(session, seller, lat=46.6, lon=-120.5, number=_license_number("71", tag))
        buyer_user = make_user(session, email=f"offer-race-buyer-{tag}@example.test")
        shop = make_business(session, owner=buyer_user, name=f"Offer Race Shop {tag}",
                             business_type=BusinessType.retailer)
        place(session, shop, lat=47.6, lon=-122.3, number=_license_number("72", tag))
        seller_principal = identity.build_principal(session, seller_user)
        buyer = {"Authorization": f"Bearer {session_token(session, buyer_user)}"}
    lot_id = listed_lot(shared_data, seller_principal, seller.id, quantity="100", min_order_qty="10")

    client = TestClient(api.build(), raise_server_exceptions=False)
    barrier = threading.Barrier(PARALLEL)
    statuses: list[int] = []

    def offer(i: int) -> None:
        body = {"buyer_business_id": str(shop.id), "lot_id": str(lot_id), "quantity": "10",
                "price_per_unit": str(1000 + i)}
        barrier.wait()
        statuses.append(client.post("/api/v1/offers", headers=buyer, json=body).status_code)

    threads = [threading.Thread(target=offer, args=(i,)) for i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    with unit_of_work() as session:
        open_offers = session.exec(select(Offer).where(Offer.lot_id == lot_id, Offer.buyer_business_id == shop.id,
                                                       Offer.status == OfferStatus.open)).all()
    try:
        assert Counter(statuses) == {201: 1, 409: PARALLEL - 1}, Counter(statuses)
        assert len(open_offers) == 1
    finally:
        with unit_of_work() as session:  # committed data: take the lot off the market for the tests that follow
            from icc_app.exchange import lots

            lots.withdraw(session, principal=seller_principal, lot_id=lot_id, note="test over")
