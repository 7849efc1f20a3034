"""Words on the public store and product pages: terpene keys from a menu read as names, and a single store's map
does not talk about a list of results (the locator's map does)."""

import pytest

from icc_app.maps.catalog import terpene_name
from icc_app.maps.ui import pages
from icc_app.maps.ui.locator import locator_page


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
