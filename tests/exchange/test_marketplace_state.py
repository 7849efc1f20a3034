"""The marketplace filters on the real database through MarketState: NaN, infinity, 1e400 or a word in a number
filter is an error next to that field and no search runs; sensible numbers search."""

import json

import pytest

from icc_app.core.db import unit_of_work
from icc_app.exchange.ui.marketplace import MarketState
from tests.factories import session_token
from tests.ui.harness import make_state, run


def _buyer_state(market):
    with unit_of_work() as session:
        token = session_token(session, market.buyer_user)
    return make_state(MarketState, token=token, path="/exchange")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("thc_min", "NaN", "percentage"), ("thc_min", "inf", "percentage"), ("terpenes_min", "1e400", "percentage"),
    ("thc_min", "250", "percentage"), ("price_max", "nan", "dollars"), ("price_max", "1E+400", "dollars"),
    ("price_max", "-Infinity", "dollars"), ("max_distance", "inf", "miles"), ("max_distance", "-5", "miles"),
    ("max_distance", "lots", "miles"),
])
def test_bad_number_filters_are_field_errors(market, field, value, message):
    state = _buyer_state(market)
    run(MarketState.apply, state, {"q": "", field: value})
    assert message in state.errors.get(field, ""), state.errors
    assert state.lots == [] and not state.loaded


def test_good_number_filters_search(market):
    state = _buyer_state(market)
    run(MarketState.apply, state, {"q": "", "thc_min": "20", "price_max": "1,500", "max_distance": "200"})
    assert state.errors == {} and state.loaded
    assert [lot.id for lot in state.lots] == [str(market.lot_id)]
    run(MarketState.apply, state, {"q": "", "price_max": "1000.00"})  # the lot costs 1200
    assert state.errors == {} and state.lots == []


def test_filter_labels_are_tied_to_their_controls():
    """Radix Text turns an `html_for` prop into CSS: the label must render a real htmlFor for each select."""
    from icc_app.exchange.ui.marketplace import _filters

    rendered = json.dumps(_filters().render())
    for control in ("filter-product-type", "filter-strain-type", "thc_min", "price_max"):
        assert f'htmlFor:\\"{control}\\"' in rendered, control
    assert "[\\\"htmlFor\\\"]" not in rendered  # never as a style
