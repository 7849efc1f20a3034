"""Factories for operations tests: a retailer with its team, demand and stock written straight into the tables
(the POS sync and CSV import fill them in production), a CCX supplier with a listed lot, dispensaries nearby."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from icc_app.core.db import unit_of_work
from icc_app.core.models import utcnow
from icc_app.exchange.models import Lot, LotStatus
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType, Role
from icc_app.maps.models import Dispensary, MenuItem
from icc_app.operations.models import DemandDay, StockItem
from tests.factories import add_member, make_business, make_user, verified_license

TODAY = date(2026, 12, 2)


@dataclass
class Shop:
    business_id: uuid.UUID
    owner: object
    staff: object

    def principal(self, user=None):
        with unit_of_work() as session:
            return identity.build_principal(session, user or self.owner)


def new_shop(name: str = "Green Door LLC", *, number: str = "412001") -> Shop:
    with unit_of_work() as session:
        owner = make_user(session, name=f"Owner of {name}")
        business = make_business(session, owner=owner, name=name, business_type=BusinessType.retailer)
        verified_license(session, business, number=number)
        staff = add_member(session, business, role=Role.staff, products=["operations"])
        return Shop(business.id, owner, staff)


@pytest.fixture()
def shop(connection, redis_client) -> Shop:
    return new_shop()


@pytest.fixture()
def rival(connection) -> Shop:
    return new_shop("Other Shop LLC", number="412002")


def demand(session, business_id, product: str, per_day: list[float], *, category: str = "flower",
           location: str = "main", end: date = TODAY - timedelta(days=1), price: float = 30.0) -> None:
    start = end - timedelta(days=len(per_day) - 1)
    for i, qty in enumerate(per_day):
        session.add(DemandDay(business_id=business_id, location_key=location, product_key=product, category=category,
                              day=start + timedelta(days=i), quantity=Decimal(str(qty)),
                              revenue=Decimal(str(round(qty * price, 2))), source="csv"))
    session.flush()


def steady(mean: float, n: int = 56, seed: int = 1) -> list[float]:
    return [float(v) for v in np.random.default_rng(seed).poisson(mean, n)]


def stock(session, business_id, product: str, quantity: float, *, name: str | None = None, category: str = "flower",
          strain: str | None = None, unit_cost: str | None = "10.00", price: str | None = "30.00",
          expires_on: date | None = None, batch: str = "", location: str = "main", size: str | None = None):
    item = StockItem(business_id=business_id, location_key=location, product_key=product, batch=batch,
                     name=name or product.title(), category=category, strain_name=strain, size_label=size,
                     quantity=Decimal(str(quantity)), unit_cost=Decimal(unit_cost) if unit_cost else None,
                     price=Decimal(price) if price else None, expires_on=expires_on, source="csv")
    session.add(item)
    session.flush()
    return item


def supplier_with_lot(*, strain: str = "Blue Dream", cqi: float | None = 82.5) -> tuple[uuid.UUID, uuid.UUID]:
    with unit_of_work() as session:
        owner = make_user(session, name="Farm owner")
        farm = make_business(session, owner=owner, name="Cascade Farms LLC", business_type=BusinessType.cultivator)
        verified_license(session, farm, number="413001")
        lot = Lot(business_id=farm.id, title=f"{strain} indoor flower", product_type="flower", strain_name=strain,
                  strain_type="hybrid", quantity=Decimal("500"), available_qty=Decimal("500"),
                  min_order_qty=Decimal("1"), unit="units", price_per_unit=Decimal("9.50"), status=LotStatus.active,
                  listed_at=utcnow(), cqi_score=cqi)
        session.add(lot)
        session.flush()
        return farm.id, lot.id


def store(session, *, name: str, lat: float, lon: float, business_id=None) -> Dispensary:
    n = uuid.uuid4().hex[:8]
    shop = Dispensary(name=name, license_number=f"L{n}", state="WA", latitude=lat, longitude=lon, slug=f"s-{n}",
                      claimed_by_business_id=business_id)
    session.add(shop)
    session.flush()
    return shop


def menu_item(session, dispensary, *, category: str, strain: str | None, price: str, weight_g: float = 3.5):
    item = MenuItem(dispensary_id=dispensary.id, external_id=uuid.uuid4().hex, name=f"{strain} {weight_g}g",
                    category=category, strain_name=strain, price=Decimal(price),
                    variants=[{"label": f"{weight_g}g", "weight_g": weight_g, "price": float(price)}])
    session.add(item)
    session.flush()
    return item
