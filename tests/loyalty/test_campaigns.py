"""Campaigns end to end against local servers that speak the real protocols (Twilio's Messages API, SMTP): content
rules, preview, scheduling, consent / STOP / age / quiet hours / frequency cap at draw and at send time, provider
errors and status callbacks, A/B with a holdout and the measured lift."""

from __future__ import annotations

import email
import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import select

from icc_app import api
from icc_app.core.errors import Conflict, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.loyalty import campaigns, customers, points, sending
from icc_app.loyalty.models import CampaignStatus, Message, MessageStatus, StatusEvent, Suppression
from icc_app.loyalty.rules import STATE_DISCLAIMERS
from tests.loyalty.conftest import connection, member, pos_customer, sale
from tests.loyalty.fake_twilio import FakeTwilio


@pytest.fixture()
def twilio():
    with FakeTwilio() as server:
        yield server


def sms_ready(session, shop, server: FakeTwilio, **extra):
    return points.update_program(session, business_id=shop.id, actor_id=None, sms_account_sid=server.account_sid,
                                 sms_auth_token=server.auth_token, sms_from="+17205550000", sms_base_url=server.url,
                                 **extra)


def evening(hour: int = 3, minute: int = 30) -> datetime:
    """Tomorrow at hour:minute UTC (03:30Z is 20:30 in Denver and 22:30 in New York)."""
    return (utcnow() + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)


def messages(session, campaign) -> dict:
    rows = session.exec(select(Message).where(Message.campaign_id == campaign.id)).all()
    return {m.customer_id: m for m in rows}


def test_content_rules_refuse_health_claims_and_unknown_fields(session, shop):
    with pytest.raises(ValidationFailed, match="cures"):
        campaigns.create(session, business_id=shop.id, name="Bad", channel="sms", segment_key="all",
                         body_a="Our CBD tincture cures anxiety!", actor_id=None)
    with pytest.raises(ValidationFailed, match=r"\{discount\}"):
        campaigns.create(session, business_id=shop.id, name="Typo", channel="email", segment_key="all",
                         subject="Hi", body_a="Save {discount} today", actor_id=None)
    with pytest.raises(ValidationFailed, match="subject"):
        campaigns.create(session, business_id=shop.id, name="No subject", channel="email", segment_key="all",
                         body_a="Hello", actor_id=None)
    with pytest.raises(ValidationFailed, match="480 characters"):
        campaigns.create(session, business_id=shop.id, name="Long", channel="sms", segment_key="all",
                         body_a="x" * 470, actor_id=None)


def test_preview_shows_the_text_as_sent_and_schedule_writes_events(session, shop):
    member(session, shop, name="Jordan Lee")
    c = campaigns.create(session, business_id=shop.id, name="Weekend", channel="sms", segment_key="all",
                         body_a="Hi {first_name}, you have {points} points at {business}.", body_b="B: {first_name}",
                         actor_id=None)
    shown = campaigns.preview(session, c)
    assert shown.audience == 1
    assert shown.samples[0]["body"].startswith("Hi Jordan, you have 0 points at Green Door")
    assert STATE_DISCLAIMERS["CO"] in shown.samples[0]["body"] and shown.samples[0]["body"].endswith("STOP to opt out.")
    assert [s["variant"] for s in shown.samples] == ["a", "b"]
    with pytest.raises(ValidationFailed, match="future"):
        campaigns.transition(session, c, "schedule", actor_id=None, when=utcnow() - timedelta(hours=2))
    campaigns.transition(session, c, "schedule", actor_id=None, when=utcnow() + timedelta(hours=1))
    with pytest.raises(Conflict):
        campaigns.update_draft(session, c, actor_id=None, body_a="changed")
    campaigns.transition(session, c, "cancel", actor_id=None)
    events = session.exec(select(StatusEvent).where(StatusEvent.object_id == c.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [("", "draft"), ("draft", "scheduled"),
                                                              ("scheduled", "cancelled")]


def test_sms_campaign_honours_consent_stop_age_quiet_hours_and_provider_errors(session, shop, twilio):
    sms_ready(session, shop, twilio)
    denver = member(session, shop, phone="+17205550101", name="Dana Denver")
    new_york = member(session, shop, phone="+12125550102", timezone="America/New_York", name="Nia York")
    stopped = member(session, shop, phone="+17205550103")
    customers.handle_inbound_sms(session, business_id=shop.id, from_phone="+17205550103", body="STOP")
    no_consent = member(session, shop, phone="+17205550104", sms_consent=False)
    stops_late = member(session, shop, phone="+17205550105")
    carrier_stop = member(session, shop, phone="+17205550106")
    twilio.unsubscribed.add("+17205550106")  # replied STOP to the number directly, Twilio refuses with 21610
    minor = customers.link_pos_customer(session, pos_customer=pos_customer(
        session, connection(session, shop), phone="+17205550107", birth_date="2010-01-01", sms_opt_in=True))
    c = campaigns.create(session, business_id=shop.id, name="Friday", channel="sms", segment_key="all",
                         body_a="Hi {first_name}: 2x points Friday.", holdout_percent=0, actor_id=None)
    campaigns.transition(session, c, "schedule", actor_id=None, when=utcnow())
    at = evening()
    assert sending.draw(session, business_id=shop.id, campaign_id=c.id, now=at) == 6  # the minor is not drawn
    assert sending.draw(session, business_id=shop.id, campaign_id=c.id, now=at) == 0  # idempotent
    drawn = messages(session, c)
    assert minor.id not in drawn
    assert drawn[stopped.id].status == MessageStatus.skipped and drawn[stopped.id].error == "unsubscribed"
    assert drawn[no_consent.id].error == "no consent"
    assert drawn[new_york.id].send_after == at.replace(hour=14, minute=0)  # 09:00 in New York
    assert drawn[denver.id].send_after == at
    customers.handle_inbound_sms(session, business_id=shop.id, from_phone="+17205550105", body="stop")  # mid-campaign
    result = sending.dispatch(business_id=shop.id, campaign_id=c.id, now=at)
    assert result == {"sent": 1, "failed": 1, "skipped": 1, "waiting": 1}
    assert [m["to"] for m in twilio.messages] == ["+17205550101"]
    assert twilio.messages[0]["body"].startswith("Hi Dana: 2x points Friday.")
    assert twilio.messages[0]["body"].endswith("Reply STOP to opt out.")
    session.expire_all()
    after = messages(session, c)
    assert after[stops_late.id].status == MessageStatus.skipped
    assert after[carrier_stop.id].status == MessageStatus.failed and "21610" in after[carrier_stop.id].error
    session.refresh(carrier_stop)
    assert carrier_stop.sms_consent is False  # the provider's opt-out is ours too, forever
    assert session.exec(select(Suppression).where(Suppression.contact_hash == carrier_stop.phone_hash)).first()
    # the morning in New York: the last one goes, and the campaign is done
    assert sending.dispatch(business_id=shop.id, campaign_id=c.id, now=at.replace(hour=14))["sent"] == 1
    session.expire_all()
    assert campaigns.get(session, business_id=shop.id, campaign_id=c.id).status == CampaignStatus.sent
    # status callbacks, signed as Twilio signs them, through the public endpoint
    client = TestClient(api.build(), raise_server_exceptions=False)
    for url, form, sig in twilio.callbacks("delivered"):
        path = url.split("localhost:3000", 1)[1]
        assert client.post(path, data=form, headers={"X-Twilio-Signature": sig}).status_code == 204
    forged = client.post(path, data={**form, "MessageStatus": "failed"}, headers={"X-Twilio-Signature": sig})
    assert forged.status_code == 403
    session.expire_all()
    stats = campaigns.stats(session, business_id=shop.id, campaign_id=c.id)
    assert stats["by_status"] == {"delivered": 2, "failed": 1, "skipped": 3}


def test_frequency_cap_across_campaigns(session, shop, twilio):
    sms_ready(session, shop, twilio, max_messages_per_week=1)
    person = member(session, shop, phone="+17205550201")
    at = evening(hour=18)
    sent = []
    for name in ("First", "Second"):
        c = campaigns.create(session, business_id=shop.id, name=name, channel="sms", segment_key="all",
                             body_a="News from {business}", holdout_percent=0, actor_id=None)
        campaigns.transition(session, c, "schedule", actor_id=None, when=utcnow())
        sending.draw(session, business_id=shop.id, campaign_id=c.id, now=at)
        sending.dispatch(business_id=shop.id, campaign_id=c.id, now=at)
        session.expire_all()
        sent.append(messages(session, c)[person.id])
    assert sent[0].status == MessageStatus.sent
    assert sent[1].status == MessageStatus.skipped and sent[1].error == "weekly limit reached"
    assert len(twilio.messages) == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Inbox:
    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def test_email_campaign_over_smtp_with_ab_holdout_and_lift(session, shop):
    inbox = _Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        conn = connection(session, shop)
        people = []
        for i in range(120):
            pos = pos_customer(session, conn, email=f"fan{i}@example.test", email_opt_in=True)
            people.append((customers.link_pos_customer(session, pos_customer=pos), pos))
        c = campaigns.create(session, business_id=shop.id, name="Come back", channel="email", segment_key="all",
                             subject="{first_name}, we miss you", body_a="10% off this week.",
                             body_b="A free pre-roll with your next visit.", holdout_percent=25, actor_id=None)
        campaigns.transition(session, c, "schedule", actor_id=None, when=utcnow())
        at = evening(hour=18)
        sending.draw(session, business_id=shop.id, campaign_id=c.id, now=at)
        result = sending.dispatch(business_id=shop.id, campaign_id=c.id, now=at, smtp_url=f"smtp://127.0.0.1:{port}")
        session.expire_all()
        drawn = messages(session, c)
        groups = {v: [m for m in drawn.values() if m.variant == v] for v in ("a", "b", "holdout")}
        assert 15 <= len(groups["holdout"]) <= 45 and len(groups["a"]) > 20 and len(groups["b"]) > 20
        assert result["sent"] == len(groups["a"]) + len(groups["b"]) == len(inbox.messages)
        assert all(m.status == MessageStatus.held_out for m in groups["holdout"])
        first = inbox.messages[0]
        assert first["Subject"] == "Pat, we miss you" and "/api/v1/loyalty/unsubscribe?" in first["List-Unsubscribe"]
        assert STATE_DISCLAIMERS["CO"] in first.get_payload()
        # purchases after the send: every second treated customer, every fourth held-out one
        pos_of = {person.id: pos for person, pos in people}
        for variant, every in (("a", 2), ("b", 2), ("holdout", 4)):
            for m in groups[variant][::every]:
                sale(session, conn, pos_of[m.customer_id], at=at + timedelta(days=3), total="30")
        sending.attribute(session, business_id=shop.id, campaign_id=c.id)
        stats = campaigns.stats(session, business_id=shop.id, campaign_id=c.id)
        treated = len(groups["a"]) + len(groups["b"])
        expected_treated = (len(groups["a"][::2]) + len(groups["b"][::2])) / treated
        assert stats["treated_rate"] == pytest.approx(expected_treated)
        assert stats["holdout_rate"] == pytest.approx(len(groups["holdout"][::4]) / len(groups["holdout"]))
        assert stats["lift"] == pytest.approx(stats["treated_rate"] - stats["holdout_rate"]) and stats["lift"] > 0.1
        assert stats["p_value"] is not None
    finally:
        smtp.stop()


def test_unsubscribe_link_and_inbound_stop_over_the_api(session, shop, twilio):
    sms_ready(session, shop, twilio)
    person = member(session, shop, phone="+17205550301")
    client = TestClient(api.build(), raise_server_exceptions=False)
    link = sending.unsubscribe_url(person.id, "email").split("localhost:3000", 1)[1]
    assert client.get(link.replace("t=", "t=x")).status_code == 404
    page = client.get(link)
    assert page.status_code == 200 and "unsubscribed" in page.text
    from icc_app.loyalty.sms.twilio import signature

    url = f"http://localhost:3000/api/v1/loyalty/sms/inbound/{shop.id}"
    form = {"From": "+17205550301", "To": "+17205550000", "Body": "STOP", "MessageSid": "SM1"}
    reply = client.post(url.split("localhost:3000", 1)[1], data=form,
                        headers={"X-Twilio-Signature": signature(twilio.auth_token, url, form)})
    assert reply.status_code == 200 and "<Message>You are unsubscribed" in reply.text
    session.refresh(person)
    assert person.email_consent is False and person.sms_consent is False
    _ = datetime.now(UTC)
