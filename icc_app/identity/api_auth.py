"""Who is calling the REST API: an OAuth2 access token (`Authorization: Bearer icc_at_...`, scopes checked per
endpoint), a partner API key (`Authorization: Bearer icc_pk_...`: its business only, its scopes, its rate limit),
a first-party session token as a bearer, or the browser's session cookie (SameSite=Strict, so cross-site requests
never carry it: cookie-authenticated writes are CSRF-safe)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError, NotAuthenticated
from icc_app.identity import service as identity
from icc_app.identity.oidc.server import ACCESS_TOKEN_PREFIX
from icc_app.identity.permissions import require_scope
from icc_app.identity.schemas import Principal

SESSION_COOKIE = "icc_session"


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def current_principal(request: Request) -> Principal:
    from icc_app.integrations.partners.keys import API_KEY_PREFIX, principal_for_api_key

    token = bearer_token(request) or request.cookies.get(SESSION_COOKIE, "")
    refused: DomainError | None = None
    with unit_of_work() as session:
        if token.startswith(API_KEY_PREFIX):
            try:
                principal = principal_for_api_key(session, token, ip=client_ip(request))
            except DomainError as exc:  # raised after the commit, so the refusal's audit row is kept
                principal, refused = None, exc
        elif token.startswith(ACCESS_TOKEN_PREFIX):
            from icc_app.identity.oidc.service import principal_for_access_token

            principal = principal_for_access_token(session, token)
        else:
            principal = identity.resolve_session(session, token=token) if token else None
    if refused is not None:
        raise refused
    if principal is None:
        raise NotAuthenticated("Sign in first, or send a valid access token (expired, revoked or missing).")
    return principal


def requires(scope: str) -> Callable[..., Principal]:
    """Dependency: the caller, whose token carries `scope` (browser sessions carry every scope)."""

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.has_scope(scope) and (principal.client_id or "").startswith("api_key:"):
            from icc_app.integrations.partners.keys import audit_scope_refusal

            audit_scope_refusal(principal, scope)
        require_scope(principal, scope)
        return principal

    dependency.__name__ = f"requires_{scope.replace(':', '_')}"
    return dependency


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
