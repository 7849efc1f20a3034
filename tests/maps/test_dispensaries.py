"""ICC Maps groundwork: each state's retail list imported and placed, PostGIS and SQLite radius search agree on the
real points, the public search API (coordinates, ZIP, errors), and the offline and HTTP geocoders."""

import http.server
import json
import re
import threading

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from icc_app import api
from icc_app.core import migrations
from icc_app.core.db import make_engine, unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.core.geo import haversine_miles
from icc_app.maps import service
from icc_app.maps.geocoding import CensusGeocoder, OfflineZipGeocoder, geocode, zip_centroid
from icc_app.maps.models import Dispensary, GeocodeCache
from icc_app.maps.places import city_zip_points

STATES = ["WA", "OR", "CO", "AZ", "NM", "MT", "MA"]


def _import(session, shared_data, state):
    path = shared_data / "licenses" / f"licenses-{state.lower()}-latest.csv"
    return service.import_dispensaries(session, path.read_bytes(), state=state, geocoder=OfflineZipGeocoder())


@pytest.mark.parametrize("state", STATES)
def test_each_state_list_loads_its_retailers(connection, shared_data, state):
    with unit_of_work() as session:
        report = _import(session, shared_data, state)
    assert report.created > 100, report.summary()
    assert report.created + report.merged + report.skipped_not_retail + len(report.no_store) + \
        len(report.not_placed) == report.read
    for line, reason in report.not_placed:
        assert line >= 2 and reason


def test_registry_points_far_from_their_own_zip_are_placed_by_address(connection, shared_data):
    """The WA list draws some stores at another row's point (a Tacoma store in Seattle's Capitol Hill)."""
    with unit_of_work() as session:
        report = _import(session, shared_data, "WA")
        assert report.relocated and all("mi from ZIP" in why for _, why in report.relocated)
        capitol_hill = service.near(session, lat=47.6154, lon=-122.3252, radius_miles=3, limit=200)
        cities = {d.city for d, _ in capitol_hill.rows}
        assert "Tacoma" not in cities and "Seattle" in cities
        for dispensary, _ in service.near(session, lat=47.6, lon=-122.3, radius_miles=200, limit=1000).rows:
            own = zip_centroid(dispensary.postal_code or "")
            if dispensary.geo_source == "registry" and own and own[2] == "WA":  # a ZIP of another state is a typo
                # by its own ZIP, or by the centre of its own town (Port Angeles' 98363 is mostly rural)
                assert haversine_miles(dispensary.latitude, dispensary.longitude, own[0], own[1]) <= \
                    service.REGISTRY_TRUST_MILES or min(
                        haversine_miles(dispensary.latitude, dispensary.longitude, lat, lon)
                        for lat, lon in city_zip_points(dispensary.city, "WA")) <= service.REGISTRY_TRUST_MILES
    assert not report.not_placed  # a street number is not taken for the ZIP code


def test_wa_import_audits_each_point_against_its_zip_and_cleans_registry_text(connection, shared_data):
    """Always Greener Downtown (Redmond) is drawn at a Green Lake point in its adult-use row: the medical row's point
    fits its ZIP and is used; title certificates (a license without a store) are not shown as stores."""
    with unit_of_work() as session:
        report = _import(session, shared_data, "WA")
        store = session.exec(sa.select(Dispensary).where(Dispensary.license_number == "415486")).scalar_one()
        capitol_hill = zip_centroid("98102")
        assert store.street == "15937 Redmond Way Ste B" and store.city == "Redmond"
        assert 9 < haversine_miles(store.latitude, store.longitude, capitol_hill[0], capitol_hill[1]) < 11
        near_98102 = service.near(session, lat=capitol_hill[0], lon=capitol_hill[1], radius_miles=5, limit=500)
        assert "Redmond" not in {d.city for d, _ in near_98102.rows}
        streets = session.exec(sa.select(Dispensary.street).where(Dispensary.state == "WA")).scalars().all()
        assert not [s for s in streets if s is None or "CERTIFICATE" in s.upper() or re.search(r"\b[A-Z]{4,}\b", s)]
        names = session.exec(sa.select(Dispensary.name).where(Dispensary.state == "WA")).scalars().all()
        assert not [n for n in names if "title owner" in n.lower()] and "112th Street Cannabis" in names
    assert len(report.no_store) == 47 and all("TITLE CERTIFICATE" in why for _, why in report.no_store)
    moved = dict(report.relocated)
    assert "Always Greener Downtown" in moved[35] and "used the point of line 535" in moved[35]
    assert "10.4 mi from ZIP 98052" in moved[35]
    assert "title certificates without a store" in report.summary() and "moved" in report.summary()


def test_import_text_cleaning():
    from icc_app.maps.importer import clean_name, clean_street

    assert clean_street("938 N 200TH ST STE C") == "938 N 200th St Ste C"
    assert clean_street("RETAIL TITLE CERTIFICATE") is None and clean_street("  ") is None
    assert clean_street("123 Main St, Unit 4B") == "123 Main St, Unit 4B"  # already in reading case: kept
    assert clean_name("Awow Inc. (Title Owner Only)") == "Awow Inc."
    assert clean_name("TODAY'S HERBAL CHOICE LLC") == "Today's Herbal Choice LLC"


def test_postgis_and_sqlite_find_the_same_dispensaries(connection, shared_data, sqlite_url):
    with unit_of_work() as session:
        for state in ("WA", "OR", "CO"):
            _import(session, shared_data, state)
    migrations.upgrade(database_url=sqlite_url)
    lite = make_engine(sqlite_url)
    with Session(lite) as session:
        for state in ("WA", "OR", "CO"):
            _import(session, shared_data, state)
        session.commit()
    centers = [(47.6062, -122.3321, 10), (45.5152, -122.6784, 25), (39.7392, -104.9903, 5), (46.6021, -120.5059, 60)]
    for lat, lon, radius in centers:
        with unit_of_work() as session:
            pg = service.near(session, lat=lat, lon=lon, radius_miles=radius, limit=1000)
        with Session(lite) as session:
            sq = service.near(session, lat=lat, lon=lon, radius_miles=radius, limit=1000)
        pg_ids = {(d.state, d.license_number) for d, miles in pg.rows if abs(miles - radius) > 0.01}
        sq_ids = {(d.state, d.license_number) for d, miles in sq.rows if abs(miles - radius) > 0.01}
        assert pg.total > 0 and pg_ids == sq_ids, (lat, lon, radius)
        assert [round(m, 1) for _, m in pg.rows][:10] == sorted(round(m, 1) for _, m in pg.rows)[:10]  # nearest first
    lite.dispose()


def test_public_search_api(connection, shared_data):
    with unit_of_work() as session:
        _import(session, shared_data, "WA")
    client = TestClient(api.build())
    seattle = client.get("/api/v1/dispensaries", params={"lat": 47.6062, "lon": -122.3321, "radius_miles": 5})
    body = seattle.json()
    assert seattle.status_code == 200 and body["total"] > 5
    distances = [d["distance_miles"] for d in body["dispensaries"]]
    assert distances == sorted(distances) and distances[-1] <= 5
    by_zip = client.get("/api/v1/dispensaries", params={"zip": "98122", "radius_miles": 3})
    assert by_zip.status_code == 200 and by_zip.json()["origin"]["confidence"] == 0.3
    assert client.get("/api/v1/dispensaries", params={"lat": 95, "lon": 0}).status_code == 422
    assert client.get("/api/v1/dispensaries", params={"lat": 47.6, "lon": -122.3, "radius_miles": 0}).status_code == 422
    missing = client.get("/api/v1/dispensaries", params={"lat": 47.6})
    assert missing.status_code == 422 and "both lat and lon" in missing.json()["detail"]
    assert client.get("/api/v1/dispensaries", params={"zip": "00000"}).status_code == 422


class _Census(http.server.BaseHTTPRequestHandler):
    """A local server answering like the US Census one-line-address geocoder (one failure first, then a match)."""

    calls = 0

    def do_GET(self):  # noqa: N802 - http.server API
        type(self).calls += 1
        if type(self).calls == 1:
            self.send_response(503)
            self.end_headers()
            return
        body = {"result": {"addressMatches": [{"coordinates": {"x": -122.3191, "y": 47.6154},
                                               "matchedAddress": "500 E PINE ST, SEATTLE, WA, 98122"}]}}
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


def test_http_geocoder_retries_and_results_are_cached(connection):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Census)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    geocoder = CensusGeocoder(f"http://127.0.0.1:{server.server_port}", backoff=0.01)
    try:
        with unit_of_work() as session:
            point = geocode(session, "500 E Pine St, Seattle, WA 98122", geocoder=geocoder)
            again = geocode(session, "500 e pine st seattle wa 98122", geocoder=geocoder)  # same normalized query
            cached = session.exec(sa.select(sa.func.count()).select_from(GeocodeCache)).scalar()
    finally:
        server.shutdown()
    assert (point.latitude, point.longitude, point.confidence) == (47.6154, -122.3191, 0.9)
    assert again == point and _Census.calls == 2 and cached == 1  # one retry, then served from the cache
    with pytest.raises(ValidationFailed), unit_of_work() as session:
        service.near(session, lat=47.6, lon=-122.3, radius_miles=10_000)


def test_radius_search_uses_the_postgis_index(connection):
    """The GeoAlchemy2 expression of core.geo is the one the GiST index was built on, so PostgreSQL uses it."""
    from sqlalchemy.dialects import postgresql
    from sqlmodel import select

    with unit_of_work() as session:
        session.add(Dispensary(name="Indexed", license_number="400001", state="WA", slug="indexed",
                               latitude=47.61, longitude=-122.33))
        session.flush()
        geo, order = service.within(session, 47.6, -122.3, 10)
        query = select(Dispensary.id).where(Dispensary.is_active == True, *geo).order_by(*order).limit(5)  # noqa: E712
        sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in session.execute(sa.text("EXPLAIN " + sql)))
        found = session.exec(query).all()
    assert "ix_dispensaries_geog" in plan, plan
    assert len(found) == 1
