"""`make bench`: run every benchmark module and write docs/benchmarks.md.

Each module exposes `run() -> Section`; a section reports its measurements as ratios against a baseline
measured in the same run on the same machine, so the numbers compare across machines.
"""

from __future__ import annotations

import importlib
import platform
import sys
from datetime import UTC, datetime

from bench.common import Section
from icc_app.settings import PROJECT_ROOT

FIRST = ["bench.audit_chain", "bench.coa_parse", "bench.marketplace_search", "bench.cqi_rescore",
         "bench.maps_radius", "bench.dispensary_page"]
NOT_BENCHMARKS = {"bench.common", "bench.coa_truth", "bench.locustfile"}


def _modules() -> list[str]:
    """Every bench/*.py with a run(): the established ones first, then the rest by name."""
    found = sorted(f"bench.{p.stem}" for p in (PROJECT_ROOT / "bench").glob("*.py") if not p.stem.startswith("_"))
    rest = [m for m in found if m not in FIRST and m not in NOT_BENCHMARKS]
    return [m for m in FIRST if m in found] + rest


MODULES = _modules()


def _merge(existing: str, sections: list[Section]) -> str:
    """The sections just run replace those of the same title; the others stay (`make bench ARGS=maps`)."""
    fresh = {s.title: s.to_markdown() for s in sections}
    kept = []
    for chunk in existing.split("\n## ")[1:]:
        title = chunk.split("\n", 1)[0].strip()
        if title not in fresh:
            kept.append((title, "## " + chunk.rstrip() + "\n"))
    order = [s.title for s in sections]
    return "\n".join([text for _, text in kept] + [fresh[t] for t in order])


def main(argv: list[str]) -> int:
    wanted = [m for m in MODULES if not argv or any(a in m for a in argv)]
    sections: list[Section] = []
    for name in wanted:
        print(f">> {name}", flush=True)
        section = importlib.import_module(name).run()
        section.measured = f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}"
        print(section.to_markdown(), flush=True)
        sections.append(section)
    header = (
        "# Benchmarks\n\nWritten by `make bench` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC} ({platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}). Ratios compare against a baseline measured in the same run.\n\n"
    )
    if argv:
        header = header.replace("Written by `make bench`", f"Updated by `make bench ARGS=\"{' '.join(argv)}\"`")
        header = header.replace("in the same run.", "in the same run. Each section says when it was measured.")
    out = PROJECT_ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    previous = out.read_text() if argv and out.exists() else ""
    out.write_text(header + _merge(previous, sections))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
