"""Claims and manual menus: only the business holding the dispensary's verified license claims it; CSV imports
save the good rows and report each bad one; visitors see what is in stock."""

from decimal import Decimal

import pytest
from sqlmodel import select
from fastapi.testclient import TestClient

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.core.errors import NotFound, PermissionDenied, ValidationFailed
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType
from icc_app.maps import menus
from icc_app.maps.models import Dispensary, MenuItem
from tests.factories import make_business, make_user, verified_license

CSV = (b"sku,name,brand,category,strain_name,strain_type,thc_pct,cbd_pct,price,weight_g,in_stock_qty\n"
       b"F1,Blue Dream 3.5g,Evergreen,flower,Blue Dream,sativa,22.5,,35,3.5,12\n"
       b"F2,Gelato pre-roll,Evergreen,pre-roll,Gelato,hybrid,19,,9,1,40\n"
       b"X1,Mystery,,rocket,,,,,,,\n"
       b"F3,Sold out kush,,flower,OG Kush,indica,25,,40,3.5,0\n"
       b"F4,Bad THC,,flower,,,140,,20,1,5\n")


@pytest.fixture()
def shop(connection):
    with unit_of_work() as session:
        owner = make_user(session)
        business = make_business(session, owner=owner, name="Pine Street Cannabis LLC",
                                 business_type=BusinessType.retailer)
        verified_license(session, business, number="415555")
        dispensary = Dispensary(name="Pine Street Cannabis", license_number="415555", state="WA", latitude=47.61,
                                longitude=-122.32, slug="pine-street-cannabis-415555")
        other = Dispensary(name="Elsewhere", license_number="499999", state="WA", latitude=47.0, longitude=-122.0,
                           slug="elsewhere-499999")
        session.add_all([dispensary, other])
        session.flush()
        principal = identity.build_principal(session, owner)
    return principal, business, dispensary, other


def test_claim_needs_the_matching_verified_license(shop):
    principal, business, dispensary, other = shop
    with pytest.raises(PermissionDenied, match="WA 499999"), unit_of_work() as session:
        menus.claim(session, principal=principal, business_id=business.id, dispensary_id=other.id)
    with unit_of_work() as session:
        claimed = menus.claim(session, principal=principal, business_id=business.id, dispensary_id=dispensary.id)
    assert claimed.claimed_by_business_id == business.id
    with unit_of_work() as session:
        stranger = identity.build_principal(session, make_user(session))
    with pytest.raises(NotFound), unit_of_work() as session:
        menus.upsert_item(session, principal=stranger, dispensary_id=dispensary.id, external_id="Z",
                          row={"name": "x", "category": "flower", "price": "1"})


def test_csv_import_reports_bad_rows_and_the_public_menu_shows_stock(shop):
    principal, business, dispensary, _ = shop
    with unit_of_work() as session:
        menus.claim(session, principal=principal, business_id=business.id, dispensary_id=dispensary.id)
        report = menus.import_csv(session, principal=principal, dispensary_id=dispensary.id, data=CSV)
    assert report.saved == 3
    assert [line for line, _ in report.errors] == [4, 6]
    assert "category 'rocket'" in report.errors[0][1] and "thc_pct must be between 0 and 100" in report.errors[1][1]
    with pytest.raises(ValidationFailed, match="needs the columns"), unit_of_work() as session:
        menus.import_csv(session, principal=principal, dispensary_id=dispensary.id, data=b"name,price\nx,1\n")
    menu = TestClient(api.build()).get(f"/api/v1/dispensaries/{dispensary.id}/menu").json()
    assert sorted(menu["categories"]) == ["flower", "pre_roll"]
    flower = menu["categories"]["flower"]
    assert [i["name"] for i in flower] == ["Blue Dream 3.5g"]  # the sold-out item is hidden
    assert flower[0]["thc"] == "22.5%" and flower[0]["variants"][0]["label"] == "3.5 g"
    assert flower[0]["price"] == "35.00" and flower[0]["currency"] == "USD"  # money, not a float
    assert flower[0]["cqi"] is None and flower[0]["review_count"] == 0 and flower[0]["terpenes"] == []
    assert flower[0]["url"].startswith("/dispensaries/wa/city/pine-street-cannabis-415555/blue-dream-3-5g-")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "Blue\x00Dream", "NUL"), ("brand", "x" * 201, "At most 200"), ("price", "1e30", "between"),
    ("price", "nan", "between"), ("thc_pct", "-1", "between")])
def test_hostile_item_values_are_refused_by_field(shop, field, value, message):
    principal, business, dispensary, _ = shop
    with unit_of_work() as session:
        menus.claim(session, principal=principal, business_id=business.id, dispensary_id=dispensary.id)
    row = {"name": "Blue Dream", "category": "flower", "price": "35", field: value}
    with pytest.raises(ValidationFailed, match=message) as refused, unit_of_work() as session:
        menus.upsert_item(session, principal=principal, dispensary_id=dispensary.id, external_id="S1", row=row)
    assert refused.value.field == field
    with pytest.raises(ValidationFailed, match="NUL"), unit_of_work() as session:
        menus.update_profile(session, principal=principal, dispensary_id=dispensary.id, phone="206\x00555 0100",
                             hours={}, services=[])


def test_a_pos_feed_price_is_stored_as_money_to_the_cent(shop):
    _, _, dispensary, _ = shop
    with unit_of_work() as session:
        menus.sync_items(session, dispensary_id=dispensary.id, source="pos", items=[
            ("A", {"name": "Float noise", "category": "flower", "price": 12.499999999})])
    with unit_of_work() as session:
        [item] = session.exec(select(MenuItem).where(MenuItem.dispensary_id == dispensary.id)).all()
    assert item.price == Decimal("12.50") and isinstance(item.price, Decimal) and item.currency == "USD"
