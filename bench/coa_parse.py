"""COA parser: accuracy against truth-dev.csv per field, and speed against plain pdfplumber extract_text()."""

from __future__ import annotations

import collections
import glob
import time
from pathlib import Path

from bench.coa_truth import FIELDS, compare, load_truth
from bench.common import Section
from icc_app.labs.parse import parse_coa_bytes
from icc_app.settings import PROJECT_ROOT

COA_DIR = PROJECT_ROOT.parent / "shared" / "data" / "coas"


def run() -> Section:
    files = sorted(glob.glob(str(COA_DIR / "**" / "*.pdf"), recursive=True) +
                   glob.glob(str(COA_DIR / "**" / "*.PDF"), recursive=True))
    blobs = [Path(f).read_bytes() for f in files]

    import pdfplumber

    start = time.perf_counter()
    pages = 0
    for f in files:
        try:
            with pdfplumber.open(f) as pdf:
                for page in pdf.pages:
                    page.extract_text()
                    pages += 1
        except Exception:  # noqa: BLE001 - the baseline just skips what it cannot read
            pass
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    for blob, f in zip(blobs, files, strict=True):
        parse_coa_bytes(blob, filename=f)
    ours = time.perf_counter() - start

    totals, good = collections.Counter(), collections.Counter()
    for row in load_truth(COA_DIR):
        parsed = parse_coa_bytes((COA_DIR / row["file"]).read_bytes(), filename=row["file"]).model_dump(mode="json")
        for cell in compare(row, parsed):
            totals[cell.field] += 1
            good[cell.field] += cell.ok
    overall = sum(good.values()) / sum(totals.values())
    rows = [[f, f"{good[f]}/{totals[f]}", f"{100 * good[f] / totals[f]:.0f}%"] for f in FIELDS if totals[f]]
    rows.append(["**overall**", f"{sum(good.values())}/{sum(totals.values())}", f"**{100 * overall:.1f}%**"])
    return Section(
        title="COA parsing",
        description=f"{len(files)} real COA PDFs ({pages} pages) from ../shared/data/coas. Accuracy: non-empty cells "
        "of truth-dev.csv (numbers within 0.5% relative or 0.01 absolute). Target: 95%.",
        headers=["field", "right", "share"],
        rows=rows,
        notes=[
            f"Speed baseline, plain pdfplumber extract_text() of every page: {baseline:.2f} s "
            f"({pages / baseline:.1f} pages/s).",
            f"Full parse of the same files: {ours:.2f} s ({pages / ours:.1f} pages/s), "
            f"ratio {ours / baseline:.3f} of the baseline (target: at most 0.5).",
        ],
    )
