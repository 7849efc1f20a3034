"""The review form on a dispensary page: a double click on "Publish review" writes one review (one audit row), and
the consumer's own review shows once, in its "Your review" card, not again in the list."""

from datetime import date

from sqlmodel import func, select

from icc_app.core.audit import AuditLog
from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.identity.accounts import sign_up_consumer
from icc_app.maps import reviews, service
from icc_app.maps.models import Dispensary
from icc_app.maps.ui.pages import DispensaryState
from tests.factories import PASSWORD, session_token
from tests.ui.harness import make_state, run


def _written(session) -> int:
    return session.exec(select(func.count()).select_from(AuditLog)
                        .where(AuditLog.action == "maps.review.written")).one()


def test_double_click_writes_once_and_own_review_is_not_listed_twice(connection):
    with unit_of_work() as session:
        store = Dispensary(name="Click Shop", license_number="419999", state="WA", city="Seattle",
                           city_slug="seattle", slug="click-shop-419999", latitude=47.6, longitude=-122.3)
        session.add(store)
        session.flush()
        other = sign_up_consumer(session, email="other@example.test", password=PASSWORD, handle="other_fan",
                                 birth_date=date(1990, 1, 1))
        reviews.write(session, principal=identity.build_principal(session, other), target_type="dispensary",
                      target_id=store.id, rating=4, effects=[], text="Nice staff")
        me = sign_up_consumer(session, email="clicker@example.test", password=PASSWORD, handle="clicker",
                              birth_date=date(1990, 1, 1))
        token = session_token(session, me)
        path = service.page_path(store)
    state = make_state(DispensaryState, token=token, path=path)
    run(DispensaryState.load, state)
    assert [r.author for r in state.listed_reviews] == ["other_fan"]

    state.busy = True  # the first submit is still running when the second arrives: ignored
    run(DispensaryState.write_review, state, {"text": "Quick"})
    with unit_of_work() as session:
        assert _written(session) == 1 and state.own_review is None

    state.busy = False
    run(DispensaryState.write_review, state, {"text": "Quick"})
    assert not state.busy and state.own_review.text == "Quick"
    run(DispensaryState.write_review, state, {"text": "Quick"})  # the queued second click: its form is gone
    with unit_of_work() as session:
        assert _written(session) == 2  # one for the other fan, one for this click

    assert state.review_count_line == "2 reviews"
    assert [r.author for r in state.listed_reviews] == ["other_fan"]  # mine is in the "Your review" card
    run(DispensaryState.start_edit, state)
    run(DispensaryState.write_review, state, {"text": "Quicker"})  # editing still saves
    with unit_of_work() as session:
        assert _written(session) == 3
    assert state.own_review.text == "Quicker"
