"""Cannabis licenses: the state regulator registries, per-state number formats, KYB verification, the platform
admins' review queue, and expiry (60-day alerts; an expired license suspends what rests on it).

A submitted license is verified automatically when its number and state match an active registry row and the
business's legal or DBA name fuzzy-matches the registry's names; otherwise it waits in the review queue with
the reasons, which the business sees too.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rapidfuzz import fuzz, utils
from sqlmodel import Session, col, select

from icc_app.core import audit, notifications
from icc_app.core.errors import Conflict, NotFound, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.storage import get_storage
from icc_app.identity.models import (
    Business,
    BusinessLicense,
    BusinessMember,
    LicenseRegistryEntry,
    LicenseStatus,
    Role,
    User,
    Verification,
)

NAME_MATCH_THRESHOLD = 85  # rapidfuzz token_set_ratio, 0-100
EXPIRY_ALERT_DAYS = 60

# Regulator license-number formats, with an example shown in the error message.
STATE_FORMATS: dict[str, tuple[re.Pattern, str]] = {
    "WA": (re.compile(r"^\d{5,6}$"), "6 digits, e.g. 430562"),
    "OR": (re.compile(r"^\d{3} ?[0-9A-Z]{9,12}$"), "3 digits, a space and 9-12 letters or digits, e.g. 050 10011127277"),
    "CO": (re.compile(r"^\d{3}[A-Z]{0,3}-\d{4,5}$"), "3 digits, an optional letter code and 5 digits, e.g. 403-01467 or 402R-00123"),
    "MA": (re.compile(r"^[A-Z]{2,3}\d{4,6}$"), "2-3 letters and 4-6 digits, e.g. MC282137"),
    "NM": (re.compile(r"^CCD(-[A-Z]{4})?-\d{4}-\d{4}(-[A-Z]{4})?-\d{3}$"), "CCD-YYYY-NNNN-NNN, e.g. CCD-2022-0181-001"),
    "AZ": (re.compile(r"^\d{7,8}[A-Z]{4,5}\d{8}$"), "8 digits, 4 letters, 8 digits, e.g. 00000139ESDD30084191"),
    "CA": (re.compile(r"^C(8|9|10|11|12)-\d{7}-LIC$"), "C<type>-<7 digits>-LIC, e.g. C11-0000123-LIC"),
}
GENERIC_FORMAT = (re.compile(r"^[A-Z0-9][A-Z0-9 \-]{3,39}$"), "4-40 letters, digits, spaces or dashes")
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK "
    "OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI".split()
)
_INACTIVE = re.compile(r"\b(not operating|inactive|expired|revoked|cancel|surrender|suspend|closed|denied)", re.I)


def normalize_number(number: str) -> str:
    return re.sub(r"\s+", " ", (number or "").strip().upper())


def validate_number(state: str, number: str) -> tuple[str, str]:
    """Normalized (state, number), or a clear message naming the expected format."""
    state = (state or "").strip().upper()
    if state not in US_STATES:
        raise ValidationFailed("Choose the state that issued the license.", field="state")
    number = normalize_number(number)
    if not number:
        raise ValidationFailed("Enter the license number.", field="license_number")
    pattern, example = STATE_FORMATS.get(state, GENERIC_FORMAT)
    if not pattern.match(number):
        raise ValidationFailed(f"That is not a {state} license number: expected {example}.", field="license_number")
    return state, number


# --- registry import -------------------------------------------------------------------------------------------

# Column names vary by regulator and by export; the first present, non-empty one wins.
_COLUMNS = {
    "license_number": ["license_number", "License Number", "license_no", "license #", "licensenumber", "license"],
    "legal_name": ["business_legal_name", "Licensee Name", "legal_name", "licensee", "business_name", "name"],
    "dba": ["business_dba_name", "dba", "trade_name", "dba_name"],
    "license_type": ["license_type", "type", "license_designation"],
    "status": ["license_status", "status"],
    "street": ["premise_street_address", "Street", "Address", "business_address_1", "address", "street_address"],
    "city": ["premise_city", "city", "business_city"],
    "postal_code": ["premise_zip_code", "Zipcode", "zip", "zip_code", "postal_code", "establishment_zipcode"],
    "county": ["premise_county", "county"],
    "phone": ["business_phone", "phone"],
    "latitude": ["premise_latitude", "latitude", "lat"],
    "longitude": ["premise_longitude", "longitude", "lon", "lng"],
    "issued_on": ["issue_date", "issued_on", "issue date"],
    "expires_on": ["expiration_date", "expires_on", "expiration date", "expiry_date"],
    "state": ["premise_state", "state"],
}


@dataclass
class ImportReport:
    state: str
    read: int = 0
    created: int = 0
    updated: int = 0
    merged: int = 0  # further rows of a number already read (e.g. adult-use and medical rows of one license)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    def summary(self) -> str:
        return (f"{self.state}: {self.read} rows read, {self.created} added, {self.updated} updated, "
                f"{self.merged} merged into an earlier row of the same license, {len(self.rejected)} rejected")


def pick_column(row: dict[str, str], key: str) -> str:
    lowered = {k.strip().lower(): v for k, v in row.items() if k}
    for name in _COLUMNS[key]:
        value = lowered.get(name.lower())
        if value is not None and str(value).strip():
            return " ".join(str(value).split())
    return ""


def parse_date(value: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%a %b %d %Y"):
        try:
            return datetime.strptime(value[: len("Sat Jun 15 2024")] if fmt == "%a %b %d %Y" else value[:10], fmt).date()
        except ValueError:
            continue
    return None


def parse_float(value: str, low: float, high: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def import_registry(session: Session, data: bytes | str, *, state: str, source: str = "",
                    today: date | None = None) -> ImportReport:
    """Upsert a regulator's licensee CSV. Rows without a valid number, or naming another state, are rejected
    with their line number; nothing else is dropped silently."""
    state = (state or "").strip().upper()
    if state not in US_STATES:
        raise ValidationFailed(f"Unknown state {state!r}: use the two-letter code.", field="state")
    today = today or date.today()
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not any(h and h.strip().lower() in {n.lower() for n in _COLUMNS["license_number"]}
                                        for h in reader.fieldnames):
        raise ValidationFailed("The file has no license number column (e.g. 'license_number').", field="file")
    report = ImportReport(state=state)
    existing = {e.license_number: e for e in session.exec(select(LicenseRegistryEntry)
                                                          .where(LicenseRegistryEntry.state == state))}
    seen: dict[str, LicenseRegistryEntry] = {}
    for line, row in enumerate(reader, start=2):
        report.read += 1
        raw_number = pick_column(row, "license_number")
        row_state = pick_column(row, "state").upper()
        if row_state and row_state != state:
            report.rejected.append((line, f"row is for state {row_state}, not {state}"))
            continue
        try:
            _, number = validate_number(state, raw_number)
        except ValidationFailed as exc:
            report.rejected.append((line, "no license number" if not raw_number else exc.message))
            continue
        legal_name = pick_column(row, "legal_name") or pick_column(row, "dba")
        if not legal_name:
            report.rejected.append((line, "no business name"))
            continue
        if number in seen:
            entry = seen[number]
            extra = pick_column(row, "license_type")
            if extra and extra not in entry.license_type:
                entry.license_type = f"{entry.license_type}; {extra}"[:120]
            report.merged += 1
            continue
        status = pick_column(row, "status")
        expires_on = parse_date(pick_column(row, "expires_on"))
        values = dict(
            legal_name=legal_name[:300], dba=(pick_column(row, "dba") or None), license_type=pick_column(row, "license_type")[:120],
            status=status[:80], is_active=not _INACTIVE.search(status) and not (expires_on and expires_on < today),
            street=pick_column(row, "street")[:300] or None, city=pick_column(row, "city").title()[:120] or None,
            postal_code=pick_column(row, "postal_code").split(".")[0][:10] or None, county=pick_column(row, "county")[:120] or None,
            phone=pick_column(row, "phone")[:40] or None, latitude=parse_float(pick_column(row, "latitude"), -90, 90),
            longitude=parse_float(pick_column(row, "longitude"), -180, 180), issued_on=parse_date(pick_column(row, "issued_on")),
            expires_on=expires_on, source=source[:200],
        )
        entry = existing.get(number)
        if entry is None:
            entry = LicenseRegistryEntry(state=state, license_number=number, **values)
            report.created += 1
        else:
            for key, value in values.items():
                setattr(entry, key, value)
            report.updated += 1
        session.add(entry)
        seen[number] = entry
    session.flush()
    audit.record(session, action="identity.registry.imported", object_type="license_registry", object_id=state,
                 after={"source": source, "read": report.read, "created": report.created, "updated": report.updated,
                        "rejected": len(report.rejected)})
    return report


# --- business licenses -----------------------------------------------------------------------------------------

def name_score(business: Business, entry: LicenseRegistryEntry) -> float:
    ours = [n for n in (business.legal_name, business.dba) if n]
    theirs = [n for n in (entry.legal_name, entry.dba) if n]
    return max((fuzz.token_set_ratio(a, b, processor=utils.default_process) for a in ours for b in theirs), default=0)


def verify_against_registry(session: Session, license_: BusinessLicense, business: Business) -> list[str]:
    """Try the registry; returns the reasons it could not verify (empty when verified)."""
    entry = session.exec(select(LicenseRegistryEntry).where(
        LicenseRegistryEntry.state == license_.state, LicenseRegistryEntry.license_number == license_.license_number
    )).first()
    if entry is None:
        return [f"License {license_.license_number} is not in the {license_.state} regulator registry we hold."]
    license_.registry_entry_id = entry.id
    license_.license_type = license_.license_type or entry.license_type
    license_.issued_on = license_.issued_on or entry.issued_on
    license_.expires_on = license_.expires_on or entry.expires_on
    reasons = []
    if not entry.is_active:
        reasons.append(f"The registry lists this license as '{entry.status or 'inactive'}'.")
    score = name_score(business, entry)
    if score < NAME_MATCH_THRESHOLD:
        names = " / ".join(n for n in (entry.legal_name, entry.dba) if n)
        reasons.append(f"The registry names the licensee '{names}', which does not match your business name "
                       f"(similarity {score:.0f}%).")
    return reasons


def submit_license(session: Session, *, business_id: uuid.UUID, actor_id: uuid.UUID, state: str, license_number: str,
                   license_type: str = "", expires_on: date | None = None, document: bytes | None = None,
                   document_filename: str = "") -> BusinessLicense:
    business = session.get(Business, business_id)
    if business is None:
        raise NotFound("Business not found.")
    state, number = validate_number(state, license_number)
    if expires_on is not None and expires_on < date.today():
        raise ValidationFailed("This license has already expired: enter the renewed one.", field="expires_on")
    taken = session.exec(select(BusinessLicense).where(
        BusinessLicense.state == state, BusinessLicense.license_number == number,
        BusinessLicense.verification != Verification.rejected,
    )).first()
    if taken is not None:
        if taken.business_id == business_id:
            raise Conflict("This license is already on your business.", field="license_number")
        raise Conflict("This license is registered to another business on ICC. Contact support if it is yours.",
                       field="license_number")
    license_ = BusinessLicense(business_id=business_id, license_number=number, state=state,
                               license_type=(license_type or "").strip()[:120], expires_on=expires_on)
    if document:
        stored = get_storage().save("licenses", document, filename=document_filename or "license")
        license_.document_key, license_.document_filename = stored.key, (document_filename or "license")[:255]
    reasons = verify_against_registry(session, license_, business)
    _set_status_from_dates(license_)
    if reasons:
        license_.verification, license_.verification_reasons = Verification.needs_review, reasons
    else:
        license_.verification, license_.verified_by, license_.verified_at = Verification.verified, "registry", utcnow()
        license_.verification_reasons = ["Matched the state regulator registry (number, state, active, name)."]
    session.add(license_)
    session.flush()
    audit.record(session, action="identity.license.submitted", object_type="business_license", object_id=license_.id,
                 actor_id=actor_id, business_id=business_id,
                 after={"state": state, "number": number, "verification": Verification(license_.verification).value,
                        "reasons": license_.verification_reasons})
    if license_.verification == Verification.needs_review:
        _notify_platform_admins(session, license_, business)
    return license_


def _set_status_from_dates(license_: BusinessLicense, today: date | None = None) -> None:
    today = today or date.today()
    expired = license_.expires_on is not None and license_.expires_on < today
    license_.status = LicenseStatus.expired if expired else LicenseStatus.active


def _notify_platform_admins(session: Session, license_: BusinessLicense, business: Business) -> None:
    for admin in session.exec(select(User).where(User.is_platform_admin == True)):  # noqa: E712
        notifications.notify(session, user_id=admin.id, email=None, kind="identity.license_review",
                             title=f"License to review: {business.legal_name} ({license_.state} {license_.license_number})",
                             body=" ".join(license_.verification_reasons), link="/admin/licenses")


def _business_admins(session: Session, business_id: uuid.UUID) -> list[User]:
    return list(session.exec(select(User).join(BusinessMember, col(BusinessMember.user_id) == User.id).where(
        BusinessMember.business_id == business_id, BusinessMember.role == Role.admin)))


def list_licenses(session: Session, *, business_id: uuid.UUID) -> list[BusinessLicense]:
    return list(session.exec(select(BusinessLicense).where(BusinessLicense.business_id == business_id)
                             .order_by(BusinessLicense.created_at)))


def review_queue(session: Session) -> list[tuple[BusinessLicense, Business]]:
    return list(session.exec(select(BusinessLicense, Business).join(Business, col(Business.id) == BusinessLicense.business_id)
                             .where(BusinessLicense.verification == Verification.needs_review)
                             .order_by(BusinessLicense.created_at)))


def review_license(session: Session, *, license_id: uuid.UUID, admin_id: uuid.UUID, approve: bool, note: str = "",
                   ip: str | None = None) -> BusinessLicense:
    """A platform admin's decision. A rejection needs a reason, which the business sees."""
    license_ = session.get(BusinessLicense, license_id)
    if license_ is None:
        raise NotFound("License not found.")
    if license_.verification != Verification.needs_review:
        raise Conflict(f"This license is already {Verification(license_.verification).value.replace('_', ' ')}.")
    note = (note or "").strip()
    if not approve and len(note) < 5:
        raise ValidationFailed("Give the business a reason for the rejection.", field="note")
    before = Verification(license_.verification).value
    license_.verification = Verification.verified if approve else Verification.rejected
    license_.verified_by = "admin" if approve else None
    license_.verified_at = utcnow() if approve else None
    license_.reviewed_by, license_.review_note = admin_id, note[:1000] or None
    session.add(license_)
    audit.record(session, action="identity.license.reviewed", object_type="business_license", object_id=license_.id,
                 actor_id=admin_id, business_id=license_.business_id, before={"verification": before},
                 after={"verification": license_.verification.value, "note": note}, ip=ip)
    verdict = "verified" if approve else "rejected"
    for admin in _business_admins(session, license_.business_id):
        notifications.notify(session, user_id=admin.id, email=admin.email, kind="identity.license_reviewed",
                             title=f"License {license_.state} {license_.license_number} {verdict}",
                             body=note, link="/onboarding", template="license_reviewed",
                             context={"name": admin.display_name, "number": license_.license_number,
                                      "state": license_.state, "verdict": verdict, "note": note})
    return license_


@dataclass
class ExpiryReport:
    alerted: int = 0
    expired: int = 0


def check_expiring_licenses(session: Session, *, today: date | None = None) -> ExpiryReport:
    """Daily: alert business Admins (email and in-app) once per expiry date within 60 days; mark expired
    licenses (which suspends what rests on them until renewed). Safe to run twice."""
    today = today or date.today()
    report = ExpiryReport()
    horizon = today + timedelta(days=EXPIRY_ALERT_DAYS)
    rows = session.exec(select(BusinessLicense).where(col(BusinessLicense.expires_on).is_not(None),
                                                      BusinessLicense.expires_on <= horizon,
                                                      BusinessLicense.verification != Verification.rejected)).all()
    for license_ in rows:
        if license_.expires_on < today and license_.status != LicenseStatus.expired:
            license_.status = LicenseStatus.expired
            session.add(license_)
            audit.record(session, action="identity.license.expired", object_type="business_license",
                         object_id=license_.id, business_id=license_.business_id,
                         before={"status": "active"}, after={"status": "expired"})
            report.expired += 1
            _alert_admins(session, license_, expired=True, today=today)
        elif license_.expires_on >= today and license_.expiry_alert_sent_for != license_.expires_on:
            license_.expiry_alert_sent_for = license_.expires_on
            session.add(license_)
            report.alerted += 1
            _alert_admins(session, license_, expired=False, today=today)
    return report


def _alert_admins(session: Session, license_: BusinessLicense, *, expired: bool, today: date) -> None:
    days = (license_.expires_on - today).days
    title = (f"License {license_.state} {license_.license_number} has expired" if expired
             else f"License {license_.state} {license_.license_number} expires in {days} days")
    for admin in _business_admins(session, license_.business_id):
        notifications.notify(session, user_id=admin.id, email=admin.email, kind="identity.license_expiry",
                             title=title, link="/onboarding", template="license_expiring",
                             body="Listing and trading on the exchange are suspended until it is renewed." if expired
                             else "Renew it before then to keep trading on the exchange.",
                             context={"name": admin.display_name, "number": license_.license_number,
                                      "state": license_.state, "expires_on": license_.expires_on.isoformat(),
                                      "days": days, "expired": expired})


def renew_license(session: Session, *, license_id: uuid.UUID, business_id: uuid.UUID, actor_id: uuid.UUID,
                  expires_on: date) -> BusinessLicense:
    license_ = session.get(BusinessLicense, license_id)
    if license_ is None or license_.business_id != business_id:
        raise NotFound("License not found.")
    if expires_on <= date.today():
        raise ValidationFailed("The new expiry date must be in the future.", field="expires_on")
    before = {"expires_on": license_.expires_on, "status": LicenseStatus(license_.status).value}
    license_.expires_on = expires_on
    _set_status_from_dates(license_)
    session.add(license_)
    audit.record(session, action="identity.license.renewed", object_type="business_license", object_id=license_.id,
                 actor_id=actor_id, business_id=business_id, before=before,
                 after={"expires_on": expires_on, "status": LicenseStatus(license_.status).value})
    return license_
