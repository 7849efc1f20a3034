"""Message templates: a manager saves a draft's message as a template and starts the next campaign from it (in the
console and over the API); a health claim is refused as in a campaign; another business sees none of them."""

from fastapi.testclient import TestClient

from icc_app import api
from icc_app.identity.models import Role
from icc_app.loyalty import campaigns
from icc_app.loyalty.ui.state import LoyaltyState
from tests.factories import add_member, make_business, session_token
from tests.ui.harness import make_state, run


def test_save_a_draft_as_a_template_and_start_from_it(session, shop, redis_client):
    manager = add_member(session, shop, role=Role.manager, products=["operations"])
    state = make_state(LoyaltyState, token=session_token(session, manager), path="/loyalty/campaigns")
    run(LoyaltyState.load, state)
    assert state.template_options == []
    state.draft = {**state.draft, "name": "Weekend nudge", "channel": "sms", "body_a": "Hi {first_name}, 10% off."}
    run(LoyaltyState.save_template, state)
    assert state.errors == {} and state.template_options[0]["name"] == "Weekend nudge (text message)"

    state.draft = {**state.draft, "name": "Bad", "body_a": "This strain cures anxiety."}
    run(LoyaltyState.save_template, state)
    assert "cures" in state.errors["body_a"] and len(campaigns.templates(session, business_id=shop.id)) == 1

    state.draft = {**state.draft, "name": "weekend NUDGE", "body_a": "Hi again."}  # a second click, or a clash
    run(LoyaltyState.save_template, state)
    assert "exists" in state.errors["name"] and len(campaigns.templates(session, business_id=shop.id)) == 1

    state.draft = {**state.draft, "channel": "email", "subject": "", "body_a": ""}
    run(LoyaltyState.use_template, state, state.template_options[0]["id"])
    assert (state.draft["channel"], state.draft["body_a"]) == ("sms", "Hi {first_name}, 10% off.")


def test_staff_cannot_save_templates_or_schedule_from_the_console(session, shop, redis_client):
    from icc_app.loyalty.models import Campaign
    from sqlmodel import select

    clerk = add_member(session, shop, role=Role.staff, products=["operations"])
    state = make_state(LoyaltyState, token=session_token(session, clerk), path="/loyalty/campaigns")
    run(LoyaltyState.load, state)
    state.draft = {**state.draft, "name": "Mine", "channel": "email", "subject": "Hi", "body_a": "Hello."}
    run(LoyaltyState.save_template, state)
    run(LoyaltyState.save_and_schedule, state)
    assert campaigns.templates(session, business_id=shop.id) == []
    assert session.exec(select(Campaign).where(Campaign.business_id == shop.id)).all() == []
    assert state.form_error and not state.pending


def test_templates_over_the_api(session, shop, redis_client):
    manager = add_member(session, shop, role=Role.manager, products=["operations"])
    staff = add_member(session, shop, role=Role.staff, products=["operations"])
    stranger = add_member(session, make_business(session), role=Role.admin)
    client = TestClient(api.build(), raise_server_exceptions=False)
    url = f"/api/v1/loyalty/{shop.id}/templates"

    def auth(user):
        return {"Authorization": f"Bearer {session_token(session, user)}"}

    made = client.post(url, headers=auth(manager), json={"name": "Welcome", "channel": "email",
                                                         "subject": "Hi {first_name}", "body": "Welcome to {business}."})
    assert made.status_code == 201, made.text
    assert [t["name"] for t in client.get(url, headers=auth(staff)).json()] == ["Welcome"]
    assert client.post(url, headers=auth(staff), json={"name": "X", "channel": "email", "body": "Hi"}).status_code == 403
    claim = client.post(url, headers=auth(manager), json={"name": "X", "channel": "sms", "body": "Cures pain."})
    assert claim.status_code == 422 and "health" in claim.text.lower()
    assert client.post(url, headers=auth(manager), json={"name": "X", "channel": "fax", "body": "Hi"}).status_code == 422
    assert client.get(url, headers=auth(stranger)).status_code == 404
