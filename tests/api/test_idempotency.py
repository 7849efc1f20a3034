"""A retried POST with the same Idempotency-Key makes one lot / one offer and answers the same as the first; a new
key makes a new one; a malformed key is a 422 that makes nothing."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.exchange.models import Lot, Offer
from tests.api.conftest import bearer


def _lot_body(market) -> dict:
    return {"business_id": str(market.seller.id), "title": "Trim for extraction", "product_type": "trim",
            "strain_name": "Mixed", "strain_type": "hybrid", "quantity": "500", "unit": "lb", "min_order_qty": "50",
            "price_per_unit": "45.00"}


def _count(model, **where) -> int:
    with unit_of_work() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.exec(query).one()


def test_retried_lot_post_makes_one_lot(market):
    client, seller = TestClient(api.build(), raise_server_exceptions=False), bearer(market.seller_user)
    before = _count(Lot, business_id=market.seller.id)
    key = str(uuid.uuid4())
    first = client.post("/api/v1/lots", headers={**seller, "Idempotency-Key": key}, json=_lot_body(market))
    retry = client.post("/api/v1/lots", headers={**seller, "Idempotency-Key": key}, json=_lot_body(market))
    assert first.status_code == retry.status_code == 201, (first.text, retry.text)
    assert retry.json()["id"] == first.json()["id"]
    assert _count(Lot, business_id=market.seller.id) == before + 1

    other = client.post("/api/v1/lots", headers={**seller, "Idempotency-Key": str(uuid.uuid4())},
                        json=_lot_body(market))
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert _count(Lot, business_id=market.seller.id) == before + 2


def test_retried_offer_post_makes_one_offer(market):
    client, buyer = TestClient(api.build(), raise_server_exceptions=False), bearer(market.buyer_user)
    body = {"buyer_business_id": str(market.buyer.id), "lot_id": str(market.lot_id), "quantity": "20",
            "price_per_unit": "1150"}
    key = "offer-2026-12-02.retry:1"
    first = client.post("/api/v1/offers", headers={**buyer, "Idempotency-Key": key}, json=body)
    retry = client.post("/api/v1/offers", headers={**buyer, "Idempotency-Key": key}, json=body)
    assert first.status_code == retry.status_code == 201, (first.text, retry.text)
    assert retry.json()["id"] == first.json()["id"]
    assert _count(Offer, lot_id=market.lot_id) == 1
    # A new key is a new request: the one-open-offer rule answers it, it is not taken for the retry.
    other = client.post("/api/v1/offers", headers={**buyer, "Idempotency-Key": "another-key"}, json=body)
    assert other.status_code == 409
    assert _count(Offer, lot_id=market.lot_id) == 1


@pytest.mark.parametrize("key", ["k" * 81, "spaces are not safe", "semi;colon", "quote\"d"])
def test_malformed_keys_are_refused_and_make_nothing(market, key):
    client, seller = TestClient(api.build(), raise_server_exceptions=False), bearer(market.seller_user)
    before = _count(Lot, business_id=market.seller.id)
    answer = client.post("/api/v1/lots", headers={**seller, "Idempotency-Key": key}, json=_lot_body(market))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "Idempotency-Key"
    assert _count(Lot, business_id=market.seller.id) == before


def test_the_header_is_documented():
    paths = TestClient(api.build()).get("/api/openapi.json").json()["paths"]
    for path in ("/api/v1/lots", "/api/v1/offers"):
        params = {p["name"]: p for p in paths[path]["post"].get("parameters", [])}
        assert params["Idempotency-Key"]["in"] == "header"
        assert params["Idempotency-Key"]["schema"]["anyOf"][0]["maxLength"] == 80
