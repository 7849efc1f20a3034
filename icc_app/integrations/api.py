"""Integrations hub REST API: a business's POS connections (create, test, rotate credentials, pause, sync now), the
sync runs log, and the vendor webhook endpoints (public: each delivery is verified by its signature or token)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlmodel import col, select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import NotFound, ValidationFailed, error_responses
from icc_app.core.security import RateLimiter
from icc_app.identity.api_auth import client_ip, requires
from icc_app.identity.models import Product
from icc_app.identity.permissions import has_product
from icc_app.identity.schemas import Principal
from icc_app.integrations import base, service, sync, webhooks
from icc_app.integrations.models import Connection, SyncRun

router = APIRouter(tags=["integrations"])
READ, WRITE = requires("integrations:read"), requires("integrations:write")
WEBHOOK_LIMIT = RateLimiter(name="integrations-webhook", limit=600, window_seconds=60)


class VendorOut(BaseModel):
    vendor: str
    label: str
    capabilities: list[str]
    credential_fields: dict[str, str]


class ConnectionOut(BaseModel):
    id: uuid.UUID
    business_id: uuid.UUID
    vendor: str
    name: str
    base_url: str
    location_id: str | None
    dispensary_id: uuid.UUID | None
    status: str
    credentials_hint: str = Field(description="The stored credentials are never returned; this is their last 4.")
    has_webhook_secret: bool
    interval_minutes: int
    next_sync_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, c: Connection) -> ConnectionOut:
        return cls(id=c.id, business_id=c.business_id, vendor=c.vendor, name=c.name, base_url=c.base_url,
                   location_id=c.location_id, dispensary_id=c.dispensary_id, status=c.status,
                   credentials_hint=c.credentials_hint, has_webhook_secret=bool(c.webhook_secret),
                   interval_minutes=c.interval_minutes, next_sync_at=c.next_sync_at,
                   last_success_at=c.last_success_at, last_error=c.last_error, last_error_at=c.last_error_at,
                   created_at=c.created_at)


class ConnectionIn(BaseModel):
    business_id: uuid.UUID
    vendor: Literal["dutchie", "treez", "flowhub", "jane", "metrc"]
    name: str = Field("", max_length=120)
    base_url: str = Field(max_length=500)
    credentials: dict[str, str] = Field(description="Per vendor: see GET /integrations/vendors.")
    location_id: str | None = Field(None, max_length=120)
    dispensary_id: uuid.UUID | None = None
    webhook_secret: str | None = Field(None, max_length=500)
    interval_minutes: int = Field(15, ge=15, le=60)

    model_config = {"json_schema_extra": {"examples": [{
        "business_id": "6f1c1d3e-8a43-4a0e-9d4a-0f3b2b1f5a10", "vendor": "dutchie", "name": "Main street store",
        "base_url": "https://api.pos.dutchie.com", "credentials": {"location_key": "…"},
        "dispensary_id": "0b7f8c7e-1d1a-4a39-b0d7-6b6f9f9d2f11", "interval_minutes": 15}]}}


class ConnectionPatch(BaseModel):
    name: str | None = Field(None, max_length=120)
    interval_minutes: int | None = Field(None, ge=15, le=60)
    dispensary_id: uuid.UUID | None = None
    base_url: str | None = Field(None, max_length=500)
    location_id: str | None = Field(None, max_length=120)


class CredentialsIn(BaseModel):
    credentials: dict[str, str]
    webhook_secret: str | None = Field(None, max_length=500)


class TestOut(BaseModel):
    ok: bool
    message: str
    status: str


class RunOut(BaseModel):
    id: uuid.UUID
    connection_id: uuid.UUID
    trigger: str
    streams: list[str]
    status: str
    progress: str
    created: int
    updated: int
    unchanged: int
    out_of_stock: int
    skipped: int
    sales: int
    customers: int
    errors: list[dict]
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None

    @classmethod
    def of(cls, r: SyncRun) -> RunOut:
        return cls(**{name: getattr(r, name) for name in cls.model_fields})


class WebhookAck(BaseModel):
    status: Literal["accepted", "duplicate"]
    event_id: str


def _business_for(principal: Principal, business_id: uuid.UUID | None) -> uuid.UUID:
    if business_id is not None:
        return business_id
    for membership in principal.memberships:
        if has_product(membership, Product.integrations):
            return membership.business_id
    raise ValidationFailed("Say which business: business_id.", field="business_id")


@router.get("/integrations/vendors", response_model=list[VendorOut])
def vendors() -> list[VendorOut]:
    """The vendors ICC connects to, what each can do and which credentials it needs."""
    found = []
    for vendor in base.available_vendors():
        cls = base.adapter_class(vendor)
        found.append(VendorOut(vendor=vendor, label=base.VENDOR_LABELS[vendor],
                               capabilities=sorted(c.value for c in cls.capabilities),
                               credential_fields=dict(cls.credential_fields)))
    return found


@router.get("/integrations/connections", response_model=list[ConnectionOut], responses=error_responses(401, 403, 404, 422))
def list_connections(business_id: uuid.UUID | None = None, principal: Principal = Depends(READ)) -> list[ConnectionOut]:
    with unit_of_work(tenant=principal) as session:
        rows = service.list_for_business(session, principal, _business_for(principal, business_id))
        return [ConnectionOut.of(c) for c in rows]


@router.post("/integrations/connections", response_model=ConnectionOut, status_code=201,
             responses=error_responses(400, 401, 403, 404, 413, 422))
def create_connection(body: ConnectionIn, principal: Principal = Depends(WRITE)) -> ConnectionOut:
    """Credentials are stored encrypted and never returned again (rotate them with .../credentials)."""
    with unit_of_work(tenant=principal) as session:
        connection = service.connect(session, principal=principal, business_id=body.business_id,
                                     data=service.ConnectInput(**body.model_dump(exclude={"business_id"})))
        return ConnectionOut.of(connection)


@router.get("/integrations/connections/{connection_id}", response_model=ConnectionOut, responses=error_responses(401, 404, 422))
def get_connection(connection_id: uuid.UUID, principal: Principal = Depends(READ)) -> ConnectionOut:
    with unit_of_work(tenant=principal) as session:
        return ConnectionOut.of(service.get(session, principal, connection_id))


@router.patch("/integrations/connections/{connection_id}", response_model=ConnectionOut,
              responses=error_responses(400, 401, 403, 404, 413, 422))
def update_connection(connection_id: uuid.UUID, body: ConnectionPatch,
                      principal: Principal = Depends(WRITE)) -> ConnectionOut:
    with unit_of_work(tenant=principal) as session:
        return ConnectionOut.of(service.update_settings(session, principal=principal, connection_id=connection_id,
                                                        **body.model_dump(exclude_unset=True)))


@router.post("/integrations/connections/{connection_id}/credentials", response_model=ConnectionOut,
             responses=error_responses(400, 401, 403, 404, 409, 413, 422))
def rotate_credentials(connection_id: uuid.UUID, body: CredentialsIn,
                       principal: Principal = Depends(WRITE)) -> ConnectionOut:
    with unit_of_work(tenant=principal) as session:
        return ConnectionOut.of(service.rotate_credentials(session, principal=principal, connection_id=connection_id,
                                                           credentials=body.credentials,
                                                           webhook_secret=body.webhook_secret))


@router.post("/integrations/connections/{connection_id}/test", response_model=TestOut, responses=error_responses(401, 404, 422))
def test_connection(connection_id: uuid.UUID, principal: Principal = Depends(WRITE)) -> TestOut:
    """Asks the vendor who we are with the stored credentials; the connection's status follows the answer."""
    with unit_of_work(tenant=principal) as session:
        connection = service.get(session, principal, connection_id)
        ok, message = service.test_connection(session, principal=principal, connection=connection)
        return TestOut(ok=ok, message=message, status=connection.status)


@router.post("/integrations/connections/{connection_id}/pause", response_model=ConnectionOut,
             responses=error_responses(401, 403, 404, 409, 422))
def pause(connection_id: uuid.UUID, principal: Principal = Depends(WRITE)) -> ConnectionOut:
    with unit_of_work(tenant=principal) as session:
        return ConnectionOut.of(service.set_paused(session, principal=principal, connection_id=connection_id,
                                                   paused=True))


@router.post("/integrations/connections/{connection_id}/resume", response_model=ConnectionOut,
             responses=error_responses(401, 403, 404, 409, 422))
def resume(connection_id: uuid.UUID, principal: Principal = Depends(WRITE)) -> ConnectionOut:
    with unit_of_work(tenant=principal) as session:
        return ConnectionOut.of(service.set_paused(session, principal=principal, connection_id=connection_id,
                                                   paused=False))


@router.delete("/integrations/connections/{connection_id}", response_model=ConnectionOut,
               responses=error_responses(401, 403, 404, 409, 422))
def disconnect(connection_id: uuid.UUID, principal: Principal = Depends(WRITE)) -> ConnectionOut:
    """Stops syncing and erases the credentials; the history (runs, sales, menu) stays."""
    with unit_of_work(tenant=principal) as session:
        return ConnectionOut.of(service.disconnect(session, principal=principal, connection_id=connection_id))


@router.post("/integrations/connections/{connection_id}/sync", response_model=RunOut, status_code=202,
             responses=error_responses(401, 404, 409, 422))
def sync_now(connection_id: uuid.UUID, response: Response, principal: Principal = Depends(WRITE)) -> RunOut:
    """Queues a sync (202) or returns the one already queued or running (200)."""
    with unit_of_work(tenant=principal) as session:
        run, created = sync.request_manual(session, principal=principal, connection_id=connection_id)
        out = RunOut.of(run)
    if not created:
        response.status_code = 200
    return out


@router.get("/integrations/runs", response_model=list[RunOut], responses=error_responses(401, 404, 422))
def list_runs(connection_id: uuid.UUID | None = None, status: Literal["queued", "running", "succeeded", "failed"]
              | None = None, limit: int = Query(50, ge=1, le=200), principal: Principal = Depends(READ)
              ) -> list[RunOut]:
    """The sync runs log, newest first: counts, per-item errors, duration."""
    with unit_of_work(tenant=principal) as session:
        query = select(SyncRun).where(col(SyncRun.business_id).in_(service.tenant_ids(principal)))
        if connection_id is not None:
            service.get(session, principal, connection_id)
            query = query.where(SyncRun.connection_id == connection_id)
        if status is not None:
            query = query.where(SyncRun.status == status)
        return [RunOut.of(r) for r in session.exec(query.order_by(col(SyncRun.created_at).desc()).limit(limit))]


@router.get("/integrations/runs/{run_id}", response_model=RunOut, responses=error_responses(401, 404, 422))
def get_run(run_id: uuid.UUID, principal: Principal = Depends(READ)) -> RunOut:
    with unit_of_work(tenant=principal) as session:
        run = session.exec(select(SyncRun).where(SyncRun.id == run_id, col(SyncRun.business_id).in_(
            service.tenant_ids(principal)))).first()
        if run is None:
            raise NotFound("Sync run not found.")
        return RunOut.of(run)


@router.post("/integrations/runs/{run_id}/retry", response_model=RunOut, status_code=202,
             responses=error_responses(401, 404, 409, 422))
def retry_run(run_id: uuid.UUID, principal: Principal = Depends(WRITE)) -> RunOut:
    with unit_of_work(tenant=principal) as session:
        run, _ = sync.retry(session, principal=principal, run_id=run_id)
        return RunOut.of(run)


@router.post("/integrations/webhooks/{vendor}", response_model=WebhookAck, status_code=202,
             responses=error_responses(401, 404, 413, 422, 429))
async def receive_webhook(vendor: str, request: Request, connection: uuid.UUID | None = None) -> JSONResponse:
    """A vendor's webhook. Verified by the connection's secret (signature or token) and timestamp window; the same
    event id twice is answered "duplicate" and changes nothing. Optional `?connection=<id>` routes it directly."""
    WEBHOOK_LIMIT.hit(f"{vendor}:{client_ip(request)}")
    body = await request.body()
    headers = dict(request.headers)
    return await run_in_threadpool(_receive, vendor, headers, body, connection)


def _receive(vendor: str, headers: dict, body: bytes, connection: uuid.UUID | None) -> JSONResponse:
    rejected: webhooks.Rejected | None = None
    with unit_of_work() as session:
        try:
            event, duplicate = webhooks.receive(session, vendor=vendor, headers=headers, body=body,
                                                connection_id=connection)
            ack = WebhookAck(status="duplicate" if duplicate else "accepted", event_id=event.event_id)
        except webhooks.Rejected as exc:
            rejected = exc
    if rejected is not None:
        return JSONResponse({"detail": f"Webhook refused: {rejected.message}", "field": None}, status_code=401)
    return JSONResponse(ack.model_dump(), status_code=200 if ack.status == "duplicate" else 202)
