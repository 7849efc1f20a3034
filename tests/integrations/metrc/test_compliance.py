"""Compliance check of a license against crafted inventories: each kind of discrepancy, alerts with history,
incremental re-checks, emails to Admins and Managers, and the CLI's JSON."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from icc_app.exchange.models import Lot, LotStatus
from icc_app.identity.models import BusinessType, Role
from icc_app.integrations.base import AuthFailed
from icc_app.integrations.metrc import compliance
from icc_app.integrations.metrc.cli import app as metrc_cli
from icc_app.integrations.metrc.models import Alert, AlertEvent, ComplianceCheck
from icc_app.integrations.models import InventoryLevel, Sale, SaleLine
from tests.factories import add_member, make_business, queued_emails, status_trail
from tests.integrations.conftest import claimed_store, make_connection
from tests.integrations.fakes.metrc import NOW, tag
from tests.integrations.metrc.conftest import FAST

T = {n: tag(n) for n in range(1, 10)}


def _metrc_connection(session, business, metrc):
    return make_connection(session, business, None, vendor="metrc", base_url=metrc.url,
                           credentials=metrc.credentials())


def _stock(session, business, pos, external_id, label, quantity, unit="g"):
    session.add(InventoryLevel(business_id=business.id, connection_id=pos.id, external_id=external_id,
                               quantity=Decimal(quantity), unit=unit, package_label=label))


def _sale(session, business, pos, external_id, quantity, *, when):
    sale = Sale(business_id=business.id, connection_id=pos.id, external_id=f"S-{external_id}-{when:%H%M}",
                occurred_at=when, total=Decimal("30"))
    session.add(sale)
    session.flush()
    session.add(SaleLine(sale_id=sale.id, business_id=business.id, product_external_id=external_id,
                         quantity=Decimal(quantity)))


def _kinds(session, connection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for alert in session.exec(select(Alert).where(Alert.connection_id == connection.id, Alert.status == "open")):
        out.setdefault(alert.package_label, set()).add(str(alert.kind))
    return out


@pytest.fixture()
def retailer(session, metrc):
    principal, business, store = claimed_store(session)
    manager = add_member(session, business, role=Role.manager, products=["integrations"])
    staff = add_member(session, business, role=Role.staff, products=["integrations"])
    pos = make_connection(session, business, store)
    metrc.add_package(T[1], quantity=100, unit="Grams")  # all good
    metrc.add_package(T[2], quantity=100, unit="Grams")  # the POS counts 80
    metrc.add_package(T[3], quantity=50, unit="Grams", on_hold=True)  # on hold, still for sale
    metrc.add_package(T[4], quantity=30, unit="Grams", lab_state="TestPending")  # not tested, for sale
    metrc.add_package(T[5], quantity=12, unit="Each")  # not in the POS at all
    _stock(session, business, pos, "p1", T[1], "100")
    _stock(session, business, pos, "p2", T[2], "80")
    _stock(session, business, pos, "p3", T[3], "50")
    _stock(session, business, pos, "p4", T[4], "30")
    _stock(session, business, pos, "p6", T[6], "7")  # Metrc has no such active package
    _sale(session, business, pos, "p1", 2, when=NOW - timedelta(days=2))  # reported below
    _sale(session, business, pos, "p2", 1, when=NOW - timedelta(days=2))  # never reported
    _sale(session, business, pos, "p4", 1, when=NOW - timedelta(hours=3))  # within the day's grace
    metrc.add_receipt([(T[1], 2.0)], sold_at=NOW - timedelta(days=2) + timedelta(minutes=5))
    session.flush()
    return principal, business, _metrc_connection(session, business, metrc), manager, staff


def test_each_kind_of_discrepancy_becomes_an_alert(session, metrc, retailer):
    principal, business, connection, manager, staff = retailer
    check_id = compliance.run_check(connection.id, now=NOW, http_options=FAST)
    check = session.get(ComplianceCheck, check_id)
    assert check.status == "succeeded" and check.mode == "full" and check.packages == 5
    assert _kinds(session, connection) == {
        T[2]: {"quantity_mismatch", "sale_not_reported"},
        T[3]: {"on_hold_for_sale"},
        T[4]: {"lab_status_mismatch"},
        T[5]: {"missing_in_icc"},
        T[6]: {"missing_in_metrc"},
    }
    mismatch = session.exec(select(Alert).where(Alert.package_label == T[2],
                                                Alert.kind == "quantity_mismatch")).one()
    assert mismatch.severity == "medium" and mismatch.evidence["metrc"]["quantity"] == "100"
    assert "adjust the package in Metrc" in mismatch.suggested_fix
    hold = session.exec(select(Alert).where(Alert.package_label == T[3])).one()
    assert hold.severity == "high" and hold.title == "…00000003 is on hold in Metrc but still for sale in the POS"
    # one email to each Admin and Manager, none to Staff
    recipients = {e["to"] for e in queued_emails(session, compliance.EMAIL_TEMPLATE)}
    assert manager.email in recipients and staff.email not in recipients and len(recipients) == 2


def test_recheck_reads_only_changes_and_resolves_what_was_fixed(session, metrc, retailer):
    principal, business, connection, *_ = retailer
    compliance.run_check(connection.id, now=NOW, http_options=FAST)
    full_calls = len(metrc.calls("/packages/v2/active"))
    level = session.exec(select(InventoryLevel).where(InventoryLevel.external_id == "p2")).one()
    level.quantity = Decimal("100")  # the POS count corrected
    session.add(level)
    session.flush()
    later = NOW + timedelta(hours=1)
    metrc.clock = later - timedelta(minutes=10)
    metrc.touch(T[3], IsOnHold=False, IsOnHoldCombined=False)  # Metrc lifted the hold
    before = len(metrc.requests)
    check = session.get(ComplianceCheck, compliance.run_check(connection.id, now=later, http_options=FAST))
    assert check.mode == "incremental"
    assert len(metrc.requests) - before == 3  # active, inactive and receipts changed in the last hour: one call each
    assert full_calls >= 1 and check.calls == 3
    kinds = _kinds(session, connection)
    assert T[3] not in kinds and kinds[T[2]] == {"sale_not_reported"}
    resolved = session.exec(select(Alert).where(Alert.package_label == T[3])).one()
    history = session.exec(select(AlertEvent).where(AlertEvent.alert_id == resolved.id)
                           .order_by(col(AlertEvent.id))).all()
    assert [(e.from_status, e.to_status) for e in history] == [("", "open"), ("open", "resolved")]
    assert "no longer found" in history[-1].note
    # the hold comes back: the same alert reopens, its history grows
    metrc.clock = later + timedelta(minutes=20)
    metrc.touch(T[3], IsOnHold=True)
    compliance.run_check(connection.id, now=later + timedelta(minutes=30), http_options=FAST)
    session.refresh(resolved)
    assert resolved.status == "open"
    assert len(session.exec(select(AlertEvent).where(AlertEvent.alert_id == resolved.id)).all()) == 3


def test_operator_resolves_and_dismisses_with_history(session, metrc, retailer):
    principal, business, connection, manager, staff = retailer
    compliance.run_check(connection.id, now=NOW, http_options=FAST)
    alert = session.exec(select(Alert).where(Alert.package_label == T[5])).one()
    compliance.act(session, principal=principal, alert_id=alert.id, verb="dismiss", note="sample jar, not for sale")
    events = compliance.alert_history(session, principal=principal, alert_id=alert.id)
    assert [(e.to_status, e.note) for e in events][-1] == ("dismissed", "sample jar, not for sale")
    from icc_app.core.errors import Conflict
    with pytest.raises(Conflict, match="A dismissed alert cannot be dismissed"):
        compliance.act(session, principal=principal, alert_id=alert.id, verb="dismiss")
    # a dismissed alert stays dismissed on the next check (the operator said it is fine)
    compliance.run_check(connection.id, now=NOW + timedelta(minutes=30), http_options=FAST)
    session.refresh(alert)
    assert alert.status == "dismissed"


def test_cultivator_lots_against_metrc(session, metrc):
    business = make_business(session, business_type=BusinessType.cultivator)
    metrc.add_package(T[7], quantity=453.6, unit="Grams", lab_state="TestFailed")
    metrc.add_package(T[8], quantity=453.6, unit="Grams")
    metrc.add_package(T[9], quantity=1000, unit="Grams")  # not listed: fine for a cultivator (no POS)
    for label, quantity in ((T[7], "1"), (T[8], "2")):
        session.add(Lot(business_id=business.id, title=f"Lot {label[-2:]}", product_type="flower", strain_name="GDP",
                        strain_type="indica", quantity=Decimal(quantity), available_qty=Decimal(quantity),
                        min_order_qty=Decimal("1"), unit="lb", price_per_unit=Decimal("1200"), metrc_tag=label,
                        status=LotStatus.active))
    connection = _metrc_connection(session, business, metrc)
    session.flush()
    compliance.run_check(connection.id, now=NOW, http_options=FAST)
    assert _kinds(session, connection) == {T[7]: {"lab_status_mismatch"}, T[8]: {"quantity_mismatch"}}
    over = session.exec(select(Alert).where(Alert.package_label == T[8])).one()
    assert over.severity == "high" and "offers more than the package holds" in over.suggested_fix


def test_metrc_refusing_leaves_a_failed_check(session, metrc, retailer):
    principal, business, connection, *_ = retailer
    metrc.fail(401, path="/packages")
    with pytest.raises(AuthFailed):
        compliance.run_check(connection.id, now=NOW, http_options=FAST)
    failed = session.exec(select(ComplianceCheck).where(ComplianceCheck.connection_id == connection.id)).one()
    assert failed.status == "failed" and "refused the credentials" in failed.error
    assert status_trail(session, failed.id) == ["failed"]
    assert session.exec(select(Alert).where(Alert.connection_id == connection.id)).all() == []


def test_cli_prints_the_discrepancies_as_json(session, metrc, retailer, monkeypatch):
    principal, business, connection, *_ = retailer
    real = compliance.run_check
    monkeypatch.setattr(compliance, "run_check",
                        lambda cid, **kw: real(cid, now=NOW, http_options=FAST, **kw))
    result = CliRunner().invoke(metrc_cli, ["compliance-check", str(connection.id)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["check"]["status"] == "succeeded" and body["check"]["discrepancies"] == 6
    assert {(d["package_label"], d["kind"]) for d in body["discrepancies"]} >= {(T[6], "missing_in_metrc"),
                                                                                 (T[3], "on_hold_for_sale")}
    assert all(d["suggested_fix"] and d["severity"] in ("high", "medium", "low") for d in body["discrepancies"])
    bad = CliRunner().invoke(metrc_cli, ["compliance-check", "not-an-id"])
    assert bad.exit_code == 2


def test_scheduled_tick_sends_each_metrc_connection_and_the_task_runs_a_check(session, metrc, retailer,
                                                                               monkeypatch):
    from icc_app.integrations.metrc import tasks

    principal, business, connection, *_ = retailer
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.compliance_check, "apply_async", lambda args, countdown: sent.append(args))
    assert tasks.compliance_tick() >= 1
    assert (str(connection.id), "schedule") in sent
    monkeypatch.setattr(compliance, "run_check", lambda cid, trigger: (_ for _ in ()).throw(AuthFailed("refused")))
    assert tasks.compliance_check(str(connection.id)) == {"status": "failed", "error": "refused"}
