"""CQI rescoring: every active lot in one batch (quality.rescore_all_active_lots) against scoring lots one by
one through the ORM (quality.score_lot, what a per-lot task does), in the same run on PostgreSQL. The one-by-one
baseline is timed on a sample and its rate applied to all lots (100,000 single scorings would take most of an
hour). Target: batch at least 20x faster, and under 60 s for 100,000 lots."""

from __future__ import annotations

import csv
import io
import os
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from bench.common import Section, scratch_database
from icc_app.core.db import make_engine
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType
from icc_app.quality import service
from icc_app.quality.calibration import calibrate
from icc_app.settings import PROJECT_ROOT

N_LOTS = int(os.environ.get("BENCH_CQI_LOTS", "100000"))
SAMPLE = int(os.environ.get("BENCH_CQI_SAMPLE", "500"))
SHARED = PROJECT_ROOT.parent / "shared" / "data" / "terpenes"


def _copy(engine, table: str, columns: str, rows: list[list]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '')") as copy:
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()


def _seed(engine) -> None:
    rng = random.Random(7)
    with Session(engine) as session:
        sellers = []
        for i in range(50):
            user = identity.create_user(session, email=f"cqi{i}@bench.test", password="Bench-pass-2026",
                                        display_name=f"Grower {i}")
            sellers.append(identity.create_business(session, legal_name=f"Grower {i} LLC",
                                                    business_type=BusinessType.cultivator, owner=user).id)
        calibrate(session, sorted(SHARED.glob("*.csv")))
        service.active_config(session)
        session.commit()
    now = datetime.now(UTC).isoformat()
    coas, lots = [], []
    panels = ["pass"] * 12 + ["fail", ""]
    for i in range(N_LOTS):
        coa_id, lot_id, seller = uuid.uuid4(), uuid.uuid4(), rng.choice(sellers)
        tested = date.today() - timedelta(days=rng.randint(0, 700))
        coas.append([now, now, coa_id, seller, f"coa{i}.pdf", f"coas/{i}", f"{i:064x}", 1000, "parsed", 1, "[]",
                     round(rng.uniform(10, 32), 2), round(rng.uniform(0, 2), 2), round(rng.uniform(0.2, 4.5), 2),
                     round(rng.uniform(0.35, 0.75), 2), tested.isoformat(), *[rng.choice(panels) for _ in range(6)]])
        lots.append([now, now, lot_id, seller, f"Lot {i}", "flower", "Strain", "hybrid", 100, 100, 5, "lb", 900, "USD",
                     "bench lot", "pickup", "false", "active", 1, now, coa_id])
    _copy(engine, "coa_documents", "created_at, updated_at, id, business_id, filename, storage_key, sha256, size_bytes, "
          "status, attempts, flags, total_thc_pct, total_cbd_pct, total_terpenes_pct, water_activity_aw, date_tested, "
          "pesticides_status, heavy_metals_status, microbials_status, mycotoxins_status, residual_solvents_status, "
          "foreign_matter_status", coas)
    _copy(engine, "lots", "created_at, updated_at, id, business_id, title, product_type, strain_name, strain_type, "
          "quantity, available_qty, min_order_qty, unit, price_per_unit, currency, description, delivery_terms, "
          "require_proof_of_funds, status, version, listed_at, coa_id", lots)


def run() -> Section:
    with scratch_database("icc_bench_cqi") as url:
        engine = make_engine(url)
        _seed(engine)
        with Session(engine) as session:
            sample = session.exec(select(service.Lot.id).limit(SAMPLE)).all()
        started = time.perf_counter()
        for lot_id in sample:
            with Session(engine) as session:
                service.score_lot(session, lot_id)
                session.commit()
        one_by_one = (time.perf_counter() - started) / len(sample)
        started = time.perf_counter()
        with Session(engine) as session:
            scored = service.rescore_all(session)
            session.commit()
        batch = time.perf_counter() - started
        engine.dispose()
    projected = one_by_one * scored
    ratio = projected / batch
    verdict = "met" if ratio >= 20 and batch < 60 else "NOT met"
    return Section(
        title="CQI rescoring",
        description=f"{scored:,} active lots, each with its own parsed COA, on PostgreSQL. Baseline: quality.score_lot "
                    f"one lot at a time through the ORM, timed on {len(sample)} lots and applied to all. "
                    f"Target at least 20x faster and under 60 s: {verdict}.",
        headers=["measurement", "seconds for all lots", "lots/s", "speed-up over baseline"],
        rows=[["baseline: one by one (ORM, per-lot queries)", f"{projected:,.0f} (projected)", f"{1 / one_by_one:,.0f}",
               "1.0"],
              ["batch: rescore_all (set-based reads, bulk writes)", f"{batch:.1f}", f"{scored / batch:,.0f}",
               f"{ratio:.0f}x"]],
        notes=["The batch reads lots and COAs in chunks of 5,000 with one query each, aggregates terpene counts and "
               "seller records per chunk, scores in memory with the same pure rules, and writes the scores with "
               "bulk INSERT and executemany UPDATE."],
    )
