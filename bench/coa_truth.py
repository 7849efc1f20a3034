"""Compare parser output with ../shared/data/coas/truth-dev.csv (used by the benchmark and the tests)."""

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


@dataclass
class Cell:
    file: str
    field: str
    expected: str
    got: object
    ok: bool


def load_truth(coa_dir: Path) -> list[dict]:
    with open(coa_dir / "truth-dev.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _truth_number(value: str) -> float:
    return 0.0 if value.strip().upper().startswith(("ND", "<")) else float(value)


def _norm_terp(name: str) -> str:
    from icc_app.labs.dictionary import lookup

    analyte = lookup(name)
    return analyte.key if analyte else name.lower()


def compare(row: dict, parsed: dict) -> list[Cell]:
    cells = []
    for field in FIELDS:
        expected = row.get(field, "").strip()
        if not expected:
            continue
        got = parsed.get(field)
        if field in NUMERIC:
            want = _truth_number(expected)
            ok = isinstance(got, (int, float)) and (abs(got - want) <= 0.01 or abs(got - want) <= 0.005 * abs(want))
        elif field == "top_terpene":
            ok = got is not None and _norm_terp(str(got)) == _norm_terp(expected)
        elif field == "lab_name":
            ok = got is not None and expected.lower()[:12] in str(got).lower()
        else:
            ok = str(got).lower() == expected.lower() if got is not None else False
        cells.append(Cell(row["file"], field, expected, got, ok))
    return cells
