"""COA intake use cases: upload, parse (run by the `labs.parse_coa` task), hand corrections, reads.

Every read and write goes through a Principal and is scoped to the businesses it belongs to; another
tenant's document is "not found". Every state change is audited.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, date, datetime

from sqlmodel import Session, col, delete, select

from icc_app.core import audit, notifications
from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.errors import Conflict, NotFound, ValidationFailed
from icc_app.core.storage import get_storage
from icc_app.identity.models import Product, User
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import Principal
from icc_app.labs.checks import check_document
from icc_app.labs.models import (
    CORRECTABLE_FIELDS,
    DATE_FIELDS,
    TRANSITIONS,
    NUMBER_FIELDS,
    STATUS_FIELDS,
    CoaCorrection,
    CoaDocument,
    CoaStatus,
    LabAnalyte,
)
from icc_app.labs.parse import parse_coa_bytes
from icc_app.labs.schemas import ParsedCoa

log = logging.getLogger(__name__)
PARSE_TASK = "labs.parse_coa"
PRODUCT_TYPES = ("flower", "concentrate", "vape", "edible", "pre-roll", "other")
NUMBER_RANGES = {"water_activity_aw": (0.0, 1.0), "moisture_pct": (0.0, 100.0)}


def _now() -> datetime:
    return datetime.now(UTC)


def transition(doc: CoaDocument, new: CoaStatus, reason: str | None = None) -> None:
    """The only place a COA's status changes; refuses moves the lifecycle does not allow."""
    current = CoaStatus(doc.status)
    if new not in TRANSITIONS[current]:
        raise Conflict(f"A COA that is {current.value} cannot become {new.value}.")
    doc.status, doc.status_reason = new, (reason[:500] if reason else None)


# ---------------------------------------------------------------- upload


def upload_coa(
    principal: Principal,
    *,
    business_id: uuid.UUID,
    data: bytes,
    filename: str,
    lot_id: uuid.UUID | None = None,
    claimed_total_thc_pct: float | None = None,
    ip: str | None = None,
) -> CoaDocument:
    """Store the file under coas/ (kept whatever it is) and queue its parse. Returns the queued document."""
    require_member(principal, business_id, product=Product.exchange)
    if claimed_total_thc_pct is not None and not (0 <= claimed_total_thc_pct <= 100):
        raise ValidationFailed("Claimed total THC must be a percentage between 0 and 100.", field="claimed_total_thc_pct")
    name = (filename or "coa.pdf").replace("\\", "/").rsplit("/", 1)[-1][:255] or "coa.pdf"
    stored = get_storage().save("coas", data, filename=name)
    with unit_of_work() as session:
        doc = CoaDocument(
            business_id=business_id,
            uploaded_by=principal.user_id,
            lot_id=lot_id,
            filename=name,
            storage_key=stored.key,
            sha256=stored.sha256,
            size_bytes=stored.size,
            claimed_total_thc_pct=claimed_total_thc_pct,
        )
        session.add(doc)
        session.flush()
        audit.record(session, action="coa.uploaded", object_type="coa_document", object_id=doc.id,
                     actor_id=principal.user_id, business_id=business_id, ip=ip,
                     after={"filename": name, "sha256": stored.sha256, "size": stored.size, "lot_id": lot_id})
        enqueue(session, PARSE_TASK, str(doc.id))
        doc_id = doc.id
    return get_document(principal, doc_id)


# ---------------------------------------------------------------- parse (the task's body)


def parse_document(document_id: uuid.UUID, *, force: bool = False) -> str:
    """Parse one stored COA. Idempotent: a document already parsed is left alone unless `force`.

    Never raises on bad input: an unreadable file ends as "rejected" or "needs review" with its reason.
    """
    with unit_of_work() as session:
        doc = _locked(session, document_id)
        if doc is None:
            return "missing"
        if CoaStatus(doc.status).finished and doc.parsed is not None and not force:
            return "unchanged"
        transition(doc, CoaStatus.parsing)
        doc.attempts += 1
        key, filename = doc.storage_key, doc.filename
    started = time.perf_counter()
    try:
        parsed = parse_coa_bytes(get_storage().read(key), filename=filename)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the document or crash the worker
        log.exception("COA parse failed for %s", document_id)
        parsed = ParsedCoa(file=filename, status=CoaStatus.failed.value,
                           reason=f"the parser failed ({type(exc).__name__}); the file is kept, try again or enter values by hand")
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    with unit_of_work() as session:
        doc = _locked(session, document_id)
        if doc is None:
            return "missing"
        before = {"status": CoaStatus(doc.status).value}
        _apply_parse(session, doc, parsed, elapsed_ms)
        doc.flags = [f.as_dict() for f in check_document(session, doc)]
        audit.record(session, action="coa.parsed", object_type="coa_document", object_id=doc.id,
                     business_id=doc.business_id, before=before,
                     after={"status": CoaStatus(doc.status).value, "reason": doc.status_reason, "parser": doc.parser,
                            "flags": [f["code"] for f in doc.flags]})
        _notify_uploader(session, doc)
        if doc.lot_id is not None:  # the exchange copies the lab values onto the lot
            enqueue(session, "exchange.sync_lot_coa", str(doc.lot_id))
        return CoaStatus(doc.status).value


def _locked(session: Session, document_id: uuid.UUID) -> CoaDocument | None:
    query = select(CoaDocument).where(CoaDocument.id == document_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.exec(query).first()


def _apply_parse(session: Session, doc: CoaDocument, parsed: ParsedCoa, elapsed_ms: int) -> None:
    doc.parsed = parsed.model_dump(mode="json")
    end = CoaStatus(parsed.status) if parsed.status in CoaStatus._value2member_map_ else CoaStatus.needs_review
    transition(doc, end, parsed.reason)
    doc.parser, doc.pages, doc.parse_ms, doc.parsed_at = parsed.parser, parsed.pages, elapsed_ms, _now()
    doc.engine = parsed.engine
    for field in CORRECTABLE_FIELDS:
        setattr(doc, field, _column_value(field, getattr(parsed, field, None)))
    for correction in session.exec(select(CoaCorrection).where(CoaCorrection.document_id == doc.id)
                                   .order_by(col(CoaCorrection.id))).all():
        setattr(doc, correction.field, _coerce(correction.field, correction.new_value))  # hand values win
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


def _notify_uploader(session: Session, doc: CoaDocument) -> None:
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
    notifications.notify(session, user_id=user.id, email=None, kind="labs.coa_parsed", title=title,
                         body=doc.status_reason or "", link=f"/coas/{doc.id}")


def mark_failed(document_id: uuid.UUID, reason: str) -> None:
    """Used by the task when something outside the parser broke (storage down...): keep the file, say why."""
    with unit_of_work() as session:
        doc = _locked(session, document_id)
        if doc is None or CoaStatus(doc.status).finished:
            return
        transition(doc, CoaStatus.failed, reason)
        audit.record(session, action="coa.parse_failed", object_type="coa_document", object_id=doc.id,
                     business_id=doc.business_id, after={"reason": doc.status_reason})


def reparse(principal: Principal, document_id: uuid.UUID, *, ip: str | None = None) -> CoaDocument:
    with unit_of_work() as session:
        doc = _visible(session, principal, document_id, write=True)
        transition(doc, CoaStatus.queued)  # refused while a parse is under way
        audit.record(session, action="coa.reparse_requested", object_type="coa_document", object_id=doc.id,
                     actor_id=principal.user_id, business_id=doc.business_id, ip=ip)
        enqueue(session, PARSE_TASK, str(doc.id), force=True)
    return get_document(principal, document_id)


# ---------------------------------------------------------------- corrections


def _coerce(field: str, raw: str | None):
    """Typed value of a hand-entered string; ValidationFailed names the field when it is not acceptable."""
    text = (raw or "").strip()
    if text == "":
        return None
    if field in NUMBER_FIELDS:
        upper = text.upper()
        if upper in ("ND", "<LOQ", "<LOD"):
            return 0.0
        try:
            value = float(text.rstrip("%").strip())
        except ValueError:
            raise ValidationFailed("Enter a number (e.g. 23.5), ND, or leave it empty.", field=field) from None
        low, high = NUMBER_RANGES.get(field, (0.0, 100.0))
        if not (low <= value <= high):
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
    if len(text) > 200:
        raise ValidationFailed("At most 200 characters.", field=field)
    return text.upper() if field == "lab_state" else text


def correct(
    principal: Principal, document_id: uuid.UUID, *, field: str, value: str | None, reason: str, ip: str | None = None
) -> CoaDocument:
    """Set one value by hand. The original parse is kept; the correction and the audit row say who and why."""
    if field not in CORRECTABLE_FIELDS:
        raise ValidationFailed(f"{field} cannot be corrected.", field="field")
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationFailed("Say why the value is corrected (what the PDF prints).", field="reason")
    new_value = _coerce(field, value)
    with unit_of_work() as session:
        doc = _visible(session, principal, document_id, write=True)
        if not CoaStatus(doc.status).finished:
            raise ValidationFailed("The COA is still being parsed; correct it when the parse has finished.")
        old_value = getattr(doc, field)
        if old_value == new_value:
            raise ValidationFailed("That is already the value.", field=field)
        session.add(CoaCorrection(document_id=doc.id, field=field, old_value=_text(old_value),
                                  new_value=_text(new_value), reason=reason[:500], corrected_by=principal.user_id))
        setattr(doc, field, new_value)
        doc.flags = [f.as_dict() for f in check_document(session, doc)]
        audit.record(session, action="coa.corrected", object_type="coa_document", object_id=doc.id,
                     actor_id=principal.user_id, business_id=doc.business_id, ip=ip,
                     before={field: old_value}, after={field: new_value, "reason": reason[:500]})
    return get_document(principal, document_id)


def _text(value) -> str | None:
    return None if value is None else str(value)


# ---------------------------------------------------------------- reads


def _visible(session: Session, principal: Principal, document_id: uuid.UUID, *, write: bool = False) -> CoaDocument:
    doc = session.get(CoaDocument, document_id)
    if doc is None:
        raise NotFound("COA not found.")
    if principal.is_platform_admin and not write:
        return doc
    require_member(principal, doc.business_id, product=Product.exchange)  # NotFound for other tenants
    return doc


def get_document(principal: Principal, document_id: uuid.UUID) -> CoaDocument:
    with unit_of_work() as session:
        return _visible(session, principal, document_id)


def list_documents(principal: Principal, business_id: uuid.UUID, *, limit: int = 50, offset: int = 0) -> list[CoaDocument]:
    require_member(principal, business_id, product=Product.exchange)
    with unit_of_work() as session:
        query = (select(CoaDocument).where(CoaDocument.business_id == business_id)
                 .order_by(col(CoaDocument.created_at).desc()).limit(limit).offset(offset))
        return list(session.exec(query).all())


def analytes(principal: Principal, document_id: uuid.UUID) -> list[LabAnalyte]:
    with unit_of_work() as session:
        _visible(session, principal, document_id)
        query = select(LabAnalyte).where(LabAnalyte.document_id == document_id).order_by(
            col(LabAnalyte.category), col(LabAnalyte.pct).desc().nulls_last())
        return list(session.exec(query).all())


def corrections(principal: Principal, document_id: uuid.UUID) -> list[CoaCorrection]:
    with unit_of_work() as session:
        _visible(session, principal, document_id)
        query = select(CoaCorrection).where(CoaCorrection.document_id == document_id).order_by(col(CoaCorrection.id))
        return list(session.exec(query).all())


def read_file(principal: Principal, document_id: uuid.UUID) -> tuple[bytes, str]:
    doc = get_document(principal, document_id)
    return get_storage().read(doc.storage_key), doc.filename
