"""The home page's state on the real database: an operator gets their work queue and businesses in words, a
consumer gets their reviews and no trade figures, a visitor gets neither."""

from datetime import date

from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType, UserKind
from icc_app.ui.pages import HomeState
from tests.factories import PASSWORD, make_business, make_user, session_token, verified_license
from tests.ui.harness import make_state, run


def test_operator_home_lists_what_waits_and_businesses_in_words(connection, redis_client):
    with unit_of_work() as session:
        owner = make_user(session, name="Olive Owner")
        lab = make_business(session, owner=owner, name="Clear Lab LLC", business_type=BusinessType.testing_lab)
        verified_license(session, lab, number="499001", expires_in_days=5)
        token = session_token(session, owner)
    state = make_state(HomeState, token=token)
    run(HomeState.load, state)
    assert state.loaded and state.signed_in
    assert [(i["title"], i["route"]) for i in state.queue] == [("1 license to renew", "/onboarding")]
    assert state.business_rows == [{"name": "Clear Lab LLC", "verified": "yes", "type": "Testing lab",
                                    "role": "Admin", "products": "All products"}]


def test_consumer_home_has_reviews_and_no_trade_figures(connection, redis_client):
    with unit_of_work() as session:
        consumer = identity.create_user(session, email="leafy@example.test", password=PASSWORD,
                                        display_name="leafy_reader", kind=UserKind.consumer, handle="leafy_reader",
                                        birth_date=date(1990, 5, 1))
        token = session_token(session, consumer)
    state = make_state(HomeState, token=token)
    run(HomeState.load, state)
    assert state.is_consumer and state.queue == [] and state.business_rows == []
    assert state.review_total_text == "0 reviews" and state.reviews == []


def test_visitor_home_loads_nothing_private(connection, redis_client):
    state = make_state(HomeState)
    run(HomeState.load, state)
    assert not state.signed_in and not state.loaded and state.queue == []
