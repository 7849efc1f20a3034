"""COA intake use cases: upload, the two halves of a parse (run by the `labs.parse_coa` task), hand
corrections, reads, the sweep of stuck parses and the listing gate.

Every function takes the caller's Session first and never commits: the caller owns the unit of work. Every
read and write goes through a Principal and is scoped to the businesses it belongs to; another tenant's
document is "not found". Every status change goes through one verb function that writes a CoaEvent row and
is audited.

A parse is an attempt named by the id of the task that runs it. A task delivered again after its worker was
killed resumes its own attempt (parsing -> parsing, same attempt id); a task of another attempt finds the
document busy and leaves it alone. An attempt resumed MAX_PARSE_RUNS times is failed and the owner told.
"""

from __future__ import annotations

import logging
import time
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from sqlmodel import Session, col, delete, select

from icc_app.core import audit, notifications
from icc_app.core.db import enqueue
from icc_app.core.errors import Conflict, NotFound, ValidationFailed
from icc_app.core.security import RateLimiter
from icc_app.core.storage import get_storage
from icc_app.core.validation import safe_text
from icc_app.identity.models import Product, User
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import Principal
from icc_app.labs.checks import check_document
from icc_app.labs.models import (
    CORRECTABLE_FIELDS,
    DATE_FIELDS,
    MAX_PARSE_RUNS,
    NUMBER_FIELDS,
    REQUIRED_FOR_LISTING,
    STATUS_FIELDS,
    TRANSITIONS,
    CoaCorrection,
    CoaDocument,
    CoaEvent,
    CoaStatus,
    LabAnalyte,
)
from icc_app.labs.parse import parse_coa_bytes
from icc_app.labs.pdf_guard import check_pdf
from icc_app.labs.schemas import ParsedCoa

log = logging.getLogger(__name__)
PARSE_TASK = "labs.parse_coa"
PRODUCT_TYPES = ("flower", "concentrate", "vape", "edible", "pre-roll", "other")
NUMBER_RANGES = {"water_activity_aw": (0.0, 1.0), "moisture_pct": (0.0, 100.0)}
UPLOAD_LIMIT = RateLimiter(name="coa_upload", limit=60, window_seconds=3600)  # per business
# Below it the viewer asks a person to check the value against the PDF. The parser's calibrated scores on the 65
# real COAs: at 0.7 a report shows 5 such values on average (0.8 would flag 11, most of them right).
CONFIDENCE_THRESHOLD = 0.7


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- transitions (one function per verb)


def _move(session: Session, doc: CoaDocument, verb: str, new: CoaStatus, *, allowed_from: set[CoaStatus],
          actor_id: uuid.UUID | None = None, reason: str | None = None, attempt_id: str | None = None) -> None:
    """Check the verb may move the document from its current state, change it, and write the event row."""
    current = CoaStatus(doc.status)
    if current not in allowed_from or new not in TRANSITIONS[current]:
        raise Conflict(f"A COA that is {current.value} cannot become {new.value}.")
    doc.status, doc.status_reason = new, (reason[:500] if reason else None)
    session.add(doc)
    session.add(CoaEvent(document_id=doc.id, actor_id=actor_id, verb=verb, from_status=current.value,
                         to_status=new.value, reason=doc.status_reason, attempt_id=attempt_id))


def start_parsing(session: Session, doc: CoaDocument, *, attempt_id: str) -> None:
    """queued (or an end state, for a forced re-parse) -> parsing, as a new attempt."""
    _move(session, doc, "start", CoaStatus.parsing, attempt_id=attempt_id,
          allowed_from={s for s in CoaStatus if s != CoaStatus.parsing})
    doc.attempts += 1
    doc.parse_attempt_id, doc.parse_runs, doc.parse_started_at = attempt_id, 1, _now()


def resume_parsing(session: Session, doc: CoaDocument, *, attempt_id: str) -> None:
    """parsing -> parsing for the attempt that was interrupted (its worker died); any other attempt is refused."""
    if doc.parse_attempt_id != attempt_id:
        raise Conflict("This COA is being parsed by another attempt.")
    _move(session, doc, "resume", CoaStatus.parsing, allowed_from={CoaStatus.parsing}, attempt_id=attempt_id,
          reason=f"resumed after an interrupted run ({doc.parse_runs} so far)")
    doc.parse_runs += 1
    doc.parse_started_at = _now()


def finish_parsing(session: Session, doc: CoaDocument, end: CoaStatus, *, reason: str | None) -> None:
    """parsing -> parsed | needs review | rejected | failed."""
    _move(session, doc, "finish", end, allowed_from={CoaStatus.parsing}, reason=reason,
          attempt_id=doc.parse_attempt_id)


def fail(session: Session, doc: CoaDocument, *, reason: str) -> None:
    """queued | parsing -> failed: something outside the parser broke (storage down, worker lost, time limit)."""
    _move(session, doc, "fail", CoaStatus.failed, allowed_from={CoaStatus.queued, CoaStatus.parsing},
          reason=reason, attempt_id=doc.parse_attempt_id)


def queue_again(session: Session, doc: CoaDocument, *, actor_id: uuid.UUID | None) -> None:
    """An end state -> queued (a re-parse asked for by a person); refused while a parse is under way."""
    _move(session, doc, "requeue", CoaStatus.queued, actor_id=actor_id,
          allowed_from={CoaStatus.parsed, CoaStatus.needs_review, CoaStatus.rejected, CoaStatus.failed})


def complete_review(session: Session, doc: CoaDocument, *, actor_id: uuid.UUID | None) -> None:
    """needs review -> parsed, once a person entered every value that could not be read."""
    _move(session, doc, "complete_review", CoaStatus.parsed, actor_id=actor_id, allowed_from={CoaStatus.needs_review},
          reason="completed by hand: the values that could not be read were entered by the seller")


# ---------------------------------------------------------------- upload


def _own_lot(session: Session, business_id: uuid.UUID, lot_id: uuid.UUID) -> None:
    from icc_app.exchange.models import Lot

    lot = session.get(Lot, lot_id)
    if lot is None or lot.business_id != business_id:  # another business's lot is not found either
        raise NotFound("Lot not found.", field="lot_id")


FILENAME_MAX = 255  # CoaDocument.filename


def display_filename(filename: str | None, *, limit: int = FILENAME_MAX, default: str = "coa.pdf") -> str:
    """The name a COA is shown under. A browser or client may send any bytes as a file name (a path, a NUL,
    newlines, a 10,000-character name): the upload is kept, and its name is cleaned rather than refused: the last
    path part, control and format characters dropped, spaces collapsed, and cut to the column with the extension
    kept (so "...report.pdf" still reads as a PDF)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join((" " if c.isspace() else "") if unicodedata.category(c)[0] == "C" else c for c in name)
    name = " ".join(name.split()).strip(". ")
    if not name:
        return default
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        return name[:limit].rstrip()
    return stem[:limit - len(extension) - 1].rstrip() + "." + extension


def content_disposition(filename: str, *, default: str = "coa.pdf") -> str:
    """An `inline` Content-Disposition for a stored name in any script: an ASCII fallback plus the UTF-8 name
    (RFC 6266), since HTTP headers are Latin-1 and a quote or a non-Latin name would break or fail the header."""
    name = display_filename(filename, default=default)
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._- ()") else "_" for c in name)
    return f'inline; filename="{fallback}"; filename*=UTF-8\'\'{quote(name, safe="")}'


def upload_coa(
    session: Session,
    principal: Principal,
    *,
    business_id: uuid.UUID,
    data: bytes,
    filename: str,
    lot_id: uuid.UUID | None = None,
    claimed_total_thc_pct: float | None = None,
    ip: str | None = None,
) -> CoaDocument:
    """Store the file under coas/ (kept whatever it is) and queue its parse after the caller's commit."""
    require_member(principal, business_id, product=Product.exchange)
    if claimed_total_thc_pct is not None and not (0 <= claimed_total_thc_pct <= 100):
        raise ValidationFailed("Claimed total THC must be a percentage between 0 and 100.", field="claimed_total_thc_pct")
    if lot_id is not None:
        _own_lot(session, business_id, lot_id)
    UPLOAD_LIMIT.hit(str(business_id))
    name = display_filename(filename)
    stored = get_storage().save("coas", data, filename=name)
    doc = CoaDocument(business_id=business_id, uploaded_by=principal.user_id, lot_id=lot_id, filename=name,
                      storage_key=stored.key, sha256=stored.sha256, size_bytes=stored.size,
                      claimed_total_thc_pct=claimed_total_thc_pct)
    session.add(doc)
    session.flush()
    session.add(CoaEvent(document_id=doc.id, actor_id=principal.user_id, verb="upload", from_status="",
                         to_status=CoaStatus.queued.value))
    audit.record(session, action="coa.uploaded", object_type="coa_document", object_id=doc.id,
                 actor_id=principal.user_id, business_id=business_id, ip=ip,
                 after={"filename": name, "sha256": stored.sha256, "size": stored.size, "lot_id": lot_id})
    enqueue(session, PARSE_TASK, str(doc.id))
    return doc


# ---------------------------------------------------------------- parse (the two halves of the task's body)


@dataclass(frozen=True)
class ParseJob:
    """What the worker must read, outside any transaction."""

    document_id: uuid.UUID
    storage_key: str
    filename: str


def begin_parse(session: Session, document_id: uuid.UUID, *, attempt_id: str,
                force: bool = False) -> ParseJob | str:
    """Start (or resume) the attempt; a ParseJob to run, or a word saying why there is nothing to do."""
    doc = _locked(session, document_id)
    if doc is None:
        return "missing"
    status = CoaStatus(doc.status)
    if status == CoaStatus.parsing:
        if doc.parse_attempt_id != attempt_id:
            log.info("COA %s is being parsed by attempt %s; attempt %s leaves it", doc.id, doc.parse_attempt_id,
                     attempt_id)
            return "busy"
        if doc.parse_runs >= MAX_PARSE_RUNS:
            give_up(session, doc, reason=f"parsing stopped {doc.parse_runs} times before it finished (the worker "
                                         "was lost each time); the file is kept, re-parse it or enter values by hand")
            return CoaStatus.failed.value
        resume_parsing(session, doc, attempt_id=attempt_id)
    elif doc.parse_attempt_id == attempt_id or (status.finished and doc.parsed is not None and not force):
        return "unchanged"  # this attempt already ended (a duplicate delivery), or nothing asked for a re-parse
    else:
        start_parsing(session, doc, attempt_id=attempt_id)
    return ParseJob(doc.id, doc.storage_key, doc.filename)


def run_parser(job: ParseJob) -> tuple[ParsedCoa, int]:
    """Read the stored file and parse it, outside any transaction: (result, milliseconds). The guard refuses
    decompression bombs and page floods before the parser sees them. Never raises on bad input."""
    data = get_storage().read(job.storage_key)
    started = time.perf_counter()
    verdict = check_pdf(data)
    if not verdict.ok:
        parsed = ParsedCoa(file=job.filename, status=CoaStatus.rejected.value, reason=verdict.reason,
                           flags=[f"rejected: {verdict.reason}"])
    else:
        try:
            parsed = parse_coa_bytes(data, filename=job.filename)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the document or crash the worker
            log.exception("COA parse failed for %s", job.document_id)
            parsed = ParsedCoa(file=job.filename, status=CoaStatus.failed.value,
                               reason=f"the parser failed ({type(exc).__name__}); the file is kept, try again or "
                                      "enter values by hand")
    return parsed, int((time.perf_counter() - started) * 1000)


def end_parse(session: Session, document_id: uuid.UUID, *, attempt_id: str, parsed: ParsedCoa,
              elapsed_ms: int) -> str:
    """Store the result of this attempt; a result of an attempt that lost the document is dropped."""
    doc = _locked(session, document_id)
    if doc is None:
        return "missing"
    if doc.status != CoaStatus.parsing or doc.parse_attempt_id != attempt_id:
        return "superseded"
    before = {"status": CoaStatus(doc.status).value}
    _apply_parse(session, doc, parsed, elapsed_ms)
    doc.flags = [f.as_dict() for f in check_document(session, doc)]
    audit.record(session, action="coa.parsed", object_type="coa_document", object_id=doc.id,
                 business_id=doc.business_id, before=before,
                 after={"status": CoaStatus(doc.status).value, "reason": doc.status_reason, "parser": doc.parser,
                        "flags": [f["code"] for f in doc.flags], "attempt": attempt_id})
    _notify_owner(session, doc, email=doc.status == CoaStatus.failed)  # a failed parse is also emailed
    if doc.lot_id is not None:  # the exchange copies the lab values onto the lot
        enqueue(session, "exchange.sync_lot_coa", str(doc.lot_id))
    return CoaStatus(doc.status).value


def _locked(session: Session, document_id: uuid.UUID) -> CoaDocument | None:
    query = select(CoaDocument).where(CoaDocument.id == document_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.exec(query).first()


def missing_for_listing(doc: CoaDocument) -> list[str]:
    """What a listing needs from the COA that it does not have (read or entered by hand)."""
    return [label for label, fields in REQUIRED_FOR_LISTING.items()
            if all(getattr(doc, f) is None for f in fields)]


def _apply_parse(session: Session, doc: CoaDocument, parsed: ParsedCoa, elapsed_ms: int) -> None:
    doc.parsed = parsed.model_dump(mode="json")
    doc.parser, doc.pages, doc.parse_ms, doc.parsed_at = parsed.parser, parsed.pages, elapsed_ms, _now()
    doc.engine = parsed.engine
    for field in CORRECTABLE_FIELDS:
        setattr(doc, field, _column_value(field, getattr(parsed, field, None)))
    for correction in session.exec(select(CoaCorrection).where(CoaCorrection.document_id == doc.id)
                                   .order_by(col(CoaCorrection.id))).all():
        setattr(doc, correction.field, _coerce(correction.field, correction.new_value))  # hand values win
    end = CoaStatus(parsed.status) if parsed.status in CoaStatus._value2member_map_ else CoaStatus.needs_review
    reason = parsed.reason
    missing = missing_for_listing(doc)
    if end == CoaStatus.parsed and missing:
        end = CoaStatus.needs_review
        reason = (f"The {' and the '.join(missing)} could not be read from the PDF. Check the original and enter "
                  "them by hand; the lot cannot be listed until then.")
    finish_parsing(session, doc, end, reason=reason)
    session.exec(delete(LabAnalyte).where(col(LabAnalyte.document_id) == doc.id))
    for analyte in parsed.cannabinoids + parsed.terpenes:
        session.add(LabAnalyte(document_id=doc.id, key=analyte.key or analyte.name.lower()[:40], name=analyte.name[:120],
                               category=analyte.category, pct=analyte.pct, mg_g=analyte.mg_g, flag=analyte.flag))
    session.flush()


def _column_value(field: str, value):
    if value is None:
        return None
    if field == "metrc_tag":
        return str(value)[:24]
    if field in DATE_FIELDS and isinstance(value, str):
        return date.fromisoformat(value)
    if isinstance(value, str):
        return value[:300]
    return value


def _notify_owner(session: Session, doc: CoaDocument, *, email: bool = False) -> None:
    """Tell the uploader (in-app; by email too when the parse finally failed)."""
    if doc.uploaded_by is None:
        return
    user = session.get(User, doc.uploaded_by)
    if user is None:
        return
    critical = [f for f in doc.flags if f["severity"] == "critical"]
    title = {
        CoaStatus.parsed: f"COA parsed: {doc.filename}" + (f" ({len(critical)} critical flag(s))" if critical else ""),
        CoaStatus.needs_review: f"COA needs review: {doc.filename}",
        CoaStatus.rejected: f"COA rejected: {doc.filename}",
        CoaStatus.failed: f"COA could not be parsed: {doc.filename}",
    }.get(doc.status, f"COA {CoaStatus(doc.status).value}: {doc.filename}")
    link = f"/coas/{doc.id}"
    notifications.notify(session, user_id=user.id, email=user.email if email else None, kind="labs.coa_parsed",
                         title=title[:200], body=doc.status_reason or "", link=link,
                         template="coa_parse_failed" if email else None,
                         context={"name": user.display_name, "filename": doc.filename,
                                  "reason": doc.status_reason or "", "link": link})


def give_up(session: Session, doc: CoaDocument, *, reason: str) -> None:
    """The parse finally failed (time limit, storage down, worker lost again and again): keep the file, say why,
    tell the owner in the app and by email."""
    fail(session, doc, reason=reason)
    audit.record(session, action="coa.parse_failed", object_type="coa_document", object_id=doc.id,
                 business_id=doc.business_id, after={"reason": doc.status_reason, "attempt": doc.parse_attempt_id})
    _notify_owner(session, doc, email=True)


def mark_failed(session: Session, document_id: uuid.UUID, reason: str, *, attempt_id: str | None = None) -> bool:
    """Used by the task when something outside the parser broke; False when there was nothing to fail (already
    finished, or parsed by another attempt)."""
    doc = _locked(session, document_id)
    if doc is None or CoaStatus(doc.status).finished:
        return False
    if attempt_id is not None and doc.status == CoaStatus.parsing and doc.parse_attempt_id != attempt_id:
        return False
    give_up(session, doc, reason=reason)
    return True


@dataclass(frozen=True)
class StuckParse:
    document_id: uuid.UUID
    attempt_id: str | None  # re-send under this task id to resume the attempt; None: a new attempt


def sweep_stuck(session: Session, *, parsing_for: timedelta, queued_for: timedelta) -> list[StuckParse]:
    """Documents whose parse stalled: parsing past `parsing_for` (its worker died and the message is not back
    yet) or queued past `queued_for` (the send was lost). Fails those out of runs; returns the ones to re-send."""
    now = _now()
    stuck = session.exec(select(CoaDocument).where(
        CoaDocument.status == CoaStatus.parsing, col(CoaDocument.parse_started_at) < now - parsing_for)
        .with_for_update(skip_locked=True)).all()
    waiting = session.exec(select(CoaDocument).where(
        CoaDocument.status == CoaStatus.queued, col(CoaDocument.updated_at) < now - queued_for)).all()
    resend = []
    for doc in stuck:
        if doc.parse_runs >= MAX_PARSE_RUNS:
            give_up(session, doc, reason=f"parsing stopped {doc.parse_runs} times before it finished (the worker was "
                                         "lost each time); the file is kept, re-parse it or enter values by hand")
        else:
            resend.append(StuckParse(doc.id, doc.parse_attempt_id))
    resend += [StuckParse(doc.id, None) for doc in waiting]
    return resend


def reparse(session: Session, principal: Principal, document_id: uuid.UUID, *, ip: str | None = None) -> CoaDocument:
    doc = _visible(session, principal, document_id, write=True)
    queue_again(session, doc, actor_id=principal.user_id)  # refused while a parse is under way
    audit.record(session, action="coa.reparse_requested", object_type="coa_document", object_id=doc.id,
                 actor_id=principal.user_id, business_id=doc.business_id, ip=ip)
    enqueue(session, PARSE_TASK, str(doc.id))
    return doc


# ---------------------------------------------------------------- corrections


def _coerce(field: str, raw: str | None):
    """Typed value of a hand-entered string; ValidationFailed names the field when it is not acceptable."""
    text = (raw or "").strip()
    if text == "":
        return None
    if "\x00" in text:
        raise ValidationFailed("Remove the NUL character.", field=field)
    if field in NUMBER_FIELDS:
        upper = text.upper()
        if upper in ("ND", "<LOQ", "<LOD"):
            return 0.0
        try:
            value = float(text.rstrip("%").strip())
        except ValueError:
            raise ValidationFailed("Enter a number (e.g. 23.5), ND, or leave it empty.", field=field) from None
        low, high = NUMBER_RANGES.get(field, (0.0, 100.0))
        if not (low <= value <= high):  # also refuses nan and inf
            raise ValidationFailed(f"Must be between {low:g} and {high:g}.", field=field)
        return value
    if field in STATUS_FIELDS:
        if text.lower() not in ("pass", "fail"):
            raise ValidationFailed("Choose pass, fail, or leave it empty for not tested.", field=field)
        return text.lower()
    if field in DATE_FIELDS:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationFailed("Enter a date as YYYY-MM-DD.", field=field) from None
    if field == "product_type" and text not in PRODUCT_TYPES:
        raise ValidationFailed(f"Choose one of: {', '.join(PRODUCT_TYPES)}.", field=field)
    if field == "lab_state" and (len(text) != 2 or not text.isalpha()):
        raise ValidationFailed("Enter the two-letter state code.", field=field)
    if field == "metrc_tag" and (len(text) != 24 or not text.isalnum()):
        raise ValidationFailed("A Metrc package tag has 24 letters and digits.", field=field)
    limit = CoaDocument.__table__.c[field].type.length or 200  # the column's size (lab_license: 80)
    if len(text) > limit:
        raise ValidationFailed(f"At most {limit} characters.", field=field)
    return text.upper() if field == "lab_state" else text


def correct(
    session: Session, principal: Principal, document_id: uuid.UUID, *, field: str, value: str | None, reason: str,
    ip: str | None = None,
) -> CoaDocument:
    """Set one value by hand. The original parse is kept; the correction and the audit row say who and why. A
    COA in review becomes parsed once every value a listing needs is there."""
    if field not in CORRECTABLE_FIELDS:
        raise ValidationFailed(f"{field} cannot be corrected.", field="field")
    reason = safe_text(reason, "reason", max_length=500)
    if len(reason) < 3:
        raise ValidationFailed("Say why the value is corrected (what the PDF prints).", field="reason")
    new_value = _coerce(field, value)
    doc = _visible(session, principal, document_id, write=True)
    if not CoaStatus(doc.status).finished:
        raise ValidationFailed("The COA is still being parsed; correct it when the parse has finished.")
    old_value = getattr(doc, field)
    if old_value == new_value:
        raise ValidationFailed("That is already the value.", field=field)
    session.add(CoaCorrection(document_id=doc.id, field=field, old_value=_text(old_value),
                              new_value=_text(new_value), reason=reason, corrected_by=principal.user_id))
    setattr(doc, field, new_value)
    audit.record(session, action="coa.corrected", object_type="coa_document", object_id=doc.id,
                 actor_id=principal.user_id, business_id=doc.business_id, ip=ip,
                 before={field: old_value}, after={field: new_value, "reason": reason})
    if doc.status == CoaStatus.needs_review and doc.parsed is not None and not missing_for_listing(doc):
        complete_review(session, doc, actor_id=principal.user_id)
        audit.record(session, action="coa.review_completed", object_type="coa_document", object_id=doc.id,
                     actor_id=principal.user_id, business_id=doc.business_id, ip=ip,
                     before={"status": CoaStatus.needs_review.value}, after={"status": CoaStatus.parsed.value})
        if doc.lot_id is not None:
            enqueue(session, "exchange.sync_lot_coa", str(doc.lot_id))
    doc.flags = [f.as_dict() for f in check_document(session, doc)]
    session.add(doc)
    session.flush()
    return doc


def _text(value) -> str | None:
    return None if value is None else str(value)


# ---------------------------------------------------------------- listing gate


def coa_ready_for_listing(session: Session, coa_id: uuid.UUID) -> str | None:
    """None when the COA can back a listing; otherwise what is missing, in words for the seller."""
    doc = session.get(CoaDocument, coa_id)
    if doc is None:
        return "The COA was not found."
    status = CoaStatus(doc.status)
    missing = missing_for_listing(doc)
    if status == CoaStatus.needs_review and missing:
        return f"The COA needs review: enter the {' and the '.join(missing)} by hand from the PDF."
    if status != CoaStatus.parsed:
        return f"The COA is {status.value}; it can back a listing once it is parsed."
    if missing:
        return f"The COA has no {' and no '.join(missing)}."
    return None


# ---------------------------------------------------------------- reads


def _visible(session: Session, principal: Principal, document_id: uuid.UUID, *, write: bool = False) -> CoaDocument:
    doc = _locked(session, document_id) if write else session.get(CoaDocument, document_id)
    if doc is None:
        raise NotFound("COA not found.")
    if principal.is_platform_admin and not write:
        return doc
    require_member(principal, doc.business_id, product=Product.exchange)  # NotFound for other tenants
    return doc


def get_document(session: Session, principal: Principal, document_id: uuid.UUID) -> CoaDocument:
    return _visible(session, principal, document_id)


def list_documents(session: Session, principal: Principal, business_id: uuid.UUID, *, limit: int = 50,
                   offset: int = 0) -> list[CoaDocument]:
    require_member(principal, business_id, product=Product.exchange)
    query = (select(CoaDocument).where(CoaDocument.business_id == business_id)
             .order_by(col(CoaDocument.created_at).desc()).limit(limit).offset(offset))
    return list(session.exec(query).all())


def analytes(session: Session, principal: Principal, document_id: uuid.UUID) -> list[LabAnalyte]:
    _visible(session, principal, document_id)
    query = select(LabAnalyte).where(LabAnalyte.document_id == document_id).order_by(
        col(LabAnalyte.category), col(LabAnalyte.pct).desc().nulls_last())
    return list(session.exec(query).all())


def corrections(session: Session, principal: Principal, document_id: uuid.UUID) -> list[CoaCorrection]:
    _visible(session, principal, document_id)
    query = select(CoaCorrection).where(CoaCorrection.document_id == document_id).order_by(col(CoaCorrection.id))
    return list(session.exec(query).all())


def events(session: Session, principal: Principal, document_id: uuid.UUID) -> list[CoaEvent]:
    _visible(session, principal, document_id)
    return list(session.exec(select(CoaEvent).where(CoaEvent.document_id == document_id).order_by(col(CoaEvent.id))))


def read_file(session: Session, principal: Principal, document_id: uuid.UUID) -> tuple[bytes, str]:
    doc = get_document(session, principal, document_id)
    return get_storage().read(doc.storage_key), doc.filename


def low_confidence(doc: CoaDocument) -> dict[str, dict]:
    """Fields the parser was unsure of, {field: {"confidence", "page", "text"}}; empty when the parser gives none.
    A value a person corrected is no longer the parser's, so it is not listed."""
    parsed = doc.parsed or {}
    confidence = parsed.get("confidence") or {}
    evidence = parsed.get("evidence") or {}
    if not isinstance(confidence, dict):
        return {}
    unsure = {}
    for field, score in confidence.items():
        if not isinstance(score, (int, float)) or score >= CONFIDENCE_THRESHOLD or field not in CORRECTABLE_FIELDS:
            continue
        if getattr(doc, field) is None or getattr(doc, field) != _column_value(field, parsed.get(field)):
            continue  # not read at all (the viewer says so), or corrected by hand
        where = evidence.get(field) if isinstance(evidence, dict) else None
        where = where if isinstance(where, dict) else {}
        unsure[field] = {"confidence": float(score), "page": where.get("page"), "text": str(where.get("text") or "")}
    return unsure
