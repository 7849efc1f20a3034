"""The identity pages' State handlers on the real database: tenant isolation (a member of business A reads and
changes nothing of business B through the team, onboarding and review pages), sign-in with MFA, sign-up errors."""

import pyotp
import pytest
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.identity import mfa
from icc_app.identity.models import Business, BusinessMember, BusinessType, Role
from icc_app.identity.ui.admin import LicenseReviewState
from icc_app.identity.ui.onboarding import OnboardingState
from icc_app.identity.ui.state import LoginState, SignupState
from icc_app.identity.ui.team import TeamState
from tests.factories import PASSWORD, add_member, make_business, make_user, session_token
from tests.ui.harness import make_state, run


@pytest.fixture()
def two_tenants(connection, redis_client):
    with unit_of_work() as session:
        alice = make_user(session, email="alice@a.test", name="Alice")
        biz_a = make_business(session, owner=alice, name="Alpha Farms LLC")
        bob = make_user(session, email="bob@b.test", name="Bob")
        biz_b = make_business(session, owner=bob, name="Bravo Farms LLC")
        bravo_staff = add_member(session, biz_b, role=Role.staff, products=["exchange"])
        tokens = {"alice": session_token(session, alice), "bob": session_token(session, bob)}
    return {"a": biz_a, "b": biz_b, "bravo_staff": bravo_staff, **tokens}


def test_team_page_shows_only_my_business_even_when_another_is_asked_for(two_tenants):
    state = make_state(TeamState, token=two_tenants["alice"], path="/team", query={"business": str(two_tenants["b"].id)})
    run(TeamState.load, state)
    assert state.business_name == "Alpha Farms LLC"
    assert [m["name"] for m in state.members] == ["Alice"]


def test_team_handlers_cannot_touch_another_tenants_members(two_tenants):
    with unit_of_work() as session:
        target = session.exec(select(BusinessMember).where(BusinessMember.user_id == two_tenants["bravo_staff"].id)).one()
    state = make_state(TeamState, token=two_tenants["alice"], path="/team")
    run(TeamState.load, state)
    state.editing, state.edit_role, state.edit_products = str(target.id), "admin", ["exchange"]
    run(TeamState.save_edit, state)
    assert state.form_error == "Team member not found."
    run(TeamState.remove, state, str(target.id))
    with unit_of_work() as session:
        again = session.get(BusinessMember, target.id)
        assert again is not None and Role(again.role) == Role.staff  # nothing changed


def test_onboarding_never_shows_another_business(two_tenants):
    state = make_state(OnboardingState, token=two_tenants["alice"], path="/onboarding")
    run(OnboardingState.load, state)
    assert state.business["legal_name"] == "Alpha Farms LLC"


def test_review_queue_is_for_platform_admins_only(two_tenants):
    state = make_state(LicenseReviewState, token=two_tenants["alice"], path="/admin/licenses")
    event = run(LicenseReviewState.load, state)
    assert state.queue == [] and "redirect" in str(event).lower()


def test_anonymous_visitors_are_sent_to_sign_in(connection):
    state = make_state(TeamState, path="/team")
    event = run(TeamState.load, state)
    assert "/login?next=/team" in str(event)
    assert state.members == []


def test_sign_in_with_totp_second_step(connection, redis_client):
    with unit_of_work() as session:
        user = make_user(session, email="tot@example.test")
        secret = mfa.start_totp_enrollment(session, user_id=user.id)["secret"]
    with unit_of_work() as session:
        mfa.confirm_totp(session, user_id=user.id, code=pyotp.TOTP(secret).now())
    state = make_state(LoginState, path="/login")
    first = run(LoginState.sign_in, state, {"email": "tot@example.test", "password": PASSWORD})
    assert state.step == "mfa" and first is None and state._mfa_challenge and not state.signed_in
    wrong = run(LoginState.verify_code, state, {"code": "000000"})
    assert state.errors["code"] == "That code is not right." and wrong is None and not state.signed_in
    totp = pyotp.TOTP(secret)
    import time

    code = totp.at(time.time() + totp.interval)  # the next step's code (the current one was used to enroll)
    events = run(LoginState.verify_code, state, {"code": code})
    assert state.signed_in and state._mfa_challenge == ""
    # The browser is sent to the server route that sets the HttpOnly cookie; the state holds no token.
    assert "/auth/session?ticket=" in str(events)
    assert not any("token" in name for name in state.get_fields())


def test_sign_up_shows_inline_errors_and_creates_nothing(connection):
    state = make_state(SignupState, path="/signup")
    state.kind = "consumer"
    run(SignupState.sign_up, state, {"email": "teen@example.test", "handle": "teen_user", "birth_date": "2015-01-01",
                                     "password": PASSWORD, "password_confirm": PASSWORD})
    assert "21 or older" in state.errors["birth_date"] and not state.signed_in
    run(SignupState.sign_up, state, {"email": "not-an-email", "handle": "ok_user", "birth_date": "1990-01-01",
                                     "password": PASSWORD, "password_confirm": PASSWORD})
    assert state.errors["email"] == "Enter a valid email address."
    run(SignupState.sign_up, state, {"email": "ok@example.test", "handle": "ok_user", "birth_date": "1990-01-01",
                                     "password": PASSWORD, "password_confirm": PASSWORD})
    # Created, not signed in: the same "check your email" answer as for a taken address.
    assert state.sent_to == "ok@example.test" and not state.signed_in and not state.errors


def test_onboarding_offers_business_types_in_words_and_creates_the_chosen_one(connection, redis_client):
    with unit_of_work() as session:
        carol = make_user(session, email="carol@c.test", name="Carol")
        token = session_token(session, carol)
    state = make_state(OnboardingState, token=token, path="/onboarding")
    run(OnboardingState.load, state)
    run(OnboardingState.set_business_type, state, "testing_lab")  # a raw value is not an option: ignored
    assert state.business_type == "Cultivator"
    run(OnboardingState.set_business_type, state, "Testing lab")
    run(OnboardingState.create_business, state, {"legal_name": "Cascade Analytical LLC", "street": "1 Main St",
                                                 "city": "Seattle", "state": "WA", "postal_code": "98101"})
    with unit_of_work() as session:
        member = session.exec(select(BusinessMember).where(BusinessMember.user_id == carol.id)).one()
        assert session.get(Business, member.business_id).business_type == BusinessType.testing_lab
