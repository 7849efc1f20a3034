"""The Metrc operator workflow with two businesses in two browsers, against a local Metrc in this test process (the
app's Celery worker creates the transfer template against it): the grower lists a Metrc package on CCX from the
Metrc page, adds the COA and publishes the lot; the retailer offers for the whole package; the grower accepts and
the order shows the transfer template; Metrc registers and departs the transfer and the order follows it to In
transit with its manifest; the retailer receives package by package on the order page, and its public menu shows
the product. On a desktop and on a phone."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from playwright.sync_api import expect

from icc_app.settings import PROJECT_ROOT
from tests.e2e.conftest import LIVE_ENV, live_cli, shot
from tests.e2e.test_shell import sign_in
from tests.integrations.fakes.metrc import BUYER_LICENSE, FakeMetrc, tag

pytestmark = pytest.mark.e2e

LABEL = tag(4401, prefix="1A4060300002")
ITEM = "Granddaddy Purple Buds"
STORE = "Pike Street Greens"
SLUG = "pike-street-greens-415991"
PUBLIC_PAGE = f"/dispensaries/wa/seattle/{SLUG}"
WORKER_WAIT = 90_000  # ms: the shared worker picks the template task up


def _database():
    return psycopg.connect(LIVE_ENV["DATABASE_URL"].replace("postgresql+psycopg", "postgresql"))


def _business(name: str) -> str:
    with _database() as conn:
        return str(conn.execute("SELECT id FROM businesses WHERE legal_name = %s", (name,)).fetchone()[0])


def _claimed_store(business_id: str) -> str:
    store_id = uuid.uuid4()
    with _database() as conn:
        conn.execute("DELETE FROM dispensaries WHERE license_number = '415991'")
        conn.execute("INSERT INTO dispensaries (id, created_at, updated_at, name, license_number, state, street, city,"
                     " postal_code, latitude, longitude, geo_source, geo_confidence, hours, services, slug, city_slug,"
                     " is_active, claimed_by_business_id) VALUES (%s, now(), now(), %s, '415991', 'WA',"
                     " '1500 Pike St', 'Seattle', '98101', 47.6142, -122.3271, 'registry', 0.6, '{}', '[]', %s,"
                     " 'seattle', true, %s)", (store_id, STORE, SLUG, business_id))
    return str(store_id)


def _connect(server: FakeMetrc, business_id: str, license_number: str, **extra: str) -> None:
    args = ["integrations", "connect", "metrc", "--business-id", business_id, "--state", "CO", "--base-url",
            server.url, "--credentials", json.dumps(server.credentials(license_number)), "--name",
            f"Metrc {license_number}"]
    for option, value in extra.items():
        args += [f"--{option.replace('_', '-')}", value]
    live_cli(*args)


def _follow(order_id: str) -> str:
    """What the 5-minute follow-up task does for this order, run now against the live database."""
    done = subprocess.run([str(PROJECT_ROOT / ".venv/bin/python"), "-c",
                           "import sys, uuid; from icc_app.integrations.metrc.workflows import follow_transfer; "
                           "print(follow_transfer(uuid.UUID(sys.argv[1])))", order_id],
                          env=LIVE_ENV, check=True, cwd=PROJECT_ROOT, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def _person(browser, live_app, email):
    page = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live_app).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, email)
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    return page


def _both_widths(page, name: str) -> None:
    shot(page, f"{name}-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "scrolls sideways"
    shot(page, f"{name}-phone")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_metrc_package_listed_sold_manifested_received_and_on_the_menu(browser, live_app, shared_data):
    with FakeMetrc(facility_name="Evergreen Farms Cultivation") as server:
        server.clock = datetime.now(UTC)
        server.add_facility(BUYER_LICENSE, "Capitol Hill Cannabis", retail=True)
        server.add_package(LABEL, item=ITEM, category="Buds", strain="Granddaddy Purple", quantity=10,
                           unit="Pounds", thc=24.1)
        server.add_package(tag(4402, prefix="1A4060300002"), item="Held Kush Buds", quantity=4, unit="Pounds",
                           on_hold=True)
        farm, shop = _business("Evergreen Farms LLC"), _business("Capitol Hill Cannabis Inc")
        _connect(server, farm, server.license_number)
        _connect(server, shop, BUYER_LICENSE, dispensary_id=_claimed_store(shop))

        # The grower lists the package from the Metrc page.
        grower = _person(browser, live_app, "grower@icc.demo")
        grower.goto("/console/integrations/metrc/alerts")
        expect(grower.get_by_role("heading", name="Packages in Metrc")).to_be_visible()
        grower.click("#show-packages")
        package = grower.locator(".metrc-package", has_text=ITEM)
        expect(package).to_contain_text("10 Pounds")
        expect(grower.locator(".metrc-package", has_text="Held Kush")).to_contain_text("On hold in Metrc")
        package.get_by_label("Asking price per unit ($)").fill("1200")
        package.get_by_role("button", name="List on CCX").click()
        link = package.locator(".listed-link")
        expect(link).to_be_visible()
        _both_widths(grower, "metrc-packages")
        link.click()
        grower.wait_for_url("**/exchange/sell?lot=*")
        expect(grower.get_by_role("heading", name=ITEM)).to_be_visible()
        grower.locator(".lot-coa-dropzone input[type=file]").set_input_files(
            str(shared_data / "coas/confident-cannabis/GDP.pdf"))
        expect(grower.locator(".lot-coa-row").first).to_contain_text("Parsed", timeout=60_000)
        grower.click("#publish-lot")
        expect(grower.get_by_text("Listed on the marketplace.")).to_be_visible()

        # The retailer offers for the whole package.
        buyer = _person(browser, live_app, "buyer@icc.demo")
        buyer.goto("/exchange")
        buyer.fill("#q", "granddaddy purple buds")
        buyer.click("#apply-filters")
        buyer.locator(".lot-card").filter(has_text=ITEM).click()
        expect(buyer.get_by_role("heading", name=ITEM)).to_be_visible()
        buyer.fill("#quantity", "10")
        buyer.fill("#price_per_unit", "1150")
        buyer.click("#send-offer")
        expect(buyer.locator("#offer-sent")).to_be_visible()

        # The grower accepts on net terms: the worker creates the Metrc transfer template.
        grower.goto("/exchange/offers")
        grower.locator(".offer-row").filter(has_text=ITEM).get_by_role("button").click()
        grower.get_by_role("combobox", name="Payment terms").click()
        grower.get_by_role("option", name=re.compile("Net 30", re.I)).click()
        grower.click("#accept-offer")
        grower.wait_for_url("**/exchange/orders/**")
        order_url = grower.url
        order_id = order_url.rstrip("/").rsplit("/", 1)[-1]
        for _ in range(60):
            if server.templates.get(server.license_number):
                break
            grower.wait_for_timeout(1000)
        assert server.templates.get(server.license_number), "no transfer template reached Metrc"
        grower.reload()
        expect(grower.locator("#metrc-template")).to_contain_text("CCX-")
        expect(grower.locator("#metrc-template")).to_contain_text(BUYER_LICENSE)
        expect(grower.locator("#metrc-manifest")).to_contain_text("not registered yet")
        grower.click("#confirm-order")
        expect(grower.locator("#order-status")).to_contain_text("Confirmed")

        # In Metrc the grower registers the template and the transfer departs; the order follows.
        server.clock = datetime.now(UTC)
        transfer = server.register_template(server.templates[server.license_number][0]["Id"], manifest="0000913377")
        transfer["ActualDepartureDateTime"] = transfer["LastModified"]
        assert _follow(order_id) == "in_transit"
        grower.reload()
        expect(grower.locator("#order-status")).to_contain_text("In transit")
        expect(grower.locator("#metrc-manifest")).to_contain_text("0000913377")
        expect(grower.locator("#metrc-receive")).to_have_count(0)  # only the buyer receives
        _both_widths(grower, "metrc-order-seller")

        # The retailer receives package by package.
        buyer.goto(order_url)
        expect(buyer.locator("#metrc-manifest")).to_contain_text("0000913377")
        expect(buyer.locator("#metrc-receive")).to_be_visible()
        expect(buyer.locator("#receive-order")).to_have_count(0)  # one way to receive: through Metrc
        buyer.click("#metrc-receive")
        expect(buyer.locator(".metrc-package")).to_contain_text("Accept or reject this package.")
        buyer.get_by_role("radio", name="Reject it").click()
        buyer.click("#metrc-receive")
        expect(buyer.locator(".metrc-package")).to_contain_text("Say why it is rejected.")
        _both_widths(buyer, "metrc-order-receive")
        buyer.get_by_role("radio", name="Accept the whole package").click()
        buyer.click("#metrc-receive")
        expect(buyer.locator("#order-status")).to_contain_text("Received")
        expect(buyer.locator("#metrc-transfer-status")).to_have_text("Received")
        expect(buyer.locator(".metrc-package")).to_contain_text("Accepted")
        expect(buyer.locator("#metrc-events")).to_contain_text("Metrc receipt: package")
        expect(buyer.locator("#metrc-events")).to_contain_text("Retail menu: 1 item(s) created")
        _both_widths(buyer, "metrc-order-received")

        grower.reload()  # the seller sees the receipt too
        expect(grower.locator(".metrc-package")).to_contain_text("Accepted")

        buyer.goto(PUBLIC_PAGE)
        expect(buyer.locator(".menu-item", has_text=ITEM)).to_be_visible()
        _both_widths(buyer, "metrc-public-menu")
