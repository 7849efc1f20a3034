"""ICC Maps in a real browser: a visitor searches by ZIP, sees the map (tiles from the configured tile server) and
the list, opens a dispensary, filters its live menu and opens a product; a visitor searches a city, and the results
live in the URL (reload, back button), on a desktop and on a phone; a consumer reviews with effect tags and edits
the review from a pre-filled form; an operator claims the store, edits hours and menu, imports a CSV; the public
page follows."""

import html
import re
import time
import uuid

import httpx
import psycopg
import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import describe, violations
from tests.e2e.conftest import LIVE_ENV, live_cli, shot

pytestmark = pytest.mark.e2e


TERPENES = '[{"name": "myrcene", "pct": 0.9}, {"name": "limonene", "pct": 0.4}]'


def _photo() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (30, 110, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def _database():
    return psycopg.connect(LIVE_ENV["DATABASE_URL"].replace("postgresql+psycopg", "postgresql"))


def _menu(dispensary_id: str, items=(("Blue Dream 3.5g", "flower", 22.5, 35, 10), ("Gelato pre-roll", "pre_roll", 19, 9, 25),
                                     ("Sold out OG", "flower", 25, 40, 0))) -> None:
    """Items on a menu (what a POS feed would bring; the console flow below types them by hand)."""
    with _database() as conn:
        conn.execute("DELETE FROM menu_items WHERE dispensary_id = %s", (dispensary_id,))
        for name, category, thc, price, stock in items:
            conn.execute("INSERT INTO menu_items (id, created_at, updated_at, dispensary_id, source, external_id, name,"
                         " category, thc_min, thc_max, thc_unit, cbd_unit, terpenes, variants, price, in_stock_qty,"
                         " is_active) VALUES (%s, now(), now(), %s, 'dutchie', %s, %s, %s, %s, %s, '%%', '%%', %s,"
                         " %s, %s, %s, true)",
                         (uuid.uuid4(), dispensary_id, name, name, category, thc, thc, TERPENES,
                          f'[{{"label": "each", "weight_g": null, "price": {price}}}]', price, stock))


def test_visitor_finds_a_dispensary_by_zip_and_filters_its_menu(page, live_app, shared_data, tiles):
    live_cli("dispensaries", "import", str(shared_data / "licenses/licenses-wa-latest.csv"), "--state", "WA")
    nearest = httpx.get(f"{live_app}/api/v1/dispensaries", params={"zip": "98122", "radius_miles": 10}).json()
    first, second = nearest["dispensaries"][0], nearest["dispensaries"][1]
    _menu(first["id"])
    _menu(second["id"], items=(("Blue Dream 3.5g", "flower", 21, 32, 4),))

    page.goto("/")
    page.get_by_role("link", name="Find a dispensary").click()
    page.wait_for_url("**/dispensaries")
    page.fill("#where", "00000")
    page.click("#find")
    expect(page.locator("#locator-error")).to_contain_text("could not find")
    page.fill("#where", "98122")
    page.click("#find")
    expect(page.locator("#locator-count")).to_contain_text(f"{nearest['total']} dispensaries within 10 miles of 98122")
    results = page.locator(".dispensary-result")
    expect(results.first).to_contain_text(first["name"])
    shown = results.count()
    the_map = page.locator(".dispensary-map")
    expect(the_map).to_have_attribute("data-markers", str(shown))  # a marker per listed dispensary
    expect(the_map.locator("path.leaflet-interactive")).to_have_count(shown)
    expect(the_map).to_have_attribute("data-tiles", "up")
    assert any(path.startswith("/tiles/") for path in tiles.requests)  # the browser fetched the configured tiles
    shot(page, "maps-locator")
    expect(results.first.get_by_role("link", name=f"Directions to {first['name']}")).to_be_visible()
    results.first.locator(".dr-name").click()
    page.wait_for_url("**/dispensaries/wa/**")
    expect(page.get_by_role("heading", name=first["name"], level=1)).to_be_visible()
    expect(page.locator(".menu-item")).to_have_count(2)  # the sold-out item is not on the live menu
    expect(page.locator(".menu-category")).to_contain_text(["Flower", "Pre-roll"])  # grouped by category
    expect(page.locator(".menu-tabs a")).to_contain_text(["Flower", "Pre-roll", "Reviews"])
    page.fill("#menu-search", "gelato")
    expect(page.locator(".menu-item")).to_have_count(1)
    expect(page.locator(".menu-item")).to_contain_text("$9.00")
    page.fill("#menu-search", "")
    page.get_by_role("combobox", name="Minimum THC percent").click()
    page.get_by_role("option", name="20").click()
    expect(page.locator(".menu-item")).to_have_count(1)
    expect(page.locator(".menu-item")).to_contain_text("Blue Dream")
    expect(page.locator(".dispensary-map path.leaflet-interactive")).to_have_count(1)
    shot(page, "maps-dispensary")
    page.locator(".menu-item").first.click()
    page.wait_for_url("**/blue-dream-3-5g-*")
    expect(page.get_by_role("heading", name="Blue Dream 3.5g")).to_be_visible()
    expect(page.locator(".terpene-chart")).to_contain_text("Myrcene")
    expect(page.locator(".nearby")).to_have_count(1)
    expect(page.locator(".nearby")).to_contain_text(second["name"])
    expect(page.locator(".nearby")).to_contain_text("$32.00")
    shot(page, "maps-product")
    head = httpx.get(page.url).text  # what a crawler gets before any script runs
    assert f"<title>Blue Dream 3.5g at {html.escape(first['name'])}" in head and 'rel="canonical"' in head


def _search_city(page, where: str) -> None:
    page.fill("#where", where)
    page.click("#find")


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_city_search_results_live_in_the_url(page, live_app, shared_data, viewport):
    live_cli("dispensaries", "import", str(shared_data / "licenses/licenses-wa-latest.csv"), "--state", "WA")
    name = "desktop" if viewport["width"] > 800 else "phone"
    page.set_viewport_size(viewport)
    page.goto("/dispensaries")
    _search_city(page, "Seattle, WA")
    page.wait_for_url(re.compile(r"/dispensaries/?\?q=Seattle%2C\+WA$"))
    count = page.locator("#locator-count")
    expect(count).to_contain_text("dispensaries within 10 miles of Seattle, WA")
    results = page.locator(".dispensary-result")
    expect(results).to_have_count(20)  # a page at a time: the rest are on the next pages
    first_name = results.first.locator(".dr-name").inner_text()
    expect(results.first.get_by_role("link", name="Directions")).to_have_attribute(
        "href", re.compile(r"^https://www\.google\.com/maps/dir/\?api=1&destination=.+Seattle"))
    expect(results.first).to_contain_text(re.compile(r"Open now|Closed now|No reviews yet"))
    shot(page, f"maps-city-search-{name}")
    found = violations(page)  # the results, the filters and the map: every control named, no serious issue
    assert not found, describe("locator results", found)
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"/dispensaries/?\?q=Seattle%2C\+WA&page=2$"))
    expect(page.locator("#results")).to_contain_text("Page 2 of")
    second_page_first = results.first.locator(".dr-name").inner_text()
    assert second_page_first != first_name
    page.reload()  # reload-safe: the same page of the same search
    expect(results.first.locator(".dr-name")).to_have_text(second_page_first)
    page.go_back()  # the back button returns to page 1
    page.wait_for_url(re.compile(r"/dispensaries/?\?q=Seattle%2C\+WA$"))
    expect(results.first.locator(".dr-name")).to_have_text(first_name)
    page.get_by_role("combobox", name="Sort results").click()
    page.get_by_role("option", name="Open now first").click()
    page.wait_for_url(re.compile(r"/dispensaries/?\?q=Seattle%2C\+WA&sort=open$"))
    _search_city(page, "Capitol Hill, Seattle")
    page.wait_for_url(re.compile(r"/dispensaries/?\?q=Capitol\+Hill%2C\+Seattle&sort=open$"))
    expect(count).to_contain_text("of Capitol Hill, Seattle, WA")
    page.go_back()
    expect(count).to_contain_text("of Seattle, WA")
    expect(page.locator("#where")).to_have_value("Seattle, WA")
    shot(page, f"maps-city-search-back-{name}")
    the_map = page.locator(".dispensary-map")
    expect(the_map).to_have_attribute("data-markers", "20")
    page.wait_for_timeout(600)  # the map has fitted itself to the results; what follows is the visitor's move
    box = the_map.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2 + 80, steps=8)
    page.mouse.up()
    page.get_by_role("button", name="Search this area").click()
    page.wait_for_url(re.compile(r"/dispensaries/?\?(r=\d+&)?sort=open&lat=[\d.]+&lon=-[\d.]+$"))
    expect(count).to_contain_text("of this area")
    _search_city(page, "Atlantis, WA")
    expect(page.locator("#locator-error")).to_contain_text("try a city and state")


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_consumer_reviews_and_edits_the_review_pre_filled(page, live_app, shared_data, viewport):
    from tests.e2e.test_shell import sign_in

    name = "desktop" if viewport["width"] > 800 else "phone"
    live_cli("dispensaries", "import", str(shared_data / "licenses/licenses-wa-latest.csv"), "--state", "WA")
    first = httpx.get(f"{live_app}/api/v1/dispensaries", params={"zip": "98122", "radius_miles": 10}).json()
    with _database() as conn:  # a fresh start for each viewport: the demo consumer has not reviewed it yet
        conn.execute("DELETE FROM reviews WHERE dispensary_id = %s", (first["dispensaries"][0]["id"],))
    page.set_viewport_size(viewport)
    sign_in(page, "consumer@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, hazy_hiker")).to_be_visible()
    page.goto("/dispensaries?q=98122")
    page.locator(".dispensary-result").first.locator(".dr-name").click()
    page.wait_for_url("**/dispensaries/wa/**")
    expect(page.get_by_role("heading", name=first["dispensaries"][0]["name"], level=1)).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Reviews \(")).first.click()  # reachable without scrolling the menu
    page.get_by_role("combobox", name="Your rating").click()
    page.get_by_role("option", name="4 stars").click()
    page.get_by_role("checkbox", name="relaxed").click()
    page.get_by_role("checkbox", name="dry mouth").click()
    page.fill("#review-text", "Friendly budtenders, quick pickup.")
    page.click("#publish-review")
    own = page.locator("#own-review")
    expect(own).to_contain_text("Your review")
    expect(own).to_contain_text("Friendly budtenders, quick pickup.")
    expect(own).to_contain_text("dry mouth")
    expect(own).to_contain_text("relaxed")
    expect(page.locator(".review")).to_have_count(0)  # shown once, as "Your review", not again in the list
    shot(page, f"maps-review-{name}")
    page.click("#edit-review")
    expect(page.locator("#review-text")).to_have_value("Friendly budtenders, quick pickup.")  # pre-filled
    expect(page.get_by_role("checkbox", name="relaxed")).to_be_checked()
    expect(page.get_by_role("checkbox", name="dry mouth")).to_be_checked()
    expect(page.get_by_role("combobox", name="Your rating")).to_contain_text("4 stars")
    shot(page, f"maps-review-edit-{name}")
    # The shared success toast (green on pale green, 4.25:1) is the app shell's, reported; check the page itself.
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    found = violations(page)  # the dispensary page with the menu tabs and the review form open
    assert not found, describe("dispensary page, editing a review", found)
    page.get_by_role("checkbox", name="dry mouth").click()
    page.fill("#review-text", "Edited: still great.")
    page.click("#publish-review")
    expect(own).to_contain_text("Edited: still great.")
    expect(own).to_contain_text("relaxed")
    expect(own).not_to_contain_text("dry mouth")
    expect(page.get_by_role("link", name=re.compile(r"^Reviews \(1\)")).first).to_be_visible()  # the edit changed it


def test_operator_claims_the_store_and_edits_hours_and_menu(page, live_app):
    from tests.e2e.test_shell import sign_in

    with _database() as conn:  # the demo retailer's store, as the state list would have it
        conn.execute("DELETE FROM dispensaries WHERE license_number = '415678'")
        conn.execute("INSERT INTO dispensaries (id, created_at, updated_at, name, license_number, state, street, city,"
                     " postal_code, latitude, longitude, geo_source, geo_confidence, hours, services, slug, city_slug,"
                     " is_active) VALUES (%s, now(), now(), 'Capitol Hill Cannabis', '415678', 'WA', '500 E Pine St',"
                     " 'Seattle', '98122', 47.6154, -122.3252, 'registry', 0.6, '{}', '[]',"
                     " 'capitol-hill-cannabis-415678', 'seattle', true)", (uuid.uuid4(),))
    sign_in(page, "buyer@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, Blair Buyer")).to_be_visible()
    page.get_by_role("link", name="My dispensary").click()
    page.wait_for_url("**/maps/manage")
    page.locator(".claim").click()
    expect(page.get_by_role("heading", name="Capitol Hill Cannabis")).to_be_visible()
    page.fill("#item-sku", "F-100")
    page.fill("#item-name", "Hill Haze 3.5g")
    page.fill("#item-price", "-5")
    page.click("#save-item")
    price_field = page.locator("div", has=page.locator("#item-price")).filter(has=page.get_by_role("alert")).last
    beside_price = price_field.get_by_role("alert")
    expect(beside_price).to_contain_text("price must be between")  # beside the box; nothing saved
    expect(page.locator(".console-item")).to_have_count(0)
    page.fill("#item-price", "38")
    page.fill("#item-thc_pct", "24")
    page.fill("#item-in_stock_qty", "6")
    page.fill("#item-terpenes", "terpinolene 1.1; myrcene 0.3")
    page.click("#save-item")
    expect(page.locator(".console-item")).to_have_count(1)
    csv = b"sku,name,category,price,in_stock_qty\nE-1,Mint gummies,edible,18,20\nX-1,Mystery,rocket,5,1\n"
    page.locator("input[type=file]").set_input_files(files=[{"name": "menu.csv", "mimeType": "text/csv",
                                                             "buffer": csv}])
    expect(page.locator("#import-summary")).to_contain_text("1 item saved, 1 row with errors")
    expect(page.locator(".import-error")).to_contain_text("Line 3: category 'rocket'")
    expect(page.locator(".console-item")).to_have_count(2)
    page.locator(".console-item", has_text="Mint gummies").get_by_role("button", name="Mark out of stock").click()
    expect(page.locator(".console-item", has_text="Mint gummies")).to_contain_text("out of stock")
    page.get_by_role("tab", name="Profile & hours").click()
    page.fill("#monday-open", "9:00")
    page.fill("#monday-close", "late")
    page.click("#save-profile")
    expect(page.locator("#profile-error")).to_contain_text("HH:MM")
    page.fill("#monday-close", "21:00")
    page.get_by_role("checkbox", name="Delivery").click()
    page.click("#save-profile")
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    upload = page.locator("input[type=file]")
    upload.set_input_files(files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image"}])
    expect(page.locator("#photo-error")).to_contain_text("not a readable image")
    upload.set_input_files(files=[{"name": "front.png", "mimeType": "image/png", "buffer": _photo()}])
    expect(page.locator(".console-photo")).to_have_count(1)
    shot(page, "maps-console")

    page.goto("/dispensaries/wa/seattle/capitol-hill-cannabis-415678")
    expect(page.locator(".menu-item")).to_have_count(1)  # the gummies are out of stock
    expect(page.locator(".menu-item")).to_contain_text("Hill Haze 3.5g")
    expect(page.locator(".menu-item")).to_contain_text("Terpinolene 1.1%")
    expect(page.locator("#hours")).to_contain_text("09:00–21:00")
    expect(page.get_by_text("verified owner")).to_be_visible()
    photo = page.locator(".dispensary-photos img")
    expect(photo).to_have_count(1)
    expect(photo).not_to_have_js_property("naturalWidth", 0)  # the image loaded, no sign-in needed
    thumbnail = f"{live_app}{photo.get_attribute('src')}"
    deadline = time.monotonic() + 30
    while httpx.get(thumbnail).headers["content-type"] != "image/jpeg" and time.monotonic() < deadline:
        time.sleep(0.5)  # the worker makes the thumbnail after the upload
    assert httpx.get(thumbnail).headers["content-type"] == "image/jpeg"
