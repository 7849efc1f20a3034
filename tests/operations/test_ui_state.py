"""The operations pages' state handlers without a browser: the forecast chart with its interval, reviewing and
approving a purchase order, approving a price."""

from decimal import Decimal

from icc_app.core.db import unit_of_work
from icc_app.operations import forecast_service, pricing, purchasing
from icc_app.operations.ui.state import OperationsState
from tests.factories import session_token
from tests.operations.conftest import TODAY, demand, steady, stock
from tests.ui.harness import make_state, run


def signed_in(shop, user=None) -> OperationsState:
    with unit_of_work() as session:
        token = session_token(session, user or shop.owner)
    state = make_state(OperationsState, token=token, path="/operations")
    run(OperationsState.load, state)
    return state


def test_forecast_chart_reorder_and_price_approval(shop):
    principal = shop.principal()
    with unit_of_work() as s:
        demand(s, shop.business_id, "og-kush", steady(9))
        stock(s, shop.business_id, "og-kush", 3, name="OG Kush 3.5g", unit_cost="12.00", price="35.00",
              expires_on=TODAY)
        forecast_service.refresh_forecasts(s, business_id=shop.business_id, horizon=14, today=TODAY)
        purchasing.set_policy(s, principal=principal, business_id=shop.business_id, product_key="og-kush",
                              supplier_name="Farm A", supplier_email="a@farm.test", lead_time_days=4)
        pricing.suggest_prices(s, business_id=shop.business_id, today=TODAY)
    state = signed_in(shop)
    assert state.loaded and state.business_name
    product = next(r for r in state.forecasts if r["level"] == "Product")
    assert product["name"] == "OG Kush 3.5g" and product["trust_text"] in {"Good", "Fair", "Low"}
    run(OperationsState.choose_forecast, state, product["id"])
    future = [p for p in state.chart if p["forecast"] is not None]
    assert len(future) == 14 and any(p["actual"] is not None for p in state.chart)
    assert all(p["band95"][0] <= p["band80"][0] <= p["forecast"] <= p["band80"][1] <= p["band95"][1] for p in future)

    assert state.plan_rows[0]["due"] == "yes"
    run(OperationsState.draft_orders, state)
    assert len(state.orders) == 1 and state.orders[0]["status"] == "Draft"
    run(OperationsState.open_order, state, state.orders[0]["id"])
    assert state.lines[0]["name"] == "OG Kush 3.5g"
    run(OperationsState.order_status, state, "approved")
    assert state.order["status_text"] == "Approved"
    run(OperationsState.send_order, state)
    assert state.order["status_text"] == "Sent"

    (suggestion,) = state.suggestions
    assert suggestion["kind"] == "Markdown" and Decimal(suggestion["suggested"].strip("$")) >= Decimal("17.15")
    run(OperationsState.decide, state, suggestion["id"], True)
    assert state.suggestions == []
    assert state.alerts[0]["name"] == "OG Kush 3.5g"


def test_staff_cannot_approve_a_purchase_order(shop):
    with unit_of_work() as s:
        demand(s, shop.business_id, "og-kush", steady(9))
        forecast_service.refresh_forecasts(s, business_id=shop.business_id, horizon=14, today=TODAY)
        stock(s, shop.business_id, "og-kush", 1)
        purchasing.set_policy(s, principal=shop.principal(), business_id=shop.business_id, product_key="og-kush",
                              supplier_name="Farm A", lead_time_days=4)
        po = purchasing.draft_orders(s, business_id=shop.business_id)[0]
    state = signed_in(shop, shop.staff)
    run(OperationsState.open_order, state, str(po.id))
    run(OperationsState.order_status, state, "approved")
    assert state.order["status_text"] == "Draft" and "Manager" in state.form_error


def test_a_manager_sets_a_reorder_policy_from_the_page(shop):
    with unit_of_work() as s:
        stock(s, shop.business_id, "og-kush", 3, name="OG Kush 3.5g")
    state = signed_in(shop)
    assert state.products == [{"value": "main|og-kush", "label": "OG Kush 3.5g"}]
    run(OperationsState.save_policy, state)
    assert state.errors["product"] == "Choose a product."
    for name, value in (("product", "main|og-kush"), ("supplier_name", "Farm A"), ("lead_time_days", "6"),
                        ("service_level", "150")):
        run(OperationsState.set_policy_field, state, name, value)
    run(OperationsState.save_policy, state)
    assert state.errors["service_level"].startswith("The service level is between")
    run(OperationsState.set_policy_field, state, "service_level", "97.5")
    run(OperationsState.save_policy, state)
    assert state.errors == {} and state.plan_rows[0]["supplier"] == "Farm A" and state.plan_rows[0]["lead"] == "6 days"
    assert state.policy["product"] == ""  # the form is ready for the next product
