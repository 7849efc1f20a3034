"""axe-core on ten main pages, signed out and signed in, on a desktop and on a phone: no serious or critical
violation beyond the ones listed in KNOWN (each found on a page another team owns, and reported to it). Every
finding is written to test-results/axe-<viewport>.txt."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import describe, violations
from tests.e2e.conftest import ARTIFACTS, live_cli
from tests.e2e.test_shell import sign_in

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
SIGNED_OUT = [("home", "/"), ("sign in", "/login"), ("sign up", "/signup"), ("dispensary locator", "/dispensaries")]
SIGNED_IN = [("home (grower)", "/"), ("marketplace", "/exchange"), ("my lots", "/exchange/sell"),
             ("COAs", "/coas"), ("account security", "/account/security")]
# (page name, axe rule) pairs found on pages owned by other teams, reported to them; empty when all is clean.
KNOWN: set[tuple[str, str]] = set()


def _a_dispensary_page(shared_data) -> str:
    """The page of the first store in Seattle's 98122 (the WA registry is imported once for the whole run)."""
    from icc_app.maps.models import Dispensary
    from icc_app.maps.service import page_path
    from tests.e2e.test_maps import _database

    query = "SELECT state, city_slug, slug FROM dispensaries WHERE is_active AND postal_code LIKE '98122%%' LIMIT 1"
    with _database() as conn:
        row = conn.execute(query).fetchone()
    if row is None:
        live_cli("dispensaries", "import", str(shared_data / "licenses/licenses-wa-latest.csv"), "--state", "WA")
        with _database() as conn:
            row = conn.execute(query).fetchone()
    return page_path(Dispensary(name="", license_number="", state=row[0], city_slug=row[1], slug=row[2]))


def _check(page, name: str, path: str, found: dict[tuple[str, str], str]) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    expect(page.locator("h1").first).to_be_visible()
    for violation in violations(page):
        found[(name, violation["id"])] = describe(name, [violation])


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_main_pages_have_no_serious_accessibility_violations(browser, live_app, shared_data, viewport):
    dispensary = _a_dispensary_page(shared_data)
    found: dict[tuple[str, str], str] = {}
    context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=live_app)
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        for name, path in [*SIGNED_OUT, ("dispensary page", dispensary)]:
            _check(page, name, path, found)
        sign_in(page, "grower@icc.demo")
        expect(page.get_by_role("heading", name="Welcome, Gale Grower")).to_be_visible()
        for name, path in SIGNED_IN:
            _check(page, name, path, found)
    finally:
        context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{viewport}.txt").write_text("\n".join(found.values()) + "\n", encoding="utf-8")
    new = {key: text for key, text in found.items() if key not in KNOWN}
    assert not new, "axe found serious/critical violations:\n" + "\n".join(new.values())
