"""PostgreSQL row-level security, the second line behind the scoped statements: a transaction acting for a
business (unit_of_work(tenant=principal)) runs as the icc_tenant role and sees only that business's rows plus
listed lots, even through a query that forgot its tenant filter. Workers (no tenant) see everything."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.exchange.models import Lot, LotStatus
from icc_app.identity import service as identity
from tests.factories import make_business, make_user


def _lot(session, business, title: str, status: LotStatus = LotStatus.draft) -> Lot:
    lot = Lot(business_id=business.id, title=title, product_type="flower", strain_name="Blue Dream",
              strain_type="hybrid", quantity=Decimal("10"), available_qty=Decimal("10"), min_order_qty=Decimal("1"),
              unit="lb", price_per_unit=Decimal("900"), status=status)
    session.add(lot)
    session.flush()
    return lot


@pytest.fixture()
def two_tenants(connection):
    with unit_of_work() as session:
        user_a, user_b = make_user(session, name="Ann A"), make_user(session, name="Ben B")
        a = make_business(session, owner=user_a, name="Alpha Farms LLC")
        b = make_business(session, owner=user_b, name="Beta Farms LLC")
        a_draft, b_draft = _lot(session, a, "Alpha draft"), _lot(session, b, "Beta draft")
        b_listed = _lot(session, b, "Beta listed", LotStatus.active)
        principal_a = identity.build_principal(session, user_a)
    return principal_a, a_draft.id, b_draft.id, b_listed.id, b.id


def _titles(session) -> set[str]:
    return set(session.exec(select(Lot.title).where(Lot.title.in_(["Alpha draft", "Beta draft", "Beta listed"]))))


def test_the_tenant_role_without_the_setting_sees_no_tenant_rows(two_tenants, connection):
    with unit_of_work() as session:
        session.execute(sa.text("SET LOCAL ROLE icc_tenant"))
        assert _titles(session) == {"Beta listed"}  # only the public listing
        assert session.execute(sa.text("SELECT count(*) FROM lots WHERE status = 'draft'")).scalar_one() == 0
        for table in ("offers", "orders", "disputes", "coa_documents", "exchange_idempotency_keys"):
            assert session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table
        session.execute(sa.text("RESET ROLE"))


def test_business_a_cannot_see_or_change_business_b_draft_lot(two_tenants, connection):
    principal_a, a_draft, b_draft, b_listed, b_id = two_tenants
    with unit_of_work(tenant=principal_a) as session:
        assert session.execute(sa.text("SELECT current_user")).scalar_one() == "icc_tenant"
        assert _titles(session) == {"Alpha draft", "Beta listed"}  # an unscoped query, filtered by the database
        assert session.get(Lot, b_draft) is None
        changed = session.execute(sa.text("UPDATE lots SET title = 'stolen' WHERE id = :id"), {"id": b_draft})
        assert changed.rowcount == 0
        changed = session.execute(sa.text("UPDATE lots SET title = 'stolen' WHERE id = :id"), {"id": b_listed})
        assert changed.rowcount == 0  # listed lots are readable by all, changed only by their seller
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        with unit_of_work(tenant=principal_a) as session:
            _lot(session, type("B", (), {"id": b_id})(), "Planted in B")
    with unit_of_work() as session:  # a worker: no tenant, every row, and the role is back to the app's own
        assert session.execute(sa.text("SELECT current_user")).scalar_one() != "icc_tenant"
        assert _titles(session) == {"Alpha draft", "Beta draft", "Beta listed"}
        assert session.get(Lot, b_draft).title == "Beta draft"
        assert session.exec(select(Lot).where(Lot.title == "Planted in B")).first() is None
