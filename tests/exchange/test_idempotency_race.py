"""Eight submissions of one form render at the same instant, in real concurrent transactions on PostgreSQL with
row-level security on: one lot is made, and every request gets that lot back. Committed data (no rollback
fixture), so every name here is unique to this test."""

import threading
import uuid

from sqlmodel import func, select

from icc_app.core.db import unit_of_work
from icc_app.exchange import lots
from icc_app.exchange.models import Lot
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType
from tests.exchange.conftest import lot_input, place
from tests.factories import make_business, make_user


def test_concurrent_submissions_with_one_key_make_one_lot(redis_client):
    tag = uuid.uuid4().hex[:6]
    with unit_of_work() as session:
        user = make_user(session, email=f"twice-{tag}@example.test")
        farm = make_business(session, owner=user, name=f"Twice Farms {tag}", business_type=BusinessType.cultivator)
        place(session, farm, lat=46.6, lon=-120.5, number=f"7{tag[:5]}".translate(str.maketrans("abcdef", "123456")))
        principal = identity.build_principal(session, user)
    barrier = threading.Barrier(8)
    made: list[uuid.UUID] = []
    failures: list[BaseException] = []

    def submit():
        barrier.wait()
        try:
            with unit_of_work(tenant=principal) as session:
                made.append(lots.create_lot(session, principal=principal, business_id=farm.id,
                                            data=lot_input(title=f"Race draft {tag}"),
                                            idempotency_key=f"render-{tag}").id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
    with unit_of_work() as session:
        count = session.exec(select(func.count()).select_from(Lot).where(Lot.title == f"Race draft {tag}")).one()
    assert count == 1 and len(made) == 8 and len(set(made)) == 1
