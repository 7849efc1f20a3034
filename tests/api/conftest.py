"""A small trading world for the API suites: a verified seller with a listed lot (real COA), a buyer with one
order and one open offer on it, a stranger business, and bearer tokens for each."""

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.identity.models import BusinessType
from tests.exchange.conftest import market  # noqa: F401 - the fixture this world builds on
from tests.factories import make_business, make_user, session_token, verified_license


# Operations the buyer performs; the seller performs the rest.
BUYER_OPERATIONS = {"/api/v1/offers", "/api/v1/orders/{order_id}/payment-sent", "/api/v1/offers/{offer_id}/withdraw"}


@dataclass
class World:
    client: TestClient
    ids: dict[str, str]  # path parameter name -> a real id the caller may use
    seller: dict[str, str]  # Authorization headers
    buyer: dict[str, str]
    stranger: dict[str, str]
    stranger_lot_id: str

    def who(self, template: str) -> str:
        return "buyer" if template in BUYER_OPERATIONS else "seller"


def bearer(user) -> dict[str, str]:
    with unit_of_work() as session:
        return {"Authorization": f"Bearer {session_token(session, user)}"}


@pytest.fixture()
def world(market) -> World:  # noqa: F811
    client = TestClient(api.build(), raise_server_exceptions=False)
    seller, buyer = bearer(market.seller_user), bearer(market.buyer_user)
    with unit_of_work() as session:
        stranger_user = make_user(session)
        stranger_business = make_business(session, owner=stranger_user, business_type=BusinessType.cultivator)
        verified_license(session, stranger_business, number="401003")
    stranger = bearer(stranger_user)
    first = client.post("/api/v1/offers", headers=buyer, json={
        "buyer_business_id": str(market.buyer.id), "lot_id": str(market.lot_id), "quantity": "20",
        "price_per_unit": "1150"})
    assert first.status_code == 201, first.text
    order = client.post(f"/api/v1/offers/{first.json()['id']}/accept", headers=seller, json={})
    assert order.status_code == 200, order.text
    second = client.post("/api/v1/offers", headers=buyer, json={
        "buyer_business_id": str(market.buyer.id), "lot_id": str(market.lot_id), "quantity": "10",
        "price_per_unit": "1100"})
    assert second.status_code == 201, second.text
    coas = client.get("/api/v1/coas", headers=seller, params={"business_id": str(market.seller.id)}).json()
    stranger_lot = client.post("/api/v1/lots", headers=stranger, json={
        "business_id": str(stranger_business.id), "title": "Stranger's trim", "product_type": "trim",
        "strain_name": "Mixed", "strain_type": "hybrid", "quantity": "10", "unit": "lb", "min_order_qty": "1",
        "price_per_unit": "10"})
    assert stranger_lot.status_code == 201, stranger_lot.text
    ids = {"lot_id": str(market.lot_id), "offer_id": second.json()["id"], "order_id": order.json()["id"],
           "document_id": coas[0]["id"], "business_id": str(market.seller.id), "buyer_business_id": str(market.buyer.id),
           "photo_id": "00000000-0000-0000-0000-000000000001", "dispensary_id": "00000000-0000-0000-0000-000000000002",
           "action": "confirm"}
    return World(client, ids, seller, buyer, stranger, stranger_lot.json()["id"])
