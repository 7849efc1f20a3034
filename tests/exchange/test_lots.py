"""Listing rules: who may sell, the COA gate, validation, edits with version checks, expiry and suspension."""

from datetime import timedelta

import pytest
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.exchange import lots
from icc_app.exchange.models import Lot, LotEvent, LotStatus
from icc_app.identity.models import BusinessLicense, BusinessType, LicenseStatus
from tests.exchange.conftest import lot_input
from tests.factories import make_business, make_user


def test_listed_lot_carries_its_coa_values_and_location(market):
    with unit_of_work() as session:
        lot = session.get(Lot, market.lot_id)
        events = session.exec(select(LotEvent.to_status).where(LotEvent.lot_id == lot.id)).all()
    assert LotStatus(lot.status) == LotStatus.active and lot.listed_at is not None
    assert lot.thc_pct and lot.thc_pct > 15 and lot.coa_id is not None  # from the real parsed COA
    assert (lot.latitude, lot.longitude) == (46.60, -120.50)
    assert events == ["active"]


def test_a_lot_without_a_parsed_coa_cannot_be_listed(market):
    principal = market.principal(market.seller_user)
    with unit_of_work() as session:
        lot = lots.create_lot(session, principal=principal, business_id=market.seller.id, data=lot_input())
    with pytest.raises(ValidationFailed, match="Attach the lot's COA"), unit_of_work() as session:
        lots.publish(session, principal=principal, lot_id=lot.id)
    with unit_of_work() as session:
        assert LotStatus(session.get(Lot, lot.id).status) == LotStatus.draft


def test_retailers_and_unverified_businesses_cannot_sell(market, connection):
    with pytest.raises(PermissionDenied, match="Only cultivators"), unit_of_work() as session:
        lots.create_lot(session, principal=market.principal(market.buyer_user), business_id=market.buyer.id,
                        data=lot_input())
    with unit_of_work() as session:
        owner = make_user(session)
        fresh = make_business(session, owner=owner, business_type=BusinessType.cultivator)
    with pytest.raises(PermissionDenied, match="verified license"), unit_of_work() as session:
        lots.create_lot(session, principal=market.principal(owner), business_id=fresh.id, data=lot_input())


@pytest.mark.parametrize(("field", "value", "message"), [
    ("quantity", "-5", "more than zero"), ("min_order_qty", "500", "minimum order"), ("price_per_unit", "abc", "number"),
    ("metrc_tag", "SHORT", "24 letters"), ("product_type", "rocket", "Unknown"), ("title", "", "title"),
])
def test_bad_lot_input_is_refused_with_the_field(market, field, value, message):
    with pytest.raises(ValidationFailed, match=message), unit_of_work() as session:
        lots.create_lot(session, principal=market.principal(market.seller_user), business_id=market.seller.id,
                        data=lot_input(**{field: value}))


def test_edits_need_the_current_version_and_strangers_get_404(market):
    principal = market.principal(market.seller_user)
    with unit_of_work() as session:
        lot = lots.update_lot(session, principal=principal, lot_id=market.lot_id,
                              data=lot_input(price_per_unit="1100"), version=1)
        assert lot.version == 2 and str(lot.price_per_unit) == "1100.00"
    with pytest.raises(Conflict, match="Someone else changed"), unit_of_work() as session:
        lots.update_lot(session, principal=principal, lot_id=market.lot_id, data=lot_input(price_per_unit="900"),
                        version=1)
    with pytest.raises(NotFound), unit_of_work() as session:
        lots.pause(session, principal=market.principal(market.buyer_user), lot_id=market.lot_id)


def test_listings_expire_and_lapsed_licenses_pause_them(market):
    with unit_of_work() as session:
        lot = session.get(Lot, market.lot_id)
        lot.listing_expires_at = lot.listed_at - timedelta(seconds=1)
        session.add(lot)
    with unit_of_work() as session:
        assert lots.expire_listings(session) >= 1
        assert LotStatus(session.get(Lot, market.lot_id).status) == LotStatus.expired
    principal = market.principal(market.seller_user)
    with unit_of_work() as session:
        lots.publish(session, principal=principal, lot_id=market.lot_id)  # listed again
        for lic in session.exec(select(BusinessLicense).where(BusinessLicense.business_id == market.seller.id)):
            lic.status = LicenseStatus.expired
            session.add(lic)
    with unit_of_work() as session:
        assert lots.suspend_unlicensed(session) >= 1
        lot = session.get(Lot, market.lot_id)
        assert LotStatus(lot.status) == LotStatus.paused and "license" in lot.status_reason
