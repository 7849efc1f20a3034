"""kill -9 of a real Celery worker in the middle of a COA parse: the message comes back from the Redis broker
and the re-delivered task resumes its own attempt, so the COA ends parsed with one attempt recorded.

The worker is a real `celery worker` subprocess on the test Redis database; the data is committed for real
(another process must see it) and removed at the end. The parse is slow because the PDF is big (a real COA's
pages repeated to ~50 pages), not because anything sleeps.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from sqlmodel import col, select

from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.identity.models import Business, User
from icc_app.labs import service
from icc_app.labs.models import CoaDocument, CoaEvent, CoaStatus
from tests.factories import make_business, make_user

ROOT = Path(__file__).resolve().parents[2]
CHERRY = "coas/sc-labs/Cherry Punch.pdf"

# A worker on the `default` queue, one process (the task runs in the process we kill). Only the broker's
# timing is changed for the test: a short visibility timeout so the killed task's message comes back in
# seconds instead of the production 25 minutes.
WORKER = """
import sys
from workers.celery_app import celery_app
visibility = float(sys.argv[1])
if visibility:
    celery_app.conf.broker_transport_options = {
        "visibility_timeout": visibility, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
celery_app.worker_main(["worker", "-Q", "default", "--pool=solo", "--loglevel=INFO", "--without-gossip",
                        "--without-mingle", "--without-heartbeat", "-n", sys.argv[2]])
"""


def _big_coa(shared_data: Path, copies: int = 12) -> bytes:
    """A real COA with its pages repeated: the same values, a parse that takes seconds."""
    source = (shared_data / CHERRY).read_bytes()
    document = pdfium.PdfDocument(source)
    for _ in range(copies):
        document.import_pages(pdfium.PdfDocument(source))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _start_worker(log_path: Path, name: str, visibility: float = 0) -> subprocess.Popen:
    log = log_path.open("ab")
    return subprocess.Popen([sys.executable, "-c", WORKER, str(visibility), f"{name}@%h"], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=os.environ.copy())


def _stop(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def _document(doc_id: uuid.UUID) -> CoaDocument:
    with unit_of_work() as session:
        return session.get(CoaDocument, doc_id)


def _wait_for(doc_id: uuid.UUID, done, timeout: float, worker: subprocess.Popen, log_path: Path) -> CoaDocument:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = _document(doc_id)
        if done(doc):
            return doc
        assert worker.poll() is None, f"worker exited early:\n{log_path.read_text()[-3000:]}"
        time.sleep(0.05)
    pytest.fail(f"timed out; COA is {doc.status}; worker log:\n{log_path.read_text()[-3000:]}")


@pytest.mark.timeout(240)
def test_killed_worker_mid_parse_resumes_the_same_attempt(shared_data, redis_client, tmp_path):
    with unit_of_work() as session:
        owner = make_user(session, email=f"kill-{uuid.uuid4().hex[:8]}@example.test")
        business = make_business(session, owner=owner)
        principal = identity.build_principal(session, owner)
    with unit_of_work() as session:
        doc = service.upload_coa(session, principal, business_id=business.id, data=_big_coa(shared_data),
                                 filename="Cherry Punch x13.pdf")
    log_path = tmp_path / "worker.log"
    first = _start_worker(log_path, "first")
    second = None
    try:
        started = _wait_for(doc.id, lambda d: d.status == CoaStatus.parsing, 90, first, log_path)
        os.killpg(first.pid, signal.SIGKILL)  # kill -9 in the middle of the parse
        first.wait(timeout=10)
        assert redis_client.hlen("unacked") == 1  # the broker still holds the unacknowledged message

        stuck = _document(doc.id)
        assert stuck.status == CoaStatus.parsing and stuck.attempts == 1 and stuck.parse_runs == 1

        second = _start_worker(log_path, "second", visibility=2)
        done = _wait_for(doc.id, lambda d: CoaStatus(d.status).finished, 150, second, log_path)
    finally:
        _stop(first, signal.SIGKILL)
        if second is not None:
            _stop(second)

    try:
        assert done.status == CoaStatus.parsed.value, done.status_reason
        assert done.total_thc_pct == 19.25 and done.pages == 52
        assert done.attempts == 1 and done.parse_runs == 2  # one attempt, run twice (killed, then resumed)
        assert done.parse_attempt_id == started.parse_attempt_id
        with unit_of_work() as session:
            events = session.exec(select(CoaEvent).where(CoaEvent.document_id == doc.id)
                                  .order_by(col(CoaEvent.id))).all()
        assert [(e.verb, e.from_status, e.to_status) for e in events] == [
            ("upload", "", "queued"), ("start", "queued", "parsing"), ("resume", "parsing", "parsing"),
            ("finish", "parsing", "parsed")]
        assert {e.attempt_id for e in events[1:]} == {started.parse_attempt_id}
        assert "Task labs.parse_coa" in log_path.read_text() and redis_client.hlen("unacked") == 0
    finally:
        with unit_of_work() as session:
            session.delete(session.get(CoaDocument, doc.id))
        with unit_of_work() as session:
            session.delete(session.get(Business, business.id))
            session.flush()
            session.delete(session.get(User, owner.id))
