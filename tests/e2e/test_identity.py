"""SSO in a real browser: a cultivator signs up, onboards with a license from the real WA registry, is verified
automatically, invites a Manager by email (a local SMTP server receives it), and the Manager accepts."""

import csv
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import SHARED_DATA
from tests.e2e.conftest import shot

pytestmark = pytest.mark.e2e
PASSWORD = "Grow-strong-2026"


def _registry_row() -> dict:
    with open(SHARED_DATA / "licenses" / "licenses-wa-latest.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if re.fullmatch(r"\d{6}", row["license_number"]) and row["license_status"].startswith("ACTIVE") \
                    and len(row["business_legal_name"]) > 8:
                return row
    raise AssertionError("no usable WA registry row")


def test_cultivator_signs_up_is_verified_and_invites_a_manager(page, browser, live_app, mailbox):
    row = _registry_row()
    page.goto("/signup")
    expect(page.get_by_role("heading", name="Create your ICC account")).to_be_visible()
    page.fill("#display_name", "Cora Cultivator")
    page.fill("#email", "cora@greenrows.test")
    page.fill("#password", "short")
    page.fill("#password_confirm", "short")
    page.click("#signup-submit")
    expect(page.locator("#password-error")).to_contain_text("at least 10 characters")  # inline, nothing created
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.click("#signup-submit")
    page.wait_for_url("**/onboarding")
    expect(page.get_by_role("heading", name="Your business")).to_be_visible()
    mailbox.wait_for("cora@greenrows.test", "Confirm your email")  # the verification email was delivered

    page.fill("#legal_name", row["business_legal_name"].title() + " LLC")
    page.fill("#city", row["premise_city"].strip().title())
    page.fill("#state", "WA")
    page.click("#business-continue")
    expect(page.get_by_role("heading", name="Add a license")).to_be_visible()

    page.fill("#license_number", "12AB")
    page.click("#add-license")
    expect(page.locator("#license_number-error")).to_contain_text("not a WA license number")
    page.fill("#license_number", row["license_number"])
    page.click("#add-license")
    card = page.locator(".license-card").first
    expect(card).to_contain_text(f"WA {row['license_number']}")
    expect(card).to_contain_text("Verified")
    expect(card).to_contain_text("Matched the state regulator registry")
    shot(page, "onboarding-license-verified")
    page.click("#to-review")
    page.click("#submit-onboarding")
    expect(page.locator("#business-verified")).to_be_visible()

    page.goto("/team")
    expect(page.get_by_role("heading", name="Team")).to_be_visible()
    page.fill("#email", "mo@greenrows.test")
    page.click("#invite_role")
    page.get_by_role("option", name="manager").click()
    page.click("#send-invitation")
    expect(page.get_by_text("Invitation emailed to mo@greenrows.test.")).to_be_visible()
    expect(page.get_by_role("cell", name="mo@greenrows.test")).to_be_visible()
    shot(page, "team-invited")

    invitation = mailbox.wait_for("mo@greenrows.test", "invited you")
    link = mailbox.link(invitation, "/invite")
    manager = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live_app).new_page()
    manager.set_default_timeout(20_000)
    manager.goto(link.split(live_app, 1)[-1])
    expect(manager.get_by_text("You are invited to join")).to_contain_text("as Manager")
    manager.fill("#display_name", "Mo Manager")
    manager.fill("#password", PASSWORD)
    manager.fill("#password_confirm", PASSWORD)
    manager.click("#accept-new")
    manager.wait_for_url("**/team")
    expect(manager.get_by_role("rowheader", name=re.compile("Mo Manager"))).to_be_visible()
    expect(manager.get_by_role("row", name=re.compile("Mo Manager")).get_by_text("manager", exact=True)).to_be_visible()
    shot(manager, "team-manager-joined")

    page.reload()
    expect(page.get_by_role("rowheader", name=re.compile("Mo Manager"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("mo@greenrows.test")).get_by_text("accepted", exact=True)).to_be_visible()
    manager.goto(link.split(live_app, 1)[-1])
    expect(manager.locator("#invite-error")).to_contain_text("already used")  # single use
