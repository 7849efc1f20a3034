"""COA intake in a real browser, against the real worker: upload a lab's PDF, watch it parse, read its panels
and flags, correct a value (inline validation first), and see that another business cannot open it."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import sign_in

pytestmark = pytest.mark.e2e


def test_grower_uploads_a_coa_and_corrects_a_value(page, shared_data):
    sign_in(page, "grower@icc.demo")
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    page.get_by_role("navigation", name="Main navigation").get_by_text("Lab results (COAs)").click()
    expect(page.get_by_role("heading", name="Certificates of Analysis")).to_be_visible()
    expect(page.get_by_text("No COAs yet")).to_be_visible()
    shot(page, "coa-list-empty")

    page.fill("#claimed-thc", "30")
    page.wait_for_timeout(800)  # the input sends its value after a short debounce, as when a person types
    page.locator(".coa-dropzone input[type=file]").set_input_files(str(shared_data / "coas/sc-labs/Cherry Punch.pdf"))
    page.wait_for_url(re.compile(r"/coas/[0-9a-f-]{36}"))
    expect(page.locator("#coa-status")).to_have_text("Parsed", timeout=60_000)
    expect(page.get_by_text("19.25").first).to_be_visible()  # total THC printed on the report
    expect(page.get_by_text("Pesticides: pass")).to_be_visible()
    expect(page.locator(".coa-flag").filter(has_text="validity window")).to_be_visible()
    expect(page.locator(".coa-flag").filter(has_text="Claimed total THC 30%")).to_be_visible()
    expect(page.get_by_role("cell", name="THCA")).to_be_visible()
    shot(page, "coa-viewer")

    page.click("#save-correction")  # no value, no reason
    expect(page.get_by_text("Say why the value is corrected")).to_be_visible()
    page.fill("#correction-value", "20.1")
    page.fill("#correction-reason", "page 1 summary prints 20.1")
    page.click("#save-correction")
    expect(page.get_by_text("corrected; the original parse is kept")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Total thc %: 19.25 → 20.1"))).to_be_visible()
    coa_url = page.url

    page.goto("/coas")
    expect(page.get_by_role("link", name="Cherry Punch.pdf")).to_be_visible()
    shot(page, "coa-list")

    page.context.clear_cookies()
    sign_in(page, "buyer@icc.demo")
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    page.goto(coa_url)
    expect(page.get_by_text("COA not found")).to_be_visible()
    response = page.request.get(coa_url.replace("/coas/", "/api/v1/coas/") + "/file")
    assert response.status == 404


def test_a_coa_read_in_part_says_what_could_not_be_read_and_waits_for_the_seller(page, tmp_path):
    """No potency and no date read: "needs review" (not "parsed"), the viewer names what could not be read and
    never says the document lacks it; entering both by hand makes it parsed."""
    from tests.labs.pdf_samples import NO_POTENCY_NO_DATE, text_pdf

    pdf = tmp_path / "Blue Dream.pdf"
    pdf.write_bytes(text_pdf(NO_POTENCY_NO_DATE))
    sign_in(page, "grower@icc.demo")
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    page.goto("/coas")
    expect(page.get_by_role("heading", name="Certificates of Analysis")).to_be_visible()
    page.locator(".coa-dropzone input[type=file]").set_input_files(str(pdf))
    page.wait_for_url(re.compile(r"/coas/[0-9a-f-]{36}"))
    expect(page.locator("#coa-status")).to_have_text("Needs review", timeout=60_000)
    unread = page.locator("#coa-unread")
    expect(unread).to_contain_text("Could not be read from the PDF")
    expect(unread).to_contain_text("Total thc %")
    expect(unread).to_contain_text("Date tested")
    expect(page.get_by_text("Microbials: not read")).to_be_visible()
    expect(page.get_by_text("Pesticides: pass")).to_be_visible()  # what was read is shown
    expect(page.get_by_text(re.compile("not printed|not tested", re.IGNORECASE))).to_have_count(0)
    shot(page, "coa-needs-review")

    for field, value, reason in (("total_thc_pct", "24.6", "page 1 prints THCA 24.6%"),
                                 ("date_tested", "2026-11-02", "report date on page 1")):
        page.locator("#correction-field").click()
        page.get_by_role("option", name={"total_thc_pct": "Total thc %", "date_tested": "Date tested"}[field]).click()
        page.fill("#correction-value", value)
        page.fill("#correction-reason", reason)
        page.click("#save-correction")
        expect(page.get_by_text("corrected; the original parse is kept").last).to_be_visible()
    expect(page.locator("#coa-status")).to_have_text("Parsed")
    expect(unread).not_to_contain_text("Total thc %")
    shot(page, "coa-review-completed")


def test_values_the_parser_was_unsure_of_say_check_this(page, shared_data):
    sign_in(page, "grower@icc.demo")
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    page.goto("/coas")
    expect(page.get_by_role("heading", name="Certificates of Analysis")).to_be_visible()
    pdf = shared_data / "coas/anresco-laboratories/Peanutbutter Breath.pdf"  # its sample name is read at 50%
    page.locator(".coa-dropzone input[type=file]").set_input_files(str(pdf))
    page.wait_for_url(re.compile(r"/coas/[0-9a-f-]{36}"))
    expect(page.locator("#coa-status")).to_have_text("Parsed", timeout=60_000)
    badge = page.locator(".coa-check-this[data-field=sample_name]")
    expect(badge).to_have_text("check this")
    expect(badge).to_have_attribute("title", re.compile(r"50% confidence from page \d"))
    expect(page.locator(".coa-check-this[data-field=lab_name]")).to_have_count(0)
    shot(page, "coa-check-this")
