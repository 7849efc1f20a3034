"""The exchange with two people in two browsers: the grower lists a lot with a real COA (parsed by the real
worker), the buyer offers, the grower counters, the buyer uploads proof of funds and accepts, both confirm the
payment, the grower ships, the buyer receives; then a dispute is opened and a platform admin resolves it."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import sign_in

pytestmark = pytest.mark.e2e
TITLE = "Granddaddy Purple, indoor 2026"


def _person(browser, live_app, email):
    page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_app).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, email)
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    return page


def test_list_offer_counter_accept_pay_ship_receive_and_dispute(browser, live_app, shared_data):
    grower = _person(browser, live_app, "grower@icc.demo")
    grower.goto("/exchange/sell")
    expect(grower.get_by_role("heading", name="New lot")).to_be_visible()
    grower.fill("#title", TITLE)
    grower.fill("#strain_name", "Granddaddy Purple")
    grower.fill("#quantity", "100")
    grower.fill("#min_order_qty", "10")
    grower.fill("#price_per_unit", "abc")
    grower.click("#save-lot")
    expect(grower.locator("#price_per_unit-error")).to_contain_text("Enter a number")  # nothing saved
    grower.fill("#price_per_unit", "1200")
    grower.fill("#metrc_tag", "1A4FF0100000022000000123")
    grower.dblclick("#save-lot")  # a double click saves one draft (the form's idempotency key)
    expect(grower.get_by_role("heading", name=TITLE)).to_be_visible()
    grower.wait_for_timeout(1500)
    expect(grower.locator("tr").filter(has_text=TITLE)).to_have_count(1)
    grower.locator(".lot-coa-dropzone input[type=file]").set_input_files(str(shared_data / "coas/confident-cannabis/GDP.pdf"))
    expect(grower.locator(".lot-coa-row").first).to_contain_text("Parsed", timeout=60_000)
    grower.click("#publish-lot")
    expect(grower.get_by_text("Listed on the marketplace.")).to_be_visible()
    grower.fill("#edit_price", "1250")
    grower.click("#save-terms")
    expect(grower.get_by_text("Lot updated.")).to_be_visible()
    shot(grower, "exchange-my-lots")

    buyer = _person(browser, live_app, "buyer@icc.demo")
    console_errors: list[str] = []
    buyer.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    buyer.goto("/exchange")
    buyer.fill("#q", "granddaddy")
    buyer.click("#apply-filters")
    card = buyer.locator(".lot-card").filter(has_text=TITLE)
    expect(card).to_contain_text("Safety")
    expect(card).to_contain_text("$1,250.00 / lb")
    shot(buyer, "exchange-marketplace")
    card.click()
    expect(buyer.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(buyer.get_by_text("Open the COA (PDF)")).to_be_visible()
    for _ in range(30):  # the cqi worker scores the lot once it is listed
        if buyer.locator(".cqi-component").count():
            break
        buyer.wait_for_timeout(1000)
        buyer.reload()
    expect(buyer.locator(".cqi-component")).to_have_count(6)  # every component, with its reason
    expect(buyer.locator("#cqi-breakdown")).to_contain_text("Higher than")
    expect(buyer.locator(".cqi-badge").first).to_be_visible()
    for row in buyer.locator(".cqi-component").all():  # each bar is as long as its score (0..100)
        shown = row.locator("td").nth(0).inner_text().strip()
        assert row.locator(".cqi-bar").get_attribute("aria-valuenow") == shown
        share = row.locator(".cqi-bar-fill").evaluate("e => e.offsetWidth / e.parentElement.offsetWidth")
        assert abs(share * 100 - int(shown)) <= 3, (shown, share)
    assert not [e for e in console_errors if "Progress" in e or "prop" in e.lower()], console_errors
    buyer.fill("#quantity", "5")
    buyer.fill("#price_per_unit", "1100")
    buyer.click("#send-offer")
    expect(buyer.locator("#quantity-error")).to_contain_text("minimum order is 10")
    buyer.fill("#quantity", "20")
    buyer.click("#send-offer")
    expect(buyer.locator("#offer-sent")).to_be_visible()
    shot(buyer, "exchange-lot-page")

    grower.goto("/exchange/offers")
    grower.locator(".offer-row").filter(has_text=TITLE).get_by_role("button").click()
    expect(grower.locator("#offer-detail")).to_contain_text("20 lb at $1,100.00")
    grower.fill("#price_per_unit", "1180")
    grower.fill("#message", "Best I can do")
    grower.click("#send-counter")
    expect(grower.get_by_text("Counter-offer sent.")).to_be_visible()

    buyer.goto("/exchange/offers")
    buyer.locator(".offer-row").filter(has_text=TITLE).get_by_role("button").click()
    expect(buyer.locator(".offer-round")).to_have_count(2)
    buyer.locator(".pof-dropzone input[type=file]").set_input_files(
        files=[{"name": "bank-letter.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\nproof of funds\n%%EOF"}])
    expect(buyer.get_by_text("Proof of funds: bank-letter.pdf")).to_be_visible()
    shot(buyer, "exchange-offer-thread")
    buyer.click("#accept-offer")
    buyer.wait_for_url("**/exchange/orders/**")
    order_url = buyer.url
    expect(buyer.locator("#order-status")).to_contain_text("Pending")
    buyer.fill("#reference", "WIRE-20261122")
    buyer.click("#mark-sent")
    expect(buyer.locator("#payment-sent-status")).to_contain_text("$23,600.00 ref WIRE-20261122")

    grower.goto(order_url)
    grower.click("#confirm-order")
    expect(grower.locator("#order-status")).to_contain_text("Confirmed")
    grower.click("#mark-received")
    expect(grower.get_by_text("Paid: both sides confirmed")).to_be_visible()
    grower.click("#ship-order")  # a dialog asks for the transfer's details before the irreversible step
    expect(grower.locator("#ship-dialog")).to_be_visible()
    grower.fill("#manifest_number", "0004412876")
    grower.fill("#carrier", "Cascade Cannabis Transport")
    grower.fill("#tracking_number", "CCT-7781")
    shot(grower, "exchange-ship-dialog")
    grower.click("#confirm-ship")
    expect(grower.locator("#order-status")).to_contain_text("In transit")
    expect(grower.locator("#order-shipment")).to_contain_text("Manifest 0004412876 · Carrier Cascade Cannabis Transport")

    buyer.reload()
    buyer.click("#receive-order")
    expect(buyer.locator("#received_qty")).to_have_value("20")
    buyer.fill("#received_qty", "25")
    buyer.click("#confirm-receive")
    expect(buyer.locator("#received_qty-error")).to_contain_text("at most that")  # the dialog stays, nothing changed
    buyer.fill("#received_qty", "20")
    buyer.click("#confirm-receive")
    expect(buyer.locator("#order-status")).to_contain_text("Received")
    expect(buyer.locator("#order-received")).to_contain_text("20 lb")
    expect(buyer.locator(".order-event")).to_have_count(6)  # created, sent, confirmed, received $, shipped, received
    shot(buyer, "exchange-order-received")

    buyer.click("#dispute-reason")  # no reason is chosen for the person
    buyer.get_by_role("option", name="Quality not as described").click()
    buyer.fill("#description", "Two of the twenty pounds were stems and shake, not flower.")
    buyer.click("#open-dispute")
    expect(buyer.locator("#order-status")).to_contain_text("Disputed")
    admin = _person(browser, live_app, "admin@icc.demo")
    admin.goto("/admin/disputes")
    dispute = admin.locator("form").filter(has=admin.locator(".resolve-dispute")).first
    dispute.locator("input[name=refund_amount]").fill("2360")
    dispute.locator("input[name=decision]").fill("Partial refund for two pounds of shake, per the photos.")
    dispute.get_by_role("combobox").click()
    admin.get_by_role("option", name="Partial refund").click()  # words, not partial_refund
    dispute.locator(".resolve-dispute").click()
    expect(admin.get_by_text("Dispute resolved")).to_be_visible()
    buyer.reload()
    expect(buyer.locator("#order-status")).to_be_visible(timeout=30_000)
    expect(buyer.locator("#dispute-decision")).to_contain_text("Partial refund for two pounds")
    expect(buyer.locator("#order-status")).to_contain_text("Received")
    shot(buyer, "exchange-dispute-decided")

    admin.goto("/admin/cqi")
    expect(admin.get_by_role("heading", name="New version (starts from version 1)")).to_be_visible()
    expect(admin.locator("#w_safety")).to_have_value("0.25")  # the form shows the active weights once loaded
    admin.fill("#w_safety", "0.5")
    admin.click("#cqi-preview")
    expect(admin.get_by_text(re.compile("they must add up to 1"))).to_be_visible()
    admin.fill("#w_potency", "0")
    admin.click("#cqi-preview")
    expect(admin.locator("#cqi-preview-summary")).to_contain_text("active lots")
    admin.click("#cqi-activate")
    expect(admin.get_by_text("is active; every active lot is being rescored")).to_be_visible()
    shot(admin, "cqi-admin")


def test_a_coa_of_another_strain_is_flagged_with_its_sample_name(browser, live_app, shared_data):
    grower = _person(browser, live_app, "grower@icc.demo")
    grower.goto("/exchange/sell")
    grower.fill("#title", "Blue Dream, outdoor")
    grower.fill("#strain_name", "Blue Dream")
    grower.fill("#quantity", "50")
    grower.fill("#min_order_qty", "5")
    grower.fill("#price_per_unit", "800")
    grower.click("#save-lot")
    expect(grower.get_by_role("heading", name="Blue Dream, outdoor")).to_be_visible()
    grower.locator(".lot-coa-dropzone input[type=file]").set_input_files(str(shared_data / "coas/sc-labs/Cherry Punch.pdf"))
    expect(grower.locator(".lot-coa-row").first).to_contain_text("Parsed", timeout=60_000)
    expect(grower.locator("#seller-strain-mismatch")).to_be_visible()
    grower.get_by_text("View as buyers see it").click()
    expect(grower.locator("#coa-sample")).to_contain_text("Cherry Punch 1/2 oz.")
    expect(grower.locator("#strain-mismatch")).to_contain_text("does not match this lot's strain (Blue Dream)")
    shot(grower, "exchange-strain-mismatch")
