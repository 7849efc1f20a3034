"""Campaigns: templates, drafts, preview, the status transitions (schedule, unschedule, cancel, start, finish), and
delivery / redemption / lift statistics. Drawing the audience and sending live in sending.py.

Content rules run when a campaign is saved and again when it is scheduled: no health claims, known placeholders
only; the state's disclaimer (and for SMS the STOP footer) is appended to every message as sent, and the preview
shows exactly that text.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, NotFound, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.identity.models import Business
from icc_app.loyalty import rules, segments
from icc_app.loyalty.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Customer,
    Message,
    MessageStatus,
    MessageTemplate,
    Redemption,
    StatusEvent,
)

SMS_MAX_CHARS = 480  # three segments; longer texts are refused rather than split unpredictably


def _check_content(*, channel: Channel, subject: str, body_a: str, body_b: str | None) -> None:
    if not (body_a or "").strip():
        raise ValidationFailed("Write the message.", field="body_a")
    for name, text in (("subject", subject), ("body_a", body_a), ("body_b", body_b or "")):
        rules.check_placeholders(text, field=name)
        rules.check_content(text, field=name)
    if channel == Channel.email and not (subject or "").strip():
        raise ValidationFailed("Write a subject line.", field="subject")
    if channel == Channel.sms:
        for name, text in (("body_a", body_a), ("body_b", body_b or "")):
            if len(rules.with_required_text(text, state="WA", channel="sms")) > SMS_MAX_CHARS:
                raise ValidationFailed(f"Texts are limited to {SMS_MAX_CHARS} characters with the disclaimer.",
                                       field=name)


def save_template(session: Session, *, business_id: uuid.UUID, name: str, channel: str, subject: str, body: str,
                  actor_id: uuid.UUID | None) -> MessageTemplate:
    channel = Channel(channel)
    if not (name or "").strip():
        raise ValidationFailed("Name the template.", field="name")
    _check_content(channel=channel, subject=subject or "", body_a=body, body_b=None)
    taken = session.exec(select(MessageTemplate.id).where(
        MessageTemplate.business_id == business_id,
        sa.func.lower(MessageTemplate.name) == name.strip()[:120].lower())).first()
    if taken is not None:  # also what stops a double click from saving two
        raise ValidationFailed("A template with this name exists: choose another name.", field="name")
    row = MessageTemplate(business_id=business_id, name=name.strip()[:120], channel=channel, subject=subject or "",
                          body=body)
    session.add(row)
    session.flush()
    audit.record(session, action="loyalty.template_saved", object_type="loyalty_template", object_id=row.id,
                 actor_id=actor_id, business_id=business_id, after={"name": row.name})
    return row


def templates(session: Session, *, business_id: uuid.UUID) -> list[MessageTemplate]:
    return list(session.exec(select(MessageTemplate).where(MessageTemplate.business_id == business_id)
                             .order_by(col(MessageTemplate.name))).all())


def _check_segment(session: Session, business_id: uuid.UUID, segment_key: str) -> None:
    if segment_key.startswith("custom:"):
        try:
            segments.get(session, business_id=business_id, segment_id=uuid.UUID(segment_key.split(":", 1)[1]))
        except ValueError:
            raise ValidationFailed("Choose a segment.", field="segment_key") from None
    elif segment_key != "all" and segment_key not in segments.BUILT_IN:
        raise ValidationFailed("Choose a segment.", field="segment_key")


def create(session: Session, *, business_id: uuid.UUID, name: str, channel: str, segment_key: str, body_a: str,
           subject: str = "", body_b: str | None = None, holdout_percent: int = 10, attribution_days: int = 14,
           actor_id: uuid.UUID | None) -> Campaign:
    channel = Channel(channel)
    if not (name or "").strip():
        raise ValidationFailed("Name the campaign.", field="name")
    if not 0 <= int(holdout_percent) <= 50:
        raise ValidationFailed("Keep 0 to 50% as the holdout group.", field="holdout_percent")
    if not 1 <= int(attribution_days) <= 90:
        raise ValidationFailed("Count purchases within 1 to 90 days.", field="attribution_days")
    body_b = body_b if body_b and body_b.strip() else None
    _check_content(channel=channel, subject=subject, body_a=body_a, body_b=body_b)
    _check_segment(session, business_id, segment_key)
    campaign = Campaign(business_id=business_id, name=name.strip()[:120], channel=channel, segment_key=segment_key,
                        subject=(subject or "").strip()[:200], body_a=body_a, body_b=body_b,
                        holdout_percent=int(holdout_percent), attribution_days=int(attribution_days),
                        created_by=actor_id)
    session.add(campaign)
    session.flush()
    _event(session, campaign, "", CampaignStatus.draft, actor_id, "created")
    return campaign


def get(session: Session, *, business_id: uuid.UUID, campaign_id: uuid.UUID, for_update: bool = False) -> Campaign:
    query = select(Campaign).where(Campaign.business_id == business_id, Campaign.id == campaign_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    campaign = session.exec(query).first()
    if campaign is None:
        raise NotFound("Campaign not found.")
    return campaign


def list_campaigns(session: Session, *, business_id: uuid.UUID) -> list[Campaign]:
    return list(session.exec(select(Campaign).where(Campaign.business_id == business_id)
                             .order_by(col(Campaign.created_at).desc())).all())


def _event(session: Session, campaign: Campaign, before: str, after: str, actor_id, reason: str) -> None:
    session.add(StatusEvent(business_id=campaign.business_id, object_type="campaign", object_id=campaign.id,
                            from_status=str(before), to_status=str(after), actor_id=actor_id, reason=reason[:300]))
    audit.record(session, action=f"loyalty.campaign_{after}", object_type="loyalty_campaign", object_id=campaign.id,
                 actor_id=actor_id, business_id=campaign.business_id, before={"status": str(before)},
                 after={"status": str(after), "reason": reason})


def transition(session: Session, campaign: Campaign, verb: str, *, actor_id: uuid.UUID | None,
               when: datetime | None = None, reason: str = "") -> Campaign:
    """schedule (draft -> scheduled at `when`), unschedule (scheduled -> draft), cancel (draft/scheduled ->
    cancelled), start (scheduled -> sending, the sender), finish (sending -> sent, the sender)."""
    now = utcnow()
    before = CampaignStatus(campaign.status)
    match (before, verb):
        case (CampaignStatus.draft, "schedule"):
            when = when or now
            if when.tzinfo is None:
                raise ValidationFailed("Give the send time with its time zone.", field="scheduled_at")
            if when < now - timedelta(minutes=5):
                raise ValidationFailed("Choose a send time in the future.", field="scheduled_at")
            _check_content(channel=campaign.channel, subject=campaign.subject, body_a=campaign.body_a,
                           body_b=campaign.body_b)
            campaign.scheduled_at, after = when, CampaignStatus.scheduled
        case (CampaignStatus.scheduled, "unschedule"):
            campaign.scheduled_at, after = None, CampaignStatus.draft
        case (CampaignStatus.draft | CampaignStatus.scheduled, "cancel"):
            after = CampaignStatus.cancelled
        case (CampaignStatus.scheduled, "start"):
            after = CampaignStatus.sending
        case (CampaignStatus.sending, "finish"):
            campaign.sent_at, after = now, CampaignStatus.sent
        case _:
            raise Conflict(f"This campaign is {before.value}; it cannot be {verb}d now.")
    campaign.status = after
    session.add(campaign)
    _event(session, campaign, before, after, actor_id, reason or verb)
    session.flush()
    return campaign


def update_draft(session: Session, campaign: Campaign, *, actor_id: uuid.UUID | None, **changes) -> Campaign:
    if campaign.status != CampaignStatus.draft:
        raise Conflict("Only a draft can be edited: unschedule it first.")
    merged = {k: changes.get(k, getattr(campaign, k)) for k in ("subject", "body_a", "body_b", "channel")}
    _check_content(channel=Channel(merged["channel"]), subject=merged["subject"], body_a=merged["body_a"],
                   body_b=merged["body_b"] or None)
    if "segment_key" in changes:
        _check_segment(session, campaign.business_id, changes["segment_key"])
    for key, value in changes.items():
        setattr(campaign, key, value)
    session.add(campaign)
    audit.record(session, action="loyalty.campaign_edited", object_type="loyalty_campaign", object_id=campaign.id,
                 actor_id=actor_id, business_id=campaign.business_id, after={k: str(v) for k, v in changes.items()})
    session.flush()
    return campaign


def personal_values(customer: Customer, *, business_name: str, points: int, tier: str = "") -> dict[str, str]:
    first = (customer.name or "").strip().split(" ")[0] or "there"
    return {"first_name": first, "points": f"{points:,}", "business": business_name, "tier": tier}


def business_name(session: Session, business_id: uuid.UUID) -> str:
    business = session.get(Business, business_id)
    return (business.dba or business.legal_name) if business else ""


def render_for(campaign: Campaign, variant: str, values: dict[str, str], *, state: str | None) -> tuple[str, str]:
    body = campaign.body_b if variant == "b" and campaign.body_b else campaign.body_a
    text = rules.with_required_text(rules.render(body, values), state=state, channel=str(campaign.channel))
    return rules.render(campaign.subject, values), text


@dataclass
class Preview:
    audience: int
    samples: list[dict] = field(default_factory=list)  # {variant, subject, body}


def preview(session: Session, campaign: Campaign) -> Preview:
    """The text exactly as a customer would get it (each variant), filled for a sample customer of the segment,
    and how many enrolled customers the segment holds now (consent and caps are applied at send time)."""
    query = segments.resolve(session, business_id=campaign.business_id, segment_key=campaign.segment_key)
    audience = segments.count(session, query)
    sample_id = session.exec(query.limit(1)).first()
    sample = session.get(Customer, sample_id) if sample_id else None
    name = business_name(session, campaign.business_id)
    business = session.get(Business, campaign.business_id)
    state = (sample.state if sample else None) or (business.state if business else None)
    values = personal_values(sample, business_name=name, points=0) if sample else {
        "first_name": "Alex", "points": "1,250", "business": name, "tier": "Gold"}
    out = Preview(audience=audience)
    for variant in ("a", "b") if campaign.body_b else ("a",):
        subject, body = render_for(campaign, variant, values, state=state)
        out.samples.append({"variant": variant, "subject": subject, "body": body})
    return out


def _z_test(conv_a: int, n_a: int, conv_b: int, n_b: int) -> float | None:
    """Two-sided p-value that two conversion rates differ (normal approximation)."""
    if n_a == 0 or n_b == 0:
        return None
    pooled = (conv_a + conv_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return None
    z = (conv_a / n_a - conv_b / n_b) / se
    return math.erfc(abs(z) / math.sqrt(2))


def stats(session: Session, *, business_id: uuid.UUID, campaign_id: uuid.UUID) -> dict:
    """Delivery by status, conversion per variant and in the holdout, lift (treated minus holdout) with its
    p-value, and rewards redeemed from the campaign."""
    campaign = get(session, business_id=business_id, campaign_id=campaign_id)
    rows = session.exec(select(Message.variant, Message.status, sa.func.count(),
                               sa.func.count(Message.converted_at))
                        .where(Message.business_id == business_id, Message.campaign_id == campaign.id)
                        .group_by(Message.variant, Message.status)).all()
    by_status: dict[str, int] = {}
    groups: dict[str, list[int]] = {}
    for variant, status, n, converted in rows:
        by_status[str(status)] = by_status.get(str(status), 0) + int(n)
        if status in (MessageStatus.sent, MessageStatus.delivered, MessageStatus.held_out):
            g = groups.setdefault(variant, [0, 0])
            g[0] += int(n)
            g[1] += int(converted)
    treated = [sum(groups.get(v, [0, 0])[i] for v in ("a", "b")) for i in (0, 1)]
    holdout = groups.get("holdout", [0, 0])

    def rate(g: list[int]) -> float | None:
        return g[1] / g[0] if g[0] else None

    lift = (rate(treated) - rate(holdout)) if rate(treated) is not None and rate(holdout) is not None else None
    redeemed = session.exec(select(sa.func.count()).select_from(Redemption)
                            .where(Redemption.business_id == business_id,
                                   Redemption.campaign_id == campaign.id)).one()
    return {
        "status": str(campaign.status), "by_status": by_status,
        "variants": {v: {"customers": g[0], "converted": g[1], "rate": rate(g)} for v, g in groups.items()},
        "treated_rate": rate(treated), "holdout_rate": rate(holdout), "lift": lift,
        "p_value": _z_test(treated[1], treated[0], holdout[1], holdout[0]), "redemptions": int(redeemed),
    }


def events(session: Session, *, business_id: uuid.UUID, campaign_id: uuid.UUID) -> list[StatusEvent]:
    return list(session.exec(select(StatusEvent).where(StatusEvent.business_id == business_id,
                                                       StatusEvent.object_id == campaign_id)
                             .order_by(col(StatusEvent.created_at))).all())
