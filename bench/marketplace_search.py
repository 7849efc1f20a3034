"""Marketplace search under load: 50,000 active lots on PostgreSQL, 20 concurrent buyers (locust) against the
running API, p50/p95/p99 of the search mix against a baseline endpoint (GET /api/v1/me: the same authentication
and framework, no search) measured in the same run; plus the query plans PostgreSQL chose."""

from __future__ import annotations

import csv
import io
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import sqlalchemy as sa
from sqlmodel import Session

from bench.common import Section, scratch_database
from icc_app.core.db import make_engine
from icc_app.exchange.search import LotFilters, search
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessLicense, BusinessType, LicenseRegistryEntry, Verification
from icc_app.settings import PROJECT_ROOT

N_LOTS = int(os.environ.get("BENCH_LOTS", "50000"))
USERS = 20
DURATION = os.environ.get("BENCH_DURATION", "30s")
STRAINS = ["Purple Kush", "Sour Diesel", "Girl Scout Cookies", "Gelato", "Blue Dream", "Gorilla Glue", "Runtz",
           "Wedding Cake", "Super Lemon Haze", "OG Kush", "Granddaddy Purple", "Zkittlez", "Jack Herer", "Durban"]
AREAS = [(47.6, -122.3), (46.6, -120.5), (45.5, -122.7), (44.0, -123.1), (39.7, -105.0), (38.8, -104.8)]
TYPES = ["flower"] * 5 + ["pre_roll", "concentrate", "vape", "trim", "edible"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _business(session: Session, name: str, kind: BusinessType, lat: float, lon: float, number: str):
    user = identity.create_user(session, email=f"{number}@bench.test", password="Bench-pass-2026", display_name=name)
    business = identity.create_business(session, legal_name=name, business_type=kind, owner=user)
    entry = LicenseRegistryEntry(state="WA", license_number=number, legal_name=name, latitude=lat, longitude=lon)
    session.add(entry)
    session.flush()
    session.add(BusinessLicense(business_id=business.id, license_number=number, state="WA", license_type="bench",
                                expires_on=(datetime.now(UTC) + timedelta(days=365)).date(),
                                verification=Verification.verified, registry_entry_id=entry.id))
    return user, business


def _seed(engine) -> tuple[str, str]:
    rng = random.Random(42)
    with Session(engine) as session:
        sellers = [_business(session, f"Bench Farm {i}", BusinessType.cultivator, *rng.choice(AREAS), f"{500000 + i}")[1].id
                   for i in range(20)]
        buyer_user, buyer = _business(session, "Bench Shop", BusinessType.retailer, 47.61, -122.33, "600000")
        token = identity.open_session_for(session, user_id=buyer_user.id).token
        buyer_id = str(buyer.id)
        session.commit()
    now = datetime.now(UTC)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for i in range(N_LOTS):
        seller = rng.choice(sellers)
        lat, lon = rng.choice(AREAS)
        strain = rng.choice(STRAINS)
        kind = rng.choice(TYPES)
        quantity = Decimal(rng.choice([10, 25, 50, 100, 500]))
        listed = now - timedelta(minutes=rng.randint(0, 60 * 24 * 29))
        writer.writerow([
            now.isoformat(), now.isoformat(), str(uuid.uuid4()), str(seller), f"{strain} {kind} lot {i}", kind, strain,
            rng.choice(["indica", "sativa", "hybrid"]), quantity, quantity, Decimal(5), rng.choice(["lb", "g", "units"]),
            Decimal(rng.randint(50, 3000)), "USD", f"{rng.choice(['indoor', 'sungrown', 'greenhouse'])} {strain}, batch {i}",
            "pickup", "false", "active", 1, listed.isoformat(), (listed + timedelta(days=30)).isoformat(),
            lat + rng.uniform(-0.8, 0.8), lon + rng.uniform(-0.8, 0.8), "WA", round(rng.uniform(12, 32), 2),
            round(rng.uniform(0.3, 4.5), 2), rng.choice(["true", "true", "true", ""]), round(rng.uniform(40, 98), 1),
        ])
    columns = ("created_at, updated_at, id, business_id, title, product_type, strain_name, strain_type, quantity, "
               "available_qty, min_order_qty, unit, price_per_unit, currency, description, delivery_terms, "
               "require_proof_of_funds, status, version, listed_at, listing_expires_at, latitude, longitude, state, "
               "thc_pct, terpenes_pct, safety_passed, cqi_score")
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY lots ({columns}) FROM STDIN WITH (FORMAT csv, NULL '')") as copy:
                copy.write(buffer.getvalue())
        raw.commit()
        raw.driver_connection.autocommit = True
        with raw.driver_connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE lots")  # what autovacuum does after a bulk load: visibility map, stats
    finally:
        raw.close()
    return token, buyer_id


def _plans(engine, origin) -> list[str]:
    """EXPLAIN ANALYZE of the page query of representative searches (captured as the service runs them)."""
    scenarios = {
        "newest, no filter": LotFilters(),
        "full text 'purple'": LotFilters(q="purple"),
        "within 50 miles, by distance": LotFilters(origin=origin, max_distance_miles=50, sort="distance"),
        "flower, THC >= 25, price <= 1000, by price": LotFilters(product_type="flower", thc_min=25, price_max=1000,
                                                                 sort="price_asc"),
    }
    notes = []
    for label, filters in scenarios.items():
        captured: list[tuple[str, object]] = []

        def capture(conn, cursor, statement, parameters, context, executemany, captured=captured):
            captured.append((statement, parameters))

        sa.event.listen(engine, "before_cursor_execute", capture)
        with Session(engine) as session:
            search(session, filters)
        sa.event.remove(engine, "before_cursor_execute", capture)
        statement, parameters = captured[-1]
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
                lines = [row[0] for row in cursor.fetchall()]
        finally:
            raw.close()
        shown = [line.strip() for line in lines if "Scan" in line or "Sort" in line or "Limit" in line
                 or "Execution Time" in line][:6]
        notes.append(f"Plan for {label}: " + " / ".join(shown))
    return notes


def _locust(port: int, env: dict, mode: str, pacing: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, mode)
        subprocess.run([str(PROJECT_ROOT / ".venv/bin/locust"), "-f", str(PROJECT_ROOT / "bench/locustfile.py"),
                        "--headless", "-u", str(USERS), "-r", str(USERS), "-t", DURATION, "--host",
                        f"http://127.0.0.1:{port}", "--csv", prefix, "--only-summary", "--loglevel", "WARNING"],
                       env={**env, "BENCH_MODE": mode, "BENCH_PACING": pacing}, check=True, capture_output=True,
                       timeout=600)
        with open(prefix + "_stats.csv") as f:
            row = next(r for r in csv.DictReader(f) if r["Name"] in ("me", "search"))
    return {"count": float(row["Request Count"]), "failures": float(row["Failure Count"]), "p50": float(row["50%"]),
            "p95": float(row["95%"]), "p99": float(row["99%"]), "rps": float(row["Requests/s"])}


def run() -> Section:
    with scratch_database("icc_bench_market") as url:
        engine = make_engine(url)
        started = time.perf_counter()
        token, buyer_id = _seed(engine)
        seeded = time.perf_counter() - started
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": url, "BENCH_TOKEN": token, "BENCH_BUYER": buyer_id}
        env.pop("REDIS_URL", None)
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "icc_app.api:build", "--factory", "--host",
                                   "127.0.0.1", "--port", str(port), "--workers", "2", "--log-level", "warning"],
                                  cwd=PROJECT_ROOT, env=env)
        try:
            for _ in range(120):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            for _ in range(30):  # warm both workers' connection pools and prepared statements
                httpx.get(f"http://127.0.0.1:{port}/api/v1/lots", headers={"Authorization": f"Bearer {token}"})
            runs = {(mode, pacing): _locust(port, env, mode, pacing)
                    for pacing in ("people", "saturation") for mode in ("baseline", "search")}
        finally:
            server.terminate()
            server.wait(20)
        plans = _plans(engine, (47.61, -122.33))
        engine.dispose()

    def row(name, mode, pacing):
        stats, base = runs[(mode, pacing)], runs[("baseline", pacing)]
        return [name, pacing, f"{stats['count']:,.0f}", f"{stats['failures']:.0f}", f"{stats['p50']:.0f}",
                f"{stats['p95']:.0f}", f"{stats['p99']:.0f}", f"{stats['rps']:.0f}", f"{stats['p95'] / base['p95']:.2f}"]

    searched = runs[("search", "people")]
    verdict = "met" if searched["p95"] < 200 and searched["failures"] == 0 else "NOT met"
    return Section(
        title="Marketplace search under load",
        description=f"{N_LOTS:,} active lots on PostgreSQL (seeded in {seeded:.1f} s), {USERS} concurrent locust users "
                    f"for {DURATION} per run against the API served by uvicorn (2 workers) on this 2-core machine, "
                    "locust on the same machine. Pacing 'people': each user reads the page 0.5-1.5 s before the next "
                    "search; 'saturation': no pause (the throughput ceiling, every user always waiting). Baseline: "
                    "GET /api/v1/me (same bearer authentication, no search) under the same pacing. "
                    f"Target p95 < 200 ms for search at 20 people: {verdict}.",
        headers=["endpoint", "pacing", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "req/s",
                 "p95 ratio to baseline"],
        rows=[row("baseline: /api/v1/me", "baseline", "people"), row("search mix: /api/v1/lots", "search", "people"),
              row("baseline: /api/v1/me", "baseline", "saturation"),
              row("search mix: /api/v1/lots", "search", "saturation")],
        notes=["The search mix: 35% full text, 40% product type, 30% THC floor, 30% price cap, 25% radius, 20% safety "
               "passed; sorts newest/price/THC/CQI/distance; pages 1-3; every query also counts its total."] + plans,
    )
