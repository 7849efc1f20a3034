"""The session cookie is issued and cleared by the server: a one-time login ticket becomes an HttpOnly,
SameSite=Strict cookie whose token was never seen by the page; `next` stays on this site; sign-out revokes."""

from urllib.parse import urlparse

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from icc_app.core.db import unit_of_work
from icc_app.identity import login_tickets
from icc_app.identity import service as identity
from icc_app.identity.web_session import router, safe_next, session_url
from tests.factories import PASSWORD, make_user


@pytest.fixture()
def client():
    app = FastAPI()
    app.include_router(router)
    return TestClient(app, base_url="http://testserver")


def _signed_in(email: str):
    with unit_of_work() as session:
        make_user(session, email=email)
    with unit_of_work() as session:
        outcome = identity.sign_in(session, email=email, password=PASSWORD, ip="192.0.2.1")
    return outcome, login_tickets.issue(session_id=outcome.principal.session_id)


def test_a_ticket_becomes_an_httponly_cookie_once(connection, redis_client, client):
    outcome, ticket = _signed_in("tess@example.test")
    response = client.get(session_url(ticket, "/oauth/consent?client_id=x&scope=openid"), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/oauth/consent?client_id=x&scope=openid"
    set_cookie = response.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # PUBLIC_URL is http in the tests; https adds Secure
    token = response.cookies["icc_session"]
    # The token was rotated on the way: the one minted during sign-in (inside the websocket) signs nobody in.
    assert token != outcome.token
    with unit_of_work() as session:
        assert identity.resolve_session(session, token=token).user_id == outcome.principal.user_id
        assert identity.resolve_session(session, token=outcome.token) is None
    assert not redis_client.keys(f"*{ticket}*")  # only the ticket's keyed hash was stored, and it is spent

    again = client.get(session_url(ticket, "/"), follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")
    assert "set-cookie" not in again.headers


def test_forged_or_missing_tickets_set_no_cookie(connection, redis_client, client):
    for query in ("?ticket=forged&next=/", "", "?ticket="):
        response = client.get(f"/auth/session{query}", follow_redirects=False)
        assert response.status_code == 303 and urlparse(response.headers["location"]).path == "/login"
        assert "set-cookie" not in response.headers


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "/\t/evil.example",
                                    "javascript:alert(1)", "", "/auth/session?ticket=x"])
def test_next_never_leaves_the_site(target):
    assert safe_next(target) == "/"


def test_sign_out_revokes_the_session_and_clears_the_cookie(connection, redis_client, client):
    _, ticket = _signed_in("sol@example.test")
    token = client.get(session_url(ticket, "/"), follow_redirects=False).cookies["icc_session"]
    client.cookies.set("icc_session", token)
    response = client.get("/auth/signout", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "Max-Age=0" in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]
    with unit_of_work() as session:
        assert identity.resolve_session(session, token=token) is None
