"""COA intake tasks (queue `default`): the parse, and the beat sweep that re-sends parses that stalled.

The attempt id of a parse is the Celery task id: a message delivered again after its worker was killed carries
the same id and resumes its attempt; the sweep re-sends a stalled attempt under that same id.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded

from icc_app.core.db import unit_of_work
from icc_app.labs import service
from workers.celery_app import celery_app

log = logging.getLogger(__name__)

PARSE_SOFT_LIMIT = 120
PARSE_HARD_LIMIT = 150
STUCK_AFTER = timedelta(seconds=PARSE_HARD_LIMIT * 2)  # a parse running this long lost its worker
QUEUED_TOO_LONG = timedelta(minutes=15)


def parse_document(document_id: uuid.UUID, *, force: bool = False, attempt_id: str | None = None) -> str:
    """The task's body: start or resume the attempt (one transaction), parse outside any transaction, store the
    result (another transaction). Safe to run twice. Also used by the seed and the tests to parse in-process."""
    attempt_id = attempt_id or uuid.uuid4().hex
    with unit_of_work() as session:
        job = service.begin_parse(session, document_id, attempt_id=attempt_id, force=force)
    if isinstance(job, str):
        return job
    parsed, elapsed_ms = service.run_parser(job)
    with unit_of_work() as session:
        return service.end_parse(session, document_id, attempt_id=attempt_id, parsed=parsed, elapsed_ms=elapsed_ms)


def _give_up(document_id: uuid.UUID, attempt_id: str | None, reason: str) -> str:
    with unit_of_work() as session:
        failed = service.mark_failed(session, document_id, reason, attempt_id=attempt_id)
    return "failed" if failed else "unchanged"


@celery_app.task(name="labs.parse_coa", bind=True, soft_time_limit=PARSE_SOFT_LIMIT, time_limit=PARSE_HARD_LIMIT)
def parse_coa(self, document_id: str, force: bool = False) -> str:
    """Parse one uploaded COA; running it twice leaves one result. Never lets an error kill the worker."""
    doc_id, attempt_id = uuid.UUID(document_id), self.request.id
    try:
        return parse_document(doc_id, force=force, attempt_id=attempt_id)
    except SoftTimeLimitExceeded:
        return _give_up(doc_id, attempt_id, f"parsing took longer than {PARSE_SOFT_LIMIT} s; the file is kept")
    except Exception as exc:  # noqa: BLE001 - storage or database trouble: record it, keep the file
        log.exception("labs.parse_coa failed for %s", document_id)
        return _give_up(doc_id, attempt_id, f"could not be parsed now ({type(exc).__name__}); try again")


@celery_app.task(name="labs.sweep_stuck_parses", soft_time_limit=60, time_limit=90)
def sweep_stuck_parses(parsing_for_s: float | None = None, queued_for_s: float | None = None) -> int:
    """Re-send parses whose worker died (same attempt id) or whose message was lost; fail those that stalled too
    often (the owner is told). Returns how many were re-sent."""
    parsing_for = STUCK_AFTER if parsing_for_s is None else timedelta(seconds=parsing_for_s)
    queued_for = QUEUED_TOO_LONG if queued_for_s is None else timedelta(seconds=queued_for_s)
    with unit_of_work() as session:
        resend = service.sweep_stuck(session, parsing_for=parsing_for, queued_for=queued_for)
    for stuck in resend:
        options = {"task_id": stuck.attempt_id} if stuck.attempt_id else {}
        parse_coa.apply_async(args=[str(stuck.document_id)], **options)
    if resend:
        log.warning("re-sent %d stalled COA parses", len(resend))
    return len(resend)
