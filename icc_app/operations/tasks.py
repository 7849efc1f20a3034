"""Operations tasks. Beat starts `operations.refresh_forecasts` daily (fast movers) and weekly (everything); it fans
out one `operations.refresh_business` per business with demand, which rolls up the POS sync, refreshes and
reconciles the forecasts, drafts purchase orders for products at their reorder point and refreshes price
suggestions. Every task takes ids, re-reads its rows and is safe to run twice."""

from __future__ import annotations

import uuid

from sqlmodel import select

from icc_app.core.db import enqueue, unit_of_work
from icc_app.integrations.models import Connection
from icc_app.operations import pricing, refresh
from icc_app.operations.models import DemandDay
from workers.celery_app import celery_app


@celery_app.task(name="operations.refresh_forecasts")
def refresh_forecasts(slow_too: bool = False) -> int:
    """Queue one refresh per business that has sales or a connected POS (batched per business)."""
    with unit_of_work() as session:
        ids = set(session.exec(select(DemandDay.business_id).distinct()).all())
        ids |= set(session.exec(select(Connection.business_id).distinct()).all())
        for business_id in sorted(ids, key=str):
            enqueue(session, "operations.refresh_business", str(business_id), slow_too=slow_too)
    return len(ids)


@celery_app.task(name="operations.refresh_business", acks_late=True)
def refresh_business(business_id: str, slow_too: bool = False) -> dict:
    return refresh.refresh_business(uuid.UUID(business_id), slow_too=slow_too)


@celery_app.task(name="operations.push_price", autoretry_for=(OSError,), retry_backoff=True,
                 retry_kwargs={"max_retries": 3})
def push_price(suggestion_id: str) -> str:
    with unit_of_work() as session:
        return pricing.push_price(session, suggestion_id=uuid.UUID(suggestion_id))
