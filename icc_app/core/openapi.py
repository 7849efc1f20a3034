"""How binary answers are described in the OpenAPI document (the content types the API really sends)."""

from __future__ import annotations

from icc_app.core.storage import PDF

IMAGE = {"description": "The image", "content": {t: {} for t in ("image/jpeg", "image/png", "image/webp")}}
DOCUMENT = {"description": "The file as uploaded",
            "content": {t: {} for t in (PDF, "image/jpeg", "image/png", "image/webp", "application/octet-stream")}}
PDF_FILE = {"description": "The PDF", "content": {PDF: {}, "application/octet-stream": {}}}
