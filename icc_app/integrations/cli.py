"""Command line of the integrations hub (`python -m icc_app.cli integrations ...`), for operators, staging and
checks: connect a vendor location, test it, run one sync and print its summary as JSON, list runs."""

from __future__ import annotations

import json
import sys
import uuid

import typer

app = typer.Typer(no_args_is_help=True, help="POS and seed-to-sale connections.")


def _add_metrc_commands() -> None:
    """`integrations compliance-check` (as the issue names it) and `integrations metrc ...`."""
    from icc_app.integrations.metrc import cli as metrc

    app.command("compliance-check")(metrc.compliance_check)
    app.add_typer(metrc.app, name="metrc")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        _fail(f"{what} is not an id: {value!r}", 2)
        raise  # unreachable


@app.command("connect")
def connect(
    vendor: str = typer.Argument(..., help="dutchie, treez, flowhub, jane or metrc"),
    business_id: str = typer.Option(..., "--business-id"),
    base_url: str = typer.Option(..., "--base-url", help="The vendor's API address (a local server for staging)."),
    credentials: str = typer.Option(..., "--credentials", help='JSON, e.g. \'{"location_key": "..."}\''),
    name: str = typer.Option("", "--name"),
    location_id: str = typer.Option("", "--location-id"),
    dispensary_id: str = typer.Option("", "--dispensary-id", help="The claimed dispensary whose menu it feeds."),
    webhook_secret: str = typer.Option("", "--webhook-secret"),
    interval: int = typer.Option(15, "--interval", help="Minutes between scheduled syncs (15-60)."),
    state: str = typer.Option("", "--state", help="Metrc: the state (two letters)."),
) -> None:
    """Create a connection and print its id."""
    from icc_app.core.db import unit_of_work
    from icc_app.core.errors import DomainError
    from icc_app.integrations import base, service

    try:
        creds = json.loads(credentials)
    except json.JSONDecodeError as exc:
        _fail(f"--credentials is not JSON: {exc.msg} (column {exc.colno})", 2)
    if state:
        creds = {**creds, "state": state.upper()}
    try:
        with unit_of_work() as session:
            connection = service.connect(session, principal=None, business_id=_uuid(business_id, "--business-id"),
                                         data=service.ConnectInput(
                                             vendor=vendor, name=name, base_url=base_url, credentials=creds,
                                             location_id=location_id or None,
                                             dispensary_id=_uuid(dispensary_id, "--dispensary-id") if dispensary_id
                                             else None, webhook_secret=webhook_secret or None,
                                             interval_minutes=interval))
            connection_id = connection.id
    except (DomainError, base.IntegrationError) as exc:
        _fail(f"Not connected: {exc.message}", 1)
    typer.echo(str(connection_id))


@app.command("test")
def test(connection_id: str) -> None:
    """Ask the vendor who we are (like the console's "Test connection"); exit 1 when it fails."""
    from icc_app.core.db import unit_of_work
    from icc_app.integrations import service
    from icc_app.integrations.models import Connection

    with unit_of_work() as session:
        connection = session.get(Connection, _uuid(connection_id, "CONNECTION_ID"))
        if connection is None:
            _fail("No such connection.", 1)
        ok, message = service.test_connection(session, principal=None, connection=connection)
    typer.echo(("OK: " if ok else "FAILED: ") + message)
    if not ok:
        raise typer.Exit(1)


@app.command("sync")
def sync_once(connection_id: str, streams: str = typer.Option("", "--streams", help="menu,sales,customers")) -> None:
    """Run one sync now, in this process, and print the run's summary as JSON; exit 1 when it failed."""
    from icc_app.core.db import unit_of_work
    from icc_app.core.errors import DomainError
    from icc_app.integrations import sync
    from icc_app.integrations.models import Connection, SyncRun

    with unit_of_work() as session:
        connection = session.get(Connection, _uuid(connection_id, "CONNECTION_ID"))
        if connection is None:
            _fail("No such connection.", 1)
        try:
            run, _ = sync.request_sync(session, connection, trigger="cli",
                                       streams=[s.strip() for s in streams.split(",") if s.strip()] or None)
        except DomainError as exc:
            _fail(exc.message, 1)
        run_id = run.id
    sync.execute(run_id)  # in embedded mode the queued task may already have run it; this then does nothing
    with unit_of_work() as session:
        run = session.get(SyncRun, run_id)
        summary = {"run_id": str(run.id), "status": run.status, "created": run.created, "updated": run.updated,
                   "unchanged": run.unchanged, "out_of_stock": run.out_of_stock, "skipped": run.skipped,
                   "sales": run.sales, "customers": run.customers, "errors": run.errors, "error": run.error,
                   "duration_ms": run.duration_ms}
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")
    if summary["status"] != "succeeded":
        raise typer.Exit(1)


@app.command("runs")
def runs(connection_id: str, limit: int = typer.Option(10, "--limit")) -> None:
    """The latest runs of a connection, one JSON line each."""
    from sqlmodel import col, select

    from icc_app.core.db import unit_of_work
    from icc_app.integrations.models import SyncRun

    with unit_of_work() as session:
        rows = session.exec(select(SyncRun).where(SyncRun.connection_id == _uuid(connection_id, "CONNECTION_ID"))
                            .order_by(col(SyncRun.created_at).desc()).limit(limit)).all()
        for run in rows:
            typer.echo(json.dumps({"run_id": str(run.id), "status": run.status, "trigger": run.trigger,
                                   "created": run.created, "updated": run.updated, "unchanged": run.unchanged,
                                   "out_of_stock": run.out_of_stock, "skipped": run.skipped, "error": run.error,
                                   "started_at": run.started_at.isoformat() if run.started_at else None}))


@app.command("sandbox")
def sandbox(vendor: str = typer.Argument("dutchie", help="dutchie, treez or flowhub"),
            items: int = typer.Option(200, "--items", help="How many products the sandbox sells."),
            port: int = typer.Option(8765, "--port")) -> None:
    """Run a local server speaking the vendor's protocol (the one the tests use), with a realistic menu, customers
    and sales, to try a connection end to end without the vendor. Prints what to type in the connect form."""
    import time
    from datetime import UTC, datetime, timedelta

    try:
        from tests.integrations.fakes import dutchie, flowhub, treez
    except ImportError:
        _fail("The sandbox servers live in the source checkout (tests/integrations/fakes).", 2)
    now = datetime.now(UTC)
    if vendor == "dutchie":
        server = dutchie.FakeDutchie().generate_inventory(items, seed=1).generate_customers(30, seed=1)
        server.generate_transactions(200, start=now - timedelta(days=20), end=now - timedelta(minutes=5), seed=1)
        credentials, extra = {"location_key": server.location_key}, ""
    elif vendor == "treez":
        server = treez.FakeTreez(products=treez.FakeTreez.generate_products(items, seed=1))
        credentials = {"client_id": server.client_id, "api_key": server.api_key}
        extra = f"  location id: {server.dispensary}\n  webhook secret: {server.webhook_token}\n"
    elif vendor == "flowhub":
        server = flowhub.FakeFlowhub()
        server.inventory = server.generate_inventory(items, seed=1)
        credentials, extra = {"client_id": server.client_id, "api_key": server.api_key}, \
            f"  location id: {server.location_id}\n"
    else:
        _fail("Sandboxes exist for dutchie, treez and flowhub.", 2)
    server.start(port)
    typer.echo(f"{vendor} sandbox at {server.url} ({items} products). In the console (Point of sale > Connect) or "
               f"with `integrations connect {vendor}`:\n  base URL: {server.url}\n  credentials: "
               f"{json.dumps(credentials)}\n{extra}Stop with Ctrl+C.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


_add_metrc_commands()
