"""IVB in a real browser: a consumer takes the Find My Product quiz, sees in-stock products near them with reasons
on a list and a map, saves a favourite and finds it (and the search) on their account; a dispensary's checkout
page (a plain HTML page on another origin) embeds the widget, which renders picks for the cart, and no raw
customer id appears in any request the page makes."""

from __future__ import annotations

import http.server
import json
import threading
import uuid

import httpx
import psycopg
import pytest
from playwright.sync_api import expect

from icc_app.budtender.widget import customer_ref
from icc_app.core.security import hash_token
from tests.e2e.conftest import LIVE_ENV, shot
from tests.e2e.test_shell import sign_in

pytestmark = pytest.mark.e2e

RAW_CUSTOMER = "pos-customer-8841"
STRAINS = [  # key, name, effects, reviews, terpenes
    ("granddaddy-purple", "Granddaddy Purple", {"relaxed": 0.62, "sleepy": 0.48, "happy": 0.4}, 1204,
     {"myrcene": 0.9, "linalool": 0.3}),
    ("two-review-wonder", "Two Review Wonder", {"relaxed": 1.0, "sleepy": 1.0}, 2, {"limonene": 0.5}),
    ("sour-diesel", "Sour Diesel", {"energetic": 0.55, "uplifted": 0.5, "relaxed": 0.2}, 900,
     {"caryophyllene": 0.6, "limonene": 0.5}),
    ("blue-dream", "Blue Dream", {"relaxed": 0.5, "happy": 0.52, "creative": 0.3}, 2500,
     {"myrcene": 0.7, "pinene": 0.3}),
]
MENU = [  # name, strain, category, price, stock
    ("GDP Flower 3.5g", "Granddaddy Purple", "flower", 38, 12), ("Wonder Flower 3.5g", "Two Review Wonder", "flower", 30, 5),
    ("Sour Diesel Pre-roll", "Sour Diesel", "pre_roll", 9, 20), ("Blue Dream 3.5g", "Blue Dream", "flower", 35, 8),
    ("GDP Sold Out 7g", "Granddaddy Purple", "flower", 60, 0),
]


def _database():
    return psycopg.connect(LIVE_ENV["DATABASE_URL"].replace("postgresql+psycopg", "postgresql"))


@pytest.fixture(scope="module")
def shop(live_app):
    """Strains, a Denver store claimed by the demo retailer with a menu, and a partner key with the widget scope."""
    raw_key = "icc_pk_" + uuid.uuid4().hex
    items: dict[str, str] = {}
    with _database() as conn:
        for key, name, effects, reviews, terpenes in STRAINS:
            conn.execute("INSERT INTO budtender_strains (id, created_at, updated_at, key, name, effects, review_count,"
                         " terpenes, source) VALUES (%s, now(), now(), %s, %s, %s, %s, %s, 'test') ON CONFLICT (key)"
                         " DO NOTHING", (uuid.uuid4(), key, name, json.dumps(effects), reviews, json.dumps(terpenes)))
        business_id = conn.execute("SELECT id FROM businesses WHERE legal_name LIKE 'Capitol Hill%%'").fetchone()[0]
        store_id = uuid.uuid4()
        conn.execute("INSERT INTO dispensaries (id, created_at, updated_at, name, license_number, state, latitude,"
                     " longitude, geo_source, geo_confidence, hours, services, slug, city_slug, is_active,"
                     " claimed_by_business_id, city) VALUES (%s, now(), now(), 'Mile High Greens', %s, 'CO', 39.7490,"
                     " -104.9903, 'test', 1, '{}', '[]', %s, 'denver', true, %s, 'Denver')",
                     (store_id, f"IVB{uuid.uuid4().hex[:6]}", f"mile-high-greens-{uuid.uuid4().hex[:6]}", business_id))
        for name, strain, category, price, stock in MENU:
            item_id = uuid.uuid4()
            items[name] = str(item_id)
            terpenes = next(t for k, n, e, r, t in STRAINS if n == strain)
            conn.execute("INSERT INTO menu_items (id, created_at, updated_at, dispensary_id, source, external_id, name,"
                         " category, strain_name, thc_min, thc_max, thc_unit, cbd_unit, terpenes, variants, price,"
                         " currency, in_stock_qty, is_active) VALUES (%s, now(), now(), %s, 'manual', %s, %s, %s, %s,"
                         " 19, 19, '%%', '%%', %s, '[]', %s, 'USD', %s, true)",
                         (item_id, store_id, f"sku-{item_id.hex[:8]}", name, category, strain,
                          json.dumps([{"name": k, "pct": v} for k, v in terpenes.items()]), price, stock))
        conn.execute("INSERT INTO partner_api_keys (id, created_at, updated_at, business_id, name, prefix, key_hash,"
                     " scopes, status, rate_limit_per_minute) VALUES (%s, now(), now(), %s, 'Checkout', %s, %s,"
                     " '[\"widget\"]', 'active', 600)", (uuid.uuid4(), business_id, raw_key[:11], hash_token(raw_key)))
    return {"store_id": str(store_id), "items": items, "key": raw_key}


def test_consumer_finds_saves_and_sees_history(page, live_app, shop):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, "consumer@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, hazy_hiker")).to_be_visible()
    page.goto("/find-my-product")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Find My Product")).to_be_visible()
    feelings = page.get_by_role("group", name="How do you want to feel?")
    feelings.get_by_role("checkbox", name="Relaxed").click()
    feelings.get_by_role("checkbox", name="Sleepy").click()
    page.fill("#place", "Denver, CO")
    page.click("#find-my-product")
    expect(page.locator("#ivb-count")).to_contain_text("in stock within 15 miles of Denver, CO")
    results = page.locator(".ivb-result")
    expect(results.first).to_contain_text("GDP Flower 3.5g")
    expect(results.first).to_contain_text("Reviewers report relaxed 62% of the time (1,204 reviews)")
    expect(page.locator("#ivb-results")).not_to_contain_text("GDP Sold Out 7g")
    texts = results.all_inner_texts()
    assert [t for t in texts if "GDP Flower" in t] and texts.index(next(t for t in texts if "GDP Flower" in t)) < \
        texts.index(next(t for t in texts if "Wonder Flower" in t))
    expect(page.locator(".dispensary-map")).to_be_visible()
    shot(page, "budtender-results-1440")
    results.first.get_by_role("button", name="Save GDP Flower 3.5g to favourites").click()
    expect(results.first.get_by_role("button", name="Remove GDP Flower 3.5g from favourites")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})  # the same results on a phone
    expect(results.first).to_be_visible()
    shot(page, "budtender-results-390")

    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("link", name="My favourites and searches").click()
    page.wait_for_url("**/find-my-product/saved")
    expect(page.locator("#ivb-favourites")).to_contain_text("GDP Flower 3.5g")
    expect(page.locator("#ivb-favourites")).to_contain_text("In stock")
    expect(page.locator("#ivb-history")).to_contain_text("Relaxed, Sleepy")
    shot(page, "budtender-saved-1440")


class _CheckoutPage:
    """A dispensary's own checkout page on another origin, with the widget's script tag."""

    def __init__(self, html: str):
        body = html.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/checkout"

    def close(self):
        self.server.shutdown()


def test_widget_renders_on_a_partner_page_without_pii(browser, live_app, shop):
    auth = {"Authorization": f"Bearer {shop['key']}"}
    salt = httpx.get(f"{live_app}/api/v1/budtender/widget/settings", headers=auth).json()["customer_salt"]
    ref = customer_ref(salt, RAW_CUSTOMER)  # what the POS server sends: never the id itself
    opened = httpx.post(f"{live_app}/api/v1/budtender/widget/sessions", headers=auth,
                        json={"dispensary_id": shop["store_id"], "cart": [shop["items"]["Blue Dream 3.5g"]],
                              "customer_ref": ref, "wanted": ["relaxed"]})
    assert opened.status_code == 200, opened.text
    checkout = _CheckoutPage("<!doctype html><html><head><title>Checkout</title></head><body>"
                             "<h1>Your cart</h1><p>Blue Dream 3.5g</p>" + opened.json()["script"] + "</body></html>")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    seen: list[str] = []
    page.on("request", lambda request: seen.append(f"{request.url} {request.post_data or ''}"))
    try:
        page.goto(checkout.url)
        widget = page.locator(".icc-budtender")
        expect(widget.get_by_role("heading", name="Budtender picks at Mile High Greens")).to_be_visible()
        cards = widget.locator("article")
        expect(cards.first).to_be_visible()
        names = cards.all_inner_texts()
        assert not any("Blue Dream 3.5g" in n for n in names)  # already in the cart
        assert not any("Sold Out" in n for n in names)
        assert any("GDP Flower 3.5g" in n for n in names)
        shot(page, "budtender-widget-1440")
        with page.expect_response(lambda r: "/widget/events" in r.url and r.request.method == "POST") as sent:
            cards.first.get_by_role("button", name="Add to cart").click()
        assert sent.value.status == 204
        expect(cards.first.get_by_role("button", name="Added")).to_be_disabled()
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, "budtender-widget-390")
    finally:
        context.close()
        checkout.close()
    traffic = "\n".join(seen)
    assert "/widget/recommendations" in traffic and "/widget/events" in traffic
    assert RAW_CUSTOMER not in traffic and "consumer@icc.demo" not in traffic
    with _database() as conn:
        kinds = {row[0] for row in conn.execute("SELECT kind FROM budtender_widget_events WHERE customer_ref = %s",
                                                (ref,))}
    assert {"shown", "add_to_cart"} <= kinds
