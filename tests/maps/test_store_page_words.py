"""Words on the public store and product pages: terpene keys from a menu read as names, and a single store's map
does not talk about a list of results (the locator's map does)."""

import pytest

from icc_app.core.db import unit_of_work
from icc_app.maps import catalog
from icc_app.maps.catalog import terpene_name
from icc_app.maps.models import Dispensary, MenuItem
from icc_app.maps.ui import pages
from icc_app.maps.ui.locator import locator_page
from icc_app.maps.ui.product import ProductState
from tests.ui.harness import make_state, run


@pytest.mark.parametrize("key, name", [
    ("caryophylleneoxide", "Caryophyllene oxide"), ("caryophyllene_oxide", "Caryophyllene oxide"),
    ("beta-caryophyllene", "β-Caryophyllene"), ("β-caryophyllene", "β-Caryophyllene"),
    ("alpha-pinene", "α-Pinene"), ("d-limonene", "D-Limonene"), ("Linalool", "Linalool"), ("myrcene", "Myrcene"),
    ("humulene", "Humulene"), ("terpinolene", "Terpinolene"), ("ocimene", "Ocimene"), ("bisabolol", "Bisabolol"),
    ("nerolidol", "Nerolidol"), ("eucalyptol", "Eucalyptol"), ("trans-nerolidol", "trans-Nerolidol"),
    ("some_new_terpene", "Some New Terpene"), ("", ""),
])
def test_terpene_keys_read_as_names(key, name):
    assert terpene_name(key) == name


def test_the_store_map_fallback_points_at_the_address_not_a_result_list():
    store_page, locator = str(pages.dispensary_page()), str(locator_page())
    assert pages.STORE_MAP_NOTE in store_page and "every result is in the list" not in store_page
    assert "every result is in the list" in locator


def test_the_product_page_and_menu_card_name_terpenes(connection):
    with unit_of_work() as session:
        store = Dispensary(name="Terp Shop", license_number="418181", state="WA", city="Seattle",
                           city_slug="seattle", slug="terp-shop-418181", latitude=47.6, longitude=-122.3)
        session.add(store)
        session.flush()
        item = MenuItem(dispensary_id=store.id, external_id="T1", name="Terp Haze", category="flower", price=30.0,
                        in_stock_qty=2, terpenes=[{"name": "caryophylleneoxide", "pct": 0.4},
                                                  {"name": "beta-myrcene", "pct": 0.9}])
        session.add(item)
        session.flush()
        path = catalog.product_path(store, item)
    state = make_state(ProductState, path=path)
    run(ProductState.load, state)
    assert [t["name"] for t in state.terpenes] == ["Caryophyllene oxide", "β-Myrcene"]
    assert state.product.terpenes == "Caryophyllene oxide 0.4% · β-Myrcene 0.9%"
