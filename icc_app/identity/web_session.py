"""The two server routes that own the browser's session cookie (HttpOnly: page scripts never see it).

GET /auth/session?ticket=...&next=/path  swaps a login ticket (login_tickets.py) for the session cookie and sends
                                         the browser on to `next` (a same-site path only).
GET /auth/signout                        revokes the session, clears the cookie, and goes to the sign-in page.
                                         The cookie is SameSite=Strict, so another site cannot sign anyone out.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.core.web_security import SESSION_COOKIE, cleared_session_cookie_header, session_cookie_header
from icc_app.identity import login_tickets
from icc_app.identity import service as identity

router = APIRouter(tags=["sessions"], include_in_schema=False)
SESSION_ROUTE = "/auth/session"
SIGN_OUT_ROUTE = "/auth/signout"
LOGIN_PAGE = "/login"
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def safe_next(next_path: str | None) -> str:
    """A same-site path, else "/": no scheme, no host, no `//` or `/\\` (read as a host), no control characters
    (browsers drop tabs and newlines, so `/\\t/evil.example` would become `//evil.example`)."""
    path = next_path or ""
    if (not path.startswith("/") or path.startswith("//") or "\\" in path
            or any(ord(c) < 0x21 or ord(c) == 0x7F for c in path) or path.startswith(SESSION_ROUTE)):
        return "/"
    return path


def session_url(ticket: str, next_path: str | None) -> str:
    return f"{SESSION_ROUTE}?ticket={quote(ticket, safe='')}&next={quote(safe_next(next_path), safe='')}"


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get(SESSION_ROUTE)
def open_session(request: Request, ticket: str = "", next: str = "/") -> RedirectResponse:  # noqa: A002
    try:
        with unit_of_work() as session:
            token, _ = login_tickets.redeem(session, ticket=ticket)
    except ValidationFailed:
        return RedirectResponse(f"{LOGIN_PAGE}?next={quote(safe_next(next), safe='')}", status_code=303,
                                headers=NO_STORE)
    response = RedirectResponse(safe_next(next), status_code=303, headers=NO_STORE)
    response.headers.append("set-cookie", session_cookie_header(token))
    return response


@router.api_route(SIGN_OUT_ROUTE, methods=["GET", "POST"])
def sign_out(request: Request) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        with unit_of_work() as session:
            identity.sign_out(session, token=token, ip=_client_ip(request))
    response = RedirectResponse(LOGIN_PAGE, status_code=303, headers=NO_STORE)
    response.headers.append("set-cookie", cleared_session_cookie_header())
    return response
