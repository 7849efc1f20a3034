"""The checkout widget: a partner API key (scope widget) opens a session for its own store; customers are known
only by a salted hash; widget traffic carries no PII either way; results are in stock at that store only."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from icc_app import api
from icc_app.budtender import widget
from icc_app.budtender.models import WidgetEvent
from icc_app.core.db import unit_of_work
from icc_app.integrations.partners import keys

RAW_CUSTOMER = "jane.doe@example.com"


@pytest.fixture()
def partner(world):
    with unit_of_work() as session:
        issued = keys.create_key(session, principal=world.owner, business_id=world.business.id, name="POS checkout",
                                 scopes=["widget"])
        other = keys.create_key(session, principal=world.owner, business_id=world.business.id, name="Menu reader",
                                scopes=["menu:read"])
    return TestClient(api.build(), raise_server_exceptions=False), issued.raw, other.raw


def _auth(raw):
    return {"Authorization": f"Bearer {raw}"}


def test_widget_session_and_results_without_pii(world, partner, session):
    client, raw, _ = partner
    salt = client.get("/api/v1/budtender/widget/settings", headers=_auth(raw)).json()["customer_salt"]
    ref = widget.customer_ref(salt, RAW_CUSTOMER)
    cart = [str(world.items["Blue Dream 3.5g"].id)]
    opened = client.post("/api/v1/budtender/widget/sessions", headers=_auth(raw),
                         json={"dispensary_id": str(world.near.id), "cart": cart, "customer_ref": ref})
    assert opened.status_code == 200, opened.text
    token = opened.json()["token"]
    assert 'data-token="' in opened.json()["script"]
    shown = client.get("/api/v1/budtender/widget/recommendations", params={"token": token, "limit": 6})
    assert shown.status_code == 200 and shown.headers["access-control-allow-origin"] == "*"
    body = shown.json()
    names = [r["name"] for r in body["results"]]
    assert body["store"] == "Mile High Greens" and names
    assert "Blue Dream 3.5g" not in names  # already in the cart
    assert not {"Bubba sold out", "Bubba hidden", "Bubba far away"} & set(names)
    # no raw PII anywhere in widget traffic or storage: not in the token, not in the answer, not in the rows
    assert RAW_CUSTOMER not in token and RAW_CUSTOMER not in shown.text and "jane" not in shown.text.lower()
    stored = session.query(WidgetEvent).filter(WidgetEvent.business_id == world.business.id).all()
    assert stored and {e.customer_ref for e in stored} == {ref}
    assert all(RAW_CUSTOMER not in json.dumps(e.model_dump(mode="json")) for e in stored)


def test_raw_customer_ids_are_refused(world, partner):
    client, raw, _ = partner
    for bad in (RAW_CUSTOMER, "+1 303 555 0100", "12345"):
        answer = client.post("/api/v1/budtender/widget/sessions", headers=_auth(raw),
                             json={"dispensary_id": str(world.near.id), "customer_ref": bad})
        assert answer.status_code == 422 and "never send a raw id" in answer.text


def test_hash_is_salted_per_business(world):
    with unit_of_work() as session:
        mine = widget.settings_for(session, world.business.id).customer_salt
    assert widget.customer_ref(mine, "42") != widget.customer_ref("another-business-salt", "42")
    assert len(widget.customer_ref(mine, "42")) == 64


def test_keys_without_the_widget_scope_or_for_another_store_are_refused(world, partner):
    client, raw, menu_only = partner
    assert client.get("/api/v1/budtender/widget/settings", headers=_auth(menu_only)).status_code == 403
    assert client.get("/api/v1/budtender/widget/settings").status_code == 401
    elsewhere = client.post("/api/v1/budtender/widget/sessions", headers=_auth(raw),
                            json={"dispensary_id": str(world.far.id)})
    assert elsewhere.status_code == 404  # not this business's store


def test_tampered_token_shows_nothing(world, partner):
    client, raw, _ = partner
    token = client.post("/api/v1/budtender/widget/sessions", headers=_auth(raw),
                        json={"dispensary_id": str(world.near.id)}).json()["token"]
    body, mac = token.rsplit(".", 1)
    forged = client.get("/api/v1/budtender/widget/recommendations", params={"token": body + "." + "0" * len(mac)})
    assert forged.status_code == 401


def test_widget_purchase_feeds_the_customer_history(world, partner, session):
    client, raw, _ = partner
    token = client.post("/api/v1/budtender/widget/sessions", headers=_auth(raw),
                        json={"dispensary_id": str(world.near.id), "customer_ref": "a" * 64}).json()["token"]
    done = client.post("/api/v1/budtender/widget/events",
                       json={"token": token, "menu_item_id": str(world.items["GDP 3.5g"].id), "kind": "purchase"})
    assert done.status_code == 204
    clicked = client.post("/api/v1/budtender/widget/events", headers={"Content-Type": "text/plain"},  # as widget.js
                          content=json.dumps({"token": token, "menu_item_id": str(world.items["GDP 3.5g"].id),
                                              "kind": "click"}))
    assert clicked.status_code == 204 and clicked.headers["access-control-allow-origin"] == "*"
    assert client.post("/api/v1/budtender/widget/events", content="not json").status_code == 422
    row = session.query(WidgetEvent).filter(WidgetEvent.kind == "purchase").one()
    assert row.customer_ref == "a" * 64 and row.strain_key == "granddaddy-purple"


def test_script_is_served_for_any_page():
    client = TestClient(api.build())
    script = client.get("/api/v1/budtender/widget.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "credentials: \"omit\"" in script.text and "document.cookie" not in script.text
