"""Sending a campaign: draw the audience into messages (A/B/holdout, consent, suppressions, frequency cap, quiet
hours), send the due ones in batches, take the provider's status callbacks, and attribute purchases.

The age rule and consent are checked twice: when the audience is drawn and again right before each message is
sent, so a STOP that arrives mid-campaign stops that customer's message. Messages are locked while they are sent
(FOR UPDATE SKIP LOCKED), so two workers never send the same one; a worker killed after the provider accepted a
batch but before its commit sends that batch again (at-least-once, as the email outbox).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.core.db import unit_of_work
from icc_app.core.models import utcnow
from icc_app.identity.models import Business
from icc_app.integrations.models import Sale
from icc_app.loyalty import campaigns, customers, points, rules, segments
from icc_app.loyalty.mailer import SmtpBatch
from icc_app.loyalty.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Customer,
    CustomerLink,
    Enrollment,
    Message,
    MessageStatus,
    PointsEntry,
    Program,
    Suppression,
)
from icc_app.loyalty.sms.base import DELIVERY_STATES, SmsError, SmsProvider
from icc_app.loyalty.sms.twilio import TwilioClient
from icc_app.settings import get_settings

ACTIVE = (MessageStatus.queued, MessageStatus.sent, MessageStatus.delivered)


def variant_of(campaign_id: uuid.UUID, customer_id: uuid.UUID, *, holdout_percent: int, ab: bool) -> str:
    """Deterministic split: the same customer lands in the same group if the draw runs twice."""
    u = int(hashlib.sha256(f"{campaign_id}:{customer_id}".encode()).hexdigest()[:12], 16) / float(16 ** 12)
    hold = holdout_percent / 100
    if u < hold:
        return "holdout"
    if ab and (u - hold) / (1 - hold) >= 0.5:
        return "b"
    return "a"


def draw(session: Session, *, business_id: uuid.UUID, campaign_id: uuid.UUID, now: datetime | None = None) -> int:
    """scheduled -> sending: one message row per customer of the segment. Idempotent (a drawn campaign is left)."""
    now = now or utcnow()
    campaign = campaigns.get(session, business_id=business_id, campaign_id=campaign_id, for_update=True)
    if campaign.status != CampaignStatus.scheduled:
        return 0
    campaigns.transition(session, campaign, "start", actor_id=None, reason="send time reached")
    prog = points.program(session, business_id=business_id)
    channel = campaign.channel
    audience = segments.resolve(session, business_id=business_id, segment_key=campaign.segment_key).subquery()
    contact_col = Customer.email_hash if channel == Channel.email else Customer.phone_hash
    consent_col = Customer.email_consent if channel == Channel.email else Customer.sms_consent
    people = session.exec(select(Customer.id, Customer.enrollment, consent_col, contact_col, Customer.timezone)
                          .where(Customer.business_id == business_id, col(Customer.id).in_(select(audience.c.id)))
                          ).all()
    suppressed = set(session.exec(select(Suppression.contact_hash).where(Suppression.business_id == business_id,
                                                                         Suppression.channel == channel)).all())
    recent = dict(session.exec(select(Message.customer_id, sa.func.count())
                               .where(Message.business_id == business_id, col(Message.status).in_(ACTIVE),
                                      Message.send_after >= now - timedelta(days=7))
                               .group_by(Message.customer_id)).all())
    start = max(now, campaign.scheduled_at or now)
    rows = []
    for customer_id, enrollment, consent, contact, tz in people:
        reason = None
        if enrollment != Enrollment.enrolled:
            reason = "not enrolled (age)"
        elif not contact:
            reason = f"no {'email address' if channel == Channel.email else 'mobile number'}"
        elif contact in suppressed:
            reason = "unsubscribed"
        elif not consent:
            reason = "no consent"
        elif prog.max_messages_per_week and recent.get(customer_id, 0) >= prog.max_messages_per_week:
            reason = "weekly limit reached"
        variant = variant_of(campaign.id, customer_id, holdout_percent=campaign.holdout_percent,
                             ab=bool(campaign.body_b))
        status = (MessageStatus.skipped if reason else
                  MessageStatus.held_out if variant == "holdout" else MessageStatus.queued)
        send_after = rules.next_allowed(start, tz=tz, quiet_start=prog.quiet_start_hour,
                                        quiet_end=prog.quiet_end_hour) if status == MessageStatus.queued else start
        rows.append({"business_id": business_id, "campaign_id": campaign.id, "customer_id": customer_id,
                     "channel": channel, "variant": variant, "status": status, "send_after": send_after,
                     "error": reason, "created_at": now, "updated_at": now})
    for i in range(0, len(rows), 5000):
        session.execute(sa.insert(Message), rows[i:i + 5000])
    if not rows:
        campaigns.transition(session, campaign, "finish", actor_id=None, reason="nobody in the segment")
    return len(rows)


@dataclass
class Senders:
    """One SMTP connection / SMS client per sending thread."""

    program: Program
    sms_factory: Callable[[Program], SmsProvider] | None = None
    smtp_url: str | None = None
    _local: threading.local = field(default_factory=threading.local)
    _all: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _get(self, channel: Channel):
        channel = Channel(channel)
        client = getattr(self._local, channel.value, None)
        if client is None:
            if channel == Channel.email:
                client = SmtpBatch(self.smtp_url)
            else:
                client = (self.sms_factory or default_sms_provider)(self.program)
            setattr(self._local, channel.value, client)
            with self._lock:
                self._all.append(client)
        return client

    def send(self, channel: Channel, *, to: str, subject: str, body: str, unsubscribe_url: str,
             status_callback: str | None) -> str:
        client = self._get(channel)
        if channel == Channel.email:
            return client.send(to=to, subject=subject, body=body, unsubscribe_url=unsubscribe_url)
        return client.send(to=to, body=body, status_callback=status_callback).provider_id

    def close(self) -> None:
        for client in self._all:
            client.close()


def default_sms_provider(program: Program) -> SmsProvider:
    if program.sms_provider != "twilio" or not (program.sms_account_sid and program.sms_auth_token
                                                 and program.sms_from):
        raise SmsError("Texting is not set up: add the Twilio account, token and sending number.")
    return TwilioClient(account_sid=program.sms_account_sid, auth_token=program.sms_auth_token,
                        from_number=program.sms_from, base_url=program.sms_base_url)


def status_callback_url(business_id: uuid.UUID) -> str:
    return f"{get_settings().public_url.rstrip('/')}/api/v1/loyalty/sms/status/{business_id}"


def unsubscribe_url(customer_id: uuid.UUID, channel: str) -> str:
    token = customers.unsubscribe_token(customer_id, channel)
    return f"{get_settings().public_url.rstrip('/')}/api/v1/loyalty/unsubscribe?c={customer_id}&ch={channel}&t={token}"


def _send_batch(session: Session, campaign: Campaign, batch: list[Message], senders: Senders, pool) -> None:
    ids = [m.customer_id for m in batch]
    email = campaign.channel == Channel.email
    # only the columns a message needs: each encrypted column read is a decryption, the batch's main cost
    contact = (Customer.email if email else Customer.phone).label("contact")
    contact_hash = (Customer.email_hash if email else Customer.phone_hash).label("contact_hash")
    consent = (Customer.email_consent if email else Customer.sms_consent).label("consent")
    people = {c.id: c for c in session.exec(
        select(Customer.id, Customer.name, Customer.state, Customer.enrollment, contact, contact_hash, consent)
        .where(Customer.business_id == campaign.business_id, col(Customer.id).in_(ids))).all()}
    hashes = [c.contact_hash for c in people.values() if c.contact_hash]
    suppressed = set(session.exec(select(Suppression.contact_hash)
                                  .where(Suppression.business_id == campaign.business_id,
                                         Suppression.channel == campaign.channel,
                                         col(Suppression.contact_hash).in_(hashes))).all())
    balances = dict(session.exec(select(PointsEntry.customer_id, sa.func.sum(PointsEntry.points))
                                 .where(PointsEntry.business_id == campaign.business_id,
                                        col(PointsEntry.customer_id).in_(ids))
                                 .group_by(PointsEntry.customer_id)).all())
    name = campaigns.business_name(session, campaign.business_id)
    business = session.get(Business, campaign.business_id)
    jobs = []
    for message in batch:
        c = people.get(message.customer_id)
        if c is None or c.enrollment != Enrollment.enrolled or not c.consent or c.contact_hash in suppressed:
            message.status, message.error = MessageStatus.skipped, "consent withdrawn before sending"
            continue
        values = campaigns.personal_values(c, business_name=name, points=int(balances.get(c.id, 0) or 0))
        subject, body = campaigns.render_for(campaign, message.variant, values,
                                             state=c.state or (business.state if business else None))
        jobs.append((message, c.contact, subject, body))

    def one(job):
        message, to, subject, body = job
        try:
            return message, senders.send(campaign.channel, to=to, subject=subject, body=body,
                                         unsubscribe_url=unsubscribe_url(message.customer_id, str(campaign.channel)),
                                         status_callback=None if email else status_callback_url(campaign.business_id)), None
        except SmsError as exc:
            return message, None, exc
        except OSError as exc:
            return message, None, exc

    now = utcnow()
    for message, provider_id, error in pool.map(one, jobs):
        if error is None:
            message.status, message.provider_id, message.sent_at = MessageStatus.sent, provider_id, now
        else:
            message.status, message.error = MessageStatus.failed, str(error)[:300]
            if isinstance(error, SmsError) and error.unsubscribed:
                customers.withdraw_contact(session, business_id=campaign.business_id, channel=Channel.sms,
                                           contact=people[message.customer_id].contact or "",
                                           source="provider_unsubscribed",
                                           detail=error.code or "")
    session.add_all(batch)


def dispatch(*, business_id: uuid.UUID, campaign_id: uuid.UUID, now: datetime | None = None, batch_size: int = 500,
             workers: int = 4, sms_factory: Callable[[Program], SmsProvider] | None = None,
             smtp_url: str | None = None) -> dict[str, int]:
    """Sends the campaign's due messages (own transactions, one per batch); finishes the campaign when none is
    left queued. Returns counts by outcome for this call."""
    now = now or utcnow()
    with unit_of_work() as session:
        prog = points.program(session, business_id=business_id)
        session.expunge(prog)
    senders = Senders(prog, sms_factory=sms_factory, smtp_url=smtp_url)
    sent = failed = skipped = 0
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            while True:
                with unit_of_work() as session:
                    campaign = campaigns.get(session, business_id=business_id, campaign_id=campaign_id)
                    if campaign.status != CampaignStatus.sending:
                        break
                    query = (select(Message).where(Message.business_id == business_id,
                                                   Message.campaign_id == campaign_id,
                                                   Message.status == MessageStatus.queued, Message.send_after <= now)
                             .order_by(col(Message.id)).limit(batch_size))
                    if session.get_bind().dialect.name == "postgresql":
                        query = query.with_for_update(skip_locked=True)
                    batch = list(session.exec(query).all())
                    if not batch:
                        break
                    _send_batch(session, campaign, batch, senders, pool)
                    for m in batch:
                        sent += m.status == MessageStatus.sent
                        failed += m.status == MessageStatus.failed
                        skipped += m.status == MessageStatus.skipped
    finally:
        senders.close()
    with unit_of_work() as session:
        campaign = campaigns.get(session, business_id=business_id, campaign_id=campaign_id, for_update=True)
        left = session.exec(select(sa.func.count()).select_from(Message)
                            .where(Message.business_id == business_id, Message.campaign_id == campaign_id,
                                   Message.status == MessageStatus.queued)).one()
        if campaign.status == CampaignStatus.sending and not left:
            campaigns.transition(session, campaign, "finish", actor_id=None, reason="all messages handled")
    return {"sent": sent, "failed": failed, "skipped": skipped, "waiting": int(left)}


def due_campaigns(session: Session, *, now: datetime | None = None) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(business id, campaign id) of campaigns whose send time has come, or that have messages waiting."""
    now = now or utcnow()
    scheduled = session.exec(select(Campaign.business_id, Campaign.id)
                             .where(Campaign.status == CampaignStatus.scheduled, Campaign.scheduled_at <= now)).all()
    sending = session.exec(select(Campaign.business_id, Campaign.id)
                           .where(Campaign.status == CampaignStatus.sending)).all()
    return list(dict.fromkeys([*scheduled, *sending]))


def handle_status(session: Session, *, business_id: uuid.UUID, params: dict[str, str]) -> Message | None:
    """A provider status callback (Twilio: MessageSid, MessageStatus, ErrorCode)."""
    sid, state = params.get("MessageSid") or params.get("SmsSid"), (params.get("MessageStatus") or "").lower()
    message = session.exec(select(Message).where(Message.business_id == business_id,
                                                 Message.provider_id == sid)).first() if sid else None
    if message is None:
        return None
    mapped = DELIVERY_STATES.get(state)
    if mapped == "delivered":
        message.status, message.delivered_at = MessageStatus.delivered, utcnow()
    elif mapped == "failed" and message.status != MessageStatus.delivered:
        code = params.get("ErrorCode") or ""
        message.status, message.error = MessageStatus.failed, f"{state} {code}".strip()[:300]
        if code == "21610":
            person = session.get(Customer, message.customer_id)
            if person and person.phone:
                customers.withdraw_contact(session, business_id=business_id, channel=Channel.sms,
                                           contact=person.phone, source="provider_unsubscribed", detail=code)
    session.add(message)
    session.flush()
    return message


def attribute(session: Session, *, business_id: uuid.UUID, campaign_id: uuid.UUID) -> int:
    """Marks each message (holdout included) whose customer bought within the attribution window after the send
    (the holdout's 'send' is the campaign's send time). Returns the new conversions."""
    campaign = campaigns.get(session, business_id=business_id, campaign_id=campaign_id)
    messages = session.exec(select(Message).where(
        Message.business_id == business_id, Message.campaign_id == campaign_id, col(Message.converted_at).is_(None),
        col(Message.status).in_([MessageStatus.sent, MessageStatus.delivered, MessageStatus.held_out]))).all()
    found = 0
    for message in messages:
        start = message.sent_at or campaign.sent_at or message.send_after
        end = start + timedelta(days=campaign.attribution_days)
        first = session.exec(select(sa.func.min(Sale.occurred_at))
                             .join(CustomerLink, (col(CustomerLink.external_ref) == Sale.customer_ref)
                                   & (col(CustomerLink.business_id) == Sale.business_id))
                             .where(Sale.business_id == business_id, CustomerLink.customer_id == message.customer_id,
                                    Sale.occurred_at >= start, Sale.occurred_at <= end, Sale.is_void.is_(False),
                                    Sale.is_return.is_(False))).one()
        if first is not None:
            message.converted_at = first
            session.add(message)
            found += 1
    session.flush()
    return found
