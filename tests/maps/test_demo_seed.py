"""`make run`'s Maps demo: the WA dispensaries, and the demo retailer's store claimed with the real Dutchie menu
capture mapped item by item; running the seed again changes nothing."""

from sqlmodel import func, select

from icc_app.core.db import unit_of_work
from icc_app.core.seed import seed_demo, seed_maps_demo
from icc_app.maps import catalog, service
from icc_app.maps.models import Dispensary, MenuItem


def test_demo_store_has_the_real_dutchie_menu(connection, shared_data):
    with unit_of_work() as session:
        seed_demo(session)
    assert "226 menu items" in seed_maps_demo(shared_data)
    assert seed_maps_demo(shared_data) is None  # idempotent
    with unit_of_work() as session:
        store = service.by_slug(session, state="WA", slug="capitol-hill-cannabis-415678")
        assert store.claimed_by_business_id is not None and service.open_now(store.hours, "WA") is not None
        menu = catalog.menu(session, store.id)
        assert len(menu) == 226 and {listing.item.source for listing in menu} == {"dutchie"}
        categories = {listing.item.category for listing in menu}
        assert {"flower", "pre_roll", "vape", "edible", "concentrate"} <= categories
        flower = next(listing.item for listing in menu if listing.item.category == "flower" and listing.item.terpenes)
        assert flower.price > 0 and flower.thc_max is not None and flower.terpenes[0]["pct"] > 0
        # 466 open WA stores (+ the demo one); the 47 title certificates hold a license but no store.
        assert session.exec(select(func.count()).select_from(Dispensary).where(Dispensary.state == "WA")).one() > 450
        assert session.exec(select(func.count()).select_from(Dispensary).where(
            Dispensary.street.ilike("%title certificate%"))).one() == 0
        assert session.exec(select(func.count()).select_from(MenuItem).where(MenuItem.dispensary_id == store.id)
                            ).one() == 226
