"""Reorder math against worked examples, and the price rules: the margin floor is never crossed."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icc_app.operations import pricing_rules as pr
from icc_app.operations.replenishment import advise


def test_reorder_point_worked_example():
    # 10 a day, one-day error 3, 4 days lead time, 95%: 40 + 1.645 x 3 x 2 = 49.87
    advice = advise(daily_forecast=[10.0] * 30, error_sd=3.0, on_hand=45, lead_time_days=4, review_period_days=7,
                    service_level=0.95)
    assert advice.lead_time_demand == 40
    assert advice.safety_stock == pytest.approx(9.87, abs=0.01)
    assert advice.reorder_point == pytest.approx(49.87, abs=0.01)
    # order up to 110 + 1.645 x 3 x sqrt(11) = 126.37; 45 on hand -> 82 (rounded up)
    assert advice.order_up_to == pytest.approx(126.37, abs=0.01)
    assert advice.order_quantity == Decimal("82")
    assert advice.days_of_supply == pytest.approx(4.5)


def test_reorder_point_rises_with_lead_time_and_service_level():
    def rop(lead, level):
        return advise(daily_forecast=[5.0] * 30, error_sd=2.0, on_hand=100, lead_time_days=lead,
                      service_level=level).reorder_point
    assert rop(3, 0.95) < rop(7, 0.95) < rop(14, 0.95)
    assert rop(7, 0.80) < rop(7, 0.95) < rop(7, 0.99)


def test_a_worse_forecast_carries_more_safety_stock():
    calm = advise(daily_forecast=[5.0] * 30, error_sd=1.0, on_hand=0, lead_time_days=7)
    wild = advise(daily_forecast=[5.0] * 30, error_sd=4.0, on_hand=0, lead_time_days=7)
    assert wild.safety_stock == pytest.approx(4 * calm.safety_stock)


def test_no_order_above_the_reorder_point_and_at_least_the_minimum_order():
    assert advise(daily_forecast=[1.0] * 30, error_sd=0.5, on_hand=50, lead_time_days=5).order_quantity == 0
    small = advise(daily_forecast=[1.0] * 30, error_sd=0.5, on_hand=6, lead_time_days=5, review_period_days=1,
                   min_order_qty=Decimal("24"))
    assert small.order_quantity == Decimal("24")
    assert advise(daily_forecast=[2.0] * 30, error_sd=0, on_hand=5, on_order=40, lead_time_days=5).order_quantity == 0


def test_cheaper_competitors_pull_the_price_down_but_never_under_the_floor():
    rules = pr.Rules(min_margin_pct=Decimal("40"), max_discount_pct=Decimal("50"), max_change_pct_per_day=Decimal("50"))
    situation = pr.Situation(current_price=Decimal("40"), unit_cost=Decimal("20"),
                             competitor_prices=(Decimal("20"), Decimal("22"), Decimal("21")))
    result = pr.suggest(situation, rules)
    assert result.floor == Decimal("33.34")  # 20 / 0.6, rounded up
    assert result.price == Decimal("33.34") and result.at_floor
    assert "margin floor" in result.reason and "3 nearby stores" in result.reason
    assert result.factors["competitor_median"] == "21.00"


def test_the_daily_change_cap_slows_a_move():
    rules = pr.Rules(min_margin_pct=Decimal("10"), max_discount_pct=Decimal("50"), max_change_pct_per_day=Decimal("5"))
    result = pr.suggest(pr.Situation(current_price=Decimal("50"), unit_cost=Decimal("10"),
                                     competitor_prices=(Decimal("30"),) * 3), rules)
    assert result.price == Decimal("47.50") and "daily change limit" in result.reason


def test_expiring_stock_gets_a_markdown_within_the_discount_cap():
    rules = pr.Rules(min_margin_pct=Decimal("10"), max_discount_pct=Decimal("30"), max_change_pct_per_day=Decimal("5"))
    soon = pr.suggest(pr.Situation(current_price=Decimal("30"), unit_cost=Decimal("10"), days_to_expiry=2,
                                   expiry_alert_days=30), rules)
    later = pr.suggest(pr.Situation(current_price=Decimal("30"), unit_cost=Decimal("10"), days_to_expiry=25,
                                    expiry_alert_days=30), rules)
    assert Decimal("21") <= soon.price < later.price < Decimal("30")
    assert "expires in 2 days" in soon.reason


money = st.decimals(min_value=Decimal("0.50"), max_value=Decimal("500"), places=2)
pct = st.decimals(min_value=Decimal("0"), max_value=Decimal("90"), places=1)


@settings(max_examples=300, deadline=None)
@given(current=money, cost=money, comps=st.lists(money, max_size=8), margin=pct, discount=pct, change=pct,
       dos=st.one_of(st.none(), st.floats(0, 400)), demand=st.one_of(st.none(), st.floats(-100, 300)),
       expiry=st.one_of(st.none(), st.integers(-5, 60)))
def test_property_the_margin_floor_is_never_crossed(current, cost, comps, margin, discount, change, dos, demand,
                                                     expiry):
    rules = pr.Rules(min_margin_pct=margin, max_discount_pct=discount, max_change_pct_per_day=change)
    result = pr.suggest(pr.Situation(current_price=current, unit_cost=cost, competitor_prices=tuple(comps),
                                     days_of_supply=dos, demand_change_pct=demand, days_to_expiry=expiry,
                                     expiry_alert_days=30), rules)
    floor = cost / (1 - margin / 100)
    assert result.price >= floor
    assert (result.price - cost) / result.price >= margin / 100 - Decimal("0.0001")


def test_elasticity_is_read_from_price_changes_and_revenue_effect_follows():
    points = []
    for product, scale in (("a", 1.0), ("b", 3.0)):
        for price in (10.0, 11.0, 12.0, 9.0, 10.5) * 3:
            points.append((product, price * scale, 100 * scale * (price / 10) ** -1.5))
    assert pr.elasticity(points) == pytest.approx(-1.5, abs=0.01)
    assert pr.elasticity([("a", 10.0, 5.0)] * 30) is None  # the price never moved
    assert pr.revenue_effect_pct(-1.5, Decimal("10"), Decimal("9")) > 0  # elastic: a cut raises revenue
