"""Exchange tasks: thumbnails of lot photos, lab values after a COA parse, and the beat sweeps (offer and
listing expiry, listings of businesses whose license lapsed). All take ids, reload, and are safe to run twice."""

from __future__ import annotations

import io
import uuid

from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.storage import get_storage
from icc_app.exchange import lots, offers
from icc_app.exchange.models import Lot, LotPhoto
from workers.celery_app import celery_app

THUMBNAIL_SIZE = (480, 360)


@celery_app.task(name="exchange.make_thumbnail", autoretry_for=(OSError,), retry_backoff=True,
                 retry_kwargs={"max_retries": 3})
def make_thumbnail(photo_id: str) -> str:
    from PIL import Image, UnidentifiedImageError

    with unit_of_work() as session:
        photo = session.get(LotPhoto, uuid.UUID(photo_id))
        if photo is None:
            return "missing"
        if photo.thumbnail_key:
            return "unchanged"
        key = photo.storage_key
    try:
        image = Image.open(io.BytesIO(get_storage().read(key)))
        image = image.convert("RGB")
        image.thumbnail(THUMBNAIL_SIZE)
    except (UnidentifiedImageError, OSError, ValueError):
        return "unreadable"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82)
    stored = get_storage().save("lot_photos", buffer.getvalue(), filename="thumbnail.jpg")
    with unit_of_work() as session:
        photo = session.get(LotPhoto, uuid.UUID(photo_id))
        if photo is not None:
            photo.thumbnail_key = stored.key
            session.add(photo)
    return "made"


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
