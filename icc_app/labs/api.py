"""REST API of COA intake: upload, read, download the original, correct by hand, re-parse."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel

from icc_app.core.db import unit_of_work
from icc_app.core.errors import PayloadTooLarge, error_responses
from icc_app.core.openapi import DOCUMENT
from icc_app.core.validation import Offset, Percent, SafeText
from icc_app.identity.api_auth import client_ip, requires
from icc_app.identity.schemas import Principal
from icc_app.labs import service
from icc_app.labs.models import CORRECTABLE_FIELDS, CoaDocument, CoaStatus
from icc_app.settings import get_settings

router = APIRouter(prefix="/coas", tags=["coa intake"])
READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)


class AnalyteOut(BaseModel):
    key: str
    name: str
    category: str
    pct: float | None
    mg_g: float | None
    flag: str | None


class CorrectionOut(BaseModel):
    field: str
    old_value: str | None
    new_value: str | None
    reason: str
    corrected_by: uuid.UUID | None
    created_at: datetime


class CoaOut(BaseModel):
    id: uuid.UUID
    business_id: uuid.UUID
    lot_id: uuid.UUID | None
    filename: str
    sha256: str
    size_bytes: int
    status: str
    status_reason: str | None
    parser: str | None
    pages: int | None
    parse_ms: int | None
    created_at: datetime
    parsed_at: datetime | None
    claimed_total_thc_pct: float | None
    flags: list[dict]
    values: dict  # effective values: the parse with hand corrections applied
    original: dict | None  # the parser's output, never changed


class CoaDetail(CoaOut):
    analytes: list[AnalyteOut]
    corrections: list[CorrectionOut]


class CorrectionIn(BaseModel):
    field: Literal[*CORRECTABLE_FIELDS]  # type: ignore[valid-type]
    value: SafeText(200) | None
    reason: SafeText(500, min_length=1)


def _values(doc: CoaDocument) -> dict:
    out = {}
    for field in CORRECTABLE_FIELDS:
        value = getattr(doc, field)
        out[field] = value.isoformat() if isinstance(value, date) else value
    return out


def to_out(doc: CoaDocument) -> CoaOut:
    return CoaOut(id=doc.id, business_id=doc.business_id, lot_id=doc.lot_id, filename=doc.filename, sha256=doc.sha256,
                  size_bytes=doc.size_bytes, status=CoaStatus(doc.status).value, status_reason=doc.status_reason, parser=doc.parser,
                  pages=doc.pages, parse_ms=doc.parse_ms, created_at=doc.created_at, parsed_at=doc.parsed_at,
                  claimed_total_thc_pct=doc.claimed_total_thc_pct, flags=doc.flags or [], values=_values(doc),
                  original=doc.parsed)


def _detail(session, principal: Principal, document_id: uuid.UUID) -> CoaDetail:
    doc = service.get_document(session, principal, document_id)
    return CoaDetail(
        **to_out(doc).model_dump(),
        analytes=[AnalyteOut(key=a.key, name=a.name, category=a.category, pct=a.pct, mg_g=a.mg_g, flag=a.flag)
                  for a in service.analytes(session, principal, document_id)],
        corrections=[CorrectionOut(field=c.field, old_value=c.old_value, new_value=c.new_value, reason=c.reason,
                                   corrected_by=c.corrected_by, created_at=c.created_at)
                     for c in service.corrections(session, principal, document_id)],
    )


@router.post("", response_model=CoaOut, status_code=202, responses=error_responses(400, 401, 403, 404, 413, 422, 429))
async def upload(
    request: Request,
    business_id: uuid.UUID = Form(...),
    file: UploadFile = File(..., description="The COA PDF (kept whatever it is; parse status says what was read)"),
    # Optional form fields are typed without None: a multipart form cannot carry a null, only leave the field out.
    lot_id: uuid.UUID = Form(None, description="a lot of this business (404 otherwise)"),
    claimed_total_thc_pct: Percent = Form(None),
    principal: Principal = Depends(requires("coa:write")),
) -> CoaOut:
    """Upload a COA; it is parsed in the background. Poll GET /coas/{id} until `status` is not queued/parsing."""
    limit_mb = get_settings().max_upload_mb
    data = await file.read(limit_mb * 1024 * 1024 + 1)
    if len(data) > limit_mb * 1024 * 1024:
        raise PayloadTooLarge(f"The file is too large: COA uploads are limited to {limit_mb} MB.", field="file")
    filename = file.filename or "coa.pdf"  # any bytes a client sends: service.display_filename cleans it
    with unit_of_work() as session:
        doc = service.upload_coa(session, principal, business_id=business_id, data=data, filename=filename,
                                 lot_id=lot_id, claimed_total_thc_pct=claimed_total_thc_pct, ip=client_ip(request))
        return to_out(doc)


@router.get("", response_model=list[CoaOut], responses=READ_ERRORS)
def list_coas(business_id: uuid.UUID, limit: int = Query(50, ge=1, le=200), offset: Offset = 0,
              principal: Principal = Depends(requires("coa:read"))) -> list[CoaOut]:
    with unit_of_work() as session:
        return [to_out(d) for d in service.list_documents(session, principal, business_id, limit=limit, offset=offset)]


@router.get("/{document_id}", response_model=CoaDetail, responses=READ_ERRORS)
def get_coa(document_id: uuid.UUID, principal: Principal = Depends(requires("coa:read"))) -> CoaDetail:
    with unit_of_work() as session:
        return _detail(session, principal, document_id)


@router.get("/{document_id}/file", response_class=Response, responses={200: DOCUMENT, **READ_ERRORS})
def get_file(document_id: uuid.UUID, principal: Principal = Depends(requires("coa:read"))) -> Response:
    """The original file, as uploaded."""
    with unit_of_work() as session:
        data, filename = service.read_file(session, principal, document_id)
    media = "application/pdf" if data[:1024].find(b"%PDF-") >= 0 else "application/octet-stream"
    return Response(data, media_type=media, headers={"Content-Disposition": service.content_disposition(filename),
                                                     "X-Content-Type-Options": "nosniff",
                                                     "Cache-Control": "private, max-age=300"})


@router.post("/{document_id}/corrections", response_model=CoaDetail, responses=WRITE_ERRORS)
def correct(document_id: uuid.UUID, body: CorrectionIn, request: Request,
            principal: Principal = Depends(requires("coa:write"))) -> CoaDetail:
    """Set one value by hand (the original parse is kept; the correction is audited)."""
    with unit_of_work() as session:
        service.correct(session, principal, document_id, field=body.field, value=body.value, reason=body.reason,
                        ip=client_ip(request))
        return _detail(session, principal, document_id)


@router.post("/{document_id}/reparse", response_model=CoaOut, status_code=202, responses=WRITE_ERRORS)
def reparse(document_id: uuid.UUID, request: Request, principal: Principal = Depends(requires("coa:write"))) -> CoaOut:
    with unit_of_work() as session:
        return to_out(service.reparse(session, principal, document_id, ip=client_ip(request)))
