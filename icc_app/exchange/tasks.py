"""Exchange tasks: thumbnails of lot photos, lab values after a COA parse, and the beat sweeps (offer and
listing expiry, listings of businesses whose license lapsed). All take ids, reload, and are safe to run twice."""

from __future__ import annotations

import uuid

from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.images import fill_thumbnail
from icc_app.exchange import lots, offers
from icc_app.exchange.models import Lot, LotPhoto
from workers.celery_app import celery_app

THUMBNAIL_SIZE = (480, 360)


@celery_app.task(name="exchange.make_thumbnail", autoretry_for=(OSError,), retry_backoff=True,
                 retry_kwargs={"max_retries": 3})
def make_thumbnail(photo_id: str) -> str:
    return fill_thumbnail(LotPhoto, photo_id, prefix="lot_photos", size=THUMBNAIL_SIZE)


@celery_app.task(name="exchange.sync_lot_coa")
def sync_lot_coa(lot_id: str) -> str:
    """A COA of the lot was parsed: copy its lab values onto the lot (search filters, listing gate)."""
    with unit_of_work() as session:
        lot = session.get(Lot, uuid.UUID(lot_id))
        if lot is None:
            return "missing"
        synced = lots.sync_lab_values(session, lot)
        enqueue(session, "quality.score_lot", lot_id)  # the lab values changed: so may the CQI
        return "synced" if synced else "no parsed coa"


@celery_app.task(name="exchange.expire_offers")
def expire_offers() -> int:
    with unit_of_work() as session:
        return offers.expire_offers(session)


@celery_app.task(name="exchange.expire_listings")
def expire_listings() -> int:
    with unit_of_work() as session:
        return lots.expire_listings(session)


@celery_app.task(name="exchange.suspend_unlicensed")
def suspend_unlicensed() -> int:
    with unit_of_work() as session:
        return lots.suspend_unlicensed(session)
