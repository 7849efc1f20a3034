"""Maps tasks: rebuild a product's or dispensary's review summary (rating and effect profile) after a change, and
make the thumbnail of a dispensary photo. Both take ids, reload, and are safe to run twice."""

from __future__ import annotations

import uuid

from icc_app.core.db import unit_of_work
from icc_app.core.images import fill_thumbnail
from icc_app.maps import reviews
from icc_app.maps.models import DispensaryPhoto
from workers.celery_app import celery_app

THUMBNAIL_SIZE = (640, 420)


@celery_app.task(name="maps.aggregate_reviews")
def aggregate_reviews(target_type: str, target_id: str) -> int:
    with unit_of_work() as session:
        return reviews.aggregate(session, target_type, uuid.UUID(target_id)).count


@celery_app.task(name="maps.make_thumbnail", autoretry_for=(OSError,), retry_backoff=True,
                 retry_kwargs={"max_retries": 3})
def make_thumbnail(photo_id: str) -> str:
    return fill_thumbnail(DispensaryPhoto, photo_id, prefix="dispensary_photos", size=THUMBNAIL_SIZE)
