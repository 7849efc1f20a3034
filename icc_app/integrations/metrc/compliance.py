"""Compliance check of one Metrc license: what ICC (exchange lots, menu items received from Metrc) and the
business's POS inventory say against what Metrc says, each disagreement an alert with severity, evidence and a
suggested fix, emailed to the business's Admins and Managers; alerts keep their history (transition + events).

Reading Metrc (outside any transaction, `read`):
- first check, or once a day: every active package (pages of 20) -> the local mirror (`metrc_packages`) is replaced;
- otherwise incremental: only active and inactive packages whose LastModified falls since the last read (24-hour
  windows, 5 minutes of overlap), merged into the mirror. A re-check of an unchanged license costs one call per
  window instead of one per 20 packages. Sales receipts are read the same way (the latest reported sale per
  package is kept on the mirror).

Rules (`discrepancies`, pure): per package tag,
- missing in Metrc: for sale in ICC or the POS, not an active package of the license in Metrc (high);
- missing in ICC: an active Metrc package with stock that the POS does not carry (only for a business whose POS
  reports inventory: a cultivator lists a few of its packages on CCX by design) (medium);
- quantity mismatch: POS stock or a lot's available quantity differs from Metrc's beyond the tolerance (1 % and
  half a unit); offering more than the package holds is high, less is medium;
- lab status mismatch: for sale while Metrc says the package has not passed testing (high);
- on hold still for sale (high);
- sale not reported: the POS sold from the package more than 24 hours ago and Metrc has no receipt line for that
  package since that day (high).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from icc_app.core import audit, notifications
from icc_app.core.errors import Conflict, NotFound
from icc_app.core.lifecycle import Lifecycle
from icc_app.core.models import utcnow
from icc_app.exchange.models import Lot, LotStatus
from icc_app.identity.models import BusinessMember, Product, Role, User
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import Principal
from icc_app.integrations.base import IntegrationError
from icc_app.integrations.http import parse_time
from icc_app.integrations.metrc import preflight
from icc_app.integrations.metrc.models import (
    Alert,
    AlertEvent,
    AlertKind,
    AlertSeverity,
    AlertStatus,
    ComplianceCheck,
    MetrcPackage,
)
from icc_app.integrations.models import Connection, InventoryLevel, Sale, SaleLine
from icc_app.maps.models import Dispensary, MenuItem

OVERLAP = timedelta(minutes=5)
FULL_EVERY = timedelta(hours=24)  # an incremental read cannot see a package that silently left: re-read in full daily
SALES_LOOKBACK = timedelta(days=7)
REPORT_GRACE = timedelta(hours=24)  # Metrc expects a sale reported within a day
TOLERANCE_PCT = Decimal("0.01")
TOLERANCE_ABS = Decimal("0.5")
EMAIL_TEMPLATE = "metrc_compliance_alerts"


# ----------------------------------------------------------------------------------------------- reading Metrc


@dataclass
class Reading:
    mode: str  # full / incremental
    read_from: datetime | None
    read_until: datetime
    packages: list[dict]
    inactive: list[dict]
    receipts: list[dict]
    calls: int = 0
    package_calls: int = 0  # of which for packages (active and inactive)


def read(adapter, *, last: ComplianceCheck | None, last_full_at: datetime | None, now: datetime,
         full: bool = False) -> Reading:
    """What Metrc says now (no database): everything, or only what changed since the last successful check."""
    before = adapter.calls
    incremental = (not full and last is not None and last.read_until is not None and last_full_at is not None
                   and now - last_full_at < FULL_EVERY)
    if incremental:
        start = last.read_until - OVERLAP
        packages = adapter.active_packages(since=start, until=now)
        inactive = adapter.inactive_packages(since=start, until=now)
    else:
        start = None
        packages, inactive = adapter.active_packages(), []
    receipts_from = start if start is not None else now - SALES_LOOKBACK
    package_calls = adapter.calls - before
    receipts = adapter.receipts(since=receipts_from, until=now)
    return Reading("incremental" if incremental else "full", start, now, packages, inactive, receipts,
                   calls=adapter.calls - before, package_calls=package_calls)


def _decimal(value) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal("0")
    except ArithmeticError:
        return Decimal("0")


def _package_values(package: dict) -> dict:
    item = package.get("Item") or {}
    return {"package_id": int(package.get("Id") or 0), "item_name": (item.get("Name") or "")[:300],
            "category": (item.get("ProductCategoryName") or None), "strain_name": item.get("StrainName"),
            "quantity": _decimal(package.get("Quantity")), "unit": (package.get("UnitOfMeasureName") or "")[:30],
            "lab_state": (package.get("LabTestingState") or "")[:40],
            "on_hold": bool(package.get("IsOnHold") or package.get("IsOnHoldCombined")),
            "last_modified": parse_time(package.get("LastModified"))}


def apply_reading(session: Session, connection: Connection, reading: Reading) -> dict[str, MetrcPackage]:
    """Merge what was read into the mirror; returns the mirror (label -> row)."""
    mirror = {row.label: row for row in session.exec(select(MetrcPackage).where(
        MetrcPackage.connection_id == connection.id))}
    seen: set[str] = set()
    for package in reading.packages:
        label = str(package.get("Label") or "")[:24]
        if not label:
            continue
        seen.add(label)
        values = _package_values(package)
        row = mirror.get(label)
        if row is None:
            row = MetrcPackage(business_id=connection.business_id, connection_id=connection.id, label=label, **values)
            mirror[label] = row
        else:
            for key, value in values.items():
                if getattr(row, key) != value:
                    setattr(row, key, value)
        row.active = True
        session.add(row)
    for package in reading.inactive:
        row = mirror.get(str(package.get("Label") or ""))
        if row is not None and row.active:
            row.active = False
            session.add(row)
    if reading.mode == "full":
        for label, row in mirror.items():
            if label not in seen and row.active:
                row.active = False
                session.add(row)
    for receipt in reading.receipts:
        sold_at = parse_time(receipt.get("SalesDateTime")) or parse_time(receipt.get("LastModified"))
        for line in receipt.get("Transactions") or []:
            label = str(line.get("PackageLabel") or "")[:24]
            if not label or sold_at is None:
                continue
            row = mirror.get(label)
            if row is None:
                row = MetrcPackage(business_id=connection.business_id, connection_id=connection.id, label=label,
                                   package_id=int(line.get("PackageId") or 0), active=False)
                mirror[label] = row
            if row.last_sale_reported_at is None or row.last_sale_reported_at < sold_at:
                row.last_sale_reported_at = sold_at
                session.add(row)
    session.flush()
    return mirror


# ----------------------------------------------------------------------------------------------- ICC's side


@dataclass
class Holding:
    """One package as ICC or the POS offers it."""

    source: str  # pos / lot / menu
    label: str
    quantity: Decimal
    unit: str
    ref: str  # the POS product id, the lot id, the menu item id
    name: str = ""


@dataclass
class UnreportedSale:
    label: str
    sale_id: str
    occurred_at: datetime
    quantity: Decimal


@dataclass
class IccSide:
    holdings: list[Holding] = field(default_factory=list)
    has_pos_inventory: bool = False
    sales: list[UnreportedSale] = field(default_factory=list)


def icc_side(session: Session, connection: Connection, *, now: datetime, skip: set[str] | None = None) -> IccSide:
    """The business's POS inventory with state tags, its active lots with tags, and the menu items received from
    Metrc, plus the POS sales (24 hours to 7 days old) of tagged products. `skip`: tags of the business's other
    Metrc licenses."""
    skip = skip or set()
    business_id = connection.business_id
    side = IccSide()
    for level in session.exec(select(InventoryLevel).where(InventoryLevel.business_id == business_id,
                                                           col(InventoryLevel.package_label).is_not(None))):
        side.has_pos_inventory = True
        label = (level.package_label or "").strip().upper()
        if label and label not in skip:
            side.holdings.append(Holding("pos", label, level.quantity, level.unit, level.external_id))
    for lot in session.exec(select(Lot).where(Lot.business_id == business_id, col(Lot.metrc_tag).is_not(None),
                                              Lot.status == LotStatus.active)):
        if lot.metrc_tag not in skip and lot.available_qty > 0:
            side.holdings.append(Holding("lot", lot.metrc_tag, lot.available_qty, str(lot.unit), str(lot.id),
                                         lot.title))
    for item in session.exec(select(MenuItem).join(Dispensary, col(Dispensary.id) == MenuItem.dispensary_id).where(
            Dispensary.claimed_by_business_id == business_id, MenuItem.source == "metrc",
            col(MenuItem.is_active).is_(True), MenuItem.in_stock_qty > 0)):
        if item.external_id not in skip:
            side.holdings.append(Holding("menu", item.external_id, Decimal(item.in_stock_qty), "each", str(item.id),
                                         item.name))
    rows = session.exec(select(Sale.external_id, Sale.occurred_at, InventoryLevel.package_label, SaleLine.quantity)
                        .join(SaleLine, col(SaleLine.sale_id) == Sale.id)
                        .join(InventoryLevel, (col(InventoryLevel.connection_id) == Sale.connection_id)
                              & (col(InventoryLevel.external_id) == SaleLine.product_external_id))
                        .where(Sale.business_id == business_id, col(Sale.is_void).is_(False),
                               col(Sale.is_return).is_(False), Sale.occurred_at >= now - SALES_LOOKBACK,
                               Sale.occurred_at <= now - REPORT_GRACE, col(InventoryLevel.package_label).is_not(None)))
    for sale_id, occurred_at, label, quantity in rows:
        label = (label or "").strip().upper()
        if label and label not in skip:
            side.sales.append(UnreportedSale(label, sale_id, occurred_at, quantity))
    return side


# ----------------------------------------------------------------------------------------------- the rules


@dataclass
class Finding:
    kind: AlertKind
    severity: AlertSeverity
    label: str
    title: str
    evidence: dict
    fix: str


SOURCE_WORDS = {"pos": "the POS", "lot": "a CCX lot", "menu": "the ICC menu"}


qty = preflight.qty


def _beyond_tolerance(ours: Decimal, theirs: Decimal) -> bool:
    return abs(ours - theirs) > max(TOLERANCE_ABS, abs(theirs) * TOLERANCE_PCT)


def discrepancies(metrc: dict[str, MetrcPackage], side: IccSide) -> list[Finding]:
    """Every disagreement between Metrc's packages and what ICC and the POS hold (pure; the tests craft both)."""
    findings: list[Finding] = []
    by_label: dict[str, list[Holding]] = {}
    for holding in side.holdings:
        by_label.setdefault(holding.label, []).append(holding)
    for label, holdings in sorted(by_label.items()):
        selling = [h for h in holdings if h.quantity > 0]
        package = metrc.get(label)
        where = ", ".join(sorted({SOURCE_WORDS[h.source] for h in selling})) or "ICC"
        evidence_icc = [{"source": h.source, "ref": h.ref, "quantity": qty(h.quantity), "unit": h.unit,
                         "name": h.name} for h in holdings]
        if package is None or not package.active:
            if selling:
                findings.append(Finding(
                    AlertKind.missing_in_metrc, AlertSeverity.high, label,
                    f"{preflight.short(label)} is for sale in {where} but is not an active Metrc package",
                    {"icc": evidence_icc, "metrc": None if package is None else {"active": False}},
                    "Check the tag. If Metrc finished, sold or transferred the package, take it off sale (POS "
                    "quantity 0, pause the lot); if the tag is wrong, correct it."))
            continue
        metrc_evidence = {"quantity": qty(package.quantity), "unit": package.unit, "lab_state": package.lab_state,
                          "on_hold": package.on_hold, "item": package.item_name}
        if selling and package.on_hold:
            findings.append(Finding(
                AlertKind.on_hold_for_sale, AlertSeverity.high, label,
                f"{preflight.short(label)} is on hold in Metrc but still for sale in {where}",
                {"icc": evidence_icc, "metrc": metrc_evidence},
                "Stop selling it now (POS quantity 0, pause the lot) until Metrc lifts the hold."))
        if selling and package.lab_state and package.lab_state not in preflight.PASSED:
            findings.append(Finding(
                AlertKind.lab_status_mismatch, AlertSeverity.high, label,
                f"{preflight.short(label)} is for sale in {where} but Metrc says "
                f"{preflight._words(package.lab_state)}",
                {"icc": evidence_icc, "metrc": metrc_evidence},
                "Take it off sale until Metrc records a passed lab test, or correct the lab result with the lab."))
        for holding in holdings:
            if holding.source == "menu":
                continue  # menu counts are units on a shelf, not the package's weight
            same = preflight.quantities_match(holding.quantity, holding.unit, package.quantity, package.unit)
            ours = preflight.to_base(holding.quantity, holding.unit)
            theirs = preflight.to_base(package.quantity, package.unit)
            if same is None or ours is None or theirs is None or not _beyond_tolerance(ours[1], theirs[1]):
                continue
            more = ours[1] > theirs[1]
            findings.append(Finding(
                AlertKind.quantity_mismatch, AlertSeverity.high if more else AlertSeverity.medium, label,
                f"{preflight.short(label)}: {SOURCE_WORDS[holding.source]} has {qty(holding.quantity)} {holding.unit}, "
                f"Metrc {qty(package.quantity)} {package.unit}",
                {"icc": evidence_icc, "metrc": metrc_evidence, "source": holding.source},
                ("ICC offers more than the package holds: correct the POS count or the lot's quantity, or record "
                 "the adjustment in Metrc." if more else
                 "Record the difference: adjust the package in Metrc (with its reason) or correct the POS count.")))
            break
    if side.has_pos_inventory:
        for label, package in sorted(metrc.items()):
            if package.active and package.quantity > 0 and label not in by_label:
                findings.append(Finding(
                    AlertKind.missing_in_icc, AlertSeverity.medium, label,
                    f"{preflight.short(label)} ({package.item_name or 'package'}) is active in Metrc but not in the "
                    "POS inventory",
                    {"icc": [], "metrc": {"quantity": qty(package.quantity), "unit": package.unit,
                                          "item": package.item_name}},
                    "Receive the package into the POS (or finish it in Metrc if it is gone)."))
    unreported: dict[str, list[UnreportedSale]] = {}
    for sale in side.sales:
        package = metrc.get(sale.label)
        reported = package.last_sale_reported_at if package is not None else None
        if reported is None or reported < sale.occurred_at.astimezone(UTC).replace(hour=0, minute=0, second=0,
                                                                                   microsecond=0):
            unreported.setdefault(sale.label, []).append(sale)
    for label, sales in sorted(unreported.items()):
        first = min(s.occurred_at for s in sales)
        findings.append(Finding(
            AlertKind.sale_not_reported, AlertSeverity.high, label,
            f"{preflight.short(label)}: {len(sales)} POS sale(s) since {first:%Y-%m-%d} not reported to Metrc",
            {"sales": [{"sale": s.sale_id, "at": s.occurred_at.isoformat(), "quantity": qty(s.quantity)}
                       for s in sales[:20]],
             "metrc_last_reported": (metrc[label].last_sale_reported_at.isoformat()
                                     if label in metrc and metrc[label].last_sale_reported_at else None)},
            "Report the sales to Metrc (the POS's Metrc sync, or a sales receipt) within 24 hours of the sale."))
    return findings


# ----------------------------------------------------------------------------------------------- alerts


_ALLOWED = {"resolve": {AlertStatus.open}, "dismiss": {AlertStatus.open},
            "reopen": {AlertStatus.resolved, AlertStatus.dismissed}}
_TARGET_WORD = {"resolve": "resolved", "dismiss": "dismissed", "reopen": "reopened"}
_TARGET = {"resolve": AlertStatus.resolved, "dismiss": AlertStatus.dismissed, "reopen": AlertStatus.open}


def transition(session: Session, alert: Alert, verb: str, *, actor_id: uuid.UUID | None, note: str = "") -> Alert:
    """The one way an alert's status changes: checks the move, writes the event row and the audit entry."""
    current = AlertStatus(alert.status)
    if current not in _ALLOWED[verb]:
        raise Conflict(f"A {current.value} alert cannot be {_TARGET_WORD[verb]}.")
    target = _TARGET[verb]
    alert.status = target
    alert.resolved_at = utcnow() if target != AlertStatus.open else None
    session.add(alert)
    session.add(AlertEvent(alert_id=alert.id, business_id=alert.business_id, actor_id=actor_id,
                           from_status=current.value, to_status=target.value, note=note[:1000]))
    audit.record(session, action=f"metrc.alert.{verb}", object_type="metrc_alert", object_id=alert.id,
                 actor_id=actor_id, business_id=alert.business_id, before={"status": current.value},
                 after={"status": target.value, "note": note[:200]})
    return alert


def _record(session: Session, connection: Connection, license_number: str, findings: Iterable[Finding],
            check: ComplianceCheck, now: datetime) -> tuple[list[Alert], int]:
    """Open (or refresh, or reopen) an alert per finding; resolve open alerts no longer found. Returns (alerts newly
    opened or reopened, number resolved)."""
    existing: dict[tuple[str, str], Alert] = {}
    for alert in session.exec(select(Alert).where(Alert.connection_id == connection.id)
                              .order_by(col(Alert.created_at))):
        key = (str(alert.kind), alert.package_label)
        current = existing.get(key)
        if current is None or AlertStatus(current.status) != AlertStatus.open:
            existing[key] = alert
    fresh: list[Alert] = []
    found: set[tuple[str, str]] = set()
    for finding in findings:
        key = (finding.kind.value, finding.label)
        found.add(key)
        alert = existing.get(key)
        if alert is not None and AlertStatus(alert.status) == AlertStatus.resolved:
            transition(session, alert, "reopen", actor_id=None, note=f"found again by the check of {now:%Y-%m-%d %H:%M} UTC")
            fresh.append(alert)
        if alert is None:
            alert = Alert(business_id=connection.business_id, connection_id=connection.id,
                          license_number=license_number, kind=finding.kind, severity=finding.severity,
                          package_label=finding.label, title=finding.title[:300], evidence=finding.evidence,
                          suggested_fix=finding.fix[:1000], first_seen_at=now, last_seen_at=now, check_id=check.id)
            session.add(alert)
            session.flush()
            session.add(AlertEvent(alert_id=alert.id, business_id=alert.business_id, actor_id=None, from_status="",
                                   to_status=AlertStatus.open.value, note=f"found by the check of {now:%Y-%m-%d %H:%M} UTC"))
            fresh.append(alert)
            continue
        alert.last_seen_at, alert.title, alert.evidence = now, finding.title[:300], finding.evidence
        alert.severity, alert.suggested_fix, alert.check_id = finding.severity, finding.fix[:1000], check.id
        session.add(alert)
    resolved = 0
    for key, alert in existing.items():
        if key not in found and AlertStatus(alert.status) == AlertStatus.open:
            transition(session, alert, "resolve", actor_id=None,
                       note=f"no longer found by the check of {now:%Y-%m-%d %H:%M} UTC")
            resolved += 1
    return fresh, resolved


def _email(session: Session, connection: Connection, license_number: str, alerts: list[Alert]) -> int:
    if not alerts:
        return 0
    members = session.exec(select(BusinessMember, User).join(User, col(User.id) == BusinessMember.user_id)
                           .where(BusinessMember.business_id == connection.business_id,
                                  col(BusinessMember.role).in_([Role.admin.value, Role.manager.value]))).all()
    high = sum(1 for a in alerts if AlertSeverity(a.severity) == AlertSeverity.high)
    title = (f"Metrc license {license_number}: {len(alerts)} new discrepanc{'y' if len(alerts) == 1 else 'ies'}"
             + (f" ({high} high)" if high else ""))
    lines = [f"- [{AlertSeverity(a.severity).value}] {AlertKind(a.kind).label}: {a.title}. Fix: {a.suggested_fix}"
             for a in sorted(alerts, key=lambda a: (a.severity != "high", a.package_label))[:25]]
    if len(alerts) > 25:
        lines.append(f"... and {len(alerts) - 25} more in the console.")
    link = f"/console/integrations/metrc/alerts?connection={connection.id}"
    for _member, user in members:
        notifications.notify(session, user_id=user.id, email=user.email, kind="metrc.compliance", title=title[:200],
                             body="\n".join(lines), link=link, template=EMAIL_TEMPLATE,
                             context={"name": user.display_name, "title": title, "lines": lines, "link": link})
    return len(members)


# ----------------------------------------------------------------------------------------------- a check


def last_checks(session: Session, connection_id: uuid.UUID) -> tuple[ComplianceCheck | None, datetime | None]:
    """The last successful check and when the last full read happened."""
    done = select(ComplianceCheck).where(ComplianceCheck.connection_id == connection_id,
                                         ComplianceCheck.status == "succeeded")
    last = session.exec(done.order_by(col(ComplianceCheck.created_at).desc())).first()
    full = session.exec(done.where(ComplianceCheck.mode == "full")
                        .order_by(col(ComplianceCheck.created_at).desc())).first()
    return last, (full.read_until if full else None)


# A check row is written as "running" and, in the same transaction, finishes: succeeded with its counts, or failed
# with Metrc's error (nothing of a failed reading is applied).
CHECK_LIFECYCLE = Lifecycle(object_type="metrc_compliance_check", action="integrations.metrc.check",
                            moves={"running": ["succeeded", "failed"]})


def record_check(session: Session, connection: Connection, reading: Reading, *, license_number: str,
                 trigger: str, now: datetime) -> ComplianceCheck:
    """Apply a reading and the rules in the caller's transaction: mirror, check row, alerts, emails."""
    check = ComplianceCheck(business_id=connection.business_id, connection_id=connection.id,
                            license_number=license_number, trigger=trigger, mode=reading.mode,
                            read_from=reading.read_from, read_until=reading.read_until, calls=reading.calls)
    session.add(check)
    session.flush()
    mirror = apply_reading(session, connection, reading)
    others = _other_license_tags(session, connection)
    side = icc_side(session, connection, now=now, skip=others)
    findings = discrepancies(mirror, side)
    fresh, resolved = _record(session, connection, license_number, findings, check, now)
    active = sum(1 for row in mirror.values() if row.active)
    full_reads = max(1, math.ceil(active / 20))  # what re-reading every active package would have cost
    check.packages, check.discrepancies, check.opened, check.resolved = active, len(findings), len(fresh), resolved
    check.calls_avoided = max(0, full_reads - reading.package_calls) if reading.mode == "incremental" else 0
    CHECK_LIFECYCLE.move(session, check, "succeeded", finished_at=utcnow(),
                         why=f"{active} packages, {len(findings)} discrepancies, {len(fresh)} new alerts")
    _email(session, connection, license_number, fresh)
    return check


def _other_license_tags(session: Session, connection: Connection) -> set[str]:
    rows = session.exec(select(MetrcPackage.label).where(MetrcPackage.business_id == connection.business_id,
                                                         MetrcPackage.connection_id != connection.id,
                                                         col(MetrcPackage.active).is_(True)))
    return set(rows)


def run_check(connection_id: uuid.UUID, *, trigger: str = "manual", full: bool = False,
              now: datetime | None = None, http_options: dict | None = None) -> uuid.UUID:
    """One compliance check of a Metrc connection: read Metrc outside any transaction, then apply in one. A Metrc
    failure is stored on a failed check row (and raised)."""
    from icc_app.core.db import unit_of_work
    from icc_app.integrations import base, service

    now = now or datetime.now(UTC)
    with unit_of_work() as session:
        connection = session.get(Connection, connection_id)
        if connection is None or connection.vendor != "metrc":
            raise NotFound("No such Metrc connection.")
        config = service.config_for(connection, **(http_options or {}))
        last, last_full_at = last_checks(session, connection_id)
        session.expunge(last) if last is not None else None
    adapter = base.make_adapter(config)
    try:
        reading = read(adapter, last=last, last_full_at=last_full_at, now=now, full=full)
    except IntegrationError as exc:
        with unit_of_work() as session:
            connection = session.get(Connection, connection_id)
            check = ComplianceCheck(business_id=connection.business_id, connection_id=connection.id,
                                    license_number=adapter.license_number, trigger=trigger, calls=adapter.calls)
            session.add(check)
            CHECK_LIFECYCLE.move(session, check, "failed", error=exc.message[:1000], finished_at=utcnow(),
                                 why=exc.message)
        raise
    finally:
        adapter.close()
    with unit_of_work() as session:
        connection = session.get(Connection, connection_id)
        check = record_check(session, connection, reading, license_number=adapter.license_number, trigger=trigger,
                             now=now)
        return check.id


# ----------------------------------------------------------------------------------------------- reads for people


def readable_alerts(principal: Principal, business_id: uuid.UUID):
    require_member(principal, business_id, product=Product.integrations)
    return select(Alert).where(Alert.business_id == business_id)


def list_alerts(session: Session, *, principal: Principal, business_id: uuid.UUID, status: str | None = "open",
                connection_id: uuid.UUID | None = None, limit: int = 200) -> list[Alert]:
    query = readable_alerts(principal, business_id)
    if status:
        query = query.where(Alert.status == AlertStatus(status).value)
    if connection_id:
        query = query.where(Alert.connection_id == connection_id)
    order = {"high": 0, "medium": 1, "low": 2}
    rows = list(session.exec(query.order_by(col(Alert.last_seen_at).desc()).limit(limit)))
    return sorted(rows, key=lambda a: order.get(str(a.severity), 3))


def get_alert(session: Session, *, principal: Principal, alert_id: uuid.UUID, manage: bool = False) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or principal.membership(alert.business_id) is None:
        raise NotFound("Alert not found.")
    require_member(principal, alert.business_id, product=Product.integrations,
                   min_role=Role.manager if manage else Role.staff)
    return alert


def alert_history(session: Session, *, principal: Principal, alert_id: uuid.UUID) -> list[AlertEvent]:
    get_alert(session, principal=principal, alert_id=alert_id)
    return list(session.exec(select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(col(AlertEvent.id))))


def act(session: Session, *, principal: Principal, alert_id: uuid.UUID, verb: str, note: str = "") -> Alert:
    """An operator resolves, dismisses or reopens an alert (Admins and Managers)."""
    if verb not in _ALLOWED:
        raise Conflict(f"Unknown action {verb!r}: resolve, dismiss or reopen.")
    alert = get_alert(session, principal=principal, alert_id=alert_id, manage=True)
    from icc_app.core.validation import safe_text

    return transition(session, alert, verb, actor_id=principal.user_id, note=safe_text(note, "note", max_length=500))


def as_json(alert: Alert) -> dict:
    return {"id": str(alert.id), "kind": str(alert.kind), "kind_label": AlertKind(alert.kind).label,
            "severity": str(alert.severity), "status": str(alert.status), "package_label": alert.package_label,
            "title": alert.title, "evidence": alert.evidence, "suggested_fix": alert.suggested_fix,
            "license_number": alert.license_number, "first_seen_at": alert.first_seen_at.isoformat(),
            "last_seen_at": alert.last_seen_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None}


def check_json(check: ComplianceCheck) -> dict:
    return {"id": str(check.id), "status": check.status, "mode": check.mode, "trigger": check.trigger,
            "license_number": check.license_number, "calls": check.calls, "calls_avoided": check.calls_avoided,
            "packages": check.packages, "discrepancies": check.discrepancies, "opened": check.opened,
            "resolved": check.resolved, "error": check.error,
            "read_from": check.read_from.isoformat() if check.read_from else None,
            "read_until": check.read_until.isoformat() if check.read_until else None}
