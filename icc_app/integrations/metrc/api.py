"""Metrc REST API (under /api/v1): compliance checks and alerts of a business's Metrc connections, and the CCX
workflows (list a Metrc package on CCX, an order's transfer, receiving package by package)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.errors import NotFound, ValidationFailed, error_responses
from icc_app.identity.api_auth import requires
from icc_app.identity.models import Product
from icc_app.identity.permissions import has_product
from icc_app.identity.schemas import Principal
from icc_app.integrations import service
from icc_app.integrations.metrc import compliance
from icc_app.integrations.metrc.models import Alert, AlertEvent, ComplianceCheck

router = APIRouter(tags=["metrc"])
READ, WRITE = requires("integrations:read"), requires("integrations:write")


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


@router.get("/integrations/metrc/alerts", response_model=list[AlertOut], responses=error_responses(401, 403, 422))
def list_alerts(business_id: uuid.UUID | None = None, status: Literal["open", "resolved", "dismissed"] | None = "open",
                connection_id: uuid.UUID | None = None, limit: int = Query(200, ge=1, le=500),
                principal: Principal = Depends(READ)) -> list[AlertOut]:
    """The business's compliance discrepancies, most severe first."""
    with unit_of_work(tenant=principal) as session:
        rows = compliance.list_alerts(session, principal=principal, business_id=_business_for(principal, business_id),
                                      status=status, connection_id=connection_id, limit=limit)
        return [AlertOut.of(a) for a in rows]


@router.get("/integrations/metrc/alerts/{alert_id}", response_model=AlertDetail, responses=error_responses(401, 404))
def get_alert(alert_id: uuid.UUID, principal: Principal = Depends(READ)) -> AlertDetail:
    """One alert with its history (who opened, resolved, dismissed or reopened it, when and why)."""
    with unit_of_work(tenant=principal) as session:
        alert = compliance.get_alert(session, principal=principal, alert_id=alert_id)
        events = compliance.alert_history(session, principal=principal, alert_id=alert_id)
        return AlertDetail(**AlertOut.of(alert).model_dump(),
                           history=[AlertEventOut(from_status=e.from_status, to_status=e.to_status, note=e.note,
                                                  actor_id=e.actor_id, created_at=e.created_at) for e in events])


@router.post("/integrations/metrc/alerts/{alert_id}/{verb}", response_model=AlertOut,
             responses=error_responses(401, 403, 404, 409, 422))
def act_on_alert(alert_id: uuid.UUID, verb: Literal["resolve", "dismiss", "reopen"], body: AlertAction | None = None,
                 principal: Principal = Depends(WRITE)) -> AlertOut:
    """Resolve (fixed), dismiss (not a problem) or reopen an alert (Admins and Managers); each is an event."""
    with unit_of_work(tenant=principal) as session:
        alert = compliance.act(session, principal=principal, alert_id=alert_id, verb=verb,
                               note=(body.note if body else ""))
        return AlertOut.of(alert)


@router.post("/integrations/metrc/connections/{connection_id}/compliance-check", response_model=QueuedOut,
             status_code=202, responses=error_responses(401, 403, 404))
def request_check(connection_id: uuid.UUID, full: bool = False, principal: Principal = Depends(WRITE)) -> QueuedOut:
    """Run a compliance check now (queued; its result appears under .../checks and the alerts)."""
    with unit_of_work(tenant=principal) as session:
        _metrc_connection(session, principal, connection_id, manage=True)
        enqueue(session, "metrc.compliance_check", str(connection_id), "full" if full else "manual")
    return QueuedOut(status="queued", connection_id=connection_id)


@router.get("/integrations/metrc/connections/{connection_id}/checks", response_model=list[CheckOut],
            responses=error_responses(401, 404))
def list_checks(connection_id: uuid.UUID, limit: int = Query(20, ge=1, le=200),
                principal: Principal = Depends(READ)) -> list[CheckOut]:
    with unit_of_work(tenant=principal) as session:
        _metrc_connection(session, principal, connection_id)
        rows = session.exec(select(ComplianceCheck).where(ComplianceCheck.connection_id == connection_id)
                            .order_by(col(ComplianceCheck.created_at).desc()).limit(limit)).all()
        return [CheckOut.of(c) for c in rows]


_ = (AlertEvent, Decimal)  # imported for the workflow endpoints below
