"""Dispensary photos: only the claiming business uploads them, only real images are kept, thumbnails are made by the
task, visitors get them from the public API, removing one is audited."""

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from icc_app import api
from icc_app.core.audit import AuditLog
from icc_app.core.db import pending_tasks, unit_of_work
from icc_app.core.errors import NotFound, ValidationFailed
from icc_app.identity import service as identity
from icc_app.maps import menus, photos
from icc_app.maps.models import DispensaryPhoto
from icc_app.maps.tasks import make_thumbnail
from tests.factories import make_user
from tests.maps.conftest import retailer_with_store


def _png(width=1600, height=1000) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 60)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture()
def store(connection):
    with unit_of_work() as session:
        principal, business, dispensary = retailer_with_store(session, name="Photo Shop", number="417777")
        menus.claim(session, principal=principal, business_id=business.id, dispensary_id=dispensary.id)
        stranger = identity.build_principal(session, make_user(session))
    return principal, stranger, dispensary


def test_owner_uploads_photos_and_visitors_see_thumbnails(store):
    owner, stranger, dispensary = store
    with unit_of_work() as session:
        photo = photos.add(session, principal=owner, dispensary_id=dispensary.id, data=_png(), filename="front.png")
        assert pending_tasks(session)[-1].name == "maps.make_thumbnail"
        with pytest.raises(ValidationFailed, match="not a readable image"):
            photos.add(session, principal=owner, dispensary_id=dispensary.id, data=b"%PDF-1.4 not a photo",
                       filename="x.png")
        with pytest.raises(NotFound):
            photos.add(session, principal=stranger, dispensary_id=dispensary.id, data=_png(), filename="y.png")
    assert make_thumbnail(str(photo.id)) == "made"
    assert make_thumbnail(str(photo.id)) == "unchanged"  # safe to run twice
    client = TestClient(api.build())
    full = client.get(f"/api/v1/dispensary-photos/{photo.id}")
    thumb = client.get(f"/api/v1/dispensary-photos/{photo.id}", params={"thumbnail": "true"})
    assert full.status_code == 200 and full.headers["content-type"] == "image/png"
    assert thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size[0] <= 640
    with unit_of_work() as session:
        with pytest.raises(NotFound):
            photos.remove(session, principal=stranger, photo_id=photo.id)
        photos.remove(session, principal=owner, photo_id=photo.id)
    with unit_of_work() as session:
        assert photos.list_for(session, dispensary.id) == []
        actions = set(session.exec(select(AuditLog.action).where(AuditLog.object_id == str(dispensary.id))))
        assert {"maps.dispensary.photo_added", "maps.dispensary.photo_removed"} <= actions
    assert client.get(f"/api/v1/dispensary-photos/{photo.id}").status_code == 404


def test_at_most_eight_photos(store):
    owner, _, dispensary = store
    with unit_of_work() as session:
        for i in range(photos.MAX_PHOTOS):
            photos.add(session, principal=owner, dispensary_id=dispensary.id, data=_png(32, 32), filename=f"{i}.png")
        with pytest.raises(ValidationFailed, match="at most 8 photos"):
            photos.add(session, principal=owner, dispensary_id=dispensary.id, data=_png(32, 32), filename="9.png")
        assert len(session.exec(select(DispensaryPhoto)).all()) >= photos.MAX_PHOTOS
