"""Lot photos: stored under lot_photos/, thumbnailed by the exchange.make_thumbnail task (idempotent), refused
when they are not images."""

import io

import pytest
from PIL import Image

from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.core.storage import get_storage
from icc_app.exchange import lots
from icc_app.exchange.models import LotPhoto
from icc_app.exchange.tasks import make_thumbnail


def _png(width=1600, height=1200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_photo_gets_a_thumbnail_once(market):
    with unit_of_work() as session:
        photo = lots.add_photo(session, principal=market.principal(market.seller_user), lot_id=market.lot_id,
                               data=_png(), filename="bud.png")
    assert make_thumbnail(str(photo.id)) == "made"
    assert make_thumbnail(str(photo.id)) == "unchanged"  # safe to run twice
    with unit_of_work() as session:
        stored = session.get(LotPhoto, photo.id)
        thumb = Image.open(io.BytesIO(get_storage().read(stored.thumbnail_key)))
        assert stored.storage_key.startswith("lot_photos/") and max(thumb.size) <= 480
        data, _ = lots.photo_file(session, market.principal(market.buyer_user), photo.id, thumbnail=True)
    assert data[:3] == b"\xff\xd8\xff"  # a JPEG thumbnail, readable by a buyer of the listed lot


def test_a_pdf_is_not_a_photo(market):
    with pytest.raises(ValidationFailed), unit_of_work() as session:
        lots.add_photo(session, principal=market.principal(market.seller_user), lot_id=market.lot_id,
                       data=b"%PDF-1.4 not an image", filename="photo.jpg")
