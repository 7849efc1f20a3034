"""Operations in a real browser: the demo retailer's Admin opens the demand forecasts (sales imported for a store
without a POS), sees a product's chart with its interval and trust, approves the purchase order the reorder check
drafted, and approves a markdown for stock close to its expiry. On a desktop and on a phone."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import numpy as np
import psycopg
import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import describe, violations
from tests.e2e.conftest import ARTIFACTS, LIVE_ENV, live_cli, shot

pytestmark = pytest.mark.e2e


def _seed() -> str:
    """Six weeks of daily sales and low stock for two products of the demo retailer, a reorder policy each."""
    rng = np.random.default_rng(5)
    today = date.today()
    with psycopg.connect(LIVE_ENV["DATABASE_URL"].replace("postgresql+psycopg", "postgresql")) as conn:
        business_id = conn.execute(
            "SELECT id FROM businesses WHERE legal_name = 'Capitol Hill Cannabis Inc'").fetchone()[0]
        for table in ("ops_demand_days", "ops_stock_items", "ops_reorder_policies", "ops_purchase_orders",
                      "ops_price_suggestions", "ops_forecasts"):
            conn.execute(f"DELETE FROM {table} WHERE business_id = %s", (business_id,))
        for sku, mean, category in (("pine-og-35", 9, "flower"), ("cherry-gummies", 4, "edible")):
            for back in range(42, 0, -1):
                quantity = int(rng.poisson(mean))
                conn.execute("INSERT INTO ops_demand_days (created_at, updated_at, business_id, location_key,"
                             " product_key, category, day, quantity, revenue, source) VALUES (now(), now(), %s,"
                             " 'main', %s, %s, %s, %s, %s, 'csv')",
                             (business_id, sku, category, today - timedelta(days=back), quantity, quantity * 30))
        items = (("pine-og-35", "Pine OG 3.5g", "flower", 6, 14, 38, None),
                 ("cherry-gummies", "Cherry Gummies 100mg", "edible", 10, 8, 22, today + timedelta(days=4)))
        for sku, name, category, quantity, cost, price, expires in items:
            conn.execute("INSERT INTO ops_stock_items (id, created_at, updated_at, business_id, location_key,"
                         " product_key, batch, name, category, quantity, unit_cost, price, currency, expires_on,"
                         " source) VALUES (%s, now(), now(), %s, 'main', %s, '', %s, %s, %s, %s, %s, 'USD', %s,"
                         " 'csv')", (uuid.uuid4(), business_id, sku, name, category, quantity, cost, price, expires))
            conn.execute("INSERT INTO ops_reorder_policies (id, created_at, updated_at, business_id, location_key,"
                         " product_key, supplier_name, supplier_email, lead_time_days, review_period_days,"
                         " min_order_qty, service_level, is_active) VALUES (%s, now(), now(), %s, 'main', %s,"
                         " 'Emerald Valley Supply', 'orders@emerald.test', 5, 7, 1, 0.95, true)",
                         (uuid.uuid4(), business_id, sku))
    return str(business_id)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"


def test_operator_reads_a_forecast_approves_a_purchase_order_and_a_markdown(page, live_app):
    from tests.e2e.test_shell import sign_in

    business_id = _seed()
    assert "purchase orders drafted" in live_cli("operations", "refresh", business_id, "--horizon", "14")
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, "buyer@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, Blair Buyer")).to_be_visible()

    page.goto("/operations")
    expect(page.get_by_role("heading", name="Demand forecasts", level=1)).to_be_visible()
    row = page.get_by_role("row", name="Pine OG 3.5g")
    expect(row).to_contain_text("Product")
    row.get_by_role("link", name="Pine OG 3.5g").click()
    chart = page.locator("#forecast-chart")
    expect(chart).to_contain_text("Model: ")
    expect(chart.locator(".recharts-area")).to_have_count(2)  # the 95% and 80% intervals
    expect(chart).to_contain_text("80% interval")
    found = violations(page)  # the forecast page with its chart: every control named, readable contrast
    assert not found, describe("forecasts", found)
    shot(page, "operations-forecast-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(chart).to_be_visible()
    _no_sideways_scroll(page)
    shot(page, "operations-forecast-phone")

    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/operations/reorder")
    expect(page.get_by_role("heading", name="Reorder", level=1)).to_be_visible()
    expect(page.get_by_role("row", name="Pine OG 3.5g")).to_contain_text("Emerald Valley Supply")
    order = page.get_by_role("row").filter(has_text="Emerald Valley Supply").filter(has_text="Draft")
    order.get_by_role("link").click()
    detail = page.locator("#order-detail")
    expect(detail).to_contain_text("Pine OG 3.5g")
    page.click("#approve-order")
    expect(page.locator("#order-status")).to_have_text("Approved")
    expect(page.locator("#send-order")).to_have_text("Send by email")
    # The confirmation toast fades in (axe would measure it half transparent): check the page once it is gone.
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    found = violations(page)
    assert not found, describe("purchase order", found)
    shot(page, "operations-purchase-order-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    _no_sideways_scroll(page)
    shot(page, "operations-purchase-order-phone")

    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/operations/expirations")
    expect(page.get_by_role("row", name="Cherry Gummies 100mg")).to_contain_text("4 days")
    page.goto("/operations/pricing")
    card = page.locator(".rt-Card", has_text="Cherry Gummies 100mg")
    expect(card).to_contain_text("expires in 4 days")
    shot(page, "operations-pricing-desktop")
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Price approved.")).to_be_visible()
    expect(page.locator(".rt-Card", has_text="Cherry Gummies 100mg")).to_have_count(0)

    # the category's rules: a margin floor out of range is refused in words, then a real one is saved
    rule = page.locator(".category-rule", has_text="Edible")
    expect(rule).to_contain_text("defaults")
    rule.get_by_label("Margin floor (%)").fill("99")
    rule.get_by_role("button", name="Save the rules for Edible").click()
    expect(page.locator("#category-rules")).to_contain_text("Margin floor (%): a number from 0 to 95")
    rule.get_by_label("Margin floor (%)").fill("45")
    rule.get_by_role("button", name="Save the rules for Edible").click()
    expect(page.get_by_text("Rules for Edible saved").first).to_be_visible()
    page.reload()
    expect(page.locator(".category-rule", has_text="Edible").get_by_label("Margin floor (%)")).to_have_value("45")
    expect(page.locator(".category-rule", has_text="Edible")).not_to_contain_text("defaults")
    page.locator("#category-rules").screenshot(path=str(ARTIFACTS / "operations-category-rules-desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    _no_sideways_scroll(page)
    shot(page, "operations-pricing-phone")
