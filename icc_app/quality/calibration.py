"""Potency and terpene reference distributions, computed once from real lab results (PSI Labs and SC Labs in
../shared/data/terpenes) and stored: CQI ranks a lot against what labs actually measure, not a guessed number."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlmodel import Session, delete, select

from icc_app.quality.models import PotencyCalibration

THCA_TO_THC = 0.877


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= 100 else None


def _group(sample_type: str) -> str | None:
    text = (sample_type or "").lower()
    if "edible" in text or "infus" in text:
        return None
    if "concentrate" in text or "oil" in text or "wax" in text or "rosin" in text:
        return "concentrate"
    if "flower" in text:
        return "flower"
    return None


def _percentiles(values: list[float]) -> list[float]:
    values = sorted(values)
    n = len(values)
    return [round(values[min(n - 1, round(i / 100 * (n - 1)))], 4) for i in range(101)]


def calibrate(session: Session, files: list[Path]) -> dict[tuple[str, str], int]:
    """Replace the stored calibration with one computed from these lab result CSVs; returns samples per table."""
    samples: dict[tuple[str, str], list[float]] = {}
    for path in files:
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8", errors="replace"))):
            group = _group(row.get("Sample Type", ""))
            if group is None:
                continue
            thca = _float(row.get("THC-A")) or _float(row.get("delta-9 THC-A")) or 0.0
            d9 = _float(row.get("delta-9 THC")) or 0.0
            cbda, cbd = _float(row.get("CBD-A")) or 0.0, _float(row.get("CBD")) or 0.0
            total_thc, total_cbd = d9 + THCA_TO_THC * thca, cbd + THCA_TO_THC * cbda
            if 0 < total_thc <= 100:
                samples.setdefault((group, "total_thc_pct"), []).append(total_thc)
            if 0 < total_cbd <= 100:
                samples.setdefault((group, "total_cbd_pct"), []).append(total_cbd)
            terpene_columns = [k for k in row if k and ("ene" in k or "ol" in k.lower()) and "THC" not in k
                               and "CB" not in k and k not in ("Moisture Content",)]
            terpenes = [v for v in (_float(row[k]) for k in terpene_columns) if v is not None]
            if terpenes and 0 < sum(terpenes) <= 30:
                samples.setdefault((group, "total_terpenes_pct"), []).append(sum(terpenes))
    session.exec(delete(PotencyCalibration))
    source = ", ".join(p.name for p in files)
    for (group, metric), values in samples.items():
        if len(values) >= 50:
            session.add(PotencyCalibration(product_group=group, metric=metric, percentiles=_percentiles(values),
                                           samples=len(values), source=source[:300]))
    session.flush()
    return {key: len(values) for key, values in samples.items() if len(values) >= 50}


def load(session: Session) -> dict[tuple[str, str], list[float]]:
    return {(c.product_group, c.metric): c.percentiles for c in session.exec(select(PotencyCalibration))}
