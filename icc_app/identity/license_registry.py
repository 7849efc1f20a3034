"""The state regulators' licensee registries: per-state license number formats, the CSV import, and the
normalized comparison of a claimed premises address with the registry's (street, city, ZIP).

Everything here is public data: it tells who holds a license, never who controls it (licenses.py asks for proof).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from icc_app.core import audit
from icc_app.core.errors import ValidationFailed
from icc_app.identity.models import LicenseRegistryEntry

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
    "email": ["business_email", "email"],
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
            entry.email = entry.email or _email(pick_column(row, "email"))  # some lists print it on one row only
            report.merged += 1
            continue
        status = pick_column(row, "status")
        expires_on = parse_date(pick_column(row, "expires_on"))
        values = dict(
            legal_name=legal_name[:300], dba=(pick_column(row, "dba") or None), license_type=pick_column(row, "license_type")[:120],
            status=status[:80], is_active=not _INACTIVE.search(status) and not (expires_on and expires_on < today),
            street=pick_column(row, "street")[:300] or None, city=pick_column(row, "city").title()[:120] or None,
            postal_code=pick_column(row, "postal_code").split(".")[0][:10] or None, county=pick_column(row, "county")[:120] or None,
            phone=pick_column(row, "phone")[:40] or None, email=_email(pick_column(row, "email")), latitude=parse_float(pick_column(row, "latitude"), -90, 90),
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




def _email(value: str) -> str | None:
    value = value.strip().lower()
    return value if len(value) <= 254 and re.fullmatch(r"[^@\s,;]+@[^@\s,;]+\.[a-z]{2,}", value) else None


# --- premises address ------------------------------------------------------------------------------------------

_STREET_WORDS = {
    "STREET": "ST", "AVENUE": "AVE", "AV": "AVE", "ROAD": "RD", "DRIVE": "DR", "BOULEVARD": "BLVD", "LANE": "LN",
    "COURT": "CT", "PLACE": "PL", "HIGHWAY": "HWY", "PARKWAY": "PKWY", "TERRACE": "TER", "CIRCLE": "CIR",
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE",
    "SOUTHWEST": "SW", "FIRST": "1ST", "SECOND": "2ND", "THIRD": "3RD",
}
# Unit designators: the premises is the building, so "STE 4" or "BLDG B" does not make another address.
_UNIT = re.compile(r"\b(SUITE|STE|UNIT|BLDG|BUILDING|APT|SPC|SPACE|RM|ROOM|FL|FLOOR)\b.*$|#.*$")


def normalize_street(street: str | None) -> str:
    text = re.sub(r"[^A-Z0-9# ]", " ", (street or "").upper())
    text = _UNIT.sub("", text)
    return " ".join(_STREET_WORDS.get(word, word) for word in text.split())


def normalize_city(city: str | None) -> str:
    return " ".join(re.sub(r"[^A-Z ]", " ", (city or "").upper()).split())


def normalize_zip(postal_code: str | None) -> str:
    return re.sub(r"\D", "", postal_code or "")[:5]


def address_mismatches(entry: LicenseRegistryEntry, *, street: str | None, city: str | None,
                       postal_code: str | None) -> list[str]:
    """The parts of a claimed premises address that differ from the registry's ('street', 'city', 'ZIP').
    A part the registry does not list cannot be compared and is not counted as a match either."""
    pairs = [("street", normalize_street(street), normalize_street(entry.street)),
             ("city", normalize_city(city), normalize_city(entry.city)),
             ("ZIP", normalize_zip(postal_code), normalize_zip(entry.postal_code))]
    return [part for part, ours, theirs in pairs if not ours or not theirs or ours != theirs]
