"""What visitors see: search filters (open now in the store's own time zone, services, category, minimum CQI on the
menu), the menu with CQI badges and review summaries, a product's page with where else it is in stock nearby,
the profile an operator edits, items linked to bought exchange lots, the sitemap and the crawlable page heads."""

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.exchange import offers
from icc_app.exchange.models import Lot
from icc_app.identity import service as identity
from icc_app.identity.accounts import sign_up_consumer
from icc_app.maps import catalog, menus, reviews, seo, service
from icc_app.maps.models import Dispensary, MenuItem, ReviewSummary
from tests.factories import PASSWORD
from tests.maps.conftest import retailer_with_store

# 2026-06-03 is a Wednesday; 19:30 UTC is 12:30 in Seattle (PDT) and 15:30 in Boston (EDT).
WEDNESDAY_NOON_SEATTLE = datetime(2026, 6, 3, 19, 30, tzinfo=UTC)


def test_open_now_reads_hours_in_the_store_time_zone():
    hours = {"wednesday": ["09:00", "13:00"]}
    assert service.open_now(hours, "WA", WEDNESDAY_NOON_SEATTLE) is True
    assert service.open_now(hours, "MA", WEDNESDAY_NOON_SEATTLE) is False  # 15:30 in Boston
    assert service.open_now({"tuesday": ["09:00", "13:00"]}, "WA", WEDNESDAY_NOON_SEATTLE) is False
    assert service.open_now({}, "WA", WEDNESDAY_NOON_SEATTLE) is None
    late = {"tuesday": ["18:00", "02:00"]}  # Tuesday's hours run past midnight into Wednesday
    assert service.open_now(late, "WA", datetime(2026, 6, 3, 8, 30, tzinfo=UTC)) is True  # 01:30 Wednesday
    assert service.open_now(late, "WA", datetime(2026, 6, 3, 10, 30, tzinfo=UTC)) is False  # 03:30


def _place(session, name, lat, lon, **extra):
    dispensary = Dispensary(name=name, license_number=f"4{abs(hash(name)) % 100000:05d}", state="WA", latitude=lat,
                            longitude=lon, slug=service.slugify(name), city="Seattle", city_slug="seattle", **extra)
    session.add(dispensary)
    session.flush()
    return dispensary


def _item(session, dispensary, name, category="flower", stock=5, **extra):
    item = MenuItem(dispensary_id=dispensary.id, external_id=name, name=name, category=category, price=30,
                    in_stock_qty=stock, **extra)
    session.add(item)
    session.flush()
    return item


@pytest.fixture()
def town(connection):
    """Three stores in Seattle; one has a flower linked to a scored exchange lot."""
    with unit_of_work() as session:
        always = {day: ["00:00", "23:59"] for day in service.WEEKDAYS}
        open_store = _place(session, "Open Store", 47.61, -122.33, hours=always, services=["pickup", "delivery"])
        closed_store = _place(session, "Closed Store", 47.62, -122.32, hours={"monday": ["00:00", "00:01"]},
                              services=["pickup"])
        far_store = _place(session, "Far Store", 47.70, -122.30, services=["medical"])
        _item(session, open_store, "Blue Dream", terpenes=[{"name": "myrcene", "pct": 0.8}], strain_name="Blue Dream",
              brand="Evergreen")
        _item(session, closed_store, "Blue Dream", strain_name="Blue Dream", brand="Evergreen")
        _item(session, far_store, "Gummies", category="edible")
        _item(session, far_store, "Sold out", category="vape", stock=0)
    return open_store, closed_store, far_store


def _names(session, **filters):
    found = service.near(session, lat=47.61, lon=-122.33, radius_miles=25, filters=service.Filters(**filters))
    return [d.name for d, _ in found.rows if d.name.endswith("Store")]


def test_filters_narrow_the_radius_search(town):
    with unit_of_work() as session:
        assert _names(session) == ["Open Store", "Closed Store", "Far Store"]
        assert _names(session, open_now=True) == ["Open Store"]
        assert _names(session, services=("pickup",)) == ["Open Store", "Closed Store"]
        assert _names(session, services=("pickup", "delivery")) == ["Open Store"]
        assert _names(session, category="edible") == ["Far Store"]
        assert _names(session, category="vape") == []  # only out of stock there
        with pytest.raises(ValidationFailed, match="Unknown service"):
            _names(session, services=("drive-thru",))


def test_min_cqi_finds_stores_selling_a_well_scored_lot(town, market):
    open_store, _, _ = town
    with unit_of_work() as session:
        lot = session.get(Lot, market.lot_id)
        lot.cqi_score = 82.0
        session.add(lot)
        item = session.get(MenuItem, catalog.menu(session, open_store.id)[0].item.id)
        item.lot_id = lot.id
        session.add(item)
    with unit_of_work() as session:
        assert _names(session, min_cqi=80) == ["Open Store"]
        assert _names(session, min_cqi=90) == []
        listing = catalog.menu(session, open_store.id)[0]
        assert listing.cqi == 82.0
    client = TestClient(api.build())
    body = client.get("/api/v1/dispensaries", params={"lat": 47.61, "lon": -122.33, "radius_miles": 25,
                                                      "min_cqi": 80}).json()
    assert [d["name"] for d in body["dispensaries"] if d["name"].endswith("Store")] == ["Open Store"]
    assert client.get("/api/v1/dispensaries", params={"lat": 47.61, "lon": -122.33, "min_cqi": 120}).status_code == 422


def test_product_page_data_and_where_else_nearby(town):
    open_store, closed_store, far_store = town
    with unit_of_work() as session:
        listing = catalog.menu(session, open_store.id)[0]
        session.add(ReviewSummary(target_type="product", target_id=listing.item.id, count=2, rating=4.5,
                                  effects={"relaxed": 1.0, "happy": 0.5, "dry mouth": 0.5, "sleepy": 0.1}))
        session.flush()
        found, owner = catalog.product(session, listing.item.id)
        assert owner.id == open_store.id and found.summary.rating == 4.5
        assert found.top_effects == ["relaxed", "happy", "dry mouth"]
        others = catalog.elsewhere(session, found.item, owner)
        assert [(place.name, item.name) for item, place, _ in others] == [("Closed Store", "Blue Dream")]
        path = catalog.product_path(owner, found.item)
        assert path.startswith("/dispensaries/wa/seattle/open-store/blue-dream-")
        assert catalog.product_id_from(path.rsplit("/", 1)[1]) == found.item.id


def test_sitemap_and_page_heads_are_crawlable(town):
    open_store, *_ = town
    client = TestClient(api.build())
    sitemap = client.get("/sitemap.xml")
    assert sitemap.status_code == 200 and sitemap.headers["content-type"].startswith("application/xml")
    assert "/dispensaries/wa/seattle/open-store</loc>" in sitemap.text
    assert "/dispensaries/wa/seattle/open-store/blue-dream-" in sitemap.text
    assert "Sitemap:" in client.get("/robots.txt").text
    with unit_of_work() as session:
        meta = seo.page_meta(session, "/dispensaries/wa/seattle/open-store")
        assert meta["title"] == "Open Store: dispensary in Seattle, WA | ICC Maps"
        assert seo.page_meta(session, "/dispensaries/wa/seattle/no-such-store") is None
        assert seo.page_meta(session, "/exchange") is None
    shell = '<html><head><title>Dispensary | ICC Maps</title><meta name="description" content="x"/></head></html>'
    page = seo.rewrite_head(shell, {**meta, "title": 'A <b> & "c"'}, "https://icc.example")
    assert "<title>A &lt;b&gt; &amp; &quot;c&quot;</title>" in page and 'content="x"' not in page
    assert '<link rel="canonical" href="https://icc.example/dispensaries/wa/seattle/open-store"/>' in page


@pytest.fixture()
def operator(connection):
    with unit_of_work() as session:
        return retailer_with_store(session, name="Hill Shop", number="416001")


def test_operator_claims_then_edits_profile_hours_and_menu(operator):
    principal, business, store = operator
    with unit_of_work() as session:
        assert [(d.name, mine) for d, mine in menus.claimable(session, principal=principal,
                                                               business_id=business.id)] == [("Hill Shop", False)]
        menus.claim(session, principal=principal, business_id=business.id, dispensary_id=store.id)
        menus.update_profile(session, principal=principal, dispensary_id=store.id, phone="(206) 555-0100",
                             website="https://hillshop.example", services=["delivery", "pickup"],
                             hours={"monday": ("9:00", "21:00"), "sunday": ("", "")})
        with pytest.raises(ValidationFailed, match="HH:MM"):
            menus.update_profile(session, principal=principal, dispensary_id=store.id, services=[],
                                 hours={"monday": ("9am", "21:00")})
        item = menus.upsert_item(session, principal=principal, dispensary_id=store.id, external_id="A1",
                                 row={"name": "Haze", "category": "flower", "price": "30", "in_stock_qty": "4",
                                      "terpenes": "limonene 0.4; myrcene 0.9"})
        assert [t["name"] for t in item.terpenes] == ["myrcene", "limonene"]
        menus.set_stock(session, principal=principal, item_id=item.id, quantity=0)
        assert [i.name for i in menus.manage_menu(session, principal=principal, dispensary_id=store.id)] == ["Haze"]
        assert catalog.menu(session, store.id) == []  # out of stock: off the public menu
    with unit_of_work() as session:
        saved = session.get(Dispensary, store.id)
        assert saved.hours == {"monday": ["09:00", "21:00"]} and saved.services == ["pickup", "delivery"]
        assert saved.website == "https://hillshop.example"


def test_items_link_only_to_lots_the_business_bought(market):
    buyer = market.principal(market.buyer_user)
    with unit_of_work() as session:
        store = Dispensary(name="Bea Shop", license_number="401002", state="WA", latitude=47.61, longitude=-122.33,
                           slug="bea-shop-401002")
        session.add(store)
        session.flush()
        menus.claim(session, principal=buyer, business_id=market.buyer.id, dispensary_id=store.id)
        row = {"name": "Linked", "category": "flower", "price": "30", "lot_id": str(market.lot_id), "in_stock_qty": "3"}
        with pytest.raises(ValidationFailed, match="your business bought"):
            menus.upsert_item(session, principal=buyer, dispensary_id=store.id, external_id="L1", row=row)
        offer = offers.make_offer(session, principal=buyer, buyer_business_id=market.buyer.id, lot_id=market.lot_id,
                                  quantity="10", price_per_unit="1200")
    with unit_of_work() as session:
        offers.accept(session, principal=market.principal(market.seller_user), offer_id=offer.id)
    with unit_of_work() as session:
        assert [b.id for b in menus.bought_lots(session, principal=buyer, dispensary_id=store.id)] == [market.lot_id]
        item = menus.upsert_item(session, principal=buyer, dispensary_id=store.id, external_id="L1", row=row)
        lot = session.get(Lot, market.lot_id)
        assert item.lot_id == lot.id and item.thc_min == lot.thc_pct and lot.thc_pct
        assert item.terpenes and item.terpenes[0]["pct"] >= item.terpenes[-1]["pct"]  # the COA's terpenes


def test_reviews_the_owner_answers_include_product_reviews(operator):
    principal, business, store = operator
    with unit_of_work() as session:
        menus.claim(session, principal=principal, business_id=business.id, dispensary_id=store.id)
        fan = identity.build_principal(session, sign_up_consumer(
            session, email="fan_x@example.test", password=PASSWORD, handle="fan_x", birth_date=date(1990, 1, 1)))
        item = _item(session, store, "Haze")
        reviews.write(session, principal=fan, target_type="product", target_id=item.id, rating=4, effects=["happy"])
        rows = reviews.for_dispensary(session, principal=principal, dispensary_id=store.id)
        assert [(r.rating, about) for r, about in rows] == [(4, "Haze")]



def test_menu_filter_rules():
    haze = dict(text="Super Haze Evergreen", category="flower", strain_type="sativa", thc_low=22.0, thc_high=24.0,
                price=40.0, effects=["uplifted", "happy"])
    gummy = dict(text="Mint gummies", category="edible", strain_type=None, thc_low=None, thc_high=None, price=18.0,
                 effects=[])
    assert catalog.MenuFilter().keeps(**haze) and catalog.MenuFilter().keeps(**gummy)
    assert catalog.MenuFilter(query="haze").keeps(**haze) and not catalog.MenuFilter(query="haze").keeps(**gummy)
    assert catalog.MenuFilter(thc_min=23).keeps(**haze)  # its range reaches 23
    assert not catalog.MenuFilter(thc_max=20).keeps(**haze) and catalog.MenuFilter(thc_max=22).keeps(**haze)
    assert not catalog.MenuFilter(thc_max=20).keeps(**gummy)  # no THC on file: not in any THC range
    assert catalog.MenuFilter(max_price=20).keeps(**gummy) and not catalog.MenuFilter(max_price=20).keeps(**haze)
    assert catalog.MenuFilter(effect="happy").keeps(**haze) and not catalog.MenuFilter(effect="sleepy").keeps(**haze)
    assert not catalog.MenuFilter(category="edible", strain_type="sativa").keeps(**gummy)
