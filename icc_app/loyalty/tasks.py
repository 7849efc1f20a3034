"""Loyalty tasks. Each takes ids, opens its own units of work and is safe to run twice:
- loyalty.compute_segments (nightly): link POS customers, score everyone, snapshot segment counts, per business.
- loyalty.send_due (every minute): draw campaigns whose time has come and send their due messages.
- loyalty.send_campaign: the same for one campaign (after "Send now").
- loyalty.attribute (hourly): purchases after a send count as conversions (lift against the holdout).
"""

from __future__ import annotations

import uuid

from sqlmodel import select

import icc_app.core.registry  # noqa: F401 - every table, so cross-product foreign keys resolve in the worker
from icc_app.core.db import unit_of_work
from icc_app.loyalty import customers, scoring, sending
from icc_app.loyalty.models import Campaign, CampaignStatus, Program
from workers.celery_app import celery_app


def _businesses() -> list[uuid.UUID]:
    from icc_app.integrations.models import PosCustomer

    with unit_of_work() as session:
        ids = set(session.exec(select(Program.business_id)).all())
        ids |= set(session.exec(select(PosCustomer.business_id).distinct()).all())
    return sorted(ids, key=str)


@celery_app.task(name="loyalty.compute_segments")
def compute_segments(business_id: str | None = None) -> int:
    ids = [uuid.UUID(business_id)] if business_id else _businesses()
    for bid in ids:
        with unit_of_work() as session:
            customers.sync_from_pos(session, business_id=bid)
        with unit_of_work() as session:
            scoring.compute(session, business_id=bid)
    return len(ids)


@celery_app.task(name="loyalty.send_campaign", acks_late=True)
def send_campaign(business_id: str, campaign_id: str) -> dict:
    bid, cid = uuid.UUID(business_id), uuid.UUID(campaign_id)
    with unit_of_work() as session:
        sending.draw(session, business_id=bid, campaign_id=cid)
    return sending.dispatch(business_id=bid, campaign_id=cid)


@celery_app.task(name="loyalty.send_due")
def send_due() -> int:
    with unit_of_work() as session:
        due = sending.due_campaigns(session)
    for bid, cid in due:
        send_campaign(str(bid), str(cid))
    return len(due)


@celery_app.task(name="loyalty.attribute")
def attribute() -> int:
    found = 0
    with unit_of_work() as session:
        recent = session.exec(select(Campaign.business_id, Campaign.id)
                              .where(Campaign.status == CampaignStatus.sent)).all()
    for bid, cid in recent:
        with unit_of_work() as session:
            found += sending.attribute(session, business_id=bid, campaign_id=cid)
    return found
