"""IVB test data: a few real-looking strains with effect shares and review counts, two stores 3 and 60 miles
apart from a consumer in Denver, and menus mixing in-stock and sold-out items."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from icc_app.budtender import strains
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType, UserKind
from icc_app.maps.models import Dispensary, MenuItem
from tests.factories import make_business, make_user

DENVER = (39.7392, -104.9903)
_seq = itertools.count(1)

STRAINS = {  # name: (effects, review count, terpenes, type)
    "Granddaddy Purple": ({"relaxed": 0.62, "sleepy": 0.48, "happy": 0.40, "paranoid": 0.02}, 1204,
                          {"myrcene": 0.9, "linalool": 0.3, "caryophyllene": 0.2}, "indica"),
    "Two Review Wonder": ({"relaxed": 1.0, "sleepy": 1.0}, 2, {"limonene": 0.5}, "indica"),
    "Sour Diesel": ({"energetic": 0.55, "uplifted": 0.50, "happy": 0.45, "relaxed": 0.20, "paranoid": 0.08}, 900,
                    {"caryophyllene": 0.6, "limonene": 0.5, "myrcene": 0.2}, "sativa"),
    "Blue Dream": ({"relaxed": 0.50, "happy": 0.52, "creative": 0.30, "sleepy": 0.10}, 2500,
                   {"myrcene": 0.7, "pinene": 0.3, "caryophyllene": 0.2}, "hybrid"),
    "Bubba Kush": ({"relaxed": 0.58, "sleepy": 0.52, "hungry": 0.30}, 700,
                   {"myrcene": 0.6, "linalool": 0.4, "caryophyllene": 0.3}, "indica"),
}


@dataclass
class World:
    near: Dispensary
    far: Dispensary
    items: dict[str, MenuItem]  # by name
    principal: object  # a signed-in consumer
    business: object  # owns `near`
    owner: object  # principal of the business's owner


def add_item(session, store: Dispensary, name: str, *, strain: str | None, qty: int = 5, category: str = "flower",
             price: str = "35.00", active: bool = True, thc: float = 18.0, terpenes=None) -> MenuItem:
    item = MenuItem(dispensary_id=store.id, external_id=f"sku-{next(_seq)}", name=name, category=category,
                    strain_name=strain, in_stock_qty=qty, price=Decimal(price), is_active=active, thc_min=thc,
                    thc_max=thc, terpenes=terpenes if terpenes is not None else [
                        {"name": k, "pct": v} for k, v in STRAINS.get(strain or "", ({}, 0, {}, ""))[2].items()])
    session.add(item)
    session.flush()
    return item


def store(session, name: str, lat: float, lon: float, business=None) -> Dispensary:
    n = next(_seq)
    place = Dispensary(name=name, license_number=f"L{n:05d}", state="CO", latitude=lat, longitude=lon,
                       slug=f"{name.lower().replace(' ', '-')}-{n}",
                       claimed_by_business_id=business.id if business else None)
    session.add(place)
    session.flush()
    return place


@pytest.fixture()
def world(session) -> World:
    for name, (effects, count, terps, kind) in STRAINS.items():
        strains.add_strain(session, name=name, effects=effects, review_count=count, terpenes=terps, strain_type=kind)
    owner = make_user(session)
    business = make_business(session, owner=owner, business_type=BusinessType.retailer, name="Mile High Retail LLC")
    near = store(session, "Mile High Greens", DENVER[0] + 0.03, DENVER[1], business)  # ~2 miles
    far = store(session, "Springs Leaf", 38.8339, -104.8214)  # Colorado Springs, ~60 miles
    items = {
        "GDP 3.5g": add_item(session, near, "GDP 3.5g", strain="Granddaddy Purple"),
        "Wonder 3.5g": add_item(session, near, "Wonder 3.5g", strain="Two Review Wonder"),
        "Sour D 1g": add_item(session, near, "Sour D 1g", strain="Sour Diesel", price="12.00"),
        "Blue Dream 3.5g": add_item(session, near, "Blue Dream 3.5g", strain="Blue Dream"),
        "Bubba sold out": add_item(session, near, "Bubba sold out", strain="Bubba Kush", qty=0),
        "Bubba hidden": add_item(session, near, "Bubba hidden", strain="Bubba Kush", active=False),
        "Bubba far away": add_item(session, far, "Bubba far away", strain="Bubba Kush"),
        "GDP gummies": add_item(session, near, "GDP gummies", strain="Granddaddy Purple", category="edible",
                                price="20.00"),
    }
    consumer = make_user(session, kind=UserKind.consumer, name=f"budtender_fan_{next(_seq)}")
    return World(near=near, far=far, items=items, principal=identity.build_principal(session, consumer),
                 business=business, owner=identity.build_principal(session, owner))
