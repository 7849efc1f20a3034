"""Marketplace search on PostgreSQL: full text, filters, sorts, distance from the buyer, pagination."""

import pytest

from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.exchange.search import LotFilters, buyer_origin, search
from tests.exchange.conftest import listed_lot


def _names(result):
    return [lot.strain_name for lot, _, _ in result.rows]


def test_full_text_filters_sorts_and_distance(market, shared_data):
    seller = market.principal(market.seller_user)
    listed_lot(shared_data, seller, market.seller.id, title="Sour Zebra pre-rolls", strain_name="Sour Zebra",
               strain_type="sativa", product_type="pre_roll", price_per_unit="4.50", unit="units", quantity="5000",
               min_order_qty="100", description="Zesty citrus joints")
    with unit_of_work() as session:
        origin = buyer_origin(session, market.buyer.id)
        assert origin == (47.61, -122.33)
        assert _names(search(session, LotFilters(q="citrus zebra"))) == ["Sour Zebra"]
        assert _names(search(session, LotFilters(q="purple", product_type="flower"))) == ["Granddaddy Purple"]
        assert "Granddaddy Purple" not in _names(search(session, LotFilters(strain_type="sativa")))
        cheap_first = _names(search(session, LotFilters(q="zebra purple", sort="price_asc")))
        assert set(cheap_first) <= {"Sour Zebra", "Granddaddy Purple"}
        price_ranked = _names(search(session, LotFilters(price_max=5, sort="price_asc")))
        assert "Sour Zebra" in price_ranked and "Granddaddy Purple" not in price_ranked
        near = search(session, LotFilters(origin=origin, max_distance_miles=150, sort="distance", q="purple"))
        assert near.rows and 100 < near.rows[0][2] < 130  # Yakima to Seattle, about 110 miles
        far = search(session, LotFilters(origin=origin, max_distance_miles=50, q="purple"))
        assert far.total == 0
        thc = search(session, LotFilters(thc_min=15, q="purple"))
        assert thc.total == 1 and thc.rows[0][0].thc_pct >= 15
        assert search(session, LotFilters(thc_min=99)).total == 0
        page = search(session, LotFilters(per_page=1, page=1))
        assert page.pages == page.total and len(page.rows) == 1


@pytest.mark.parametrize("filters", [LotFilters(sort="cheapest"), LotFilters(per_page=500),
                                     LotFilters(thc_min=30, thc_max=10), LotFilters(max_distance_miles=10)])
def test_bad_search_input_gets_a_clear_error(connection, filters):
    with pytest.raises(ValidationFailed), unit_of_work() as session:
        search(session, filters)
