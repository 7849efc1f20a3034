"""Loyalty test data: a dispensary business, its POS connection, POS customers and sales made directly (the POS sync
that fills them is another product), and loyalty customers signed up through the real service."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from icc_app.core.security import encrypt  # noqa: F401 - keys configured by tests/conftest
from icc_app.identity.models import Business, BusinessType
from icc_app.integrations.models import Connection, PosCustomer, Sale, SaleLine
from icc_app.loyalty import customers, rules
from tests.factories import make_business

_seq = itertools.count(1)
ADULT = date(1990, 5, 17)


def dispensary(session: Session, *, state: str = "CO", timezone: str = "America/Denver") -> Business:
    business = make_business(session, business_type=BusinessType.retailer, name=f"Green Door {next(_seq)} LLC")
    business.state, business.timezone = state, timezone
    session.add(business)
    session.flush()
    return business


def connection(session: Session, business: Business) -> Connection:
    row = Connection(business_id=business.id, vendor="dutchie", name="Front counter", base_url="http://pos.local",
                     credentials="{}")
    session.add(row)
    session.flush()
    return row


def pos_customer(session: Session, conn: Connection, *, email: str | None = None, phone: str | None = None,
                 name: str = "Pat Doe", birth_date: str | None = "1990-05-17", customer_type: str = "recreational",
                 email_opt_in: bool | None = None, sms_opt_in: bool | None = None) -> PosCustomer:
    n = next(_seq)
    row = PosCustomer(business_id=conn.business_id, connection_id=conn.id, external_ref=f"ref-{uuid.uuid4().hex}",
                      name=name, email=email, phone=phone, birth_date=birth_date, customer_type=customer_type,
                      email_opt_in=email_opt_in, sms_opt_in=sms_opt_in, content_hash=str(n))
    session.add(row)
    session.flush()
    return row


def sale(session: Session, conn: Connection, pos: PosCustomer, *, at: datetime, total: str,
         lines: list[tuple[str, str]] | None = None) -> Sale:
    row = Sale(business_id=conn.business_id, connection_id=conn.id, external_id=f"s-{uuid.uuid4().hex}",
               occurred_at=at, customer_ref=pos.external_ref, subtotal=Decimal(total), total=Decimal(total))
    session.add(row)
    session.flush()
    for category, amount in lines or []:
        session.add(SaleLine(sale_id=row.id, business_id=conn.business_id, product_external_id=f"p-{next(_seq)}",
                             category=category, quantity=Decimal("1"), unit_price=Decimal(amount),
                             total=Decimal(amount)))
    session.flush()
    return row


def member(session: Session, business: Business, *, email: str | None = None, phone: str | None = None,
           email_consent: bool = True, sms_consent: bool = True, timezone: str | None = None,
           name: str = "Robin Vale"):
    n = next(_seq)
    return customers.sign_up(session, business_id=business.id, name=name,
                             email=email if email is not None else f"robin{n}@example.test",
                             phone=phone if phone is not None else f"+1303555{n:04d}", birth_date=ADULT,
                             email_consent=email_consent, sms_consent=sms_consent, timezone=timezone)


def days_ago(n: int, *, hour: int = 18) -> datetime:
    return (datetime.now(UTC) - timedelta(days=n)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture()
def shop(session):
    return dispensary(session)


__all__ = ["dispensary", "connection", "pos_customer", "sale", "member", "days_ago", "rules"]
