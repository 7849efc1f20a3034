"""ICC Maps in a real browser, signed out: a visitor searches by ZIP, sees the nearest dispensaries, opens one,
and filters its live menu."""

import uuid

import httpx
import psycopg
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LIVE_ENV, live_cli, shot

pytestmark = pytest.mark.e2e


def _menu(dispensary_id: str) -> None:
    """Three items on the menu (what a claimed dispensary's staff would type or import)."""
    url = LIVE_ENV["DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url) as conn:
        for name, category, thc, price, stock in (("Blue Dream 3.5g", "flower", 22.5, 35, 10),
                                                  ("Gelato pre-roll", "pre_roll", 19, 9, 25),
                                                  ("Sold out OG", "flower", 25, 40, 0)):
            conn.execute("INSERT INTO menu_items (id, created_at, updated_at, dispensary_id, source, external_id, name,"
                         " category, thc_min, thc_max, thc_unit, cbd_unit, terpenes, variants, price, in_stock_qty,"
                         " is_active) VALUES (%s, now(), now(), %s, 'manual', %s, %s, %s, %s, %s, '%%', '%%', '[]',"
                         " '[]', %s, %s, true)",
                         (uuid.uuid4(), dispensary_id, name, name, category, thc, thc, price, stock))


def test_visitor_finds_a_dispensary_by_zip_and_filters_its_menu(page, live_app, shared_data):
    live_cli("dispensaries", "import", str(shared_data / "licenses/licenses-wa-latest.csv"), "--state", "WA")
    nearest = httpx.get(f"{live_app}/api/v1/dispensaries", params={"zip": "98122", "radius_miles": 10}).json()
    first = nearest["dispensaries"][0]
    _menu(first["id"])

    page.goto("/")
    page.get_by_role("link", name="Find a dispensary").click()
    page.wait_for_url("**/dispensaries")
    page.fill("#where", "00000")
    page.click("#find")
    expect(page.locator("#locator-error")).to_contain_text("could not find")
    page.fill("#where", "98122")
    page.click("#find")
    expect(page.locator("#locator-count")).to_contain_text(f"{nearest['total']} dispensaries within 10 miles")
    results = page.locator(".dispensary-result")
    expect(results.first).to_contain_text(first["name"])
    shot(page, "maps-locator")
    results.first.click()
    page.wait_for_url("**/dispensaries/wa/**")
    expect(page.get_by_role("heading", name=first["name"])).to_be_visible()
    expect(page.locator(".menu-item")).to_have_count(2)  # the sold-out item is not on the live menu
    page.fill("#menu-search", "gelato")
    expect(page.locator(".menu-item")).to_have_count(1)
    expect(page.locator(".menu-item")).to_contain_text("$9.00")
    shot(page, "maps-dispensary")


def test_consumer_writes_a_review_with_effect_tags(page, live_app, shared_data):
    from tests.e2e.test_shell import sign_in

    live_cli("dispensaries", "import", str(shared_data / "licenses/licenses-wa-latest.csv"), "--state", "WA")
    first = httpx.get(f"{live_app}/api/v1/dispensaries", params={"zip": "98122", "radius_miles": 10}).json()
    sign_in(page, "consumer@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, hazy_hiker")).to_be_visible()
    page.goto("/dispensaries")
    page.fill("#where", "98122")
    page.click("#find")
    page.locator(".dispensary-result").first.click()
    expect(page.get_by_role("heading", name=first["dispensaries"][0]["name"])).to_be_visible()
    page.get_by_role("checkbox", name="relaxed").click()
    page.get_by_role("checkbox", name="dry mouth").click()
    page.fill("#review-text", "Friendly budtenders, quick pickup.")
    page.click("#publish-review")
    review = page.locator(".review").first
    expect(review).to_contain_text("@hazy_hiker")
    expect(review).to_contain_text("dry mouth, relaxed")
    shot(page, "maps-review")
    page.fill("#review-text", "Edited: still great.")
    page.click("#publish-review")
    expect(page.locator(".review")).to_have_count(1)  # one review per consumer: the second publish edited it
    expect(page.locator(".review").first).to_contain_text("Edited: still great.")
