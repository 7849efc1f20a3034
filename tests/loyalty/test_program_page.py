"""The programme settings page and API: a manager sets earning rules, bonus days, category bonuses and tiers in one
save (what purchases then earn follows them); bad values are field errors that change nothing; staff read only; the
SMS token is stored but never shown."""

from decimal import Decimal

from fastapi.testclient import TestClient

from icc_app import api
from icc_app.identity.models import Role
from icc_app.loyalty import points
from icc_app.loyalty.models import Program
from icc_app.loyalty.ui.program import ProgramState
from tests.factories import add_member, make_business, session_token
from tests.ui.harness import make_state, run


def _page(session, shop, role=Role.manager) -> ProgramState:
    person = add_member(session, shop, role=role, products=["operations"])
    state = make_state(ProgramState, token=session_token(session, person), path="/loyalty/program")
    run(ProgramState.load_program, state)
    return state


def test_a_manager_sets_the_rules_and_tiers_in_one_save(session, shop, redis_client):
    state = _page(session, shop)
    assert state.can_edit and state.form["points_per_dollar"] == "1" and state.tier_rows == []
    state.form = {**state.form, "name": "Green Door Rewards", "points_per_dollar": "1.5", "sms_auth_token": "s3cret",
                  "sms_account_sid": "AC123", "sms_from": "+15555550100"}
    run(ProgramState.add_row, state, "bonus_days")
    run(ProgramState.set_row, state, "bonus_days", 0, "weekday", "2")
    run(ProgramState.add_row, state, "categories")
    run(ProgramState.set_row, state, "categories", 0, "category", "Edibles")
    for name, threshold, multiplier in (("Gold", "1000", "1.5"), ("Member", "0", "1")):
        run(ProgramState.add_row, state, "tier_rows")
        row = len(state.tier_rows) - 1
        for key, value in (("name", name), ("threshold_points", threshold), ("multiplier", multiplier)):
            run(ProgramState.set_row, state, "tier_rows", row, key, value)
    run(ProgramState.save, state)
    assert state.errors == {} and state.form_error == "" and not state.saving

    session.expire_all()
    saved = points.program(session, business_id=shop.id)
    assert (saved.name, saved.points_per_dollar) == ("Green Door Rewards", Decimal("1.50"))
    assert saved.bonus_days == [{"weekday": 2, "multiplier": 2.0}] and saved.category_multipliers == {"Edibles": 2.0}
    assert saved.sms_auth_token == "s3cret"
    assert [(t.name, t.threshold_points) for t in points.tiers(session, business_id=shop.id)] == [("Member", 0),
                                                                                                   ("Gold", 1000)]
    again = _page(session, shop)  # reloaded: what was saved, lowest tier first, the token never shown
    assert again.tier_rows[1]["name"] == "Gold" and again.form["sms_auth_token"] == "" and again.sms_configured
    assert again.bonus_days == [{"weekday": "2", "multiplier": "2"}]


def test_bad_values_are_field_errors_and_change_nothing(session, shop, redis_client):
    state = _page(session, shop)
    for key, value, field, words in (("points_per_dollar", "lots", "points_per_dollar", "enter a number"),
                                     ("quiet_start_hour", "25", "quiet_start_hour", "from 0 to 23"),
                                     ("min_redeem_points", "1e400", "min_redeem_points", "whole number"),
                                     ("name", "  ", "name", "needs a name")):
        state.form = {**_page(session, shop).form, key: value}
        run(ProgramState.save, state)
        assert words in state.errors.get(field, ""), (key, state.errors)
    state.form = _page(session, shop).form
    run(ProgramState.add_row, state, "tier_rows")
    run(ProgramState.set_row, state, "tier_rows", 0, "threshold_points", "100")
    run(ProgramState.save, state)
    assert "needs a name" in state.errors["tiers"]
    for key, value, words in (("name", "Go\x00ld", "NUL"), ("threshold_points", "99999999999", "0 to 100,000,000")):
        fresh = _page(session, shop)
        run(ProgramState.add_row, fresh, "tier_rows")
        run(ProgramState.set_row, fresh, "tier_rows", 0, "name", "Gold")
        run(ProgramState.set_row, fresh, "tier_rows", 0, "threshold_points", "10")
        run(ProgramState.set_row, fresh, "tier_rows", 0, key, value)
        run(ProgramState.save, fresh)
        assert words in fresh.errors.get("tiers", ""), (key, fresh.errors)
    forged = _page(session, shop)  # events the page never sends: another var, a row that is not there
    run(ProgramState.set_row, forged, "form", 0, "name", "x")
    run(ProgramState.set_row, forged, "tier_rows", 5, "name", "x")
    run(ProgramState.remove_row, forged, "tier_rows", 3)
    forged.bonus_days = [{"weekday": "9", "multiplier": "2"}]
    run(ProgramState.save, forged)
    assert isinstance(forged.form, dict) and forged.tier_rows == [] and "weekday" in forged.errors["bonus_days"]
    session.expire_all()
    assert points.program(session, business_id=shop.id).points_per_dollar == Decimal("1")
    assert points.tiers(session, business_id=shop.id) == []


def test_staff_read_but_cannot_save(session, shop, redis_client):
    state = _page(session, shop, role=Role.staff)
    assert state.loaded and not state.can_edit
    state.form = {**state.form, "points_per_dollar": "9"}
    run(ProgramState.save, state)
    session.expire_all()
    assert points.program(session, business_id=shop.id).points_per_dollar == Decimal("1")


def test_tiers_over_the_api(session, shop, redis_client):
    manager = add_member(session, shop, role=Role.manager, products=["operations"])
    stranger = add_member(session, make_business(session), role=Role.admin)
    client = TestClient(api.build(), raise_server_exceptions=False)
    url = f"/api/v1/loyalty/{shop.id}/program"
    auth = {"Authorization": f"Bearer {session_token(session, manager)}"}
    tiers = [{"name": "Gold", "threshold_points": 1000, "multiplier": 1.5, "benefits": "Early drops"}]
    answer = client.patch(url, headers=auth, json={"points_per_dollar": 2, "tiers": tiers})
    assert answer.status_code == 200, answer.text
    assert answer.json()["tiers"] == tiers and "sms_auth_token" not in answer.json()
    assert client.get(url, headers=auth).json()["tiers"] == tiers
    bad = client.patch(url, headers=auth, json={"tiers": [{"name": "X", "threshold_points": -5}]})
    assert bad.status_code == 422
    assert client.get(url, headers={"Authorization": f"Bearer {session_token(session, stranger)}"}).status_code == 404
    session.expire_all()
    assert session.get(Program, points.program(session, business_id=shop.id).id).points_per_dollar == Decimal("2")


def test_the_service_refuses_what_no_page_or_api_should_send(session, shop, redis_client):
    import pytest

    from icc_app.core.errors import ValidationFailed

    for tiers in ([{"name": "Gold", "threshold_points": 10**12}], [{"name": "Go\x00ld", "threshold_points": 1}],
                  [{"name": "Gold", "threshold_points": 1, "benefits": "x\x00"}]):
        with pytest.raises(ValidationFailed):
            points.set_tiers(session, business_id=shop.id, tiers=tiers, actor_id=None)
    assert points.tiers(session, business_id=shop.id) == []
