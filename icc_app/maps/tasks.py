"""Maps tasks: rebuild a product's or dispensary's review summary (rating and effect profile) after a change."""

from __future__ import annotations

import uuid

from icc_app.core.db import unit_of_work
from icc_app.maps import reviews
from workers.celery_app import celery_app


@celery_app.task(name="maps.aggregate_reviews")
def aggregate_reviews(target_type: str, target_id: str) -> int:
    with unit_of_work() as session:
        return reviews.aggregate(session, target_type, uuid.UUID(target_id)).count
