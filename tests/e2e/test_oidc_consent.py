"""Sign in with ICC from a third-party app, in a real browser: the consent screen names the app and what it may
do; Allow returns a code to the app's redirect URI, which Authlib's client exchanges over HTTP for tokens whose
id_token carries the business's license identity."""

import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import expect

from tests.e2e.conftest import live_cli, shot
from tests.e2e.test_shell import sign_in

pytestmark = pytest.mark.e2e
SCOPE = "openid profile email business"


def _public_client(page, live_app: str, name: str) -> tuple[str, str, list[str]]:
    """Register a public client (the CLI, as an operator would) whose redirect URI lives on another host; the
    browser's visits to it are caught and recorded instead of leaving the machine."""
    redirect_uri = live_app.replace("127.0.0.1", "localhost") + "/rp-callback"
    output = live_cli("oidc", "create-client", name, "--redirect-uri", redirect_uri, "--public", "--scope", SCOPE)
    callbacks: list[str] = []
    page.route("**/rp-callback**", lambda route: (callbacks.append(route.request.url),
                                                  route.fulfill(body="ok", content_type="text/plain")))
    return re.search(r"client_id:\s+(\S+)", output).group(1), redirect_uri, callbacks


def test_consent_screen_then_code_exchange_by_the_relying_party(page, live_app):
    client_id, redirect_uri, callbacks = _public_client(page, live_app, "Harvest Planner")
    rp = OAuth2Client(client_id, token_endpoint_auth_method="none", scope=SCOPE, redirect_uri=redirect_uri,
                      code_challenge_method="S256")
    verifier, nonce = generate_token(48), generate_token(16)
    url, state = rp.create_authorization_url(f"{live_app}/oauth/authorize", code_verifier=verifier, nonce=nonce)
    page.goto(url)
    page.wait_for_url("**/login?next=**")  # not signed in yet: sign in first, then back to the consent screen
    page.fill("#email", "grower@icc.demo")
    page.fill("#password", "Demo-pass-2026")
    page.click("#sign-in-submit")
    expect(page.get_by_role("heading", name="Harvest Planner wants to use your ICC account")).to_be_visible()
    expect(page.locator(".consent-scopes")).to_contain_text("license numbers")
    shot(page, "oidc-consent")
    page.click("#consent-allow")
    page.wait_for_url("**/rp-callback**")
    query = parse_qs(urlparse(callbacks[-1]).query)
    assert query["state"] == [state] and query["code"]

    with OAuth2Client(client_id, token_endpoint_auth_method="none", redirect_uri=redirect_uri) as exchange:
        token = exchange.fetch_token(f"{live_app}/oauth/token", authorization_response=callbacks[-1],
                                     code_verifier=verifier)
    jwks = httpx.get(f"{live_app}/oauth/jwks").json()
    claims = jwt.decode(token["id_token"], KeySet.import_key_set(jwks)).claims
    assert client_id in claims["aud"] and claims["nonce"] == nonce and claims["iss"] == live_app
    assert claims["business_name"] == "Evergreen Farms" and claims["business_type"] == "cultivator"
    assert claims["license_numbers"][0]["verification"] == "verified"
    me = httpx.get(f"{live_app}/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200 and me.json()["client_id"] == client_id


def test_denied_consent_returns_access_denied(page, live_app):
    client_id, redirect_uri, callbacks = _public_client(page, live_app, "Nosy App")
    rp = OAuth2Client(client_id, scope=SCOPE, redirect_uri=redirect_uri, code_challenge_method="S256")
    url, _ = rp.create_authorization_url(f"{live_app}/oauth/authorize", code_verifier=generate_token(48))
    sign_in(page, "buyer@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, Blair Buyer")).to_be_visible()
    page.goto(url)
    shot(page, "oidc-consent-deny")
    page.click("#consent-deny")
    page.wait_for_url("**/rp-callback**")
    assert parse_qs(urlparse(callbacks[-1]).query)["error"] == ["access_denied"]


def test_person_disconnects_an_app_from_the_security_page(page, live_app):
    client_id, redirect_uri, callbacks = _public_client(page, live_app, "Trim Scheduler")
    rp = OAuth2Client(client_id, token_endpoint_auth_method="none", scope=SCOPE, redirect_uri=redirect_uri,
                      code_challenge_method="S256")
    verifier = generate_token(48)
    url, _ = rp.create_authorization_url(f"{live_app}/oauth/authorize", code_verifier=verifier)
    sign_in(page, "staff@icc.demo")
    expect(page.get_by_role("heading", name="Welcome, Sam Staff")).to_be_visible()
    page.goto(url)
    page.click("#consent-allow")
    page.wait_for_url("**/rp-callback**")
    with OAuth2Client(client_id, token_endpoint_auth_method="none", redirect_uri=redirect_uri) as exchange:
        token = exchange.fetch_token(f"{live_app}/oauth/token", authorization_response=callbacks[-1],
                                     code_verifier=verifier)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(f"{live_app}/api/v1/me", headers=bearer).status_code == 200
    page.goto("/account/security")
    row = page.get_by_role("row", name=re.compile("Trim Scheduler"))
    expect(row).to_be_visible()
    row.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("Application disconnected.")).to_be_visible()
    assert httpx.get(f"{live_app}/api/v1/me", headers=bearer).status_code == 401
