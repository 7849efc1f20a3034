"""Checks before an outgoing transfer template is sent to Metrc, one clear message per failure, so the operator
fixes everything at once instead of meeting Metrc's refusals one by one.

Metrc's FacilityType has no "may transfer" flag: a facility may send a transfer when its license is in force
(StartDate <= today <= EndDate) and the API user is the facility's owner or a manager (the Manage Transfer Templates
permission is not readable through the API). A template moves whole packages (its package lines carry only the
label and the wholesale price), so the quantity sold must be what the package holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

TAG_RE = re.compile(r"^[A-Z0-9]{24}$")
PASSED = {"TestPassed", "TestPassedSingle", "NotRequired", "ProcessValidated", "Retested", "TestPassedRemediated"}
# grams in one unit, for weight units; "each" counts
GRAMS = {"grams": Decimal("1"), "g": Decimal("1"), "kilograms": Decimal("1000"), "kg": Decimal("1000"),
         "milligrams": Decimal("0.001"), "mg": Decimal("0.001"), "ounces": Decimal("28.349523125"),
         "oz": Decimal("28.349523125"), "pounds": Decimal("453.59237"), "lb": Decimal("453.59237")}
COUNTS = {"each", "ea", "units", "unit"}
TOLERANCE = Decimal("0.005")  # 0.5 %: rounding between pounds and grams


@dataclass(frozen=True)
class Line:
    """One package on the planned transfer."""

    label: str
    quantity: Decimal | None
    unit: str
    wholesale_price: Decimal | None


@dataclass(frozen=True)
class Problem:
    code: str  # facility / tag / not_found / price / quantity / unit / on_hold / lab
    label: str | None
    message: str


def qty(value: Decimal) -> str:
    """A quantity as people write it: 100, 12.5 (no trailing zeros, never an exponent)."""
    return format(Decimal(value).normalize(), "f")


def short(label: str) -> str:
    """A tag as people read it on a screen: its last 8 characters."""
    return f"…{label[-8:]}" if len(label) > 10 else label


def to_base(quantity: Decimal, unit: str) -> tuple[str, Decimal] | None:
    """(dimension, amount in grams or units) or None for an unknown unit."""
    key = (unit or "").strip().lower()
    if key in GRAMS:
        return "weight", quantity * GRAMS[key]
    if key in COUNTS:
        return "count", quantity
    return None


def quantities_match(ours: Decimal, our_unit: str, theirs: Decimal, their_unit: str) -> bool | None:
    """True / False, or None when the units are not comparable (weight against count, unknown unit)."""
    a, b = to_base(ours, our_unit), to_base(theirs, their_unit)
    if a is None or b is None or a[0] != b[0]:
        return None
    if b[1] == 0:
        return a[1] == 0
    return abs(a[1] - b[1]) / b[1] <= TOLERANCE


def facility_problems(facility: dict | None, license_number: str, *, today: date) -> list[Problem]:
    if facility is None:
        return [Problem("facility", None, f"This Metrc user cannot see license {license_number}: check the license "
                                          "number and the user's facility permissions.")]
    problems = []
    license_ = facility.get("License") or {}
    end, start = license_.get("EndDate"), license_.get("StartDate")
    if end and date.fromisoformat(end[:10]) < today:
        problems.append(Problem("facility", None, f"License {license_number} ended on {end[:10]}: an expired license "
                                                  "cannot send transfers."))
    if start and date.fromisoformat(start[:10]) > today:
        problems.append(Problem("facility", None, f"License {license_number} starts on {start[:10]}: it cannot send "
                                                  "transfers yet."))
    if not (facility.get("IsOwner") or facility.get("IsManager")):
        problems.append(Problem("facility", None, f"The Metrc user is neither owner nor manager of license "
                                                  f"{license_number}: ask for the Manage Transfer Templates permission."))
    return problems


def _decimal(value) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def package_problems(line: Line, package: dict | None, *, license_number: str) -> list[Problem]:
    label = (line.label or "").strip().upper()
    if not TAG_RE.match(label):
        return [Problem("tag", line.label, f"{line.label or '(empty)'} is not a Metrc package tag: tags are 24 letters "
                                           f"and digits (this one has {len(line.label or '')}).")]
    problems = []
    if line.wholesale_price is None or line.wholesale_price <= 0:
        problems.append(Problem("price", label, f"Package {short(label)} has no wholesale price: enter the price of "
                                                "the package (Metrc asks for it on wholesale transfers)."))
    if package is None:
        problems.append(Problem("not_found", label, f"Package {short(label)} is not an active package of license "
                                                    f"{license_number} in Metrc."))
        return problems
    theirs, their_unit = _decimal(package.get("Quantity")) or Decimal("0"), package.get("UnitOfMeasureName") or ""
    if line.quantity is not None:
        same = quantities_match(line.quantity, line.unit, theirs, their_unit)
        if same is None:
            problems.append(Problem("unit", label, f"Package {short(label)} is counted in {their_unit} in Metrc, the "
                                                   f"order in {line.unit}: the units must match."))
        elif not same:
            problems.append(Problem("quantity", label, f"Package {short(label)}: the order moves {qty(line.quantity)} "
                                                       f"{line.unit}, Metrc holds {qty(theirs)} {their_unit}. A transfer "
                                                       "moves whole packages: adjust or split the package in Metrc "
                                                       "first."))
    if package.get("IsOnHold") or package.get("IsOnHoldCombined"):
        problems.append(Problem("on_hold", label, f"Package {short(label)} is on hold in Metrc: it cannot be "
                                                  "transferred until the hold is lifted."))
    lab_state = package.get("LabTestingState") or "NotSubmitted"
    if lab_state not in PASSED:
        problems.append(Problem("lab", label, f"Package {short(label)} has not passed lab testing (Metrc says "
                                              f"{_words(lab_state)})."))
    return problems


def _words(state: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", state).lower()


def check(facility: dict | None, license_number: str, lines: list[Line], packages: dict[str, dict | None], *,
          today: date, recipient_license: str | None) -> list[Problem]:
    """Every problem of a planned template (empty: it may be sent). `packages`: Metrc's package per label (None
    when Metrc does not have it)."""
    problems = facility_problems(facility, license_number, today=today)
    if not recipient_license:
        problems.append(Problem("recipient", None, "The buyer has no Metrc license on file: the template needs the "
                                                   "recipient's license number."))
    if not lines:
        problems.append(Problem("packages", None, "The transfer has no packages."))
    seen: set[str] = set()
    for line in lines:
        label = (line.label or "").strip().upper()
        if label in seen:
            problems.append(Problem("duplicate", label, f"Package {short(label)} is listed twice."))
            continue
        seen.add(label)
        problems.extend(package_problems(line, packages.get(label), license_number=license_number))
    return problems
