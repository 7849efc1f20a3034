"""The locator as a visitor uses it: a city or a neighbourhood found offline, the search read from the URL (so a
shared link, a reload and the back button show the same results), every result reachable a page at a time, sorts
by distance, rating and open now, cards with rating, open state, photo and directions; "search this area"."""

from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest

from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.identity.accounts import sign_up_consumer
from icc_app.maps import places, reviews, service
from icc_app.maps.geocoding import geocode
from icc_app.maps.models import Dispensary, DispensaryPhoto, ReviewSummary
from icc_app.maps.ui.locator import LocatorState, snap_radius
from icc_app.maps.ui.pages import DispensaryState
from tests.factories import PASSWORD, session_token
from tests.ui.harness import make_state, run

ALWAYS = {day: ["00:00", "23:59"] for day in service.WEEKDAYS}


@pytest.mark.parametrize(("query", "name", "kind"), [
    ("Seattle, WA", "Seattle, WA", "city"), ("seattle washington", "Seattle, WA", "city"),
    ("Capitol Hill, Seattle", "Capitol Hill, Seattle, WA", "neighbourhood"),
    ("Ballard, WA", "Ballard, Seattle, WA", "neighbourhood"), ("Portland", "Portland, OR", "city"),
    ("Portland, ME", "Portland, ME", "city")])
def test_cities_and_neighbourhoods_are_found_offline(query, name, kind):
    place = places.find_place(query)
    assert (place.name, place.kind) == (name, kind)


def test_a_city_needs_no_geocoding_service(connection):
    class Unreachable:
        name = "unreachable"

        def geocode(self, query):
            raise AssertionError("a city name must not be sent to the address geocoder")

    with unit_of_work() as session:
        point = geocode(session, "Seattle, WA", geocoder=Unreachable())
        assert point.label == "Seattle, WA" and abs(point.latitude - 47.61) < 0.05
        assert places.find_place("Nowhere Town, WA") is None and places.find_place("98102") is None


@pytest.fixture()
def seattle(connection):
    """45 stores around downtown Seattle, 1/40 mile apart going north; #3 is rated 4.8, #7 open around the clock,
    #0 has a photo."""
    with unit_of_work() as session:
        stores = []
        for i in range(45):
            store = Dispensary(name=f"Store {i:02d}", license_number=f"49{i:04d}", state="WA", city="Seattle",
                               city_slug="seattle", street=f"{100 + i} Pine St", postal_code="98101",
                               slug=f"store-{i:02d}", latitude=47.6062 + i * 0.00036, longitude=-122.3321,
                               phone="2065550100", hours=ALWAYS if i == 7 else {"monday": ["00:00", "00:01"]})
            session.add(store)
            stores.append(store)
        session.flush()
        session.add(ReviewSummary(target_type="dispensary", target_id=stores[3].id, count=1, rating=4.8))
        session.add(DispensaryPhoto(dispensary_id=stores[0].id, storage_key="x", filename="front.jpg"))
    return stores


def _load(query: dict):
    state = make_state(LocatorState, path="/dispensaries", query=query)
    run(LocatorState.load, state)
    return state


def _url_params(redirect) -> dict:
    """The query of the URL an rx.redirect event navigates to."""
    url = next(value._var_value for name, value in redirect.args if str(name).strip('"') == "path")
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def test_city_search_from_the_url_pages_through_every_result(seattle):
    state = _load({"q": "Seattle, WA", "r": "2"})
    assert state.error == "" and state.searched and state.total >= 45
    assert state.heading.startswith(f"{state.total} dispensaries within 2 miles of Seattle, WA")
    assert len(state.results) == 20 and state.page_line == f"Page 1 of {state.page_count}"
    first = state.results[0]
    assert first.name == "Store 00" and first.photo_url.startswith("/api/v1/dispensary-photos/")
    assert first.phone == "(206) 555-0100" and first.open == "Closed now"
    assert first.directions.endswith("100+Pine+St%2C+Seattle%2C+WA%2C+98101")
    next_page = parse_qs(urlparse(state.next_href).query)
    assert next_page == {"q": ["Seattle, WA"], "r": ["2"], "page": ["2"]} and state.previous_href == ""
    seen = set()
    for page in range(1, state.page_count + 1):  # every result is reachable, none twice
        page_state = _load({"q": "Seattle, WA", "r": "2", "page": str(page)})
        seen |= {card.id for card in page_state.results}
    assert {str(s.id) for s in seattle} <= seen and len(seen) == state.total


def test_sorts_and_filters_come_from_the_url(seattle):
    by_rating = _load({"q": "Seattle, WA", "r": "2", "sort": "rating"})
    assert by_rating.results[0].name == "Store 03" and by_rating.results[0].rating == "4.8 ★"
    assert by_rating.results[0].reviews == "1 review"
    open_first = _load({"q": "Seattle, WA", "r": "2", "sort": "open"})
    assert open_first.results[0].name == "Store 07" and open_first.results[0].open == "Open now"
    open_only = _load({"q": "Seattle, WA", "r": "2", "open": "1"})
    assert [c.name for c in open_only.results] == ["Store 07"] and open_only.heading.startswith("1 dispensary within")
    junk = _load({"q": "Seattle, WA", "r": "9999", "sort": "DROP TABLE", "page": "-4", "svc": "teleport"})
    assert (junk.radius, junk.sort, junk.page, junk.services, junk.error) == ("10", "distance", 1, [], "")


def test_changing_a_filter_or_the_sort_navigates_so_back_works(seattle):
    state = _load({"q": "Seattle, WA"})
    event = run(LocatorState.set_sort, state, "rating")
    assert _url_params(event) == {"q": "Seattle, WA", "sort": "rating"}
    event = run(LocatorState.search, state, {"where": "Capitol Hill, Seattle"})
    assert _url_params(event)["q"] == "Capitol Hill, Seattle"
    assert run(LocatorState.search, state, {"where": "  "}) is None and "Enter a city" in state.error


def test_an_unknown_place_says_what_to_type(seattle):
    state = _load({"q": "Atlantis, WA"})
    assert not state.searched and state.results == [] and "Seattle, WA" in state.error


def test_search_this_area_uses_the_moved_map(seattle):
    state = _load({"q": "Seattle, WA", "r": "2"})
    run(LocatorState.map_moved, state, {"lat": 47.62, "lon": -122.33, "radius_miles": 3.2})
    assert state.moved_to == [47.62, -122.33, 5.0]
    params = _url_params(run(LocatorState.search_area, state))
    assert params == {"lat": "47.62000", "lon": "-122.33000", "r": "5"}
    area = _load(params)
    assert area.searched and area.heading.endswith("of this area") and area.total >= 45
    run(LocatorState.map_moved, state, {"lat": "north", "lon": None})  # nonsense from the browser: ignored
    assert snap_radius(0.4) == "2" and snap_radius(900) == "100"


def test_a_consumer_edits_their_review_from_a_pre_filled_form(seattle):
    store = seattle[0]
    with unit_of_work() as session:
        user = sign_up_consumer(session, email="editor@example.test", password=PASSWORD, handle="editor",
                                birth_date=date(1990, 1, 1))
        reviews.write(session, principal=identity.build_principal(session, user), target_type="dispensary",
                      target_id=store.id, rating=3, effects=["relaxed"], text="Slow line")
        token = session_token(session, user)
    state = make_state(DispensaryState, token=token, path=service.page_path(store))
    run(DispensaryState.load, state)
    assert state.own_review.text == "Slow line" and state.review_list[0].mine
    assert state.review_count_line == "1 review"
    run(DispensaryState.start_edit, state)
    assert (state.editing, state.rating, state.effects, state.draft_text) == (True, "3", ["relaxed"], "Slow line")
    run(DispensaryState.set_rating, state, "5")
    run(DispensaryState.set_draft_text, state, "Faster now")
    run(DispensaryState.write_review, state, {"text": "Faster now"})
    assert not state.editing and state.own_review.rating == 5 and state.own_review.effects == ["relaxed"]
    assert [r.text for r in state.review_list] == ["Faster now"]  # edited, not a second review


def test_the_public_api_accepts_a_city_too(seattle):
    from fastapi.testclient import TestClient

    from icc_app import api

    client = TestClient(api.build())
    found = client.get("/api/v1/dispensaries", params={"address": "Seattle, WA", "radius_miles": 2}).json()
    assert found["total"] >= 45 and found["dispensaries"][0]["name"] == "Store 00"
    missing = client.get("/api/v1/dispensaries", params={"address": "Atlantis, WA"})
    assert missing.status_code == 422
