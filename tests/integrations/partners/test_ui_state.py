"""The API keys page's handlers: an Admin creates a key and sees it once, rotates and revokes; Staff see only the
"Admins only" state; the webhook endpoint's secret is shown once and its delivery log lists what was sent."""

from __future__ import annotations

from icc_app.core.db import unit_of_work
from icc_app.core.security import hash_token
from icc_app.integrations.partners import tasks
from icc_app.integrations.partners.models import ApiKey
from icc_app.integrations.partners.ui.state import ApiKeysState
from tests.factories import session_token
from tests.ui.harness import make_state, run


def _token(user) -> str:
    with unit_of_work() as session:
        return session_token(session, user)


def test_an_admin_creates_a_key_sees_it_once_then_rotates_and_revokes(partners, session):
    state = make_state(ApiKeysState, token=_token(partners.shop.admin), path="/console/api-keys")
    run(ApiKeysState.load, state)
    assert state.loaded and state.business_name == "Green Door LLC" and state.keys == []
    run(ApiKeysState.create_key, state)  # no name: asked for one, nothing made
    assert state.errors["name"].startswith("Name the key") and state.new_key == ""
    run(ApiKeysState.set_name, state, "Acme POS bridge")
    run(ApiKeysState.create_key, state)  # no scope
    assert state.errors["scopes"] == "Choose at least one scope."
    run(ApiKeysState.toggle_scope, state, "menu:read", True)
    run(ApiKeysState.set_expiry, state, "30 days")
    run(ApiKeysState.create_key, state)
    raw = state.new_key
    assert raw.startswith("icc_pk_") and not state.busy
    assert session.get(ApiKey, state.keys[0]["id"]).key_hash == hash_token(raw)
    row = state.keys[0]
    assert (row["name"], row["status_label"], row["scopes"], row["last_used"]) == ("Acme POS bridge", "Active",
                                                                                   "menu:read", "Never")
    assert row["prefix"] == raw[:13] + "…" and raw not in str(state.keys)
    run(ApiKeysState.dismiss_secret, state)
    assert state.new_key == ""  # gone for good
    run(ApiKeysState.load, state)
    assert raw not in str(state.get_value("keys"))

    run(ApiKeysState.rotate_key, state, row["id"])
    assert state.new_key.startswith("icc_pk_") and state.new_key != raw and "60 minutes" in state.new_key_note
    assert sorted(k["status_label"] for k in state.keys) == ["Active", "Expiring (rotated)"]
    run(ApiKeysState.revoke_key, state, row["id"])
    assert sorted(k["status_label"] for k in state.keys) == ["Active", "Revoked"]


def test_staff_see_that_only_admins_manage_keys(partners):
    state = make_state(ApiKeysState, token=_token(partners.staff_user), path="/console/api-keys")
    run(ApiKeysState.load, state)
    assert state.loaded and state.business_id == "" and state.keys == []


def test_an_endpoint_secret_is_shown_once_and_its_log_lists_deliveries(partners, receiver):
    state = make_state(ApiKeysState, token=_token(partners.shop.admin), path="/console/api-keys")
    run(ApiKeysState.load, state)
    run(ApiKeysState.set_url, state, "http://partner.example.com/hooks")
    run(ApiKeysState.toggle_event, state, "order.created", True)
    run(ApiKeysState.create_endpoint, state)
    assert state.errors["url"] == "Webhook addresses must use https://." and state.endpoints == []
    run(ApiKeysState.set_url, state, receiver.url)
    run(ApiKeysState.create_endpoint, state)
    assert state.new_secret.startswith("whsec_") and state.endpoints[0]["events"] == "order.created"
    endpoint_id = state.endpoints[0]["id"]
    run(ApiKeysState.send_test, state, endpoint_id)
    assert [d["status_label"] for d in state.deliveries] == ["Waiting"]
    tasks.deliver_partner_webhook(state.deliveries[0]["id"])
    run(ApiKeysState.show_log, state, endpoint_id)  # closes
    run(ApiKeysState.show_log, state, endpoint_id)  # opens again, fresh
    assert [(d["event"], d["status_label"], d["attempts"], d["answer"]) for d in state.deliveries] == [
        ("ping", "Delivered", "1 attempt", "HTTP 200")]
    first_secret = state.new_secret
    run(ApiKeysState.rotate_secret, state, endpoint_id)
    assert state.new_secret.startswith("whsec_") and state.new_secret != first_secret
    assert state.new_secret_note.startswith("New signing secret")
    run(ApiKeysState.set_enabled, state, endpoint_id, False)
    assert state.endpoints[0]["enabled"] == ""
