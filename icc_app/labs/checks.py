"""Authenticity checks on a parsed COA. Each problem becomes a visible flag with its reason.

- the same file (sha256) already uploaded by another business or for another lot;
- the lab license is not in the registry of licensed testing labs (or is not active);
- the test date is in the future, or older than the state's validity window;
- printed totals that disagree with their components (total THC vs d9-THC + 0.877 x THCA, ...);
- the seller's claimed total THC disagrees with the COA.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from sqlmodel import Session, select

from icc_app.labs.models import CoaDocument, CoaStatus, TestingLabLicense

# How long a COA stands for a batch, by state (days). Most states accept a year; unknown states get the default.
VALIDITY_DAYS = {"CA": 365, "FL": 365, "MA": 365, "CO": 365, "WA": 365, "OR": 365, "OK": 365, "KY": 365, "NM": 365,
                 "AZ": 365, "MT": 365}
DEFAULT_VALIDITY_DAYS = 365
DECARB = 0.877


@dataclass(frozen=True)
class Flag:
    code: str
    severity: str  # "critical" | "warning" | "info"
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def _close(a: float, b: float, *, rel: float, abs_: float) -> bool:
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


def check_document(session: Session, doc: CoaDocument, *, today: date | None = None) -> list[Flag]:
    today = today or date.today()
    flags: list[Flag] = []
    if doc.status in (CoaStatus.needs_review, CoaStatus.rejected, CoaStatus.failed):
        flags.append(Flag("unreadable", "warning", f"{CoaStatus(doc.status).value}: {doc.status_reason or 'no reason given'}"))

    others = session.exec(
        select(CoaDocument).where(CoaDocument.sha256 == doc.sha256, CoaDocument.id != doc.id)
    ).all()
    other_business = [o for o in others if o.business_id != doc.business_id]
    other_lot = [o for o in others if o.business_id == doc.business_id and o.lot_id and doc.lot_id
                 and o.lot_id != doc.lot_id]
    if other_business:
        flags.append(Flag("duplicate_file", "critical",
                          f"The same file was uploaded by another business on {other_business[0].created_at:%Y-%m-%d}."))
    elif other_lot:
        flags.append(Flag("duplicate_file", "warning", "The same file is attached to another of your lots."))

    if doc.lab_license:
        query = select(TestingLabLicense).where(TestingLabLicense.license_number == doc.lab_license.upper())
        entries = session.exec(query).all()
        if not entries:
            flags.append(Flag("lab_license_unknown", "warning",
                              f"Lab license {doc.lab_license} is not in the registry of licensed testing labs."))
        elif not any(e.status.lower() == "active" for e in entries):
            flags.append(Flag("lab_license_inactive", "critical",
                              f"Lab license {doc.lab_license} is listed as {entries[0].status}."))
    elif doc.status == CoaStatus.parsed:
        flags.append(Flag("lab_license_missing", "info", "No testing-lab license number was found on the report."))

    if doc.date_tested:
        window = VALIDITY_DAYS.get((doc.lab_state or "").upper(), DEFAULT_VALIDITY_DAYS)
        age = (today - doc.date_tested).days
        if age < 0:
            flags.append(Flag("date_in_future", "critical", f"The test date {doc.date_tested} is in the future."))
        elif age > window:
            flags.append(Flag("date_expired", "warning",
                              f"Tested {doc.date_tested}: older than the {window}-day validity window"
                              f" of {doc.lab_state or 'this state'}."))
    elif doc.status == CoaStatus.parsed:
        flags.append(Flag("date_missing", "info", "No test or completion date was found."))

    flags += _totals(doc)

    if doc.claimed_total_thc_pct is not None and doc.total_thc_pct is not None:
        if not _close(doc.claimed_total_thc_pct, doc.total_thc_pct, rel=0.10, abs_=1.0):
            flags.append(Flag("claimed_thc_mismatch", "critical",
                              f"Claimed total THC {doc.claimed_total_thc_pct:g}% but the COA says {doc.total_thc_pct:g}%."))
    return flags


def _totals(doc: CoaDocument) -> list[Flag]:
    flags = []
    parsed = doc.parsed or {}
    for total, acid, neutral, label in (("total_thc_pct", "thca_pct", "d9_thc_pct", "THC"),
                                        ("total_cbd_pct", "cbda_pct", "cbd_pct", "CBD")):
        printed = getattr(doc, total)
        if printed is None or parsed.get(f"{total.removesuffix('_pct')}_computed"):
            continue
        a, n = getattr(doc, acid), getattr(doc, neutral)
        if a is None or n is None:
            continue
        expected = n + DECARB * a
        if not _close(printed, expected, rel=0.05, abs_=0.3):
            flags.append(Flag(f"total_{label.lower()}_mismatch", "warning",
                              f"Total {label} {printed:g}% does not match {neutral.split('_')[0].upper()} + 0.877 x "
                              f"{acid.split('_')[0].upper()} = {expected:.3g}%."))
    components = [getattr(doc, f) for f in ("total_thc_pct", "total_cbd_pct") if getattr(doc, f) is not None]
    if doc.total_cannabinoids_pct is not None and components and sum(components) > doc.total_cannabinoids_pct * 1.05 + 0.3:
        flags.append(Flag("total_cannabinoids_mismatch", "warning",
                          f"Total cannabinoids {doc.total_cannabinoids_pct:g}% is less than total THC + CBD."))
    for field, low, high in (("total_thc_pct", 0, 100), ("moisture_pct", 0, 40), ("water_activity_aw", 0, 1),
                             ("total_terpenes_pct", 0, 30)):
        value = getattr(doc, field)
        if value is not None and not (low <= value <= high):
            flags.append(Flag("out_of_range", "critical", f"{field} = {value:g} is outside {low}-{high}."))
    return flags
