"""The registry of licensed testing labs that COA authenticity checks look license numbers up in.

It is filled from state regulator lists (`python -m icc_app.cli labs import-registry FILE --state XX`, which keeps
only testing-lab rows and reports the rows it rejects) and starts with the labs whose reports the platform
reads today, with the license numbers those reports print.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from icc_app.labs.models import TestingLabLicense

KNOWN_LAB_LICENSES = [
    ("CA", "C8-0000001-LIC", "California Ag Labs"),
    ("CA", "C8-0000012-LIC", "Cannalysis"),
    ("CA", "C8-0000013-LIC", "SC Laboratories California"),
    ("CA", "C8-0000015-LIC", "Sonoma Lab Works"),
    ("CA", "C8-0000040-LIC", "CannaSafe"),
    ("CA", "C8-0000047-LIC", "Infinite Chemical Analysis Labs"),
    ("CA", "C8-0000052-LIC", "Anresco Laboratories"),
    ("CA", "C8-0000058-LIC", "CB Labs"),
    ("CA", "C8-0000078-LIC", "Green Leaf Lab"),
    ("CA", "C8-0000104-LIC", "Caligreen Laboratories"),
    ("FL", "CMTL-0002", "Kaycha Labs"),
    ("FL", "CMTL-0003", "ACS Laboratory"),
    ("FL", "CMTL-0004", "Green Scientific Labs"),
    ("MA", "IL281277", "Steep Hill Massachusetts"),
]

_COLUMNS = {
    "license_number": ("license_number", "license number", "license_no", "license", "licensenumber", "license #"),
    "name": ("business_dba_name", "business_legal_name", "dba", "name", "business name", "licensee name", "legal name"),
    "type": ("license_type", "license type", "type", "license_designation", "category"),
    "status": ("license_status", "status", "license status"),
    "expires": ("expiration_date", "expiration", "expires", "license_expiration_date"),
}
TESTING_WORDS = ("testing", "laboratory", "lab ")


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    skipped_not_lab: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)


def seed_known_labs(session: Session) -> int:
    added = 0
    for state, number, name in KNOWN_LAB_LICENSES:
        exists = session.exec(select(TestingLabLicense).where(TestingLabLicense.state == state,
                                                              TestingLabLicense.license_number == number)).first()
        if exists is None:
            session.add(TestingLabLicense(state=state, license_number=number, lab_name=name, source="known labs"))
            added += 1
    session.flush()
    return added


def _pick(row: dict, names: tuple[str, ...]) -> str:
    lowered = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
    for name in names:
        if lowered.get(name):
            return lowered[name]
    return ""


def import_registry(session: Session, path: Path, *, state: str) -> ImportReport:
    """Import the testing labs of one state's licensee list (CSV; column names vary by state)."""
    state = state.strip().upper()
    if len(state) != 2 or not state.isalpha():
        raise ValueError("state must be a two-letter code")
    report = ImportReport()
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            license_number = _pick(row, _COLUMNS["license_number"]).upper()
            kind = _pick(row, _COLUMNS["type"]).lower()
            if not any(word in f"{kind} " for word in TESTING_WORDS):
                report.skipped_not_lab += 1
                continue
            if not license_number:
                report.rejected.append((number, "no license number"))
                continue
            name = _pick(row, _COLUMNS["name"]) or "(unnamed lab)"
            expires = None
            raw_expires = _pick(row, _COLUMNS["expires"])
            if raw_expires:
                try:
                    expires = date.fromisoformat(raw_expires[:10])
                except ValueError:
                    report.rejected.append((number, f"bad expiration date {raw_expires!r}"))
                    continue
            status = (_pick(row, _COLUMNS["status"]) or "active").lower()
            existing = session.exec(select(TestingLabLicense).where(TestingLabLicense.state == state,
                                                                    TestingLabLicense.license_number == license_number)).first()
            if existing:
                existing.lab_name, existing.status, existing.expires_on = name[:200], status[:40], expires
                existing.source = path.name[:200]
                report.updated += 1
            else:
                session.add(TestingLabLicense(state=state, license_number=license_number[:80], lab_name=name[:200],
                                              status=status[:40], expires_on=expires, source=path.name[:200]))
                report.imported += 1
    session.flush()
    return report
