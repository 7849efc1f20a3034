"""Segments: the built-in rules, nightly scoring from POS sales (own model, pooled model for a small business),
operator-built filter segments with counts and trends, and the age rule inside every audience."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from icc_app.core.errors import ValidationFailed
from icc_app.loyalty import churn, customers, points, scoring, segments
from icc_app.loyalty.models import CustomerScore
from icc_app.loyalty.segments import Visit
from tests.loyalty.conftest import connection, days_ago, dispensary, member, pos_customer, sale

TODAY = date(2026, 12, 2)


def visits(*ago: int, amount: str = "40") -> list[Visit]:
    return [Visit(TODAY - timedelta(days=d), Decimal(amount)) for d in sorted(ago, reverse=True)]


@pytest.mark.parametrize(("history", "cut", "expected"), [
    (visits(200, 250), None, "lost"),
    (visits(70, 100, 130), None, "lapsing"),
    (visits(40, 47, 54, 61), None, "lapsing"),  # a weekly regular, silent for 40 days (5 gaps)
    (visits(10), None, "new"),
    (visits(5, 20, 35, 50), Decimal("100"), "high_value"),
    (visits(5, 20, 35, 50), Decimal("1000"), "regular"),
    (visits(50, 120), None, "occasional"),
    ([], None, "occasional"),
])
def test_built_in_segment_rules(history, cut, expected):
    assert segments.label(history, today=TODAY, high_value_cut=cut) == expected


def test_rfm_quintiles():
    assert segments.quintiles([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def _shop_with_history(session, n: int, seed: int):
    rng = random.Random(seed)
    shop = dispensary(session)
    conn = connection(session, shop)
    for i in range(n):
        pos = pos_customer(session, conn, email=f"s{seed}-{i}@example.test", email_opt_in=True)
        customers.link_pos_customer(session, pos_customer=pos)
        gap = rng.choice([7, 14, 30])
        stop = rng.choice([0, 0, 100, 250])  # some stopped coming
        for d in range(stop + rng.randrange(gap), 380, gap):
            sale(session, conn, pos, at=days_ago(d), total=str(rng.randrange(20, 120)))
    return shop


def test_nightly_scoring_with_own_and_pooled_models(session, monkeypatch):
    monkeypatch.setattr(churn, "MIN_CUSTOMERS_FOR_OWN_MODEL", 40)
    monkeypatch.setattr(churn, "MIN_POSITIVES_FOR_OWN_MODEL", 10)
    big = _shop_with_history(session, 50, seed=1)
    small = _shop_with_history(session, 8, seed=2)
    run = scoring.compute(session, business_id=big.id)
    assert run.trained_on == "own" and run.customers >= 40
    assert run.auc_recency is not None and run.auc_model is not None
    scores = session.query(CustomerScore).filter(CustomerScore.business_id == big.id).all()
    assert len(scores) == 50
    assert all(s.buy_again_probability is not None and len(s.reasons) == 3 for s in scores if s.frequency)
    counts = segments.built_in_counts(session, business_id=big.id)
    assert sum(counts.values()) == 50 and counts["lost"] > 0 and counts["regular"] + counts["high_value"] > 0
    # lost customers (no visit in 250+ days) are given lower chances than recent regulars
    lost = [s.buy_again_probability for s in scores if s.segment == "lost"]
    active = [s.buy_again_probability for s in scores if s.segment in ("regular", "high_value")]
    assert sum(lost) / len(lost) < sum(active) / len(active) / 2  # a model, not a rule: on average, not each one
    small_run = scoring.compute(session, business_id=small.id)
    assert small_run.trained_on == "pooled"
    assert segments.trend(session, business_id=big.id, segment_key="lost")[-1][1] == counts["lost"]


def test_operator_segment_counts_and_age_rule(session, shop):
    people = [member(session, shop, sms_consent=i % 2 == 0) for i in range(6)]
    for i, person in enumerate(people):
        points.adjust(session, business_id=shop.id, customer_id=person.id, points=100 * i, reason="test",
                      actor_id=None)
    conn = connection(session, shop)
    customers.link_pos_customer(session, pos_customer=pos_customer(session, conn, email="teen@example.test",
                                                                   birth_date="2010-03-03", sms_opt_in=True))
    rules = [{"field": "sms_consent", "op": "=", "value": "true"}, {"field": "points_balance", "op": ">=",
                                                                     "value": "200"}]
    assert segments.preview(session, business_id=shop.id, rules=rules) == 2  # people 2 and 4; never the teen
    segment = segments.create(session, business_id=shop.id, name="Texters with points", rules=rules, actor_id=None)
    assert segment.member_count == 2
    assert segments.snapshot(session, business_id=shop.id, today=TODAY)[f"custom:{segment.id}"] == 2
    with pytest.raises(ValidationFailed, match="enter a number"):
        segments.preview(session, business_id=shop.id, rules=[{"field": "frequency", "op": ">", "value": "lots"}])
    with pytest.raises(ValidationFailed, match="field"):
        segments.preview(session, business_id=shop.id, rules=[{"field": "email", "op": "=", "value": "x"}])
