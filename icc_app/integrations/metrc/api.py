"""Metrc REST API (under /api/v1): compliance checks and alerts of a business's Metrc connections, and the CCX
workflows (list a Metrc package on CCX, an order's transfer, receiving package by package)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.errors import DomainError, ErrorBody, NotFound, ValidationFailed, error_responses
from icc_app.identity.api_auth import requires
from icc_app.identity.models import Product
from icc_app.identity.permissions import has_product
from icc_app.identity.schemas import Principal
from icc_app.integrations import service
from icc_app.integrations.base import IntegrationError
from icc_app.integrations.metrc import compliance, workflows
from icc_app.integrations.metrc.models import Alert, ComplianceCheck

router = APIRouter(tags=["metrc"])
READ, WRITE = requires("integrations:read"), requires("integrations:write")
METRC_502 = {502: {"model": ErrorBody, "description": "Metrc refused or did not answer (the reason is in the body)."}}


class MetrcFailed(DomainError):
    """Metrc refused the credentials, failed or did not answer: a 502 with the operator's sentence."""

    status_code = 502


@contextlib.contextmanager
def _metrc_errors():
    try:
        yield
    except IntegrationError as exc:
        raise MetrcFailed(exc.message) from exc


class AlertOut(BaseModel):
    id: uuid.UUID
    connection_id: uuid.UUID
    license_number: str
    kind: str
    kind_label: str
    severity: Literal["high", "medium", "low"]
    status: Literal["open", "resolved", "dismissed"]
    package_label: str
    title: str
    evidence: dict[str, Any]
    suggested_fix: str
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, a: Alert) -> AlertOut:
        from icc_app.integrations.metrc.models import AlertKind

        return cls(id=a.id, connection_id=a.connection_id, license_number=a.license_number, kind=str(a.kind),
                   kind_label=AlertKind(a.kind).label, severity=str(a.severity), status=str(a.status),
                   package_label=a.package_label, title=a.title, evidence=a.evidence or {},
                   suggested_fix=a.suggested_fix, first_seen_at=a.first_seen_at, last_seen_at=a.last_seen_at,
                   resolved_at=a.resolved_at)


class AlertEventOut(BaseModel):
    from_status: str
    to_status: str
    note: str
    actor_id: uuid.UUID | None
    created_at: datetime


class AlertDetail(AlertOut):
    history: list[AlertEventOut]


class AlertAction(BaseModel):
    note: str = Field("", max_length=500)


class CheckOut(BaseModel):
    id: uuid.UUID
    connection_id: uuid.UUID
    license_number: str
    trigger: str
    mode: str
    status: str
    calls: int
    calls_avoided: int
    packages: int
    discrepancies: int
    opened: int
    resolved: int
    error: str | None
    read_from: datetime | None
    read_until: datetime | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, c: ComplianceCheck) -> CheckOut:
        return cls(**{name: getattr(c, name) for name in cls.model_fields})


class QueuedOut(BaseModel):
    status: Literal["queued"]
    connection_id: uuid.UUID


def _business_for(principal: Principal, business_id: uuid.UUID | None) -> uuid.UUID:
    if business_id is not None:
        return business_id
    for membership in principal.memberships:
        if has_product(membership, Product.integrations):
            return membership.business_id
    raise ValidationFailed("Say which business: business_id.", field="business_id")


def _metrc_connection(session, principal: Principal, connection_id: uuid.UUID, *, manage: bool = False):
    connection = service.get(session, principal, connection_id, manage=manage)
    if connection.vendor != "metrc":
        raise NotFound("Not a Metrc connection.")
    return connection


@router.get("/integrations/metrc/alerts", response_model=list[AlertOut], responses=error_responses(400, 401, 403, 404, 422))
def list_alerts(business_id: uuid.UUID | None = None, status: Literal["open", "resolved", "dismissed"] | None = "open",
                connection_id: uuid.UUID | None = None, limit: int = Query(200, ge=1, le=500),
                principal: Principal = Depends(READ)) -> list[AlertOut]:
    """The business's compliance discrepancies, most severe first."""
    with unit_of_work(tenant=principal) as session:
        rows = compliance.list_alerts(session, principal=principal, business_id=_business_for(principal, business_id),
                                      status=status, connection_id=connection_id, limit=limit)
        return [AlertOut.of(a) for a in rows]


@router.get("/integrations/metrc/alerts/{alert_id}", response_model=AlertDetail, responses=error_responses(400, 401, 403, 404, 422))
def get_alert(alert_id: uuid.UUID, principal: Principal = Depends(READ)) -> AlertDetail:
    """One alert with its history (who opened, resolved, dismissed or reopened it, when and why)."""
    with unit_of_work(tenant=principal) as session:
        alert = compliance.get_alert(session, principal=principal, alert_id=alert_id)
        events = compliance.alert_history(session, principal=principal, alert_id=alert_id)
        return AlertDetail(**AlertOut.of(alert).model_dump(),
                           history=[AlertEventOut(from_status=e.from_status, to_status=e.to_status, note=e.note,
                                                  actor_id=e.actor_id, created_at=e.created_at) for e in events])


@router.post("/integrations/metrc/alerts/{alert_id}/{verb}", response_model=AlertOut,
             responses=error_responses(400, 401, 403, 404, 409, 422))
def act_on_alert(alert_id: uuid.UUID, verb: Literal["resolve", "dismiss", "reopen"], body: AlertAction | None = None,
                 principal: Principal = Depends(WRITE)) -> AlertOut:
    """Resolve (fixed), dismiss (not a problem) or reopen an alert (Admins and Managers); each is an event."""
    with unit_of_work(tenant=principal) as session:
        alert = compliance.act(session, principal=principal, alert_id=alert_id, verb=verb,
                               note=(body.note if body else ""))
        return AlertOut.of(alert)


@router.post("/integrations/metrc/connections/{connection_id}/compliance-check", response_model=QueuedOut,
             status_code=202, responses=error_responses(400, 401, 403, 404, 422))
def request_check(connection_id: uuid.UUID, full: bool = False, principal: Principal = Depends(WRITE)) -> QueuedOut:
    """Run a compliance check now (queued; its result appears under .../checks and the alerts)."""
    with unit_of_work(tenant=principal) as session:
        _metrc_connection(session, principal, connection_id, manage=True)
        enqueue(session, "metrc.compliance_check", str(connection_id), "full" if full else "manual")
    return QueuedOut(status="queued", connection_id=connection_id)


@router.get("/integrations/metrc/connections/{connection_id}/checks", response_model=list[CheckOut],
            responses=error_responses(400, 401, 403, 404, 422))
def list_checks(connection_id: uuid.UUID, limit: int = Query(20, ge=1, le=200),
                principal: Principal = Depends(READ)) -> list[CheckOut]:
    with unit_of_work(tenant=principal) as session:
        _metrc_connection(session, principal, connection_id)
        rows = session.exec(select(ComplianceCheck).where(ComplianceCheck.connection_id == connection_id)
                            .order_by(col(ComplianceCheck.created_at).desc()).limit(limit)).all()
        return [CheckOut.of(c) for c in rows]


class FacilityOut(BaseModel):
    name: str
    license_number: str
    license_type: str | None
    license_start: str | None
    license_end: str | None
    may_transfer: bool
    transfer_problems: list[str]
    capabilities: list[str] = Field(description="The FacilityType flags Metrc sets to true for this facility.")


@router.get("/integrations/metrc/connections/{connection_id}/facility", response_model=FacilityOut,
            responses={**error_responses(400, 401, 403, 404, 422), **METRC_502})
def facility(connection_id: uuid.UUID, principal: Principal = Depends(READ)) -> FacilityOut:
    """The connected facility as Metrc describes it, its capability flags, and whether it may send transfers."""
    from datetime import UTC
    from datetime import datetime as _dt

    from icc_app.integrations import base
    from icc_app.integrations.metrc import preflight

    with unit_of_work(tenant=principal) as session:
        config = service.config_for(_metrc_connection(session, principal, connection_id))
    adapter = base.make_adapter(config)
    try:
        with _metrc_errors():
            found = adapter.facility()
    finally:
        adapter.close()
    license_ = found.get("License") or {}
    problems = preflight.facility_problems(found, adapter.license_number, today=_dt.now(UTC).date())
    return FacilityOut(name=found.get("DisplayName") or found.get("Name") or "", license_number=adapter.license_number,
                       license_type=license_.get("LicenseType"), license_start=license_.get("StartDate"),
                       license_end=license_.get("EndDate"), may_transfer=not problems,
                       transfer_problems=[p.message for p in problems],
                       capabilities=sorted(k for k, v in (found.get("FacilityType") or {}).items() if v is True))


# ----------------------------------------------------------------------------------------------- workflows


class ListingOut(BaseModel):
    label: str
    package_id: int
    title: str
    product_type: str
    strain_name: str
    quantity: Decimal
    unit: str
    lab_state: str
    lab_passed: bool
    thc_pct: float | None
    cbd_pct: float | None
    tested_on: date | None
    lab_name: str | None
    has_coa_document: bool
    on_hold: bool
    lab_results: list[dict[str, Any]]


class ListIn(BaseModel):
    price_per_unit: Decimal = Field(gt=0, description="Asking price per lot unit (g, lb or units).")
    min_order_qty: Decimal | None = Field(None, gt=0)
    strain_type: Literal["indica", "sativa", "hybrid", "cbd"] = "hybrid"
    title: str | None = Field(None, max_length=200)
    description: str = Field("", max_length=5000)
    attach_coa: bool = Field(True, description="Fetch the lab's COA document from Metrc and send it to COA intake.")


class ListedOut(BaseModel):
    lot_id: uuid.UUID
    status: str
    metrc_tag: str
    coa_queued: bool


class DecisionIn(BaseModel):
    label: str = Field(max_length=24)
    accept: bool
    reason: str = Field("", max_length=300)
    retail_price: Decimal | None = Field(None, gt=0, description="Menu price per shelf unit; 2x cost when left out.")


class ReceiveIn(BaseModel):
    packages: list[DecisionIn] = Field(max_length=200)


class TransferOut(BaseModel):
    order_id: uuid.UUID
    status: str
    manifest_number: str | None
    template_name: str
    template_id: int | None
    transfer_status: str
    packages: list[dict[str, Any]]
    recipient_license: str | None = None
    last_error: str | None = None


def _listing_out(listing) -> ListingOut:
    data = listing.as_json()
    data["quantity"], data["tested_on"] = listing.quantity, listing.tested_on
    data["has_coa_document"] = listing.document_id is not None
    data.pop("document_id", None)
    return ListingOut(**data)


@router.get("/integrations/metrc/connections/{connection_id}/packages/{label}", response_model=ListingOut,
            responses={**error_responses(400, 401, 403, 404, 422), **METRC_502})
def package_listing(connection_id: uuid.UUID, label: str, principal: Principal = Depends(READ)) -> ListingOut:
    """A Metrc package as a CCX listing draft: item, strain, quantity and unit, lab results."""
    with _metrc_errors():
        _, listing, _ = workflows.fetch_for_listing(principal, connection_id, label)
    return _listing_out(listing)


@router.post("/integrations/metrc/connections/{connection_id}/packages/{label}/list", response_model=ListedOut,
             status_code=201, responses={**error_responses(400, 401, 403, 404, 422), **METRC_502})
def list_package(connection_id: uuid.UUID, label: str, body: ListIn, principal: Principal = Depends(WRITE)
                 ) -> ListedOut:
    """"List on CCX": a draft lot pre-filled from the package; its COA document (when Metrc has one) is parsed
    by COA intake. Publish it from My lots once the COA is read."""
    with _metrc_errors():
        business_id, listing, document = workflows.fetch_for_listing(principal, connection_id, label,
                                                                     with_document=body.attach_coa)
    with unit_of_work(tenant=principal) as session:
        lot = workflows.list_on_ccx(session, principal=principal, business_id=business_id, listing=listing,
                                    price_per_unit=body.price_per_unit, min_order_qty=body.min_order_qty,
                                    strain_type=body.strain_type, title=body.title, description=body.description,
                                    document=document)
        return ListedOut(lot_id=lot.id, status=str(lot.status), metrc_tag=lot.metrc_tag or "",
                         coa_queued=document is not None)


@router.get("/integrations/metrc/orders/{order_id}/transfer", response_model=TransferOut,
            responses=error_responses(400, 401, 403, 404, 422))
def order_transfer(order_id: uuid.UUID, principal: Principal = Depends(READ)) -> TransferOut:
    """The Metrc side of a CCX order (either party): template, manifest, each package's state."""
    with unit_of_work(tenant=principal) as session:
        found = workflows.transfer_for(session, principal, order_id)
    if found is None:
        raise NotFound("This order has no Metrc transfer.")
    return TransferOut(**found)


@router.post("/integrations/metrc/orders/{order_id}/receive", response_model=TransferOut,
             responses={**error_responses(400, 401, 403, 404, 409, 422), **METRC_502})
def receive(order_id: uuid.UUID, body: ReceiveIn, principal: Principal = Depends(WRITE)) -> TransferOut:
    """The buyer receives package by package (accept whole, or reject with a reason); accepted packages reach the
    retail menu. Sending it again changes nothing."""
    with _metrc_errors():
        result = workflows.receive_order(principal, order_id, [
            workflows.Decision(d.label, d.accept, d.reason, d.retail_price) for d in body.packages])
    return TransferOut(**result)
