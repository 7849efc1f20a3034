"""The loyalty console's state handlers without a browser: a member with operations access builds a segment (live
count, saved), previews a campaign (nothing saved), schedules it, and a member without access sees the empty state."""

from sqlmodel import select

from icc_app.identity.models import Role
from icc_app.loyalty.models import Campaign, CampaignStatus, Segment
from icc_app.loyalty.ui.state import LoyaltyState
from tests.factories import add_member, session_token
from tests.loyalty.conftest import member
from tests.ui.harness import make_state, run


def test_segment_builder_and_campaign_preview_and_schedule(session, shop, redis_client):
    manager = add_member(session, shop, role=Role.manager, products=["operations"])
    for i in range(3):
        member(session, shop, sms_consent=i != 0)
    state = make_state(LoyaltyState, token=session_token(session, manager), path="/loyalty")
    run(LoyaltyState.load, state)
    assert state.business_id == str(shop.id) and len(state.segment_cards) == 6
    state.rule_draft = {"field": "sms_consent", "op": "=", "value": "true"}
    run(LoyaltyState.add_rule, state)
    run(LoyaltyState.count_segment, state)
    assert state.rules[0]["words"] == "Agreed to texts is yes"
    assert state.preview_count == "2 customers match now"
    state.segment_name = "Texters"
    run(LoyaltyState.save_segment, state)
    saved = session.exec(select(Segment).where(Segment.business_id == shop.id)).one()
    assert saved.member_count == 2 and state.rules == []
    assert state.custom_segments[0]["name"] == "Texters"

    state.draft = {**state.draft, "name": "Hello", "channel": "sms", "segment_key": f"custom:{saved.id}",
                   "body_a": "Hi {first_name}!", "holdout_percent": "0"}
    run(LoyaltyState.preview, state)
    assert state.preview_rows[0]["body"].startswith("Hi Robin!") and "STOP" in state.preview_rows[0]["body"]
    assert state.preview_audience.startswith("2 customers")
    assert session.exec(select(Campaign).where(Campaign.business_id == shop.id)).all() == []  # preview saves nothing
    state.draft = {**state.draft, "body_a": "This cures everything"}
    run(LoyaltyState.preview, state)
    assert "cures" in state.errors["body_a"]
    state.draft = {**state.draft, "body_a": "Hi {first_name}!"}
    run(LoyaltyState.save_and_schedule, state)
    campaign = session.exec(select(Campaign).where(Campaign.business_id == shop.id)).one()
    assert campaign.status == CampaignStatus.scheduled and state.selected == str(campaign.id)
    assert state.campaign_rows[0]["status_words"] == "Scheduled"


def test_member_without_operations_sees_no_business(session, shop, redis_client):
    clerk = add_member(session, shop, role=Role.staff, products=["maps"])
    state = make_state(LoyaltyState, token=session_token(session, clerk), path="/loyalty")
    run(LoyaltyState.load, state)
    assert state.loaded and state.business_id == ""


def test_reasons_and_rules_read_as_words():
    from icc_app.loyalty.ui.state import _rule_words, reason_words

    assert reason_words({"feature": "recency_days", "words": "days since the last purchase", "value": 34.6,
                         "contribution": -0.8}) == "days since the last purchase: 35 days (lowers the chance)"
    assert reason_words({"feature": "pnbd_p_alive", "words": "Pareto/NBD chance still active", "value": 0.031,
                         "contribution": 0.2}) == "Pareto/NBD chance still active: 3% (raises the chance)"
    assert _rule_words({"field": "recency_days", "op": ">", "value": 30.0}) == "Days since last purchase more than 30"
    assert _rule_words({"field": "segment", "op": "=", "value": "high_value"}) == "Segment is High value"
