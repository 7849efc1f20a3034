"""The REST API under /api: each product adds its router here. OpenAPI at /api/openapi.json, docs at /api/docs.

Reflex mounts this FastAPI app through `api_transformer`, so the API is served by the same process and port
as the web app. Domain errors become JSON answers with their HTTP status; nothing leaks a traceback.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from icc_app.core.errors import DomainError, ErrorBody, FieldError, RateLimited
from icc_app.core.health import check_health
from icc_app.core.http_limits import JSON_BODY_LIMIT, BodyLimit, BodySizeLimitMiddleware, upload_limit
from icc_app.settings import get_settings

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


def _error(status: int, detail: str, *, field: str | None = None, errors: list[FieldError] | None = None,
           headers: dict | None = None) -> JSONResponse:
    """Every error answer of the API: one shape (ErrorBody), documented once."""
    body = ErrorBody(detail=detail, field=field, errors=errors).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers)


def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return _error(exc.status_code, exc.message, field=exc.field, headers=headers)


def _field_name(loc: tuple) -> str:
    """("body", "quantity") -> "quantity"; ("query", "page") -> "page"; ("body", "services", 0) -> "services.0"."""
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 and loc[0] in ("body", "query", "path", "header",
                                                                     "cookie") else [str(p) for p in loc]
    return ".".join(parts) or "body"


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_field_error(e) for e in exc.errors()]
    first = errors[0] if errors else FieldError(field="body", message="Invalid request.")
    return _error(422, f"{first.field}: {first.message}", field=first.field, errors=errors)


def _field_error(error: dict) -> FieldError:
    if error.get("type") == "json_invalid":
        return FieldError(field="body", message="The body is not valid JSON.")
    message = str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")
    return FieldError(field=_field_name(tuple(error.get("loc", ()))), message=message)


def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else "The request could not be processed."
    return _error(exc.status_code, detail, headers=getattr(exc, "headers", None))


def _body_limit(method: str, path: str) -> BodyLimit | None:
    """JSON and form bodies of the API are small; uploads are capped at MAX_UPLOAD_MB."""
    if not path.startswith(("/api/", "/oauth/")):
        return None  # the web app's own routes (/_upload has its own cap)
    if method == "POST" and path.rstrip("/") == f"{API_PREFIX}/coas":
        return upload_limit(get_settings().max_upload_mb, "COA uploads")
    return BodyLimit(JSON_BODY_LIMIT, "request bodies on this route")


def _unmatched_api_route(routers: list[tuple[str, APIRouter]]):
    """Requests under /api that no route takes: 405 with Allow (also OPTIONS outside a CORS preflight) or 404,
    answered by the API instead of falling through to the web app mounted behind it."""
    table = [(compile_path(prefix + route.path)[0], route.methods) for prefix, router in routers
             for route in router.routes if isinstance(route, APIRoute)]

    def handler(request: Request) -> JSONResponse:
        allowed = sorted({m for regex, methods in table if regex.match(request.url.path) for m in methods})
        if allowed:
            return _error(405, f"{request.method} is not allowed here; use {', '.join(allowed)}.",
                          headers={"Allow": ", ".join(allowed)})
        return _error(404, "No such API endpoint: see /api/docs.")

    return handler


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
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(HTTPException, _http_error)
    api.add_middleware(BodySizeLimitMiddleware, limit_for=_body_limit)
    api.include_router(health_router)  # /health for load balancers
    api.include_router(health_router, prefix=API_PREFIX)
    from icc_app.identity.api import router as identity_router
    from icc_app.identity.oidc.api import router as oidc_router
    from icc_app.exchange.api import router as exchange_router
    from icc_app.labs.api import router as coa_router
    from icc_app.maps.api import router as maps_router
    from icc_app.integrations.api import router as integrations_router
    from icc_app.integrations.partners.api import router as partners_router
    from icc_app.integrations.metrc.api import router as metrc_router
    from icc_app.operations.api import router as operations_router
    from icc_app.loyalty.api import router as loyalty_router
    from icc_app.budtender.api import router as budtender_router

    api.include_router(oidc_router)  # /.well-known/openid-configuration and /oauth/*
    api_routers = [(API_PREFIX, health_router), (API_PREFIX, identity_router), (API_PREFIX, coa_router),
                   (API_PREFIX, exchange_router), (API_PREFIX, maps_router),
                   (API_PREFIX, integrations_router), (API_PREFIX, partners_router), (API_PREFIX, metrc_router),
                   (API_PREFIX, operations_router),
                   (API_PREFIX, loyalty_router), (API_PREFIX, budtender_router)]
    for prefix, router in api_routers[1:]:
        api.include_router(router, prefix=prefix)
    from icc_app.maps.seo import router as seo_router

    api.include_router(seo_router)  # /sitemap.xml and /robots.txt
    api.add_api_route("/api/{path:path}", _unmatched_api_route(api_routers), include_in_schema=False,
                      methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    return api
