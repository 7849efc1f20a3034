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

MODULES = ["bench.audit_chain", "bench.coa_parse", "bench.marketplace_search", "bench.cqi_rescore"]


def main(argv: list[str]) -> int:
    wanted = [m for m in MODULES if not argv or any(a in m for a in argv)]
    sections: list[Section] = []
    for name in wanted:
        print(f">> {name}", flush=True)
        section = importlib.import_module(name).run()
        print(section.to_markdown(), flush=True)
        sections.append(section)
    header = (
        "# Benchmarks\n\nWritten by `make bench` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC} ({platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}). Ratios compare against a baseline measured in the same run.\n\n"
    )
    out = PROJECT_ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(header + "\n".join(s.to_markdown() for s in sections))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
