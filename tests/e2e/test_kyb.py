"""KYB in a real browser (issue 14): a real WA license number and business name from the public registry with a
made-up premises address is refused; the right address sends a code to the contact the regulator lists (the local
SMTP server receives it) and the code verifies; a second business claiming the verified license goes to admin
review and the holder is emailed."""

import csv
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import SHARED_DATA
from tests.e2e.conftest import shot

pytestmark = pytest.mark.e2e
PASSWORD = "Kyb-proof-of-control-2026"


def _registry_row() -> dict:
    """An active WA licensee whose regulator row lists an email (the last one: other flows take the first)."""
    rows = {}
    with open(SHARED_DATA / "licenses" / "licenses-wa-latest.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):  # a license's email may sit on another row of the same number
            rows.setdefault(row["license_number"], {**row, "business_email": ""})
            if "@" in row["business_email"]:
                rows[row["license_number"]]["business_email"] = row["business_email"].strip().lower()
    usable = [r for r in rows.values() if re.fullmatch(r"\d{6}", r["license_number"]) and r["business_email"]
              and r["license_status"].startswith("ACTIVE") and r["premise_street_address"].strip()
              and len(r["business_legal_name"]) > 8]
    assert usable, "no WA registry row with an email"
    return usable[-1]


def _sign_up(page, live_app, mailbox, name: str, email: str) -> None:
    """Create an operator account and confirm its email, as a new user would."""
    page.goto("/signup")
    page.wait_for_load_state("networkidle")
    page.fill("#display_name", name)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.click("#signup-submit")
    expect(page.locator("#signup-sent").or_(page.get_by_role("heading", name="Your business"))).to_be_visible()
    confirm = mailbox.wait_for(email, "Confirm your email")
    page.goto(mailbox.link(confirm, "/verify-email").split(live_app, 1)[-1])
    expect(page.locator("#verify-result")).to_contain_text("confirmed")
    page.goto("/onboarding")
    page.wait_for_load_state("networkidle")
    if "/login" in page.url:
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("#sign-in-submit")
        page.wait_for_url("**/onboarding")
    expect(page.get_by_role("heading", name="Your business")).to_be_visible()


def _business(page, row, *, street: str, postal_code: str) -> None:
    page.fill("#legal_name", row["business_legal_name"].title() + " LLC")
    page.fill("#street", street)
    page.fill("#city", row["premise_city"].strip().title())
    page.fill("#state", "WA")
    page.fill("#postal_code", postal_code)
    page.click("#business-continue")
    expect(page.get_by_role("heading", name="Add a license")).to_be_visible()
    expect(page.locator("#premise_street")).to_have_value(street)  # the premises default to the business address


def test_public_data_alone_is_refused_and_the_code_to_the_regulator_contact_verifies(page, browser, live_app,
                                                                                       mailbox):
    row = _registry_row()
    number, contact = row["license_number"], row["business_email"]
    masked = contact[0] + "***@" + contact.split("@")[1]
    _sign_up(page, live_app, mailbox, "Ida Impostor", "ida@kyb-first.test")

    # Number, state and name are public; the address is made up.
    _business(page, row, street="1 Made Up Way", postal_code="98001")
    page.fill("#license_number", number)
    page.click("#add-license")
    card = page.locator(".license-card").first
    expect(card).to_contain_text(f"WA {number}")
    expect(card).to_contain_text("Pending")
    expect(card.locator(".verification-reasons")).to_contain_text("you entered differ from the premises address")
    expect(card).not_to_contain_text("Verified")
    expect(page.locator("#license_number")).to_have_value("")  # the add form empties after a success
    shot(page, "kyb-refused-on-public-data")
    page.click("#to-review")
    expect(page.locator("#business-not-verified")).to_contain_text("not verified yet")
    expect(page.locator("#business-verified")).to_have_count(0)
    assert not [m for m in mailbox.messages if m["To"] == contact]  # no code went anywhere

    # The premises as the regulator lists them (suite numbers aside): a code goes to the regulator's contact.
    page.get_by_role("button", name="Add another license").click()
    expect(page.locator("#add-license")).to_be_visible()  # the page re-rendered: typing now is not lost
    card.locator("input[name=premise_street]").fill(row["premise_street_address"].title())
    card.locator("input[name=premise_postal_code]").fill(row["premise_zip_code"][:5])
    card.get_by_role("button", name="Check again").click()
    expect(card).to_contain_text("Code sent")
    expect(card).to_contain_text(f"Enter the code we sent to the contact the WA regulator lists for this license "
                                 f"({masked})")
    message = mailbox.wait_for(contact, f"verification code for WA license {number}")
    code = re.search(r"(\d{6})\s*$", message["Subject"]).group(1)
    card.get_by_role("button", name="Send a new code").click()
    expect(card.locator(".license-error")).to_contain_text("less than a minute ago")  # resend is rate limited
    card.get_by_label("Verification code").fill("000000" if code != "000000" else "111111")
    card.get_by_role("button", name="Verify").click()
    expect(card.locator(".license-error")).to_contain_text("not right")
    expect(card.get_by_label("Verification code")).not_to_have_value("")  # the form keeps its input
    card.get_by_label("Verification code").fill(code)
    card.get_by_role("button", name="Verify").click()
    expect(card).to_contain_text("Verified")
    expect(card.locator(".license-error")).to_have_count(0)  # the stale error is gone
    shot(page, "kyb-verified-by-code")
    page.click("#to-review")
    page.click("#submit-onboarding")
    expect(page.locator("#business-verified")).to_be_visible()

    # A second business claims the same license: admin review, and the holder hears of it.
    rival = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live_app).new_page()
    rival.set_default_timeout(20_000)
    _sign_up(rival, live_app, mailbox, "Rex Rival", "rex@kyb-second.test")
    _business(rival, row, street=row["premise_street_address"].title(), postal_code=row["premise_zip_code"][:5])
    rival.fill("#license_number", number)
    rival.click("#add-license")
    rival_card = rival.locator(".license-card").first
    expect(rival_card).to_contain_text("In review")
    expect(rival_card).to_contain_text("Another business on ICC already holds this license")
    mailbox.wait_for("ida@kyb-first.test", f"Another business claimed your WA license {number}")
    rival.locator("#license-documents input[type=file]").set_input_files(
        files=[{"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 license certificate"}])
    expect(rival_card).to_contain_text("certificate.pdf")  # the reviewer gets the document with the claim
    shot(rival, "kyb-second-claim-in-review")
    rival.context.close()
