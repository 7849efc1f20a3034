"""Distances on the Earth, the same in Python, on SQLite and on PostgreSQL.

`icc_distance_miles(lat1, lon1, lat2, lon2)` is a SQL function on both databases: a plain SQL haversine created
by a migration on PostgreSQL, and this module's Python function registered on every SQLite connection, so one
query serves both.

On PostgreSQL, radius search and nearest-first order use PostGIS geography built from a table's latitude and
longitude columns. `geography_of()` writes that expression once, through GeoAlchemy2's typed functions, exactly as
the GiST expression indexes are defined (ix_dispensaries_geog, ix_lots_geog), so the planner uses them;
`within_radius()` gives the conditions and the order for either database.
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from geoalchemy2 import Geography
from geoalchemy2 import functions as st

EARTH_MILES = 3958.7613


def haversine_miles(lat1, lon1, lat2, lon2) -> float | None:
    if None in (lat1, lon1, lat2, lon2):
        return None
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_MILES * math.asin(min(1.0, math.sqrt(a)))


METERS_PER_MILE = 1609.344
_WGS84 = sa.literal_column("4326")  # a literal, as in the index definitions (a bound parameter would not match)


def geography_of(latitude, longitude):
    """geography(ST_SetSRID(ST_MakePoint(lon, lat), 4326)) of columns or values (values are bound)."""
    return sa.func.geography(st.ST_SetSRID(st.ST_MakePoint(longitude, latitude), _WGS84),
                             type_=Geography(srid=4326))


def within_radius(dialect: str, latitude_column, longitude_column, lat: float, lon: float, miles: float
                  ) -> tuple[list, list]:
    """(conditions, order) for "within `miles` of (lat, lon), nearest first" over two coordinate columns.

    PostgreSQL: ST_DWithin on the geography (the GiST index) and the KNN operator `<->` for the order. SQLite: an
    indexed bounding box, then the exact great-circle distance; the same rows either way."""
    if dialect == "postgresql":
        place, origin = geography_of(latitude_column, longitude_column), geography_of(lat, lon)
        return [st.ST_DWithin(place, origin, miles * METERS_PER_MILE, False)], [place.op("<->")(origin)]
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, miles)
    distance = sa.func.icc_distance_miles(latitude_column, longitude_column, lat, lon)
    return ([latitude_column.between(min_lat, max_lat), longitude_column.between(min_lon, max_lon),
             distance <= miles], [distance])


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
