"""Photos of a dispensary: its people upload them (checked to be images, at most MAX_PHOTOS), visitors see them on
the public page; thumbnails are made by the maps.make_thumbnail task."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.db import enqueue
from icc_app.core.errors import NotFound, ValidationFailed
from icc_app.core.images import check_image
from icc_app.core.storage import get_storage
from icc_app.identity.schemas import Principal
from icc_app.maps.menus import owned
from icc_app.maps.models import Dispensary, DispensaryPhoto

MAX_PHOTOS = 8
MAX_BYTES = 10 * 1024 * 1024


def add(session: Session, *, principal: Principal, dispensary_id: uuid.UUID, data: bytes, filename: str
        ) -> DispensaryPhoto:
    dispensary = owned(session, principal, dispensary_id)
    if len(data) > MAX_BYTES:
        raise ValidationFailed("A photo is at most 10 MB.", field="photo")
    check_image(data)
    count = len(list_for(session, dispensary.id))
    if count >= MAX_PHOTOS:
        raise ValidationFailed(f"A dispensary has at most {MAX_PHOTOS} photos: remove one first.", field="photo")
    stored = get_storage().save("dispensary_photos", data, filename=filename or "photo")
    photo = DispensaryPhoto(dispensary_id=dispensary.id, storage_key=stored.key, filename=(filename or "photo")[:255],
                            position=count)
    session.add(photo)
    session.flush()
    enqueue(session, "maps.make_thumbnail", str(photo.id))
    audit.record(session, action="maps.dispensary.photo_added", object_type="dispensary", object_id=dispensary.id,
                 actor_id=principal.user_id, business_id=dispensary.claimed_by_business_id,
                 after={"photo": str(photo.id), "filename": photo.filename})
    return photo


def remove(session: Session, *, principal: Principal, photo_id: uuid.UUID) -> None:
    photo = session.get(DispensaryPhoto, photo_id)
    if photo is None:
        raise NotFound("Photo not found.")
    dispensary = owned(session, principal, photo.dispensary_id)
    session.delete(photo)
    audit.record(session, action="maps.dispensary.photo_removed", object_type="dispensary", object_id=dispensary.id,
                 actor_id=principal.user_id, business_id=dispensary.claimed_by_business_id,
                 before={"photo": str(photo.id), "filename": photo.filename})


def list_for(session: Session, dispensary_id: uuid.UUID) -> list[DispensaryPhoto]:
    return list(session.exec(select(DispensaryPhoto).where(DispensaryPhoto.dispensary_id == dispensary_id)
                             .order_by(col(DispensaryPhoto.position), col(DispensaryPhoto.created_at))))


def file(session: Session, photo_id: uuid.UUID, *, thumbnail: bool = False) -> bytes:
    """Public: the photo of an active dispensary (its thumbnail once made)."""
    photo = session.get(DispensaryPhoto, photo_id)
    dispensary = session.get(Dispensary, photo.dispensary_id) if photo else None
    if photo is None or dispensary is None or not dispensary.is_active:
        raise NotFound("Photo not found.")
    return get_storage().read(photo.thumbnail_key if thumbnail and photo.thumbnail_key else photo.storage_key)
