"""Rules per category on the Pricing page: every stocked category is listed with the defaults until a Manager saves
its own; a saved rule changes the next suggestions (the margin floor holds) and is audited; bad values are refused
with the column's words and change nothing; staff read only."""

from decimal import Decimal

from sqlmodel import select

from icc_app.core.audit import AuditLog
from icc_app.core.db import unit_of_work
from icc_app.operations import pricing
from icc_app.operations.models import CategoryRule
from icc_app.operations.ui.rules import RulesState
from tests.factories import session_token
from tests.operations.conftest import stock
from tests.ui.harness import make_state, run


def _page(shop, user=None) -> RulesState:
    with unit_of_work() as session:
        token = session_token(session, user or shop.owner)
    state = make_state(RulesState, token=token, path="/operations/pricing")
    run(RulesState.load_rules, state)
    return state


def _rules(shop) -> dict[str, CategoryRule]:
    with unit_of_work() as session:
        return {r.category: r for r in session.exec(select(CategoryRule).where(
            CategoryRule.business_id == shop.business_id))}


def test_a_manager_sets_a_categorys_rules_and_adds_one(shop):
    with unit_of_work() as s:
        stock(s, shop.business_id, "og-kush", 30, category="flower", unit_cost="20.00", price="30.00")
        stock(s, shop.business_id, "gummies", 10, category="edibles", unit_cost="5.00", price="15.00")
    state = _page(shop)
    assert state.can_edit and [r["category"] for r in state.rule_rows] == ["edibles", "flower"]
    assert state.rule_rows[1]["min_margin_pct"] == "30" and state.rule_rows[1]["saved"] == ""  # the defaults

    run(RulesState.set_cell, state, 1, "min_margin_pct", "40")
    run(RulesState.set_cell, state, 1, "expiry_alert_days", "14")
    run(RulesState.save_row, state, 1)
    assert state.errors == {} and state.saving == ""
    saved = _rules(shop)["flower"]
    assert (saved.min_margin_pct, saved.expiry_alert_days) == (Decimal("40.00"), 14)
    assert state.rule_rows[1]["saved"] == "yes" and state.rule_rows[1]["min_margin_pct"] == "40"
    with unit_of_work() as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "operations.category_rule.saved")).one()
        assert Decimal(entry.after["min_margin_pct"]) == 40 and entry.before is None
        # the floor: 20.00 cost at a 40% margin is 33.34, so no suggestion goes below it
        flower = [x for x in pricing.suggest_prices(s, business_id=shop.business_id) if x.category == "flower"]
        assert flower and all(x.floor_price >= Decimal("33.33") for x in flower), flower

    state.new_category = "  Pre Rolls "
    run(RulesState.add_category, state)
    assert "pre rolls" in _rules(shop) and state.new_category == ""
    run(RulesState.add_category, state)  # nothing typed: refused, nothing added
    assert len(_rules(shop)) == 2


def test_bad_values_name_their_column_and_change_nothing(shop):
    with unit_of_work() as s:
        stock(s, shop.business_id, "og-kush", 30, category="flower", unit_cost="20.00", price="30.00")
    state = _page(shop)
    for key, value, words in (("min_margin_pct", "96", "Margin floor (%): a number from 0 to 95"),
                              ("max_discount_pct", "a lot", "Largest discount (%): enter a number"),
                              ("expiry_alert_days", "7.5", "Expiry alert (days before): a whole number"),
                              ("radius_miles", "NaN", "Competitors within (miles)")):
        fresh = _page(shop)
        run(RulesState.set_cell, fresh, 0, key, value)
        run(RulesState.save_row, fresh, 0)
        assert words in fresh.errors.get("rules", ""), (key, fresh.errors)
    assert _rules(shop) == {} and state.rule_rows[0]["saved"] == ""


def test_staff_read_the_rules_but_cannot_save(shop):
    with unit_of_work() as s:
        stock(s, shop.business_id, "og-kush", 30, category="flower", unit_cost="20.00", price="30.00")
    state = _page(shop, shop.staff)
    assert not state.can_edit and state.rule_rows[0]["category"] == "flower"
    run(RulesState.set_cell, state, 0, "min_margin_pct", "10")
    run(RulesState.save_row, state, 0)
    assert _rules(shop) == {} and state.form_error


def test_rules_over_the_api(shop, rival):
    from fastapi.testclient import TestClient

    from icc_app import api

    with unit_of_work() as s:
        stock(s, shop.business_id, "og-kush", 30, category="flower")
        me = {"Authorization": f"Bearer {session_token(s, shop.owner)}"}
        stranger = {"Authorization": f"Bearer {session_token(s, rival.owner)}"}
    client = TestClient(api.build(), raise_server_exceptions=False)
    url = f"/api/v1/operations/{shop.business_id}/category-rules"
    listed = client.get(url, headers=me).json()
    assert [(r["category"], r["saved"], r["min_margin_pct"]) for r in listed] == [("flower", False, "30")]
    put = client.put(f"{url}/Vapes", headers=me, json={"min_margin_pct": "35", "max_discount_pct": "20",
                                                      "max_change_pct_per_day": "5", "radius_miles": 5,
                                                      "expiry_alert_days": 21})
    assert put.status_code == 200, put.text
    listed = {r["category"]: r for r in client.get(url, headers=me).json()}
    assert listed["vapes"]["saved"] and listed["vapes"]["expiry_alert_days"] == 21
    assert client.put(f"{url}/vapes", headers=me, json={"min_margin_pct": "120"}).status_code == 422
    assert client.get(url, headers=stranger).status_code == 404
