"""A verified cultivator with a lot that carries a real, parsed COA, and a verified retailer to buy it."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from icc_app.core.db import unit_of_work
from icc_app.exchange import lots
from icc_app.exchange.lots import LotInput
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType, LicenseRegistryEntry
from icc_app.labs import service as labs
from icc_app.labs import tasks as labs_tasks
from tests.factories import make_business, make_user, verified_license

COA = "coas/confident-cannabis/GDP.pdf"


@dataclass
class Market:
    seller_user: object
    seller: object
    buyer_user: object
    buyer: object
    lot_id: object

    def principal(self, user):
        with unit_of_work() as session:
            return identity.build_principal(session, user)


def place(session, business, *, lat: float, lon: float, number: str):
    """A verified license whose registry row puts the business at (lat, lon)."""
    entry = LicenseRegistryEntry(state="WA", license_number=number, legal_name=business.legal_name, latitude=lat,
                                 longitude=lon)
    session.add(entry)
    session.flush()
    lic = verified_license(session, business, number=number)
    lic.registry_entry_id = entry.id
    session.add(lic)


def lot_input(**overrides) -> LotInput:
    values = dict(title="GDP flower, indoor", product_type="flower", strain_name="Granddaddy Purple",
                  strain_type="indica", quantity="100", unit="lb", min_order_qty="10", price_per_unit="1200.00",
                  description="Dense purple buds, hand trimmed.", delivery_terms="Delivered within 3 days in WA")
    values.update(overrides)
    return LotInput(**values)


def listed_lot(shared_data, principal, business_id, **overrides):
    """Create a lot, attach a real COA, parse it (what the worker does), and publish."""
    with unit_of_work() as session:
        lot = lots.create_lot(session, principal=principal, business_id=business_id, data=lot_input(**overrides))
    with unit_of_work() as session:
        doc = labs.upload_coa(session, principal, business_id=business_id, data=(shared_data / COA).read_bytes(),
                              filename="GDP.pdf", lot_id=lot.id)
    labs_tasks.parse_document(doc.id)
    with unit_of_work() as session:
        lots.publish(session, principal=principal, lot_id=lot.id)
    return lot.id


@pytest.fixture()
def market(connection, redis_client, shared_data) -> Market:
    with unit_of_work() as session:
        seller_user = make_user(session, name="Sid Seller")
        seller = make_business(session, owner=seller_user, name="Sid Farms LLC", business_type=BusinessType.cultivator)
        place(session, seller, lat=46.60, lon=-120.50, number="401001")  # Yakima
        buyer_user = make_user(session, name="Bea Buyer")
        buyer = make_business(session, owner=buyer_user, name="Bea Shop LLC", business_type=BusinessType.retailer)
        place(session, buyer, lat=47.61, lon=-122.33, number="401002")  # Seattle
        seller_principal = identity.build_principal(session, seller_user)
    lot_id = listed_lot(shared_data, seller_principal, seller.id)
    return Market(seller_user, seller, buyer_user, buyer, lot_id)


def qty(value) -> Decimal:
    return Decimal(str(value))
