"""The exchange over HTTP: an IMS pushes a lot with an OAuth token, a buyer offers, the seller accepts, both sides
settle; scopes and tenants are enforced."""

from fastapi.testclient import TestClient

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.identity.models import BusinessType
from tests.factories import make_business, make_user, session_token


def test_lot_offer_order_over_the_api(market):
    client = TestClient(api.build())
    with unit_of_work() as session:
        seller = {"Authorization": f"Bearer {session_token(session, market.seller_user)}"}
        buyer = {"Authorization": f"Bearer {session_token(session, market.buyer_user)}"}
        stranger_user = make_user(session)
        make_business(session, owner=stranger_user, business_type=BusinessType.retailer)
        stranger = {"Authorization": f"Bearer {session_token(session, stranger_user)}"}
    created = client.post("/api/v1/lots", headers=seller, json={
        "business_id": str(market.seller.id), "title": "Trim for extraction", "product_type": "trim",
        "strain_name": "Mixed", "strain_type": "hybrid", "quantity": "500", "unit": "lb", "min_order_qty": "50",
        "price_per_unit": "45.00", "metrc_tag": "1A4FF0100000022000000123"})
    assert created.status_code == 201 and created.json()["status"] == "draft"
    refused = client.post(f"/api/v1/lots/{created.json()['id']}/publish", headers=seller)
    assert refused.status_code == 422 and "COA" in refused.json()["detail"]
    bad = client.post("/api/v1/lots", headers=seller, json={**created.json(), "business_id": str(market.seller.id),
                                                            "metrc_tag": "nope"})
    assert bad.status_code == 422 and bad.json()["field"] == "metrc_tag"

    found = client.get("/api/v1/lots", headers=buyer, params={"q": "purple", "buyer_business_id": str(market.buyer.id),
                                                             "sort": "distance"})
    assert found.status_code == 200 and found.json()["lots"][0]["id"] == str(market.lot_id)
    assert 100 < found.json()["lots"][0]["distance_miles"] < 130
    offer = client.post("/api/v1/offers", headers=buyer, json={
        "buyer_business_id": str(market.buyer.id), "lot_id": str(market.lot_id), "quantity": "20",
        "price_per_unit": "1150"})
    assert offer.status_code == 201, offer.text
    assert client.post(f"/api/v1/offers/{offer.json()['id']}/accept", headers=stranger).status_code == 404
    order = client.post(f"/api/v1/offers/{offer.json()['id']}/accept", headers=seller,
                        json={"payment_terms": "net_30", "payment_method": "ach"})
    assert order.status_code == 200 and order.json()["total"] == "23000.00"
    order_id = order.json()["id"]
    assert client.post(f"/api/v1/orders/{order_id}/ship", headers=seller).status_code == 409  # not confirmed yet
    assert client.post(f"/api/v1/orders/{order_id}/confirm", headers=seller).json()["status"] == "confirmed"
    sent = client.post(f"/api/v1/orders/{order_id}/payment-sent", headers=buyer,
                       json={"reference": "ACH-55", "amount": "23000.00"})
    assert sent.status_code == 200 and not sent.json()["paid"]
    received = client.post(f"/api/v1/orders/{order_id}/payment-received", headers=seller, json={"amount": "23000.00"})
    assert received.json()["paid"] and not received.json()["payment_mismatch"]
    assert client.get(f"/api/v1/orders/{order_id}", headers=stranger).status_code == 404
    listed = client.get("/api/v1/orders", headers=buyer, params={"business_id": str(market.buyer.id)})
    assert [o["reference"] for o in listed.json()] == [order.json()["reference"]]
    assert client.post(f"/api/v1/orders/{order_id}/teleport", headers=seller).status_code == 422


def test_lot_terms_are_replaced_with_a_version_check(market):
    client = TestClient(api.build())
    with unit_of_work() as session:
        seller = {"Authorization": f"Bearer {session_token(session, market.seller_user)}"}
        buyer = {"Authorization": f"Bearer {session_token(session, market.buyer_user)}"}
    lot = client.get(f"/api/v1/lots/{market.lot_id}", headers=seller).json()
    body = {**{k: lot[k] for k in ("title", "product_type", "strain_name", "strain_type", "quantity", "unit",
                                   "min_order_qty")},
            "business_id": str(market.seller.id), "price_per_unit": "999.00", "version": lot["version"]}
    changed = client.put(f"/api/v1/lots/{market.lot_id}", headers=seller, json=body)
    assert changed.status_code == 200 and changed.json()["price_per_unit"] == "999.00"
    stale = client.put(f"/api/v1/lots/{market.lot_id}", headers=seller, json={**body, "price_per_unit": "1"})
    assert stale.status_code == 409  # the version read is no longer current
    assert client.put(f"/api/v1/lots/{market.lot_id}", headers=buyer,
                      json={**body, "version": changed.json()["version"]}).status_code == 404
    assert client.get(f"/api/v1/lots/{market.lot_id}", headers=buyer).json()["price_per_unit"] == "999.00"
