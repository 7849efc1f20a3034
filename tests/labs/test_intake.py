"""COA intake end to end on the real database, storage, Redis queue and a real Celery worker."""

import json
import time
import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import select

from icc_app.core.audit import AuditLog
from icc_app.core.db import unit_of_work
from icc_app.core.errors import NotFound, PermissionDenied, ValidationFailed
from icc_app.identity import service as identity
from icc_app.identity.models import Role, User
from icc_app.labs import service
from icc_app.labs.tasks import parse_document
from icc_app.labs.models import CoaCorrection, CoaDocument, CoaStatus, LabAnalyte
from icc_app.labs.models import TestingLabLicense as LabLicense
from icc_app.labs.registry import import_registry, seed_known_labs
from tests.factories import add_member, make_business, make_user, verified_license

CHERRY = "coas/sc-labs/Cherry Punch.pdf"


def _principal(user_id):
    with unit_of_work() as session:
        from icc_app.identity.models import User

        return identity.build_principal(session, session.get(User, user_id))


@pytest.fixture()
def seller(connection):
    with unit_of_work() as session:
        owner = make_user(session)
        business = make_business(session, owner=owner)
        seed_known_labs(session)
        return _principal(owner.id), business.id


def _upload(principal, business_id, data, name="coa.pdf", **kwargs):
    with unit_of_work() as session:
        return service.upload_coa(session, principal, business_id=business_id, data=data, filename=name, **kwargs)


def _call(function, *args, **kwargs):
    """A service function in its own unit of work, as the pages and the API call them."""
    with unit_of_work() as session:
        return function(session, *args, **kwargs)


def test_upload_queues_parse_on_default_queue_and_task_fills_results(seller, shared_data, redis_client):
    principal, business_id = seller
    doc = _upload(principal, business_id, (shared_data / CHERRY).read_bytes(), "Cherry Punch.pdf")
    assert doc.status == CoaStatus.queued and doc.storage_key.startswith("coas/")
    queued = [json.loads(raw) for raw in redis_client.lrange("default", 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in queued] == [("labs.parse_coa", f"('{doc.id}',)")]

    assert parse_document(doc.id) == "parsed"
    doc = _call(service.get_document, principal, doc.id)
    assert (doc.total_thc_pct, doc.total_cbd_pct, doc.moisture_pct) == (19.25, 0.058, 10.7)
    assert doc.lab_license == "C8-0000013-LIC" and doc.product_type == "flower"
    assert doc.parsed["total_thc_pct"] == 19.25 and doc.parse_ms is not None
    names = {a.key for a in _call(service.analytes, principal, doc.id)}
    assert {"thca", "d9_thc", "myrcene"} <= names
    codes = {f["code"] for f in doc.flags}
    assert "lab_license_unknown" not in codes  # SC Labs is a licensed lab
    assert "date_expired" in codes  # tested in 2021: older than California's one-year window


def test_parse_task_is_idempotent(seller, shared_data, connection):
    principal, business_id = seller
    doc = _upload(principal, business_id, (shared_data / CHERRY).read_bytes())
    assert parse_document(doc.id) == "parsed"
    assert parse_document(doc.id) == "unchanged"
    assert parse_document(doc.id, force=True) == "parsed"
    with unit_of_work() as session:
        rows = session.exec(select(LabAnalyte).where(LabAnalyte.document_id == doc.id)).all()
        keys = [(r.category, r.key) for r in rows]
        assert len(keys) == len(set(keys)) and len(keys) > 10  # one result, not two
        assert len(session.exec(select(AuditLog).where(AuditLog.action == "coa.parsed",
                                                       AuditLog.object_id == str(doc.id))).all()) == 2


@pytest.mark.parametrize(("data", "status", "reason"), [
    (b"this is not a pdf at all", CoaStatus.rejected, "not a PDF"),
    (b"%PDF-1.7\n" + b"\x00garbage" * 100, CoaStatus.rejected, "corrupted"),
])
def test_bad_files_are_kept_with_a_status(seller, data, status, reason):
    principal, business_id = seller
    doc = _upload(principal, business_id, data, "bad.pdf")
    assert parse_document(doc.id) == status.value
    doc = _call(service.get_document, principal, doc.id)
    assert doc.status == status and reason in doc.status_reason
    assert _call(service.read_file, principal, doc.id)[0] == data  # the original is kept
    assert any(f["code"] == "unreadable" for f in doc.flags)


def test_empty_upload_is_refused_and_nothing_is_stored(seller):
    principal, business_id = seller
    with pytest.raises(ValidationFailed, match="empty"):
        _upload(principal, business_id, b"")
    assert _call(service.list_documents, principal, business_id) == []


def test_correction_keeps_original_and_is_audited(seller, shared_data):
    principal, business_id = seller
    doc = _upload(principal, business_id, (shared_data / CHERRY).read_bytes())
    parse_document(doc.id)
    with pytest.raises(ValidationFailed) as bad:
        _call(service.correct, principal, doc.id, field="water_activity_aw", value="7", reason="typo on the PDF")
    assert bad.value.field == "water_activity_aw"
    with pytest.raises(ValidationFailed, match="why"):
        _call(service.correct, principal, doc.id, field="total_thc_pct", value="20.1", reason="")
    doc = _call(service.correct, principal, doc.id, field="total_thc_pct", value="20.1", reason="page 2 prints 20.1%")
    assert doc.total_thc_pct == 20.1 and doc.parsed["total_thc_pct"] == 19.25
    history = _call(service.corrections, principal, doc.id)
    assert [(c.field, c.old_value, c.new_value) for c in history] == [("total_thc_pct", "19.25", "20.1")]
    parse_document(doc.id, force=True)  # a re-parse keeps the hand value
    assert _call(service.get_document, principal, doc.id).total_thc_pct == 20.1
    with unit_of_work() as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "coa.corrected")).one()
        assert entry.before == {"total_thc_pct": 19.25} and entry.after["total_thc_pct"] == 20.1


def test_other_tenants_cannot_see_or_correct(seller, shared_data):
    principal, business_id = seller
    doc = _upload(principal, business_id, (shared_data / CHERRY).read_bytes())
    parse_document(doc.id)
    with unit_of_work() as session:
        stranger = make_user(session)
        make_business(session, owner=stranger)
        viewer = make_user(session)
        from icc_app.identity.models import Business

        add_member(session, session.get(Business, business_id), role=Role.staff, products=["console"], user=viewer)
    with pytest.raises(NotFound):
        _call(service.get_document, _principal(stranger.id), doc.id)
    with pytest.raises(NotFound):
        _call(service.correct, _principal(stranger.id), doc.id, field="total_thc_pct", value="1", reason="sneaky")
    with pytest.raises(PermissionDenied):  # a member without exchange access
        _call(service.get_document, _principal(viewer.id), doc.id)
    with unit_of_work() as session:
        assert session.exec(select(CoaCorrection)).all() == []


def test_authenticity_flags(seller, shared_data):
    principal, business_id = seller
    data = (shared_data / CHERRY).read_bytes()
    doc = _upload(principal, business_id, data, claimed_total_thc_pct=28.0)
    parse_document(doc.id)
    codes = {f["code"]: f for f in _call(service.get_document, principal, doc.id).flags}
    assert "claimed_thc_mismatch" in codes and "19.25" in codes["claimed_thc_mismatch"]["message"]

    with unit_of_work() as session:
        rival_owner = make_user(session)
        rival = make_business(session, owner=rival_owner)
    rival_doc = _upload(_principal(rival_owner.id), rival.id, data)
    parse_document(rival_doc.id)
    rival_flags = {f["code"]: f for f in _call(service.get_document, _principal(rival_owner.id), rival_doc.id).flags}
    assert rival_flags["duplicate_file"]["severity"] == "critical"

    future = (date.today() + timedelta(days=30)).isoformat()
    doc = _call(service.correct, principal, doc.id, field="date_tested", value=future, reason="testing the check")
    assert "date_in_future" in {f["code"] for f in doc.flags}
    doc = _call(service.correct, principal, doc.id, field="lab_license", value="C8-9999999-LIC", reason="testing the check")
    assert "lab_license_unknown" in {f["code"] for f in doc.flags}
    doc = _call(service.correct, principal, doc.id, field="total_thc_pct", value="40", reason="testing the check")
    assert "total_thc_mismatch" in {f["code"] for f in doc.flags}


def test_lab_registry_import_keeps_testing_labs_and_reports_rejects(connection, tmp_path):
    csv_file = tmp_path / "labs.csv"
    csv_file.write_text(
        "license_number,business_legal_name,license_type,license_status,expiration_date\n"
        "C8-0000777-LIC,Acme Testing,Testing Laboratory,Active,2027-01-31\n"
        "C10-0000001-LIC,Some Shop,Retailer,Active,2027-01-31\n"
        ",Nameless Lab,Testing Laboratory,Active,\n"
        "C8-0000778-LIC,Bad Date Lab,Testing Laboratory,Active,31/01/2027\n"
    )
    with unit_of_work() as session:
        report = import_registry(session, csv_file, state="ca")
    assert (report.imported, report.skipped_not_lab) == (1, 1)
    assert [row for row, _ in report.rejected] == [4, 5]
    with unit_of_work() as session:
        lab = session.exec(select(LabLicense).where(LabLicense.license_number == "C8-0000777-LIC")).one()
        assert (lab.state, lab.expires_on) == ("CA", date(2027, 1, 31))


def test_real_worker_parses_from_the_default_queue(shared_data, redis_client):
    """A Celery worker (thread) on the real Redis broker consumes labs.parse_coa; data is committed for real."""
    from celery.contrib.testing.worker import start_worker

    from workers.celery_app import celery_app

    with unit_of_work() as session:
        owner = make_user(session, email=f"worker-{uuid.uuid4().hex[:8]}@example.test")
        business = make_business(session, owner=owner)
    doc = _upload(_principal(owner.id), business.id, (shared_data / "coas/confident-cannabis/GDP.pdf").read_bytes())
    assert redis_client.llen("default") == 1
    with start_worker(celery_app, queues=["default"], perform_ping_check=False, pool="solo", concurrency=1):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            current = _call(service.get_document, _principal(owner.id), doc.id)
            if CoaStatus(current.status).finished:
                break
            time.sleep(0.2)
    assert current.status == CoaStatus.parsed.value and current.total_thc_pct == 23.55
    assert redis_client.llen("default") == 0
    with unit_of_work() as session:
        session.delete(session.get(CoaDocument, doc.id))


def test_reparse_is_refused_while_a_parse_is_under_way(seller, shared_data):
    from icc_app.core.errors import Conflict

    principal, business_id = seller
    doc = _upload(principal, business_id, (shared_data / CHERRY).read_bytes())
    with pytest.raises(Conflict, match="queued cannot become queued"):
        _call(service.reparse, principal, doc.id)
    parse_document(doc.id)
    assert _call(service.reparse, principal, doc.id).status == CoaStatus.queued.value


# ---------------------------------------------------------------- honest states, attempts, bombs, limits


def test_parse_without_potency_or_date_needs_review_until_entered_by_hand(seller):
    from tests.labs.pdf_samples import NO_POTENCY_NO_DATE, text_pdf

    principal, business_id = seller
    doc = _upload(principal, business_id, text_pdf(NO_POTENCY_NO_DATE), "blue-dream.pdf")
    assert parse_document(doc.id) == CoaStatus.needs_review.value
    doc = _call(service.get_document, principal, doc.id)
    assert "potency" in doc.status_reason and "test date" in doc.status_reason and "could not be read" in doc.status_reason
    assert doc.sample_name == "Blue Dream"  # what was read is kept
    reason = _call(service.coa_ready_for_listing, doc.id)
    assert "needs review" in reason and "potency" in reason

    _call(service.correct, principal, doc.id, field="total_thc_pct", value="24.6", reason="page 1 prints THCA 24.6%")
    assert _call(service.get_document, principal, doc.id).status == CoaStatus.needs_review  # the date is still missing
    doc = _call(service.correct, principal, doc.id, field="date_tested", value="2026-11-02", reason="report date")
    assert doc.status == CoaStatus.parsed and _call(service.coa_ready_for_listing, doc.id) is None
    with unit_of_work() as session:
        actions = [r.action for r in session.exec(select(AuditLog).where(AuditLog.object_id == str(doc.id))
                                                  .order_by(AuditLog.id)).all()]
        verbs = [e.verb for e in _call(service.events, principal, doc.id)]
    assert actions[-3:] == ["coa.corrected", "coa.corrected", "coa.review_completed"]
    assert verbs == ["upload", "start", "finish", "complete_review"]


def test_decompression_bomb_is_rejected_for_what_it_is(seller):
    from tests.labs.pdf_samples import bomb_pdf

    principal, business_id = seller
    data = bomb_pdf(100)
    assert len(data) < 500_000
    doc = _upload(principal, business_id, data, "bomb.pdf")
    assert parse_document(doc.id) == CoaStatus.rejected.value
    doc = _call(service.get_document, principal, doc.id)
    assert "expands beyond 32 MB" in doc.status_reason and "scanned" not in doc.status_reason
    assert doc.parse_ms < 5000  # the guard stops at the cap instead of inflating 100 MB
    assert _call(service.read_file, principal, doc.id)[0] == data  # kept as evidence


def test_uploads_are_rate_limited_per_business(seller, redis_client):
    from icc_app.core.errors import RateLimited

    principal, business_id = seller
    for _ in range(service.UPLOAD_LIMIT.limit):
        service.UPLOAD_LIMIT.hit(str(business_id))
    with pytest.raises(RateLimited):
        _upload(principal, business_id, b"%PDF-1.4 one too many")
    assert _call(service.list_documents, principal, business_id) == []


def test_upload_refuses_a_lot_of_another_business(seller):
    from tests.exchange.conftest import lot_input

    principal, business_id = seller
    with unit_of_work() as session:
        rival_owner = make_user(session)
        rival = make_business(session, owner=rival_owner)
        verified_license(session, rival, number=f"4{uuid.uuid4().int % 10**5:05d}")
    rival_principal = _principal(rival_owner.id)
    from icc_app.exchange import lots

    with unit_of_work() as session:
        lot = lots.create_lot(session, principal=rival_principal, business_id=rival.id, data=lot_input())
    for lot_id in (lot.id, uuid.uuid4()):
        with pytest.raises(NotFound) as missing:
            _upload(principal, business_id, b"%PDF-1.4 x", lot_id=lot_id)
        assert missing.value.field == "lot_id"
    assert _call(service.list_documents, principal, business_id) == []


def test_an_attempt_resumes_itself_refuses_others_and_gives_up_after_max_runs(seller, redis_client):
    from icc_app.core.notifications import Notification, OutboundEmail
    from icc_app.labs.models import MAX_PARSE_RUNS

    principal, business_id = seller
    doc = _upload(principal, business_id, b"%PDF-1.4 whatever")
    redis_client.flushdb()
    job = _call(service.begin_parse, doc.id, attempt_id="attempt-a")
    assert isinstance(job, service.ParseJob)
    assert _call(service.begin_parse, doc.id, attempt_id="attempt-b") == "busy"  # another attempt is refused
    for _ in range(MAX_PARSE_RUNS - 1):  # the same attempt re-delivered after its worker died
        assert isinstance(_call(service.begin_parse, doc.id, attempt_id="attempt-a"), service.ParseJob)
    current = _call(service.get_document, principal, doc.id)
    assert (current.status, current.attempts, current.parse_runs) == (CoaStatus.parsing, 1, MAX_PARSE_RUNS)
    assert _call(service.begin_parse, doc.id, attempt_id="attempt-a") == CoaStatus.failed.value
    current = _call(service.get_document, principal, doc.id)
    assert current.status == CoaStatus.failed and f"stopped {MAX_PARSE_RUNS} times" in current.status_reason
    with unit_of_work() as session:
        note = session.exec(select(Notification).where(Notification.user_id == principal.user_id)).one()
        owner = session.get(User, principal.user_id)
        [email] = [e for e in session.exec(select(OutboundEmail)).all() if e.recipient == owner.email]
    assert note.title.startswith("COA could not be parsed") and email.template == "coa_parse_failed"
    assert redis_client.llen("notifications") == 1  # the owner's email is on its way
    verbs = [(e.verb, e.attempt_id) for e in _call(service.events, principal, doc.id)]
    assert verbs == [("upload", None), ("start", "attempt-a")] + [("resume", "attempt-a")] * (MAX_PARSE_RUNS - 1) + [
        ("fail", "attempt-a")]
    # a late result of the failed attempt changes nothing
    assert _call(service.end_parse, doc.id, attempt_id="attempt-a", parsed=service.ParsedCoa(),
                 elapsed_ms=1) == "superseded"


def test_sweep_resends_a_stalled_attempt_under_its_own_id(seller, redis_client):
    from datetime import timedelta

    from icc_app.labs.tasks import sweep_stuck_parses

    principal, business_id = seller
    doc = _upload(principal, business_id, (__import__("tests.labs.pdf_samples", fromlist=["x"])
                                           .text_pdf(["Certificate of Analysis"])))
    _call(service.begin_parse, doc.id, attempt_id="lost-attempt")
    with unit_of_work() as session:
        row = session.get(CoaDocument, doc.id)
        row.parse_started_at -= timedelta(hours=1)  # its worker died an hour ago
    redis_client.flushdb()
    assert sweep_stuck_parses.run() == 1
    queued = [json.loads(raw) for raw in redis_client.lrange("default", 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["id"]) for m in queued] == [("labs.parse_coa", "lost-attempt")]
    assert parse_document(doc.id, attempt_id="lost-attempt") == CoaStatus.needs_review.value  # resumed, finished
    assert _call(service.get_document, principal, doc.id).attempts == 1


def test_low_confidence_values_are_listed_until_corrected(seller, shared_data):
    principal, business_id = seller
    doc = _upload(principal, business_id, (shared_data / CHERRY).read_bytes())
    parse_document(doc.id)
    with unit_of_work() as session:  # what H1's parser adds to ParsedCoa; read defensively
        row = session.get(CoaDocument, doc.id)
        row.parsed = {**row.parsed, "confidence": {"total_thc_pct": 0.4, "lab_name": 0.99},
                      "evidence": {"total_thc_pct": {"page": 2, "text": "Total THC 19.25 %"}}}
    doc = _call(service.get_document, principal, doc.id)
    assert service.low_confidence(doc) == {"total_thc_pct": {"confidence": 0.4, "page": 2, "text": "Total THC 19.25 %"}}
    doc = _call(service.correct, principal, doc.id, field="total_thc_pct", value="19.3", reason="page 2 prints 19.3")
    assert service.low_confidence(doc) == {}
