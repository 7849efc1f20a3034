"""Metrc commands (`python -m icc_app.cli integrations metrc ...` once the lead adds this typer under
`integrations`): a compliance check now, printing the discrepancies as JSON; the alerts; a local Metrc sandbox."""

from __future__ import annotations

import json
import sys
import uuid

import typer

app = typer.Typer(no_args_is_help=True, help="Metrc seed-to-sale: compliance checks, alerts, a local sandbox.")


@app.command("compliance-check")
def compliance_check(connection_id: str = typer.Argument(..., help="The Metrc connection's id."),
                     full: bool = typer.Option(False, "--full", help="Re-read every package (not only changes).")
                     ) -> None:
    """Check the license against ICC and the POS now; print the check and its open discrepancies as JSON.
    Exit 1 when Metrc could not be read."""
    from sqlmodel import col, select

    from icc_app.core.db import unit_of_work
    from icc_app.core.errors import DomainError
    from icc_app.integrations.base import IntegrationError
    from icc_app.integrations.metrc import compliance
    from icc_app.integrations.metrc.models import Alert, AlertStatus, ComplianceCheck

    try:
        connection = uuid.UUID(connection_id)
    except ValueError:
        typer.echo(f"CONNECTION_ID is not an id: {connection_id!r}", err=True)
        raise typer.Exit(2) from None
    try:
        check_id = compliance.run_check(connection, trigger="cli", full=full)
    except (IntegrationError, DomainError) as exc:
        typer.echo(f"Compliance check failed: {exc.message}", err=True)
        raise typer.Exit(1) from None
    with unit_of_work() as session:
        check = session.get(ComplianceCheck, check_id)
        alerts = session.exec(select(Alert).where(Alert.connection_id == connection,
                                                  Alert.status == AlertStatus.open.value)
                              .order_by(col(Alert.severity), col(Alert.package_label))).all()
        rank = {"high": 0, "medium": 1, "low": 2}
        alerts = sorted(alerts, key=lambda a: (rank.get(str(a.severity), 3), a.package_label))
        out = {"check": compliance.check_json(check), "discrepancies": [compliance.as_json(a) for a in alerts]}
    json.dump(out, sys.stdout, default=str)
    sys.stdout.write("\n")


@app.command("alerts")
def alerts(connection_id: str = typer.Argument(..., help="The Metrc connection's id."),
           status: str = typer.Option("open", "--status", help="open, resolved or dismissed")) -> None:
    """The connection's alerts, one JSON line each (most severe first)."""
    from sqlmodel import col, select

    from icc_app.core.db import unit_of_work
    from icc_app.integrations.metrc import compliance
    from icc_app.integrations.metrc.models import Alert

    try:
        connection = uuid.UUID(connection_id)
    except ValueError:
        typer.echo(f"CONNECTION_ID is not an id: {connection_id!r}", err=True)
        raise typer.Exit(2) from None
    with unit_of_work() as session:
        rows = session.exec(select(Alert).where(Alert.connection_id == connection, Alert.status == status)
                            .order_by(col(Alert.severity), col(Alert.package_label))).all()
        for alert in rows:
            typer.echo(json.dumps(compliance.as_json(alert), default=str))


@app.command("sandbox")
def sandbox(packages: int = typer.Option(300, "--packages", help="Active packages of the cultivator's license."),
            port: int = typer.Option(8766, "--port"),
            auto_ship: bool = typer.Option(True, "--auto-ship/--no-auto-ship",
                                           help="Register each new transfer template and depart it a few seconds "
                                                "later (what the shipper does in Metrc's screens).")) -> None:
    """Run a local server speaking Metrc's v2 protocol (the one the tests use) with two licenses: a cultivator with
    realistic packages and lab results, and a retail store to ship to. Prints what to connect."""
    import time
    from datetime import UTC, datetime

    try:
        from tests.integrations.fakes.metrc import BUYER_LICENSE, FakeMetrc, _pdf
    except ImportError:
        typer.echo("The sandbox server lives in the source checkout (tests/integrations/fakes).", err=True)
        raise typer.Exit(2) from None
    server = FakeMetrc()
    server.clock = datetime.now(UTC)
    server.add_facility(BUYER_LICENSE, "Sandbox Dispensary", retail=True)
    made = server.generate_packages(packages, seed=1)
    for package in made[:20]:  # a few with the lab's COA document, for "List on CCX"
        for row in server.lab_results.get(package["Id"], []):
            row["LabTestResultDocumentFileId"] = package["Id"] + 900000
        server.documents[package["Id"] + 900000] = _pdf(f"Certificate of analysis {package['Label']}")
    server.start(port)
    typer.echo(f"Metrc sandbox on {server.url}\n"
               f"  cultivator: {json.dumps(server.credentials())}\n"
               f"  retailer:   {json.dumps(server.credentials(BUYER_LICENSE))}\n"
               f"  e.g. integrations connect metrc --base-url {server.url} --credentials '<one of the above>'\n"
               f"  packages with a COA document: {', '.join(p['Label'] for p in made[:3])}, ...\nCtrl-C stops it.")
    shipped: set[int] = set()
    try:
        while True:
            time.sleep(2)
            if not auto_ship:
                continue
            for rows in list(server.templates.values()):
                for template in rows:
                    if template["Id"] in shipped:
                        continue
                    shipped.add(template["Id"])
                    server.clock = datetime.now(UTC)
                    transfer = server.register_template(template["Id"])
                    transfer["ActualDepartureDateTime"] = transfer["LastModified"]
                    typer.echo(f"template {template['Name']} registered: manifest {transfer['ManifestNumber']}")
    except KeyboardInterrupt:
        server.stop()
