"""The points ledger: earning rules, idempotent earn per sale, redemption and voids, and the invariant that the
balance is the sum of the entries, proven with concurrent earns and redemptions on real PostgreSQL connections."""

import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict, ValidationFailed
from icc_app.loyalty import customers, points
from icc_app.loyalty.models import EntryKind, PointsEntry, RedemptionStatus, StatusEvent
from tests.loyalty.conftest import ADULT, connection, dispensary, member, pos_customer, sale


def test_points_per_dollar_category_bonus_day_and_tier(session, shop):
    points.update_program(session, business_id=shop.id, actor_id=None, points_per_dollar=Decimal("2"),
                          category_multipliers={"Edibles": 3}, bonus_days=[{"weekday": 2, "multiplier": 2}])
    conn = connection(session, shop)
    pos = pos_customer(session, conn, email="earn@example.test")
    person = customers.link_pos_customer(session, pos_customer=pos)
    # Tuesday 18:00 Denver: 10 flower at 1x + 5 edibles at 3x = 25 base, x2 per dollar = 50
    tuesday = sale(session, conn, pos, at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), total="15",
                   lines=[("Flower", "10"), ("Edibles", "5")])
    assert points.earn_for_sale(session, customer=person, sale=tuesday).points == 50
    # Wednesday (bonus day, weekday 2) in Denver even though it is already Thursday in UTC: x2 again
    wednesday = sale(session, conn, pos, at=datetime(2026, 12, 3, 5, 0, tzinfo=UTC), total="10",
                     lines=[("Flower", "10")])
    assert points.earn_for_sale(session, customer=person, sale=wednesday).points == 40
    assert points.earn_for_sale(session, customer=person, sale=wednesday).points == 40  # same sale: same entry
    assert points.balance(session, business_id=shop.id, customer_id=person.id) == 90
    points.set_tiers(session, business_id=shop.id, actor_id=None, tiers=[
        {"name": "Green", "threshold_points": 0}, {"name": "Gold", "threshold_points": 80, "multiplier": "1.5",
                                                   "benefits": "Free pre-roll monthly"}])
    assert points.tier_of(session, business_id=shop.id, customer_id=person.id).name == "Gold"
    friday = sale(session, conn, pos, at=datetime(2026, 12, 4, 20, 0, tzinfo=UTC), total="10")
    assert points.earn_for_sale(session, customer=person, sale=friday).points == 30  # 10 x 2 x 1.5


def test_under_age_customers_earn_nothing(session, shop):
    conn = connection(session, shop)
    pos = pos_customer(session, conn, email="young@example.test", birth_date="2009-01-01")
    person = customers.link_pos_customer(session, pos_customer=pos)
    assert points.earn_for_sale(session, customer=person, sale=sale(session, conn, pos, at=datetime.now(UTC),
                                                                    total="50")) is None


def test_redeem_void_and_overdraw(session, shop):
    person = member(session, shop)
    points.adjust(session, business_id=shop.id, customer_id=person.id, points=500, reason="Welcome gift",
                  actor_id=None)
    with pytest.raises(ValidationFailed, match="at least 100"):
        points.redeem(session, business_id=shop.id, customer_id=person.id, points=50)
    reward = points.redeem(session, business_id=shop.id, customer_id=person.id, points=300, idempotency_key="k1")
    assert reward.value == Decimal("3.00") and reward.status == RedemptionStatus.issued
    again = points.redeem(session, business_id=shop.id, customer_id=person.id, points=300, idempotency_key="k1")
    assert again.id == reward.id  # a double click spends once
    with pytest.raises(Conflict, match="balance is 200"):
        points.redeem(session, business_id=shop.id, customer_id=person.id, points=300)
    points.transition_redemption(session, business_id=shop.id, code=reward.code, verb="void", reason="changed mind")
    assert points.balance(session, business_id=shop.id, customer_id=person.id) == 500
    with pytest.raises(Conflict):
        points.transition_redemption(session, business_id=shop.id, code=reward.code, verb="apply")
    kinds = [e.kind for e in reversed(points.history(session, business_id=shop.id, customer_id=person.id))]
    assert kinds == [EntryKind.adjust, EntryKind.redeem, EntryKind.reversal]
    events = session.exec(select(StatusEvent).where(StatusEvent.object_id == reward.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [("", "issued"), ("issued", "voided")]
    assert points.ledger_consistent(session, business_id=shop.id, customer_id=person.id)


def test_concurrent_earn_and_redeem_keep_balance_equal_to_sum_of_entries(redis_client):
    """8 threads on their own PostgreSQL connections earn and redeem for one customer at once. Without the row
    lock two redemptions would both see the same balance and overdraw; with it every entry's balance_after is the
    running sum, the balance never goes below zero, and the refused redemptions are exactly the ones that did not
    fit."""
    tag = uuid.uuid4().hex[:6]
    with unit_of_work() as session:
        shop = dispensary(session)
        person = customers.sign_up(session, business_id=shop.id, name="Race Tester", email=f"race-{tag}@example.test",
                                   phone=None, birth_date=ADULT)
        points.adjust(session, business_id=shop.id, customer_id=person.id, points=1000, reason="start",
                      actor_id=None)
        business_id, customer_id = shop.id, person.id
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        barrier.wait()
        for j in range(6):
            try:
                with unit_of_work() as session:
                    if (i + j) % 2:
                        points.adjust(session, business_id=business_id, customer_id=customer_id, points=50,
                                      reason=f"earn {i}.{j}", actor_id=None)
                        result = "earned"
                    else:
                        points.redeem(session, business_id=business_id, customer_id=customer_id, points=200,
                                      idempotency_key=f"{tag}-{i}-{j}")
                        result = "redeemed"
            except Conflict:
                result = "refused"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 48
    with unit_of_work() as session:
        entries = session.exec(select(PointsEntry).where(PointsEntry.customer_id == customer_id)).all()
        total = sum(e.points for e in entries)
        assert points.balance(session, business_id=business_id, customer_id=customer_id) == total
        assert points.ledger_consistent(session, business_id=business_id, customer_id=customer_id)
        assert total == 1000 + 50 * outcomes.count("earned") - 200 * outcomes.count("redeemed")
        assert total >= 0
        assert outcomes.count("redeemed") > 0 and outcomes.count("earned") == 24
        assert len(entries) == 1 + outcomes.count("earned") + outcomes.count("redeemed")
