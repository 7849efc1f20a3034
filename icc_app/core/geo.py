"""Distances on the Earth, the same in Python, on SQLite and on PostgreSQL.

`icc_distance_miles(lat1, lon1, lat2, lon2)` is a SQL function on both databases: a plain SQL haversine created
by a migration on PostgreSQL, and this module's Python function registered on every SQLite connection, so one
query serves both.
"""

from __future__ import annotations

import math

EARTH_MILES = 3958.7613


def haversine_miles(lat1, lon1, lat2, lon2) -> float | None:
    if None in (lat1, lon1, lat2, lon2):
        return None
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_MILES * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, miles: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) that contains every point within `miles` (an index-friendly prefilter)."""
    dlat = miles / 69.0
    dlon = miles / max(1e-6, 69.0 * math.cos(math.radians(lat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


PG_DISTANCE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION icc_distance_miles(lat1 float8, lon1 float8, lat2 float8, lon2 float8)
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 2 * {EARTH_MILES} * asin(least(1.0, sqrt(
    power(sin(radians(lat2 - lat1) / 2), 2) +
    cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2))))
$$;
"""


def register_sqlite_functions(dbapi_connection) -> None:
    dbapi_connection.create_function("icc_distance_miles", 4, haversine_miles, deterministic=True)
