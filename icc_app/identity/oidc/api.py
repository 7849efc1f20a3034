"""OIDC provider routes: discovery, JWKS, authorize (hands off to the consent page), token, revocation,
introspection and userinfo. Errors follow RFC 6749 (JSON `error` / `error_description`)."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse

from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.identity.api_auth import SESSION_COOKIE, bearer_token, client_ip
from icc_app.identity.models import User
from icc_app.identity.oidc import keys
from icc_app.identity.oidc import service as oidc
from icc_app.identity.oidc.server import GrantUser, resolve_access_token, user_claims

router = APIRouter(tags=["oidc"])
CONSENT_PAGE = "/oauth/consent"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _nul_in(values: dict) -> JSONResponse | None:
    """A NUL character in any parameter: refused up front (the database cannot even look such a value up)."""
    if any("\x00" in str(k) + str(v) for k, v in values.items()):
        return JSONResponse({"error": "invalid_request", "error_description": "A parameter contains a NUL character."},
                            400, headers=NO_STORE)
    return None


def _json(response: oidc.Response) -> JSONResponse:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    return JSONResponse(response.body if isinstance(response.body, dict) else {}, status_code=response.status,
                        headers={**headers, **NO_STORE})


@router.get("/.well-known/openid-configuration")
def openid_configuration() -> JSONResponse:
    return JSONResponse(oidc.discovery(), headers={"Cache-Control": "public, max-age=300"})


@router.get("/oauth/jwks")
def jwks() -> JSONResponse:
    with unit_of_work() as session:
        body = keys.jwks(session)
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})


@router.get("/oauth/authorize")
def authorize(request: Request):
    """Check the client and redirect URI, then show the consent page (which asks the person to sign in)."""
    query = dict(request.query_params)
    if refused := _nul_in(query):
        return refused
    with unit_of_work() as session:
        client = oidc.IccAuthorizationServer(session).query_client(query.get("client_id"))
        if client is None or (query.get("redirect_uri") and not client.check_redirect_uri(query["redirect_uri"])):
            return JSONResponse({"error": "invalid_request",
                                 "error_description": "Unknown client or redirect URI not registered."}, 400)
    return RedirectResponse(f"{CONSENT_PAGE}?{urlencode(query)}", status_code=302)


@router.post("/oauth/authorize")
async def authorize_decision(request: Request):
    """The signed-in person's decision (form: the authorization parameters plus `decision=allow|deny` and an
    optional `business_id`). Cookie-authenticated and SameSite=Strict, so another site cannot post it."""
    form = dict(await request.form())
    if refused := _nul_in(form):
        return refused
    decision = form.pop("decision", "deny")
    business_id = form.pop("business_id", None)
    token = bearer_token(request) or request.cookies.get(SESSION_COOKIE, "")
    with unit_of_work() as session:
        principal = identity.resolve_session(session, token=token) if token else None
        if principal is None:
            return JSONResponse({"error": "login_required", "error_description": "Sign in first."}, 401)
        user = session.get(User, principal.user_id)
        try:
            location = oidc.decide(session, query=form, user=user, allow=decision == "allow",
                                   business_id=uuid.UUID(business_id) if business_id else None, ip=client_ip(request))
        except oidc.AuthorizationError as exc:
            return JSONResponse({"error": "invalid_request", "error_description": exc.message}, 400)
    return RedirectResponse(location, status_code=302)


async def _endpoint(request: Request, name: str) -> JSONResponse:
    form = dict(await request.form())
    if refused := _nul_in(form):
        return refused
    try:
        with unit_of_work() as session:
            response = oidc.token_response(session, endpoint=name, url=str(request.url), headers=request.headers,
                                           form=form)
    except OAuth2Error as exc:  # raised while reading the request (e.g. plain http): an RFC 6749 answer, not a 500
        return JSONResponse(dict(exc.get_body()), exc.status_code, headers=NO_STORE)
    return _json(response)


@router.post("/oauth/token")
async def token(request: Request) -> JSONResponse:
    return await _endpoint(request, "token")


@router.post("/oauth/revoke")
async def revoke(request: Request) -> JSONResponse:
    return await _endpoint(request, "revocation")


@router.post("/oauth/introspect")
async def introspect(request: Request) -> JSONResponse:
    return await _endpoint(request, "introspection")


@router.get("/oauth/userinfo", operation_id="userinfo_get")
@router.post("/oauth/userinfo", operation_id="userinfo_post")
def userinfo(request: Request) -> JSONResponse:
    raw = bearer_token(request)
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    with unit_of_work() as session:
        row = resolve_access_token(session, raw) if raw else None
        if row is None or row.user_id is None:
            return JSONResponse({"error": "invalid_token", "error_description": "The access token is not valid."},
                                401, headers=challenge)
        if "openid" not in row.scope.split():
            return JSONResponse({"error": "insufficient_scope", "error_description": "Needs the openid scope."},
                                403, headers={"WWW-Authenticate": 'Bearer error="insufficient_scope" scope="openid"'})
        user = session.get(User, row.user_id)
        claims = user_claims(session, GrantUser(user, row.business_id), row.scope)
    return JSONResponse(claims, headers=NO_STORE)
