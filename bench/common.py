"""Small helpers shared by benchmarks: timing, percentiles, a scratch PostgreSQL database, markdown."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")


@dataclass
class Section:
    title: str
    description: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    measured: str = ""  # when: set by `python -m bench`, so a partial run's sections say their own date

    def to_markdown(self) -> str:
        when = [f"_Measured {self.measured}._", ""] if self.measured else []
        lines = [f"## {self.title}", "", *when, self.description, "", "| " + " | ".join(self.headers) + " |",
                 "|" + "---|" * len(self.headers)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        lines += [""] + [f"- {n}" for n in self.notes] + [""]
        return "\n".join(lines)


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall time of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def percentile(samples: list[float], pct: float) -> float:
    return statistics.quantiles(samples, n=100)[int(pct) - 1] if len(samples) > 1 else samples[0]


@contextlib.contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A migrated, empty PostgreSQL database for one benchmark; dropped afterwards."""
    from icc_app.core import migrations

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    try:
        migrations.upgrade(database_url=url)
        yield url
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
