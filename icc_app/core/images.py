"""Photos people upload: check that a file is an image we can show, and make its thumbnail (JPEG)."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from icc_app.core.errors import ValidationFailed

ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000  # larger "images" are decompression bombs, not photos


def check_image(data: bytes, *, field: str = "photo") -> str:
    """The image's format, or a clear error when the file is not a photo we accept."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind, size = image.format, image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed("This file is not a readable image: upload a JPEG, PNG or WebP photo.",
                               field=field) from None
    if kind not in ACCEPTED:
        raise ValidationFailed(f"{kind} images are not accepted: upload a JPEG, PNG or WebP photo.", field=field)
    if size[0] * size[1] > MAX_PIXELS:
        raise ValidationFailed("This image is too large: at most 40 megapixels.", field=field)
    return kind


def thumbnail_jpeg(data: bytes, size: tuple[int, int]) -> bytes | None:
    """A JPEG that fits in `size`, or None when the file cannot be read as an image."""
    try:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        image.thumbnail(size)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82)
    return buffer.getvalue()


def fill_thumbnail(model, photo_id: str, *, prefix: str, size: tuple[int, int]) -> str:
    """The body of a thumbnail task: a photo row (with storage_key and thumbnail_key) gets its thumbnail once.
    Returns what happened: made / unchanged / missing / unreadable."""
    import uuid

    from icc_app.core.db import unit_of_work
    from icc_app.core.storage import get_storage

    with unit_of_work() as session:
        photo = session.get(model, uuid.UUID(photo_id))
        if photo is None:
            return "missing"
        if photo.thumbnail_key:
            return "unchanged"
        key = photo.storage_key
    thumbnail = thumbnail_jpeg(get_storage().read(key), size)
    if thumbnail is None:
        return "unreadable"
    stored = get_storage().save(prefix, thumbnail, filename="thumbnail.jpg")
    with unit_of_work() as session:
        photo = session.get(model, uuid.UUID(photo_id))
        if photo is not None:
            photo.thumbnail_key = stored.key
            session.add(photo)
    return "made"
