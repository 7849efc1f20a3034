"""Partner webhook tasks: one delivery attempt, the fan-out of an event emitted from another tenant's transaction,
and the beat sweep that re-sends due deliveries whose task was lost (or ran in-process). All take ids or plain
values and are safe to run twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

from icc_app.core.db import enqueue, unit_of_work
from icc_app.integrations.partners import delivery, webhooks
from workers.celery_app import celery_app


@celery_app.task(name=delivery.DELIVER_TASK, soft_time_limit=60, time_limit=90)
def deliver_partner_webhook(delivery_id: str) -> str:
    """One attempt; a failure schedules the next one itself (exponential backoff with jitter)."""
    done = delivery.attempt(uuid.UUID(delivery_id))
    return "skipped" if done is None else str(done.status)


@celery_app.task(name=webhooks.EMIT_TASK)
def emit_partner_event(business_id: str, event_type: str, payload: dict, event_id: str) -> int:
    with unit_of_work() as session:
        from sqlmodel import select

        from icc_app.integrations.partners.models import WebhookDelivery

        if session.exec(select(WebhookDelivery.id).where(WebhookDelivery.event_id == event_id)).first():
            return 0  # already fanned out (a second run of this task)
        return len(webhooks.emit(session, business_id=uuid.UUID(business_id), event_type=event_type,
                                 payload=payload, event_id=event_id))


@celery_app.task(name="integrations.retry_partner_webhooks")
def retry_partner_webhooks() -> int:
    """Beat, every minute: a task for every delivery overdue by two minutes (its own task was lost, or tasks run
    in-process, where countdowns do not wait)."""
    with unit_of_work() as session:
        due = delivery.due_deliveries(session, overdue_by=timedelta(minutes=2))
        for delivery_id in due:
            enqueue(session, delivery.DELIVER_TASK, str(delivery_id))
    return len(due)
