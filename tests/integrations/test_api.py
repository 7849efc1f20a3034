"""The integrations REST API as a partner or the console uses it: connections (credentials never returned,
another business's connection is a 404, Staff cannot connect), sync now and the runs log, and the vendor webhook
endpoints (verified, idempotent, rejected with a reason, applied to the public menu without waiting for a poll)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from icc_app import api
from icc_app.identity.models import Role, User
from icc_app.integrations import sync, webhooks
from icc_app.integrations.models import WebhookEvent
from icc_app.maps.models import MenuItem
from tests.factories import add_member, session_token
from tests.integrations.conftest import claimed_store, make_connection
from tests.integrations.fakes.dutchie import DEFAULT_KEY, FakeDutchie
from tests.integrations.fakes.jane import JaneDeliveries
from tests.integrations.fakes.treez import FakeTreez

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 2, "max_retries": 1}


@pytest.fixture()
def client():
    return TestClient(api.build(), raise_server_exceptions=False)


def _bearer(session, user_id) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(session, session.get(User, user_id))}"}


def _items(menu: dict) -> list[dict]:
    return [item for items in menu["categories"].values() for item in items]


def _connect_body(business, shop, server) -> dict:
    return {"business_id": str(business.id), "vendor": "dutchie", "name": "Front store", "base_url": server.url,
            "credentials": {"location_key": DEFAULT_KEY}, "dispensary_id": str(shop.id)}


def test_connect_list_and_sync_over_the_api(session, store, client):
    principal, business, shop = store
    owner = _bearer(session, principal.user_id)
    with FakeDutchie() as server:
        server.load_capture(seed=2)
        created = client.post("/api/v1/integrations/connections", headers=owner,
                              json=_connect_body(business, shop, server))
        assert created.status_code == 201, created.text
        body = created.json()
        assert DEFAULT_KEY not in created.text and body["credentials_hint"].endswith(DEFAULT_KEY[-4:])
        assert body["status"] == "new"
        connection_id = body["id"]
        tested = client.post(f"/api/v1/integrations/connections/{connection_id}/test", headers=owner)
        assert tested.status_code == 200 and tested.json()["ok"] and tested.json()["status"] == "healthy"
        queued = client.post(f"/api/v1/integrations/connections/{connection_id}/sync", headers=owner)
        assert queued.status_code == 202 and queued.json()["status"] == "queued"
        again = client.post(f"/api/v1/integrations/connections/{connection_id}/sync", headers=owner)
        assert again.status_code == 200 and again.json()["id"] == queued.json()["id"]  # a double click: one run
        sync.execute(queued.json()["id"], http_options=FAST)
        runs = client.get("/api/v1/integrations/runs", headers=owner, params={"connection_id": connection_id})
        assert runs.status_code == 200
        run = runs.json()[0]
        assert run["status"] == "succeeded" and run["created"] > 100 and run["duration_ms"] is not None
        listed = client.get("/api/v1/integrations/connections", headers=owner,
                            params={"business_id": str(business.id)})
        assert [c["id"] for c in listed.json()] == [connection_id]
        menu = client.get(f"/api/v1/dispensaries/{shop.id}/menu")
        assert menu.status_code == 200 and len(_items(menu.json())) > 50


def test_other_businesses_and_staff_are_kept_out(session, store, client):
    principal, business, shop = store
    connection = make_connection(session, business, shop)
    stranger_principal, _, _ = claimed_store(session, name="Other Shop", number="412999")
    stranger = _bearer(session, stranger_principal.user_id)
    assert client.get(f"/api/v1/integrations/connections/{connection.id}", headers=stranger).status_code == 404
    assert client.post(f"/api/v1/integrations/connections/{connection.id}/sync",
                       headers=stranger).status_code == 404
    staff = add_member(session, business, role=Role.staff, products=["integrations"])
    staff_headers = _bearer(session, staff.id)
    assert client.get(f"/api/v1/integrations/connections/{connection.id}", headers=staff_headers).status_code == 200
    assert client.post(f"/api/v1/integrations/connections/{connection.id}/sync",
                       headers=staff_headers).status_code == 403  # Staff see the log; Managers run syncs
    refused = client.post("/api/v1/integrations/connections", headers=staff_headers, json={
        "business_id": str(business.id), "vendor": "dutchie", "base_url": "https://api.example.com",
        "credentials": {"location_key": "abc"}})
    assert refused.status_code == 403 and "Manager" in refused.json()["detail"]
    bad = client.post("/api/v1/integrations/connections", headers=_bearer(session, principal.user_id), json={
        "business_id": str(business.id), "vendor": "dutchie", "base_url": "http://pos.example.com",
        "credentials": {"location_key": "abc"}})
    assert bad.status_code == 422 and bad.json()["field"] == "base_url"
    assert client.get("/api/v1/integrations/connections").status_code == 401


@pytest.fixture()
def treez_store(session, store):
    _, business, shop = store
    with FakeTreez(products=FakeTreez.generate_products(30, seed=3)) as server:
        connection = make_connection(session, business, shop, vendor="treez", base_url=server.url,
                                     credentials={"client_id": server.client_id, "api_key": server.api_key},
                                     webhook_secret=server.webhook_token, location_id=server.dispensary)
        run, _ = sync.request_sync(session, connection, trigger="manual", streams=["menu"])
        session.flush()
        sync.execute(run.id, http_options=FAST)
        yield server, connection, shop


def test_a_treez_inventory_webhook_reaches_the_public_menu(session, client, treez_store):
    server, connection, shop = treez_store
    item = session.exec(select(MenuItem).where(MenuItem.dispensary_id == shop.id, MenuItem.in_stock_qty > 0)).first()
    headers, body = server.inventory_webhook(item.external_id, available=777)
    accepted = client.post("/api/v1/integrations/webhooks/treez", headers=headers, content=body)
    assert accepted.status_code == 202, accepted.text
    event = session.exec(select(WebhookEvent).where(WebhookEvent.event_id == accepted.json()["event_id"])).one()
    assert event.status == "accepted" and event.payload["body"]["event_type"] == "INVENTORY"
    assert "authorization" not in event.payload["headers"]  # the secret is not stored
    replay = client.post("/api/v1/integrations/webhooks/treez", headers=headers, content=body)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert webhooks.process(event.id) == "processed"
    assert webhooks.process(event.id) == "skipped"  # the task delivered twice applies once
    menu = _items(client.get(f"/api/v1/dispensaries/{shop.id}/menu").json())
    assert next(i for i in menu if i["id"] == str(item.id))["in_stock_qty"] == 777


def test_unsigned_or_wrong_webhooks_are_refused_with_a_reason_and_kept(session, client, treez_store):
    server, connection, shop = treez_store
    item = session.exec(select(MenuItem).where(MenuItem.dispensary_id == shop.id)).first()
    headers, body = server.inventory_webhook(item.external_id, available=5, token="forged")
    refused = client.post("/api/v1/integrations/webhooks/treez", headers=headers, content=body)
    assert refused.status_code == 401 and "token" in refused.json()["detail"].lower()
    kept = session.exec(select(WebhookEvent).where(WebhookEvent.status == "rejected")).all()
    assert len(kept) == 1 and kept[0].reason and "forged" not in str(kept[0].payload)
    assert client.post("/api/v1/integrations/webhooks/unknown", content=b"{}").status_code == 404
    assert client.post("/api/v1/integrations/webhooks/dutchie", content=b"{}").status_code == 404  # no webhooks


def test_jane_order_webhooks_check_signature_and_time(session, store, client):
    _, business, shop = store
    jane = JaneDeliveries(secret="jane-signing-secret")
    make_connection(session, business, shop, vendor="jane", credentials={}, webhook_secret="jane-signing-secret",
                    location_id="68")
    now = datetime.now(UTC)
    headers, body = jane.delivery(jane.cart(9001), now=now)
    assert client.post("/api/v1/integrations/webhooks/jane", headers=headers, content=body).status_code == 202
    stale_headers, stale_body = jane.delivery(jane.cart(9002), now=now - timedelta(minutes=30))
    stale = client.post("/api/v1/integrations/webhooks/jane", headers=stale_headers, content=stale_body)
    assert stale.status_code == 401 and "Stale" in stale.json()["detail"]
    forged_headers, forged_body = jane.delivery(jane.cart(9003), now=now, bad_signature=True)
    assert client.post("/api/v1/integrations/webhooks/jane", headers=forged_headers,
                       content=forged_body).status_code == 401
