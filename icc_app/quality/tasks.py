"""CQI tasks on the `cqi` queue: score one lot (after its COA is parsed or the lot changes) and rescore every
active lot (nightly, and when a config is activated). Both are idempotent."""

from __future__ import annotations

import uuid

from icc_app.core.db import unit_of_work
from icc_app.quality import service
from workers.celery_app import celery_app


@celery_app.task(name="quality.score_lot")
def score_lot(lot_id: str) -> float | None:
    with unit_of_work() as session:
        breakdown = service.score_lot(session, uuid.UUID(lot_id))
    return breakdown.total if breakdown else None


@celery_app.task(name="quality.rescore_all_active_lots", soft_time_limit=600)
def rescore_all_active_lots() -> int:
    with unit_of_work() as session:
        return service.rescore_all(session)


@celery_app.task(name="quality.train_price_model", soft_time_limit=900)
def train_price_model() -> int:
    """Weekly: fit a new shadow model on the trades so far (promotion stays an admin's decision)."""
    from icc_app.quality import pricing

    with unit_of_work() as session:
        return pricing.train(session).version
