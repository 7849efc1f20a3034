"""The Point of sale page's state without a browser: a bad address is refused beside its box and saves nothing; a
good connection is listed with its status in words and never its credentials; Sync now queues one run however
often it is pressed; Staff see but cannot connect; a failed run shows its reasons and can be retried."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from icc_app.identity.models import Role
from icc_app.integrations import base
from icc_app.integrations.models import Connection, SyncRun
from icc_app.integrations.ui.state import PointOfSaleState as S
from tests.factories import add_member, session_token
from tests.integrations.conftest import make_connection
from tests.ui.harness import make_state, run

SECRET = "loc-key-SECRET-9f3a2b7c"


@pytest.fixture()
def sent(monkeypatch):
    """The tasks the page hands to the workers (after its unit of work commits)."""
    tasks = []
    monkeypatch.setattr("workers.celery_app.dispatch", tasks.append)
    return tasks


def _owner_page(session, store):
    principal, _, _ = store
    from icc_app.identity.models import User

    owner = session.get(User, principal.user_id)
    state = make_state(S, token=session_token(session, owner), path="/console/integrations")
    run(S.load, state)
    return state


def _fill(state, *, base_url: str = "http://127.0.0.1:9", name: str = "Main street POS") -> None:
    run(S.open_form, state)
    run(S.set_vendor, state, "dutchie")
    run(S.set_draft, state, "name", name)
    run(S.set_draft, state, "base_url", base_url)
    run(S.set_cred, state, "location_key", SECRET)


def test_a_bad_address_shows_beside_its_box_and_saves_nothing(session, store):
    state = _owner_page(session, store)
    assert state.loaded and state.can_manage and state.is_admin and state.connections == []
    assert [v.label for v in state.vendors][:1] == ["Dutchie POS"]
    assert state.dispensaries == [{"id": str(store[2].id), "name": "Green Door"}]
    _fill(state, base_url="ftp://pos.example.com")
    assert [f.label for f in state.cred_fields] == ["Location API key"]
    run(S.connect, state)
    assert "https://" in state.errors["base_url"]
    assert state.form_open  # still there to fix
    run(S.set_draft, state, "base_url", "http://pos.example.com")  # plain http only for this machine
    run(S.connect, state)
    assert "Use https://" in state.errors["base_url"]
    run(S.set_draft, state, "base_url", "https://pos.example.com")
    run(S.set_draft, state, "interval", "5")
    run(S.connect, state)
    assert state.errors == {"interval_minutes": "Sync every 15 to 60 minutes."}
    assert session.exec(select(Connection)).all() == []


def test_a_connection_is_listed_in_words_without_its_credentials(session, store):
    state = _owner_page(session, store)
    _fill(state)
    run(S.set_draft, state, "dispensary_id", str(store[2].id))
    run(S.connect, state)
    assert state.errors == {} and not state.form_open
    [card] = state.connections
    assert (card.name, card.vendor_label, card.status_label, card.last_success) == (
        "Main street POS", "Dutchie POS", "Not synced yet", "Never")
    assert card.dispensary == "Green Door" and card.credentials == "Saved (ends …2b7c)"
    declared = base.adapter_class("dutchie").capabilities  # the words follow what the adapter declares
    assert card.capabilities == " · ".join(c.label for c in base.Capability if c in declared)
    assert card.capabilities.startswith("Menu and inventory · Sales transactions")
    assert card.can_sync and card.interval == "Every 15 minutes"
    browser_copy = json.dumps(state.dict(), default=str)
    assert SECRET not in browser_copy and state.creds == {}
    stored = session.exec(select(Connection)).one()
    assert SECRET not in stored.credentials_hint and stored.dispensary_id == store[2].id
    run(S.connect, state)  # a late second click on the closed form makes nothing
    assert len(session.exec(select(Connection)).all()) == 1


def test_sync_now_queues_one_run_however_often_it_is_pressed(session, store, sent):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    state = _owner_page(session, store)
    events = run(S.sync_now, state, str(connection.id))
    assert S.watch_runs in events  # the page follows the run
    run(S.sync_now, state, str(connection.id))  # the double click
    runs = session.exec(select(SyncRun).where(SyncRun.connection_id == connection.id)).all()
    assert len(runs) == 1 and runs[0].trigger == "manual"
    assert [t.name for t in sent] == ["integrations.run_sync"]
    [card] = state.connections
    assert card.active == "Waiting to start" and not card.can_sync
    [shown] = state.runs
    assert (shown.trigger, shown.status_label, shown.progress) == ("Sync now", "Waiting to start", "Waiting to start")
    assert state.has_active


def test_staff_see_the_connections_but_cannot_connect(session, store):
    _, business, shop = store
    make_connection(session, business, shop)
    clerk = add_member(session, business, role=Role.staff, products=["integrations"])
    state = make_state(S, token=session_token(session, clerk), path="/console/integrations")
    run(S.load, state)
    assert len(state.connections) == 1 and not state.can_manage and not state.is_admin
    _fill(state, name="Clerk's POS")
    run(S.connect, state)
    assert "Manager role" in state.form_error
    assert len(session.exec(select(Connection)).all()) == 1


def test_a_failed_run_shows_why_and_can_be_retried(session, store, sent):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    session.add(SyncRun(connection_id=connection.id, business_id=business.id, trigger="schedule", streams=["menu"],
                        status="failed", error="Dutchie POS refused the location key (401).", duration_ms=1200))
    session.add(SyncRun(connection_id=connection.id, business_id=business.id, trigger="manual", streams=["menu"],
                        status="succeeded", created=3, updated=1, unchanged=40, out_of_stock=2, skipped=1,
                        errors=[{"item": "SKU 17 Gelato", "reason": "no price"}], duration_ms=12_400))
    session.flush()
    state = _owner_page(session, store)
    failed = next(r for r in state.runs if r.status == "failed")
    done = next(r for r in state.runs if r.status == "succeeded")
    assert failed.retryable and failed.error.startswith("Dutchie POS refused") and failed.counts == ""
    assert (failed.trigger, failed.duration) == ("Scheduled", "1.2 s")
    assert done.counts == "3 created · 1 updated · 40 unchanged · 2 out of stock · 1 skipped"
    assert done.item_errors == ["SKU 17 Gelato: no price"] and not done.retryable and done.duration == "12 s"
    run(S.set_run_status, state, "failed")
    assert [r.status for r in state.runs] == ["failed"]
    run(S.retry, state, failed.id)
    run(S.set_run_status, state, "all")
    assert state.runs[0].trigger == "Retry" and state.runs[0].status_label == "Waiting to start"
    assert [t.name for t in sent] == ["integrations.run_sync"]


def test_managers_rotate_and_pause_but_only_admins_disconnect(session, store):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    manager = add_member(session, business, role=Role.manager, products=["integrations"])
    state = make_state(S, token=session_token(session, manager), path="/console/integrations")
    run(S.load, state)
    assert state.can_manage and not state.is_admin
    run(S.open_rotate, state, str(connection.id))
    assert state.rotate_name == "dutchie test" and [f.key for f in state.rotate_fields] == ["location_key"]
    run(S.rotate, state)  # nothing typed
    assert state.rotate_error.startswith("Missing: Location API key") and state.rotate_id
    run(S.set_rotate_cred, state, "location_key", "new-key-55551234")
    run(S.rotate, state)
    assert state.rotate_id == "" and state.connections[0].credentials == "Saved (ends …1234)"
    session.refresh(connection)
    assert connection.credentials_hint == "…1234"
    run(S.set_paused, state, str(connection.id), True)
    card = state.connections[0]
    assert card.paused and card.status_label == "Paused" and not card.can_sync
    run(S.set_paused, state, str(connection.id), False)
    assert state.connections[0].status_label == "Not synced yet"
    run(S.ask_disconnect, state, str(connection.id))
    run(S.disconnect, state)
    assert "Only an Admin" in state.form_error and state.connections[0].status == "new"


def test_times_read_as_people_say_them():
    from datetime import UTC, datetime, timedelta

    from icc_app.integrations.ui.cards import active_text, ago, duration

    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert [ago(now - timedelta(seconds=s), now=now) for s in (5, 60, 12 * 60, 3 * 3600, 2 * 86400)] == [
        "just now", "1 minute ago", "12 minutes ago", "3 hours ago", "2 days ago"]
    assert ago(None) == "Never" and ago(now - timedelta(days=30), now=now).startswith("2026-11-02")
    assert [duration(ms) for ms in (None, 400, 12_400, 125_000)] == ["—", "0.4 s", "12 s", "2 min 5 s"]
    assert [active_text(*a) for a in (("queued", ""), ("running", "menu: page 2 of 3"), ("running", "starting"),
                                      ("succeeded", "done"))] == [
        "Waiting to start", "Syncing the menu: page 2 of 3", "Syncing…", ""]


def test_settings_are_edited_with_errors_beside_their_box(session, store):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    state = _owner_page(session, store)
    run(S.open_edit, state, str(connection.id))
    assert state.edit["interval"] == "15" and state.edit["dispensary_id"] == str(shop.id)
    run(S.set_edit, state, "interval", "90")
    run(S.save_edit, state)
    assert state.edit_errors == {"interval_minutes": "Sync every 15 to 60 minutes."} and state.edit_id
    run(S.set_edit, state, "interval", "30")
    run(S.set_edit, state, "name", "Back office POS")
    run(S.save_edit, state)
    assert state.edit_id == "" and (state.connections[0].name, state.connections[0].interval) == (
        "Back office POS", "Every 30 minutes")
    session.refresh(connection)
    assert connection.interval_minutes == 30
