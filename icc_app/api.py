"""The REST API under /api: each product adds its router here. OpenAPI at /api/openapi.json, docs at /api/docs.

Reflex mounts this FastAPI app through `api_transformer`, so the API is served by the same process and port
as the web app. Domain errors become JSON answers with their HTTP status; nothing leaks a traceback.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from icc_app.core.errors import DomainError, RateLimited
from icc_app.core.health import check_health

API_PREFIX = "/api/v1"


class ComponentStatus(BaseModel):
    ok: bool
    detail: str


class HealthReport(BaseModel):
    status: str
    checks: dict[str, ComponentStatus]


health_router = APIRouter(tags=["platform"])


@health_router.get("/health", response_model=HealthReport, responses={503: {"model": HealthReport}})
def health() -> JSONResponse:
    """Database, Redis and storage status; HTTP 503 when any of them is down."""
    report = check_health()
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)


def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    body = {"detail": exc.message, **({"field": exc.field} if exc.field else {})}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def build() -> FastAPI:
    api = FastAPI(
        title="ICC platform API",
        version="1",
        description="REST API of the ICC platform for partners and integrations.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    api.add_exception_handler(DomainError, _domain_error)
    api.include_router(health_router)  # /health for load balancers
    api.include_router(health_router, prefix=API_PREFIX)
    from icc_app.identity.api import router as identity_router
    from icc_app.identity.oidc.api import router as oidc_router
    from icc_app.exchange.api import router as exchange_router
    from icc_app.labs.api import router as coa_router
    from icc_app.maps.api import router as maps_router

    api.include_router(oidc_router)  # /.well-known/openid-configuration and /oauth/*
    api.include_router(identity_router, prefix=API_PREFIX)
    api.include_router(coa_router, prefix=API_PREFIX)
    api.include_router(exchange_router, prefix=API_PREFIX)
    api.include_router(maps_router, prefix=API_PREFIX)
    from icc_app.maps.seo import router as seo_router

    api.include_router(seo_router)  # /sitemap.xml and /robots.txt
    return api
