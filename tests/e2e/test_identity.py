"""SSO in a real browser: a cultivator signs up, onboards with a license from the real WA registry, is verified
automatically, invites a Manager by email (a local SMTP server receives it), and the Manager accepts."""

import csv
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import SHARED_DATA
from tests.e2e.conftest import shot
from tests.e2e.test_shell import sign_in

pytestmark = pytest.mark.e2e
PASSWORD = "Grow-strong-2026"


def _registry_row() -> dict:
    with open(SHARED_DATA / "licenses" / "licenses-wa-latest.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if re.fullmatch(r"\d{6}", row["license_number"]) and row["license_status"].startswith("ACTIVE") \
                    and len(row["business_legal_name"]) > 8 and "@" in row["business_email"]:  # KYB code goes there
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
    page.fill("#password", "Summer2026!")
    page.fill("#password_confirm", "Summer2026!")
    page.click("#signup-submit")
    expect(page.locator("#password-error")).to_contain_text("breached passwords")  # a common word plus a year
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.click("#signup-submit")
    expect(page.locator("#signup-sent")).to_contain_text("cora@greenrows.test")  # no session until confirmed
    confirm = mailbox.wait_for("cora@greenrows.test", "Confirm your email")  # the verification email was delivered
    page.goto(mailbox.link(confirm, "/verify-email").split(live_app, 1)[-1])
    expect(page.locator("#verify-result")).to_contain_text("confirmed")
    sign_in(page, "cora@greenrows.test", PASSWORD)
    page.wait_for_url(re.compile(r".*/onboarding/?$"))  # a full page load (the server set the cookie)
    expect(page.get_by_role("heading", name="Your business")).to_be_visible()

    page.fill("#legal_name", row["business_legal_name"].title() + " LLC")
    page.fill("#city", row["premise_city"].strip().title())
    page.fill("#state", "WA")
    page.click("#business-continue")
    expect(page.get_by_role("heading", name="Add a license")).to_be_visible()

    page.fill("#license_number", "12AB")
    page.click("#add-license")
    expect(page.locator("#license_number-error")).to_contain_text("not a WA license number")
    page.fill("#premise_street", row["premise_street_address"].title())  # KYB: the registry's premises
    page.fill("#premise_postal_code", row["premise_zip_code"][:5])
    page.fill("#license_number", row["license_number"])
    page.click("#add-license")
    card = page.locator(".license-card").first
    expect(card).to_contain_text(f"WA {row['license_number']}")
    code = mailbox.wait_for(row["business_email"].strip().lower(), "verification code")["Subject"][-6:]  # to the
    card.get_by_label("Verification code").fill(code)  # contact the regulator lists: proof of control
    card.get_by_role("button", name="Verify").click()
    expect(card).to_contain_text("Verified")
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
    manager.wait_for_url(re.compile(r".*/team/?$"))
    expect(manager.get_by_role("rowheader", name=re.compile("Mo Manager"))).to_be_visible()
    expect(manager.get_by_role("row", name=re.compile("Mo Manager")).get_by_text("Manager", exact=True)).to_be_visible()
    shot(manager, "team-manager-joined")

    page.reload()
    expect(page.get_by_role("rowheader", name=re.compile("Mo Manager"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("mo@greenrows.test")).get_by_text("Accepted", exact=True)).to_be_visible()
    manager.goto(link.split(live_app, 1)[-1])
    expect(manager.locator("#invite-error")).to_contain_text("already used")  # single use


def test_sign_up_with_a_taken_address_answers_the_same_and_emails_the_owner(page, mailbox):
    page.goto("/signup")
    page.wait_for_load_state("networkidle")
    page.fill("#display_name", "Someone Else")
    page.fill("#email", "grower@icc.demo")  # a seeded account
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.click("#signup-submit")
    expect(page.locator("#signup-sent")).to_contain_text("grower@icc.demo")  # what a new address is told, too
    mailbox.wait_for("grower@icc.demo", "Someone tried to create an ICC account")


def test_the_session_cookie_is_httponly_and_pages_cannot_be_framed(page, live_app):
    set_cookies = []
    page.on("response", lambda r: set_cookies.append(r.header_value("set-cookie") or "")
            if "/auth/session" in r.url else None)
    sign_in(page, "grower@icc.demo")
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    assert any("icc_session=" in c and "HttpOnly" in c and "SameSite=Strict" in c for c in set_cookies), set_cookies
    cookie = next(c for c in page.context.cookies() if c["name"] == "icc_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] not in page.evaluate("document.cookie")  # page scripts cannot read the token
    assert "icc_session" not in page.evaluate("document.cookie")
    page.reload()  # a new websocket: the UI state still knows who is signed in (from the token's hash)
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()

    consent = page.request.get(f"{live_app}/oauth/consent")
    assert consent.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in consent.headers["content-security-policy"]
    assert "strict-transport-security" not in consent.headers  # http here; https adds HSTS

    page.goto("/logout")
    page.wait_for_url(re.compile(r".*/login/?$"))
    assert not [c for c in page.context.cookies() if c["name"] == "icc_session"]  # cleared by the server
    page.goto("/")
    expect(page.get_by_role("heading", name="The platform of the licensed cannabis industry")).to_be_visible()
