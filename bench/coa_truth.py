"""Compare parser output with ../shared/data/coas/truth-dev.csv (used by the benchmark and the tests).

Every truth cell counts, printed or not: an empty cell means the document does not print that value, so a
value reported for it is an invention and counts as wrong. The one exception is a total the parser computed
itself and marked as computed (`total_thc_computed`, `total_cbd_computed`): it is reported, and counted in
the separate invention rate, but not held against accuracy.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

NUMERIC = ["total_thc_pct", "total_cbd_pct", "thca_pct", "d9_thc_pct", "cbda_pct", "total_terpenes_pct",
           "moisture_pct", "water_activity_aw"]
STATUS = ["pesticides_status", "heavy_metals_status", "microbials_status", "mycotoxins_status",
          "residual_solvents_status"]
TEXT = ["lab_name", "lab_state", "product_type", "date_tested", "top_terpene"]
FIELDS = TEXT + NUMERIC + STATUS
COMPUTED_FLAG = {"total_thc_pct": "total_thc_computed", "total_cbd_pct": "total_cbd_computed"}


@dataclass
class Cell:
    file: str
    field: str
    expected: str  # "" when the document does not print the value
    got: object
    ok: bool
    confidence: float | None = None

    @property
    def printed(self) -> bool:
        return bool(self.expected)

    @property
    def invented(self) -> bool:
        """A value reported for a cell the document does not print."""
        return not self.printed and self.got is not None


def load_truth(coa_dir: Path) -> list[dict]:
    with open(coa_dir / "truth-dev.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _truth_number(value: str) -> float:
    return 0.0 if value.strip().upper().startswith(("ND", "<")) else float(value)


def _norm_terp(name: str) -> str:
    from icc_app.labs.dictionary import lookup

    analyte = lookup(name)
    return analyte.key if analyte else name.lower()


def matches(field: str, expected: str, got: object) -> bool:
    """Is `got` the printed value `expected` (numbers within 0.5% relative or 0.01 absolute)?"""
    if got is None:
        return False
    if field in NUMERIC:
        want = _truth_number(expected)
        return isinstance(got, (int, float)) and (abs(got - want) <= 0.01 or abs(got - want) <= 0.005 * abs(want))
    if field == "top_terpene":
        return _norm_terp(str(got)) == _norm_terp(expected)
    if field == "lab_name":
        return expected.lower()[:12] in str(got).lower()
    return str(got).lower() == expected.lower()


def compare(row: dict, parsed: dict) -> list[Cell]:
    """One cell per field of FIELDS. An unprinted cell is right when nothing is reported (or a computed total
    marked as such); a printed cell is right when the value matches."""
    cells = []
    confidence = parsed.get("confidence") or {}
    for field in FIELDS:
        expected = row.get(field, "").strip()
        got = parsed.get(field)
        if got == "":
            got = None
        if expected:
            ok = matches(field, expected, got)
        else:
            ok = got is None or bool(parsed.get(COMPUTED_FLAG.get(field, ""), False))
        cells.append(Cell(row["file"], field, expected, got, ok, confidence.get(field)))
    return cells
