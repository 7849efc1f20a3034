"""Who is calling the REST API: a session token as `Authorization: Bearer <token>`, or the browser's session
cookie (SameSite=Strict, so cross-site requests never carry it: cookie-authenticated writes are CSRF-safe)."""

from __future__ import annotations

from fastapi import Request

from icc_app.core.db import unit_of_work
from icc_app.core.errors import NotAuthenticated
from icc_app.identity import service as identity
from icc_app.identity.schemas import Principal

SESSION_COOKIE = "icc_session"


def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(SESSION_COOKIE, "")
    with unit_of_work() as session:
        principal = identity.resolve_session(session, token=token) if token else None
    if principal is None:
        raise NotAuthenticated("Sign in first (session expired or missing).")
    return principal


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
