"""The sync engine end to end against a local server speaking Dutchie's POS protocol: a run applies everything or
nothing, re-running changes nothing, one run per connection, a dead worker's run is finished once, and the
command line answers like the console."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from icc_app.cli import app as cli
from icc_app.core.models import utcnow
from icc_app.integrations import service, sync
from icc_app.integrations.models import Connection, ConnectionEvent, Sale, SyncRun
from icc_app.maps.models import MenuItem
from tests.factories import status_trail
from tests.integrations.conftest import make_connection
from tests.integrations.fakes.dutchie import DEFAULT_KEY, FakeDutchie

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 2, "max_retries": 2}


@pytest.fixture()
def dutchie():
    now = datetime.now(UTC)
    with FakeDutchie() as server:
        server.load_capture(seed=1).generate_customers(15, seed=1)
        server.generate_transactions(40, start=now - timedelta(days=5), end=now - timedelta(hours=1), seed=1)
        yield server


def _connection(session, store, server, key=DEFAULT_KEY) -> Connection:
    _, business, shop = store
    return make_connection(session, business, shop, base_url=server.url, credentials={"location_key": key})


def _run(session, connection, **kwargs) -> SyncRun:
    run, _ = sync.request_sync(session, connection, trigger="manual", **kwargs)
    session.flush()
    sync.execute(run.id, http_options=FAST)
    session.expire_all()
    return session.get(SyncRun, run.id)


def _menu(session, shop) -> dict[str, MenuItem]:
    return {i.external_id: i for i in session.exec(select(MenuItem).where(MenuItem.dispensary_id == shop.id))}


def test_a_sync_brings_in_the_menu_sales_and_customers(session, store, dutchie):
    connection = _connection(session, store, dutchie)
    run = _run(session, connection)
    assert run.status == "succeeded", run.error
    assert run.created > 100 and run.sales == 40 and run.customers == 15
    assert run.duration_ms is not None and run.finished_at is not None
    menu = _menu(session, store[2])
    assert len(menu) == run.created
    assert any(i.in_stock_qty > 0 and i.price and i.price > 0 for i in menu.values())
    session.refresh(connection)
    assert connection.status == "healthy" and connection.last_success_at is not None
    assert set(connection.cursors) == {"sales", "customers"}
    assert session.exec(select(ConnectionEvent).where(ConnectionEvent.connection_id == connection.id)).first()


def test_running_again_on_the_same_data_changes_nothing(session, store, dutchie):
    connection = _connection(session, store, dutchie)
    first = _run(session, connection)
    stamps = {k: i.updated_at for k, i in _menu(session, store[2]).items()}
    second = _run(session, connection)
    assert second.status == "succeeded"
    assert (second.created, second.updated, second.out_of_stock) == (0, 0, 0)
    assert second.unchanged == first.created
    assert {k: i.updated_at for k, i in _menu(session, store[2]).items()} == stamps
    assert len(session.exec(select(Sale).where(Sale.connection_id == connection.id)).all()) == 40


def test_a_vendor_failure_mid_sync_leaves_the_menu_as_it_was(session, store, dutchie):
    connection = _connection(session, store, dutchie)
    _run(session, connection)
    before = {k: (i.price, i.in_stock_qty) for k, i in _menu(session, store[2]).items()}
    product = dutchie.product_ids()[0]
    dutchie.set_price(product, 1.23)
    dutchie.fail(500, times=3, path="/reporting/inventory")  # every try of this run (FAST: 1 + 2 retries)
    failed = _run(session, connection)
    assert failed.status == "failed" and "kept failing" in failed.error
    assert {k: (i.price, i.in_stock_qty) for k, i in _menu(session, store[2]).items()} == before
    session.refresh(connection)
    assert connection.status == "failing" and "kept failing" in connection.last_error
    recovered = _run(session, connection)  # the vendor is back: the change lands whole
    assert recovered.status == "succeeded" and recovered.updated >= 1
    assert any(i.price == Decimal("1.23") for i in _menu(session, store[2]).values())
    session.refresh(connection)
    assert connection.status == "healthy" and connection.last_error is None


def test_wrong_credentials_fail_the_run_with_a_clear_reason(session, store, dutchie):
    connection = _connection(session, store, dutchie, key="not-the-key")
    run = _run(session, connection)
    assert run.status == "failed" and "refused the credentials" in run.error
    assert status_trail(session, run.id) == ["running", "failed"]  # each move audited, with its reason
    assert _menu(session, store[2]) == {}
    ok, message = service.test_connection(session, principal=None, connection=connection)
    assert not ok and "refused the credentials" in message


def test_one_run_per_connection_at_a_time(session, store, dutchie):
    connection = _connection(session, store, dutchie)
    first, created = sync.request_sync(session, connection, trigger="manual")
    again, created_again = sync.request_sync(session, connection, trigger="schedule")
    assert created and not created_again and again.id == first.id
    # a second run object (e.g. made before the first was seen) waits while the first holds a live lease
    other = SyncRun(connection_id=connection.id, business_id=connection.business_id, streams=["menu"])
    session.add(other)
    first.status, first.lease_until = "running", utcnow() + timedelta(minutes=5)
    session.add(first)
    session.flush()
    assert sync.execute(other.id, http_options=FAST) == "busy"
    session.refresh(other)
    assert other.status == "queued"


def test_a_run_whose_worker_died_is_taken_over_and_finishes_once(session, store, dutchie):
    connection = _connection(session, store, dutchie)
    run, _ = sync.request_sync(session, connection, trigger="schedule")
    run.status, run.lease_until, run.attempts = "running", utcnow() - timedelta(seconds=1), 1  # killed mid-fetch
    session.add(run)
    session.flush()
    assert sync.recover_stale_runs(session) == 1
    assert sync.execute(run.id, http_options=FAST) == "claimed"
    assert sync.execute(run.id, http_options=FAST) == "done"  # the redelivered message does nothing
    session.expire_all()
    finished = session.get(SyncRun, run.id)
    assert finished.status == "succeeded" and finished.attempts == 2
    assert status_trail(session, run.id) == ["running", "succeeded"]  # the takeover (running again) is audited
    assert len(_menu(session, store[2])) == finished.created


def test_due_connections_are_scheduled_spread_out_and_paused_ones_skipped(session, store, dutchie):
    connection = _connection(session, store, dutchie)
    paused = _connection(session, store, dutchie)
    connection.next_sync_at = paused.next_sync_at = utcnow() - timedelta(minutes=1)
    paused.status = "paused"
    session.add_all([connection, paused])
    session.flush()
    assert sync.schedule_due(session) == 1
    assert sync.schedule_due(session) == 0  # not due again until its interval has passed
    session.refresh(connection)
    assert connection.next_sync_at > utcnow() + timedelta(minutes=14)
    runs = session.exec(select(SyncRun).where(SyncRun.connection_id.in_([connection.id, paused.id]))).all()
    assert [r.connection_id for r in runs] == [connection.id]


def test_the_command_line_connects_tests_and_syncs(session, store, dutchie):
    _, business, shop = store
    runner = CliRunner()
    result = runner.invoke(cli, ["integrations", "connect", "dutchie", "--business-id", str(business.id),
                                 "--base-url", dutchie.url, "--credentials", json.dumps({"location_key": DEFAULT_KEY}),
                                 "--dispensary-id", str(shop.id)])
    assert result.exit_code == 0, result.output
    connection_id = result.output.strip().splitlines()[-1]
    stored = session.get(Connection, uuid.UUID(connection_id))
    raw = session.connection().exec_driver_sql(
        f"SELECT credentials FROM integration_connections WHERE id = '{connection_id}'").scalar()
    assert DEFAULT_KEY not in raw and stored.credentials_hint.endswith(DEFAULT_KEY[-4:])
    tested = runner.invoke(cli, ["integrations", "test", connection_id])
    assert tested.exit_code == 0 and tested.output.startswith("OK: ")
    synced = runner.invoke(cli, ["integrations", "sync", connection_id])
    assert synced.exit_code == 0, synced.output
    summary = json.loads(synced.output.strip().splitlines()[-1])
    assert summary["status"] == "succeeded" and summary["created"] > 100 and summary["errors"] == []
    bad = runner.invoke(cli, ["integrations", "connect", "dutchie", "--business-id", str(business.id),
                              "--base-url", "ftp://x", "--credentials", json.dumps({"location_key": "k"})])
    assert bad.exit_code == 1 and "base URL" in bad.output
