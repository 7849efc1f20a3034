"""Dispensary radius search at 10^4, 10^5 and 10^6 dispensaries on PostgreSQL: the search the app runs (PostGIS
geography, ST_DWithin on the GiST index, KNN order; maps.service.near) against a plain SQL haversine scan of the
same table (every row's great-circle distance, then filter and sort) in the same run. The points are the real
registry coordinates of every state list in ../shared/data/licenses, then synthetic points across the
contiguous US (denser around real cities) for scale. Target: at least 100x faster at 10^6, p50 under 5 ms for
a 25-mile radius."""

from __future__ import annotations

import csv
import io
import os
import random
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from bench.common import Section, percentile, scratch_database
from icc_app.core.db import make_engine
from icc_app.core.geo import METERS_PER_MILE, geography_of, haversine_miles
from icc_app.identity.licenses import parse_float, pick_column
from icc_app.maps import service
from icc_app.settings import PROJECT_ROOT

SIZES = [int(n) for n in os.environ.get("BENCH_MAPS_SIZES", "10000,100000,1000000").split(",")]
QUERIES = int(os.environ.get("BENCH_MAPS_QUERIES", "200"))
SCAN_QUERIES = int(os.environ.get("BENCH_MAPS_SCAN_QUERIES", "5"))
RADIUS = 25.0
LICENSES = PROJECT_ROOT.parent / "shared" / "data" / "licenses"
def _postgis_query():
    """The bare radius query, built from the same core.geo expression as the app's (so the bench measures the index
    the app's queries hit); parameters :lat, :lon, :meters."""
    place = geography_of(sa.column("latitude"), sa.column("longitude"))
    origin = geography_of(sa.bindparam("lat", type_=sa.Float), sa.bindparam("lon", type_=sa.Float))
    return (sa.select(sa.column("id"), sa.column("latitude"), sa.column("longitude"))
            .select_from(sa.table("dispensaries"))
            .where(sa.column("is_active"), sa.func.ST_DWithin(place, origin, sa.bindparam("meters", type_=sa.Float), False))
            .order_by(place.op("<->")(origin)).limit(25))


POSTGIS_QUERY = _postgis_query()
HAVERSINE_SCAN = sa.text(
    "SELECT id, d FROM (SELECT id, icc_distance_miles(latitude, longitude, :lat, :lon) AS d FROM dispensaries "
    "WHERE is_active) AS s WHERE d <= :radius ORDER BY d LIMIT 25")


def real_points() -> list[tuple[float, float]]:
    points = []
    for path in sorted(LICENSES.glob("licenses-*-latest.csv")):
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            for row in csv.DictReader(handle):
                lat, lon = parse_float(pick_column(row, "latitude"), -90, 90), parse_float(
                    pick_column(row, "longitude"), -180, 180)
                if lat is not None and lon is not None and 18 <= lat <= 72 and -180 <= lon <= -64:
                    points.append((lat, lon))
    return points


def _points(n: int, real: list[tuple[float, float]], rng: random.Random) -> list[tuple[float, float]]:
    points = real[:n]
    while len(points) < n:
        if rng.random() < 0.5 and real:  # near a real store: cities get dense, as they are
            lat, lon = rng.choice(real)
            points.append((lat + rng.gauss(0, 0.15), lon + rng.gauss(0, 0.15)))
        else:
            points.append((rng.uniform(25.0, 49.0), rng.uniform(-124.5, -67.0)))
    return points


def _load(engine, points: list[tuple[float, float]]) -> None:
    now = datetime.now(UTC).isoformat()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for i, (lat, lon) in enumerate(points):
        writer.writerow([uuid.uuid4(), now, now, f"Store {i}", f"B{i:07d}", "WA", lat, lon, "bench", 0.5, "{}", "[]",
                         f"store-{i}", "city", "true"])
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.execute("TRUNCATE dispensaries CASCADE")
            with cursor.copy("COPY dispensaries (id, created_at, updated_at, name, license_number, state, latitude, "
                             "longitude, geo_source, geo_confidence, hours, services, slug, city_slug, is_active) "
                             "FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            cursor.execute("ANALYZE dispensaries")
        raw.commit()
    finally:
        raw.close()


def _ms(samples: list[float], pct: float) -> str:
    return f"{percentile(samples, pct) * 1000:.2f}"


def run() -> Section:
    rng = random.Random(11)
    real = real_points()
    section = Section(
        title="Dispensary radius search",
        description=(f"{len(real):,} real registry points from ../shared/data/licenses, topped up with synthetic points "
                     f"across the contiguous US (half of them near real stores, so cities get dense). {QUERIES} searches "
                     f"of {RADIUS:g} miles around random real stores, nearest 25. Query: PostGIS ST_DWithin on the GiST "
                     "index with KNN order; baseline: a plain SQL haversine scan of the same table returning the same "
                     f"25 ({SCAN_QUERIES} searches per size), same run, same database. Service: maps.service.near as "
                     "the app and API call it (ORM rows plus the count, capped at 1,000). Target: 100x at 10^6 and "
                     "p50 under 5 ms."),
        headers=["dispensaries", "haversine scan p50 ms", "PostGIS query p50 ms", "PostGIS query p95 ms",
                 "speed-up (p50)", "near() p50 ms", "near() p95 ms"])
    with scratch_database("icc_bench_maps") as url:
        engine = make_engine(url)
        for size in SIZES:
            started = time.perf_counter()
            _load(engine, _points(size, real, rng))
            loaded = time.perf_counter() - started
            centres = [rng.choice(real) for _ in range(QUERIES)]
            params = [{"lat": lat, "lon": lon, "radius": RADIUS, "meters": RADIUS * METERS_PER_MILE}
                      for lat, lon in centres]
            with Session(engine) as session:
                for p in params[:10]:  # warm the caches the same way for all three
                    session.exec(POSTGIS_QUERY, params=p).all()
                    session.exec(HAVERSINE_SCAN, params=p).all()
                    service.near(session, lat=p["lat"], lon=p["lon"], radius_miles=RADIUS)
                query, slow, served, agree = [], [], [], True
                for p in params:
                    start = time.perf_counter()
                    session.exec(POSTGIS_QUERY, params=p).all()
                    query.append(time.perf_counter() - start)
                for p in params:
                    start = time.perf_counter()
                    service.near(session, lat=p["lat"], lon=p["lon"], radius_miles=RADIUS)
                    served.append(time.perf_counter() - start)
                for p in params[:SCAN_QUERIES]:
                    start = time.perf_counter()
                    scan = session.exec(HAVERSINE_SCAN, params=p).all()
                    slow.append(time.perf_counter() - start)
                    fast = session.exec(POSTGIS_QUERY, params=p).all()
                    # Same stores, up to ties and the spheroid/sphere difference (under 0.5%) in the distances.
                    mine = sorted(haversine_miles(r.latitude, r.longitude, p["lat"], p["lon"]) for r in fast)
                    agree &= len(mine) == len(scan) and all(abs(a - b.d) <= 0.005 * max(b.d, 1) for a, b in
                                                            zip(mine, scan, strict=True))
                total = service.near(session, lat=centres[0][0], lon=centres[0][1], radius_miles=RADIUS)
            speedup = percentile(slow, 50) / percentile(query, 50)
            section.rows.append([f"{size:,}", _ms(slow, 50), _ms(query, 50), _ms(query, 95), f"{speedup:,.0f}x",
                                 _ms(served, 50), _ms(served, 95)])
            section.notes.append(f"{size:,}: loaded in {loaded:.1f} s; e.g. {total.total:,}"
                                 f"{'' if total.total_exact else '+'} stores within {RADIUS:g} miles of the first "
                                 f"centre; same nearest stores as the scan: {'yes' if agree else 'NO'}.")
        with Session(engine) as session:
            lat, lon = real[0]
            bound = POSTGIS_QUERY.params(lat=lat, lon=lon, meters=RADIUS * METERS_PER_MILE)
            plan = session.exec(sa.text("EXPLAIN " + str(bound.compile(
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})))).all()
            section.notes.append("PostGIS plan: " + " / ".join(r[0].strip() for r in plan if "Index" in r[0]
                                                                or "Order By" in r[0] or "Limit" in r[0]))
        engine.dispose()
    return section
