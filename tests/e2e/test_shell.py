"""The main platform flow in a real browser: sign in, navigate, notifications, audit, dark mode, 404, sign out."""

import re

import pytest
from playwright.sync_api import expect

from icc_app.core.seed import DEMO_PASSWORD
from tests.e2e.conftest import shot

pytestmark = pytest.mark.e2e


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    # A click before the page is hydrated would submit the form natively (a reload) instead of the sign-in event.
    page.wait_for_load_state("networkidle")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in-submit")


def test_admin_signs_in_navigates_and_toggles_dark_mode(page):
    page.goto("/")
    expect(page.get_by_role("heading", name="The platform of the licensed cannabis industry")).to_be_visible()

    page.goto("/login")
    page.click("#sign-in-submit")
    expect(page.get_by_text("Enter your email address.")).to_be_visible()  # inline validation, nothing sent

    sign_in(page, "admin@icc.demo", "Wrong-password-1")
    expect(page.locator("#login-error")).to_contain_text("Email or password is incorrect.")

    sign_in(page, "admin@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, Avery Admin")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_text("Audit log")).to_be_visible()
    shot(page, "home-signed-in")

    nav.get_by_text("Notifications").click()
    page.wait_for_url("**/notifications")
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(page.locator(".notification").filter(has_text="Welcome to ICC")).to_be_visible()
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_text(re.compile(r"Marked [1-9]\d* notification\(s\) as read\."))).to_be_visible()

    nav.get_by_text("Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_text("identity.sign_in.failed")).to_be_visible()  # the failed attempt above was recorded
    page.click("#verify-chain")
    expect(page.locator("#verify-result")).to_contain_text("Chain intact")

    html = page.locator("html")
    was_dark = "dark" in (html.get_attribute("class") or "")
    page.click("#theme-toggle")
    expect(html).to_have_class(re.compile(r"\blight\b" if was_dark else r"\bdark\b"))
    shot(page, "audit-dark")
    page.reload()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(html).to_have_class(re.compile(r"\blight\b" if was_dark else r"\bdark\b"))  # the choice is remembered


def test_staff_cannot_reach_platform_pages(page):
    sign_in(page, "staff@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, Sam Staff")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main navigation").get_by_text("Audit log")).to_have_count(0)
    page.goto("/admin/audit")
    expect(page.get_by_text("Platform administrators only.")).to_be_visible()
    expect(page.get_by_role("heading", name="Welcome, Sam Staff")).to_be_visible()


def test_signed_out_visitor_is_sent_to_login_and_back(page):
    page.goto("/notifications")
    page.wait_for_url("**/login?next=/notifications")
    page.fill("#email", "buyer@icc.demo")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#sign-in-submit")
    page.wait_for_url("**/notifications")
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    page.click("#user-menu")
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto("/notifications")
    page.wait_for_url("**/login?next=/notifications")


def test_unknown_page_shows_not_found(page):
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    shot(page, "not-found")
