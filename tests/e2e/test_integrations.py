"""Point of sale in a real browser: a retailer's Admin connects a Flowhub location (a local server speaking
Flowhub's protocol, in this test process), is refused a bad address beside its box, tests the connection, presses
Sync now and watches the run finish in the log with its counts (the app's Celery worker runs it against the local
server); the dispensary's public menu shows the synced product. A price changed in the POS reaches the public page
after the next sync. On a desktop and on a phone (stacked cards, no sideways scrolling)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import describe, violations
from tests.e2e.conftest import LIVE_ENV, shot
from tests.integrations.fakes.flowhub import FakeFlowhub, inventory_row

pytestmark = pytest.mark.e2e

STORE = "Pine Street Provisions"
SLUG = "pine-street-provisions-415990"
PUBLIC_PAGE = f"/dispensaries/wa/seattle/{SLUG}"
API_KEY = "hub-key-7731-0042"
SYNC_TIMEOUT = 90_000  # ms: a worker shared with the other browser flows picks the run up


def _database():
    return psycopg.connect(LIVE_ENV["DATABASE_URL"].replace("postgresql+psycopg", "postgresql"))


def _claimed_store() -> None:
    """A store the demo retailer (buyer@icc.demo, its Admin) has already claimed on ICC Maps, with an empty menu."""
    with _database() as conn:
        business_id = conn.execute(  # the seed's retailer, whose Admin buyer@icc.demo is
            "SELECT id FROM businesses WHERE legal_name = 'Capitol Hill Cannabis Inc'").fetchone()[0]
        conn.execute("DELETE FROM dispensaries WHERE license_number = '415990'")
        conn.execute("INSERT INTO dispensaries (id, created_at, updated_at, name, license_number, state, street, city,"
                     " postal_code, latitude, longitude, geo_source, geo_confidence, hours, services, slug, city_slug,"
                     " is_active, claimed_by_business_id) VALUES (%s, now(), now(), %s, '415990', 'WA',"
                     " '1400 E Pine St', 'Seattle', '98122', 47.6152, -122.3141, 'registry', 0.6, '{}', '[]', %s,"
                     " 'seattle', true, %s)", (uuid.uuid4(), STORE, SLUG, business_id))


def _choose(page, combobox: str, option: str) -> None:
    page.get_by_role("combobox", name=combobox).click()
    page.get_by_role("option", name=option).click()


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"


def test_operator_connects_a_pos_syncs_and_the_public_menu_follows(page, live_app):
    from tests.e2e.test_shell import sign_in

    _claimed_store()
    with FakeFlowhub(client_id="hub-client-1", api_key=API_KEY, client_name="Pine Street Provisions LLC") as server:
        server.inventory = [inventory_row(product_id="hub-haze-001", name="Hub Haze 3.5g", price_cents=3500,
                                          quantity=12, species="Hybrid", thc=(21.0, 23.0), weight=3.5),
                            inventory_row(product_id="hub-haze-001", name="Hub Haze 3.5g", price_cents=3500,
                                          quantity=40, room="Vault", for_sale=False),
                            inventory_row(product_id="hub-jar-002", name="Mystery Jar", price_cents=0, quantity=3)]
        page.set_viewport_size({"width": 1440, "height": 900})
        sign_in(page, "buyer@icc.demo")
        expect(page.get_by_role("heading", name="Welcome, Blair Buyer")).to_be_visible()
        page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Point of sale").click()
        page.wait_for_url("**/console/integrations")
        expect(page.get_by_role("heading", name="Point of sale", level=1)).to_be_visible()
        expect(page.get_by_text("No point of sale connected yet")).to_be_visible()  # the empty state explains
        page.click("#open-connect")
        _choose(page, "Point of sale", "Flowhub")
        page.fill("#pos-name", "Pine Street Flowhub")
        page.fill("#pos-base_url", "ftp://pos.example.com")
        page.fill("#cred-client_id", "hub-client-1")
        page.fill("#cred-api_key", API_KEY)
        page.fill("#pos-location_id", server.location_id)
        _choose(page, "Dispensary whose menu it feeds", STORE)
        page.click("#pos-connect")
        expect(page.locator("#pos-base_url-error")).to_contain_text("https://")  # beside the box; nothing saved
        expect(page.locator(".pos-connection")).to_have_count(0)
        found = violations(page)  # the connect form: every control named, no serious issue
        assert not found, describe("connect form", found)
        shot(page, "integrations-connect-form-desktop")
        page.set_viewport_size({"width": 390, "height": 844})
        _no_sideways_scroll(page)
        shot(page, "integrations-connect-form-phone")
        page.set_viewport_size({"width": 1440, "height": 900})
        page.fill("#pos-base_url", server.url)
        page.click("#pos-connect")

        card = page.locator(".pos-connection", has_text="Pine Street Flowhub")
        expect(card).to_contain_text("Not synced yet")
        expect(card).to_contain_text("Saved (ends …0042)")
        expect(card.locator(".feeds")).to_have_text(STORE)
        expect(card.locator(".capabilities")).to_contain_text("Menu and inventory")
        assert API_KEY not in page.content()  # never shown again
        server.fail("timeout", path="/v0/clientsLocations")  # the vendor is slow to answer the first time
        card.get_by_role("button", name="Test connection").click()
        expect(card.get_by_role("button", name="Test connection")).to_be_disabled()  # no second test meanwhile
        expect(card.locator(".test-answer")).to_contain_text("Connected to Pine Street Provisions LLC")
        expect(card.get_by_role("button", name="Test connection")).to_be_enabled()
        expect(card.locator(".status-badge")).to_have_text("Healthy")

        card.get_by_role("button", name="Sync now").click()
        latest = page.locator(".sync-run").first
        expect(latest).to_have_attribute("data-status", "succeeded", timeout=SYNC_TIMEOUT)  # the page polled it
        expect(latest.locator(".run-created")).to_contain_text("1 created")
        expect(latest.locator(".run-skipped")).to_contain_text("1 skipped")  # the product without a price
        expect(latest.locator(".run-trigger")).to_have_text("Sync now")
        latest.get_by_text("Why items were skipped (1)").click()
        expect(latest.locator(".item-errors li")).to_contain_text("Mystery Jar")
        expect(latest.locator(".item-errors li")).to_contain_text("no price")
        expect(card.locator(".last-success")).to_have_text("just now")
        shot(page, "integrations-console-desktop")
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()  # without the toasts
        expect(card.locator(".status-badge")).to_have_text("Healthy")
        _no_sideways_scroll(page)
        shot(page, "integrations-console-phone")

        page.goto(PUBLIC_PAGE)
        item = page.locator(".menu-item", has_text="Hub Haze 3.5g")
        expect(item).to_contain_text("$35.00")

        server.set_price("hub-haze-001", 3900)  # the price changes in the POS
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto("/console/integrations")
        card = page.locator(".pos-connection", has_text="Pine Street Flowhub")
        card.get_by_role("button", name="Sync now").click()
        expect(page.locator(".sync-run")).to_have_count(2)
        latest = page.locator(".sync-run").first
        expect(latest).to_have_attribute("data-status", "succeeded", timeout=SYNC_TIMEOUT)
        expect(latest.locator(".run-updated")).to_contain_text("1 updated")

        server.fail(401, path="/v0/clientsLocations")  # the vendor refuses once: the run fails, nothing applied
        card.get_by_role("button", name="Sync now").click()
        expect(page.locator(".sync-run")).to_have_count(3)
        failed = page.locator(".sync-run").first
        expect(failed).to_have_attribute("data-status", "failed", timeout=SYNC_TIMEOUT)
        expect(failed.locator(".run-error")).to_contain_text("refused the credentials")
        expect(card.locator(".status-badge")).to_have_text("Failing")
        expect(card.locator(".last-error")).to_contain_text("refused the credentials")
        failed.get_by_role("button", name="Retry").click()
        expect(page.locator(".sync-run")).to_have_count(4)
        retried = page.locator(".sync-run").first
        expect(retried).to_have_attribute("data-status", "succeeded", timeout=SYNC_TIMEOUT)
        expect(retried.locator(".run-trigger")).to_have_text("Retry")
        expect(retried.locator(".run-unchanged")).to_contain_text("1 unchanged")
        expect(card.locator(".status-badge")).to_have_text("Healthy")
        _choose(page, "Filter runs by result", "Failed")
        expect(page.locator(".sync-run")).to_have_count(1)
        _choose(page, "Filter runs by result", "Succeeded")
        expect(page.locator(".sync-run")).to_have_count(3)
        shot(page, "integrations-runs-log")
        _choose(page, "Filter runs by result", "Any result")
        expect(page.locator(".sync-run")).to_have_count(4)

        page.goto(PUBLIC_PAGE)
        expect(page.locator(".menu-item", has_text="Hub Haze 3.5g")).to_contain_text("$39.00")
        shot(page, "integrations-public-menu")

        # Credentials replaced by wrong ones: the test answers why, the card says Failing; then disconnect.
        page.goto("/console/integrations")
        card = page.locator(".pos-connection", has_text="Pine Street Flowhub")
        card.get_by_role("button", name="Edit settings").click()
        settings = page.get_by_role("dialog", name="Connection settings")
        settings.locator("#edit-interval").fill("30")
        settings.get_by_role("button", name="Save settings").click()
        expect(settings).to_have_count(0)
        expect(card).to_contain_text("Every 30 minutes")
        card.get_by_role("button", name="Rotate credentials").click()
        dialog = page.get_by_role("dialog", name="Rotate credentials")
        dialog.locator("#rotate-client_id").fill("hub-client-1")
        dialog.locator("#rotate-api_key").fill("a-revoked-key-9999")
        dialog.get_by_role("button", name="Save new credentials").click()
        expect(dialog).to_have_count(0)
        expect(card).to_contain_text("Saved (ends …9999)")
        expect(card.locator(".status-badge")).to_have_text("Not synced yet")
        card.get_by_role("button", name="Test connection").click()
        expect(card.locator(".test-answer")).to_contain_text("refused the credentials")
        expect(card.locator(".status-badge")).to_have_text("Failing")
        expect(card.locator(".last-error")).to_contain_text("refused the credentials")
        expect(page.locator("[data-sonner-toast]")).to_have_count(0)  # the shared toast's green is not checked here
        found = violations(page)
        assert not found, describe("point of sale page", found)
        card.get_by_role("button", name="Disconnect").click()
        confirm = page.get_by_role("alertdialog")
        expect(confirm).to_contain_text("Disconnect Pine Street Flowhub?")
        confirm.get_by_role("button", name="Disconnect").click()
        expect(card.locator(".status-badge")).to_have_text("Disconnected")
        expect(card).to_contain_text("Erased")
        expect(card.get_by_role("button", name="Sync now")).to_have_count(0)  # nothing left to press
        expect(page.locator(".sync-run")).to_have_count(4)  # the history stays
