"""Find My Product's state: the quiz runs from the form, shows in-stock picks with a marker per store, explains
a missing place, keeps answers and favourites for a signed-in consumer."""

from __future__ import annotations

from icc_app.budtender.ui.state import FindState
from icc_app.core.db import unit_of_work
from icc_app.identity.models import User
from tests.factories import session_token
from tests.ui.harness import make_state, run


def _state(world=None):
    token = ""
    if world is not None:
        with unit_of_work() as s:
            token = session_token(s, s.get(User, world.principal.user_id))
    state = make_state(FindState, token=token, path="/find-my-product")
    run(FindState.load, state)
    return state


def test_anonymous_quiz_shows_in_stock_picks_and_store_markers(world, redis_client):
    state = _state()
    run(FindState.toggle_wanted, state, "relaxed", True)
    run(FindState.toggle_wanted, state, "sleepy", True)
    run(FindState.find, state, {"place": "", "budget": ""})
    assert "Enter a city" in state.error and not state.results
    run(FindState.find, state, {"place": "Denver, CO", "budget": ""})
    assert state.error == "" and state.searched
    names = [r.name for r in state.results]
    assert names[0].startswith("GDP") and "Bubba sold out" not in names
    assert state.heading.endswith("in stock within 15 miles of Denver, CO")
    assert [m.name for m in state.markers] == ["Mile High Greens"]
    assert not state.searching


def test_signed_in_answers_and_favourites_are_kept(world, redis_client):
    state = _state(world)
    run(FindState.toggle_wanted, state, "happy", True)
    run(FindState.toggle_format, state, "flower", True)
    run(FindState.find, state, {"place": "Denver, CO", "budget": "40"})
    first = state.results[0]
    run(FindState.save_favourite, state, first.menu_item_id)
    assert [f.name for f in state.favourites] == [first.name]
    assert state.results[0].favourite and state.history[0].summary == "Happy · Flower · up to $40.00"
    again = _state(world)  # a new visit: the quiz is filled in from last time
    assert again.wanted == ["happy"] and again.formats == ["flower"] and again.budget == "40.00"
    assert again.place == "Denver, CO"
