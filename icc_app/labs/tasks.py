"""COA intake tasks (queue `default`)."""

from __future__ import annotations

import logging
import uuid

from celery.exceptions import SoftTimeLimitExceeded

from icc_app.labs import service
from workers.celery_app import celery_app

log = logging.getLogger(__name__)


@celery_app.task(name="labs.parse_coa", soft_time_limit=120, time_limit=150)
def parse_coa(document_id: str, force: bool = False) -> str:
    """Parse one uploaded COA; running it twice leaves one result. Never lets an error kill the worker."""
    try:
        return service.parse_document(uuid.UUID(document_id), force=force)
    except SoftTimeLimitExceeded:
        service.mark_failed(uuid.UUID(document_id), "parsing took longer than 120 s; the file is kept")
        return "failed"
    except Exception as exc:  # noqa: BLE001 - storage or database trouble: record it, keep the file
        log.exception("labs.parse_coa failed for %s", document_id)
        service.mark_failed(uuid.UUID(document_id), f"could not be parsed now ({type(exc).__name__}); try again")
        return "failed"
