"""The main platform flow in a real browser: sign in, navigate, notifications, audit, dark mode, 404, sign out;
the shell on a 390x844 phone (navigation drawer, header), the favicon, and the home's work queue."""

import re

import pytest
from playwright.sync_api import expect

from icc_app.core.seed import DEMO_PASSWORD
from tests.e2e.a11y import describe, violations
from tests.e2e.conftest import ARTIFACTS, shot

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
    expect(page.get_by_text(re.compile(r"Marked (1 notification|[2-9]\d* notifications) as read\."))).to_be_visible()

    nav.get_by_text("Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_text("identity.sign_in.failed")).to_be_visible()  # the failed attempt above was recorded
    page.click("#verify-chain")
    expect(page.locator("#verify-result")).to_contain_text("Chain intact")
    expect(page.locator("table").get_by_text("Avery Admin <admin@icc.demo>").first).to_be_visible()  # names, not ids

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
    page.wait_for_url(re.compile(r".*/login/?$"))
    page.goto("/notifications")
    page.wait_for_url("**/login?next=/notifications")


def test_unknown_page_shows_not_found(page):
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    shot(page, "not-found")


PHONE = {"width": 390, "height": 844}


def _context_page(browser, live_app, viewport):
    context = browser.new_context(viewport=viewport, base_url=live_app)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def _fits_the_screen(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"


def test_phone_user_navigates_with_the_drawer(browser, live_app):
    context, page = _context_page(browser, live_app, PHONE)
    try:
        sign_in(page, "grower@icc.demo")
        expect(page.get_by_role("heading", name="Welcome, Gale Grower")).to_be_visible()
        expect(page.get_by_role("navigation", name="Main navigation")).to_have_count(0)  # no sidebar on a phone
        _fits_the_screen(page, PHONE["width"])
        shot(page, "phone-home-grower")

        page.get_by_role("button", name="Open navigation").click()
        drawer = page.get_by_role("navigation", name="Main navigation")
        for entry in ("Home", "Marketplace", "My lots", "Offers", "Orders", "Lab results (COAs)", "My dispensary",
                      "Team", "Security"):
            expect(drawer.get_by_role("link", name=entry, exact=True)).to_be_visible()
        page.wait_for_timeout(600)  # the slide-in animation
        page.screenshot(path=str(ARTIFACTS / "phone-drawer.png"))
        drawer.get_by_role("link", name="My lots").click()
        page.wait_for_url("**/exchange/sell")
        expect(page.get_by_role("navigation", name="Main navigation")).to_have_count(0)  # following a link closed it
        expect(page.get_by_role("heading", name="My lots")).to_be_visible()

        page.get_by_role("button", name="Open navigation").click()
        page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Orders").click()
        page.wait_for_url("**/exchange/orders")
        expect(page.get_by_role("button", name="Open navigation")).to_be_visible()  # every signed-in page has it
        page.get_by_role("button", name="Open navigation").click()
        page.get_by_role("button", name="Close navigation").click()
        expect(page.get_by_role("navigation", name="Main navigation")).to_have_count(0)

        page.click("#theme-toggle")  # dark mode: the open drawer passes axe too
        expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
        page.get_by_role("button", name="Open navigation").click()
        expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()
        page.wait_for_timeout(600)
        assert violations(page) == [], describe("phone drawer, dark", violations(page))
        page.screenshot(path=str(ARTIFACTS / "phone-drawer-dark.png"))
    finally:
        context.close()


def test_signed_out_header_and_favicon(browser, live_app):
    context, page = _context_page(browser, live_app, {"width": 1440, "height": 900})
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    try:
        page.goto("/")
        page.wait_for_load_state("networkidle")
        header = page.get_by_role("banner")
        expect(header.get_by_role("link", name="ICC home")).to_be_visible()  # the logo, without a sidebar
        expect(header.get_by_role("link", name="Sign in")).to_be_visible()
        expect(page.get_by_role("button", name="Open navigation")).to_have_count(0)
        icon = page.locator('head link[rel="icon"]')
        expect(icon).to_have_attribute("href", "/favicon.svg")
        assert page.locator("html").get_attribute("lang") == "en"
        for path, kind in (("/favicon.svg", "image/svg"), ("/favicon.ico", "image/")):
            answer = page.request.get(path)
            assert answer.status == 200 and answer.headers["content-type"].startswith(kind), path
        assert missing == [], f"404s while loading the home page: {missing}"
        shot(page, "desktop-home-signed-out")
        page.set_viewport_size(PHONE)
        _fits_the_screen(page, PHONE["width"])
        shot(page, "phone-home-signed-out")
    finally:
        context.close()


def test_long_display_name_is_cut_in_the_header(browser, live_app):
    name = "Maximiliana Evangelina Wolfeschlegelsteinhausen-Bergerdorff"
    context, page = _context_page(browser, live_app, PHONE)
    try:
        page.goto("/signup")
        page.wait_for_load_state("networkidle")
        page.fill("#display_name", name)
        page.fill("#email", "long.name@example.test")
        page.fill("#password", "Quartz-Lantern-8841")
        page.fill("#password_confirm", "Quartz-Lantern-8841")
        page.click("#signup-submit")
        expect(page.locator("#signup-sent")).to_be_visible()  # sign-up opens no session: sign in next
        sign_in(page, "long.name@example.test", "Quartz-Lantern-8841")
        page.wait_for_url(re.compile(r".*/onboarding/?$"))
        account = page.locator("#user-menu")
        expect(account).to_have_attribute("title", name)  # the whole name, on hover and for assistive tech
        box = account.bounding_box()
        assert box["x"] + box["width"] <= PHONE["width"], "the account button runs off the screen"
        assert box["height"] < 60, "the name wrapped onto several lines"
        _fits_the_screen(page, PHONE["width"])
        shot(page, "phone-long-name")
    finally:
        context.close()


def test_admin_without_a_business_sees_the_platform_queue(page):
    sign_in(page, "admin@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, Avery Admin")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="License reviews")).to_be_visible()
    for business_page in ("My lots", "Offers", "Orders", "My dispensary"):
        expect(nav.get_by_role("link", name=business_page, exact=True)).to_have_count(0)
    expect(page.get_by_role("heading", name="Waiting on you")).to_be_visible()
    expect(page.get_by_role("heading", name="No business yet")).to_have_count(0)


def test_consumer_home_has_maps_and_reviews_not_trade_stats(page):
    sign_in(page, "consumer@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, hazy_hiker")).to_be_visible()
    expect(page.get_by_role("heading", name="Your reviews")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="Find a dispensary").first).to_be_visible()
    expect(page.get_by_text("Waiting on you")).to_have_count(0)
    expect(page.get_by_text("Businesses", exact=True)).to_have_count(0)
    shot(page, "home-consumer")


def test_operator_home_shows_what_waits_with_links(page):
    from tests.e2e.test_maps import _database

    sign_in(page, "grower@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, Gale Grower")).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting on you")).to_be_visible()
    expect(page.locator(".work-item").filter(has_text="license")).to_have_count(0)
    with _database() as conn:  # the license runs out in ten days (what the calendar would do)
        kept = conn.execute("SELECT l.id, l.expires_on FROM business_licenses l JOIN businesses b ON "
                            "b.id = l.business_id WHERE b.legal_name = 'Evergreen Farms LLC'").fetchall()
        conn.execute("UPDATE business_licenses SET expires_on = current_date + 10 WHERE id = ANY(%s)",
                     ([row[0] for row in kept],))
    assert kept, "the demo grower has no license"
    try:
        page.reload()
        item = page.locator(".work-item").filter(has_text="license to renew")
        expect(item).to_contain_text("1 license to renew")
        shot(page, "home-grower-license-to-renew")
        item.click()
        page.wait_for_url("**/onboarding")
    finally:
        with _database() as conn:
            for license_id, expires_on in kept:
                conn.execute("UPDATE business_licenses SET expires_on = %s WHERE id = %s", (expires_on, license_id))
