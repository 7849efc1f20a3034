"""The OIDC provider seen by an independent relying party: Authlib's own httpx client (code + PKCE S256),
id_token checked against the JWKS, refresh rotation with reuse detection, revocation, introspection, client
credentials, and scopes enforced by the REST API."""

import asyncio
import concurrent.futures
import base64
import hashlib
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType
from icc_app.identity.oidc import keys
from icc_app.identity.oidc.service import register_client
from icc_app.settings import get_settings
from tests.factories import make_business, make_user, session_token, verified_license

REDIRECT = "http://localhost:8765/callback"
SCOPE = "openid profile email business offline_access"


@pytest.fixture()
def world(connection, redis_client):
    with unit_of_work() as session:
        admin = make_user(session, is_platform_admin=True)
        owner = make_user(session, email="olive@example.test", name="Olive Owner")
        farm = make_business(session, owner=owner, name="Olive Farms LLC", business_type=BusinessType.cultivator)
        verified_license(session, farm, number="412233")
        admin_principal = identity.build_principal(session, admin)
        public, _ = register_client(session, admin=admin_principal, name="Grow Planner", redirect_uris=[REDIRECT],
                                    public=True, scope=SCOPE)
        confidential, secret = register_client(session, admin=admin_principal, name="Metrc Bridge",
                                               redirect_uris=[REDIRECT], scope=SCOPE + " coa:read team:read")
        machine, machine_secret = register_client(session, admin=admin_principal, name="IMS sync",
                                                  redirect_uris=[], grant_types=["client_credentials"],
                                                  scope="business team:read", business_id=farm.id)
        coa_api, coa_api_secret = register_client(session, admin=admin_principal, name="COA archive API",
                                                  redirect_uris=[], grant_types=["introspection"], scope="coa:read")
        team_api, team_api_secret = register_client(session, admin=admin_principal, name="Team directory API",
                                                    redirect_uris=[], grant_types=["introspection"], scope="team:read")
        cookie = session_token(session, owner)
    return {"owner": owner, "farm": farm, "public": public, "confidential": (confidential, secret),
            "machine": (machine, machine_secret), "session": cookie,
            "coa_api": (coa_api.client_id, coa_api_secret), "team_api": (team_api.client_id, team_api_secret)}


async def _introspect(credentials: tuple[str, str], token: str) -> dict:
    async with httpx.AsyncClient(transport=_transport(), base_url=_issuer(), auth=credentials) as c:
        response = await c.post("/oauth/introspect", data={"token": token})
    assert response.status_code == 200, response.text
    return response.json()


def _run(coro):
    # A thread of its own: the browser tests' Playwright keeps an event loop running in the main thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _transport():
    return httpx.ASGITransport(app=api.build())


def _issuer() -> str:
    return get_settings().public_url


async def _status(path: str, access_token: str) -> int:
    """A plain HTTP call with a given bearer (the OAuth client would attach its own current token)."""
    async with httpx.AsyncClient(transport=_transport(), base_url=_issuer()) as plain:
        return (await plain.get(path, headers={"Authorization": f"Bearer {access_token}"})).status_code


async def _authorize(url: str, session_token: str, *, decision: str = "allow") -> str:
    """The browser: follow /oauth/authorize to the consent page, then post the person's decision."""
    async with httpx.AsyncClient(transport=_transport(), base_url=_issuer()) as browser:
        first = await browser.get(url)
        assert first.status_code == 302 and first.headers["location"].startswith("/oauth/consent?")
        query = {k: v[0] for k, v in parse_qs(urlparse(first.headers["location"]).query).items()}
        answer = await browser.post("/oauth/authorize", data={**query, "decision": decision},
                                    headers={"Authorization": f"Bearer {session_token}"})
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


def test_code_flow_with_pkce_id_token_refresh_reuse_and_revocation(world):
    async def flow():
        async with AsyncOAuth2Client(world["public"].client_id, token_endpoint_auth_method="none", scope=SCOPE,
                                     redirect_uri=REDIRECT, code_challenge_method="S256", transport=_transport(),
                                     base_url=_issuer()) as rp:
            discovery = (await rp.request("GET", "/.well-known/openid-configuration", withhold_token=True)).json()
            assert discovery["issuer"] == _issuer() and "S256" in discovery["code_challenge_methods_supported"]
            verifier, nonce = generate_token(48), generate_token(16)
            url, state = rp.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                                     nonce=nonce)
            callback = await _authorize(url, world["session"])
            assert parse_qs(urlparse(callback).query)["state"] == [state]
            token = await rp.fetch_token(discovery["token_endpoint"], authorization_response=callback,
                                         code_verifier=verifier)

            jwks = (await rp.request("GET", discovery["jwks_uri"], withhold_token=True)).json()
            claims = jwt.decode(token["id_token"], KeySet.import_key_set(jwks)).claims
            jwt.JWTClaimsRegistry(iss={"essential": True, "value": _issuer()},
                                  aud={"essential": True, "value": world["public"].client_id},
                                  nonce={"essential": True, "value": nonce}).validate(claims)
            assert claims["email"] == "olive@example.test"
            assert claims["business_id"] == str(world["farm"].id) and claims["business_type"] == "cultivator"
            assert claims["license_numbers"][0]["number"] == "412233"
            assert claims["license_numbers"][0]["verification"] == "verified"
            assert claims["roles"] == ["admin"]

            me = await rp.get("/api/v1/me")
            assert me.status_code == 200 and me.json()["memberships"][0]["business_name"] == "Olive Farms LLC"
            info = await rp.get("/oauth/userinfo")
            assert info.json()["license_numbers"][0]["state"] == "WA"
            # The token was not granted coa:read: the COA API refuses it.
            coas = await rp.get(f"/api/v1/coas?business_id={world['farm'].id}")
            assert coas.status_code == 403 and "coa:read" in coas.json()["detail"]

            first_access, first_refresh = token["access_token"], token["refresh_token"]
            renewed = await rp.refresh_token(discovery["token_endpoint"], refresh_token=first_refresh)
            assert renewed["refresh_token"] != first_refresh  # rotation
            assert await _status("/api/v1/me", first_access) == 401  # the old access token died with the rotation
            assert (await rp.get("/api/v1/me")).status_code == 200

            # Reuse of the rotated refresh token: refused, and the whole grant is revoked.
            reuse = await rp.post(discovery["token_endpoint"], data={
                "grant_type": "refresh_token", "refresh_token": first_refresh, "client_id": world["public"].client_id})
            assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
            assert (await rp.get("/api/v1/me")).status_code == 401
            return rp

    _run(flow())


def test_revoked_and_expired_tokens_are_refused(world):
    client, secret = world["confidential"]

    async def flow():
        async with AsyncOAuth2Client(client.client_id, secret, scope=SCOPE + " coa:read", redirect_uri=REDIRECT,
                                     code_challenge_method="S256", transport=_transport(), base_url=_issuer()) as rp:
            verifier = generate_token(48)
            url, _ = rp.create_authorization_url(f"{_issuer()}/oauth/authorize", code_verifier=verifier)
            callback = await _authorize(url, world["session"])
            token = await rp.fetch_token(f"{_issuer()}/oauth/token", authorization_response=callback,
                                         code_verifier=verifier)
            assert (await rp.get(f"/api/v1/coas?business_id={world['farm'].id}")).status_code == 200
            # Introspection is for resource servers, about tokens meant for them (a coa:read token: the COA API).
            own = await rp.introspect_token(f"{_issuer()}/oauth/introspect", token=token["access_token"])
            assert own.json() == {"active": False}  # the client itself is not a resource server
            assert await _introspect(world["team_api"], token["access_token"]) == {"active": False}
            active = await _introspect(world["coa_api"], token["access_token"])
            assert active["active"] is True and active["business_id"] == str(world["farm"].id)
            # The same code cannot be exchanged twice.
            code = parse_qs(urlparse(callback).query)["code"][0]
            async with httpx.AsyncClient(transport=_transport(), base_url=_issuer(), auth=(client.client_id, secret)) as c:
                again = await c.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                           "redirect_uri": REDIRECT, "code_verifier": verifier})
            assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
            assert (await rp.get("/api/v1/me")).status_code == 401  # the replay revoked what the code minted

            verifier = generate_token(48)
            url, _ = rp.create_authorization_url(f"{_issuer()}/oauth/authorize", code_verifier=verifier)
            callback = await _authorize(url, world["session"])
            token = await rp.fetch_token(f"{_issuer()}/oauth/token", authorization_response=callback,
                                         code_verifier=verifier)
            await rp.revoke_token(f"{_issuer()}/oauth/revoke", token=token["access_token"],
                                  token_type_hint="access_token")
            assert (await rp.get("/api/v1/me")).status_code == 401
            assert await _introspect(world["coa_api"], token["access_token"]) == {"active": False}
            with pytest.raises(OAuthError, match="invalid_grant"):  # revocation ends the refresh token too
                await rp.refresh_token(f"{_issuer()}/oauth/token", refresh_token=token["refresh_token"])

            # An expired access token is refused even though nothing revoked it.
            verifier = generate_token(48)
            url, _ = rp.create_authorization_url(f"{_issuer()}/oauth/authorize", code_verifier=verifier)
            token = await rp.fetch_token(f"{_issuer()}/oauth/token",
                                         authorization_response=await _authorize(url, world["session"]),
                                         code_verifier=verifier)
            with unit_of_work() as session:
                from sqlmodel import select

                from icc_app.core.security import hash_token
                from icc_app.identity.oidc.models import OAuthToken

                row = session.exec(select(OAuthToken).where(
                    OAuthToken.access_token_hash == hash_token(token["access_token"]))).one()
                row.expires_in = -1
                session.add(row)
            assert (await rp.get("/api/v1/me")).status_code == 401

    _run(flow())


def test_public_client_must_use_s256_and_denial_returns_access_denied(world):
    async def flow():
        async with httpx.AsyncClient(transport=_transport(), base_url=_issuer()) as browser:
            query = {"response_type": "code", "client_id": world["public"].client_id, "redirect_uri": REDIRECT,
                     "scope": "openid", "state": "s1"}
            no_pkce = await browser.post("/oauth/authorize", data={**query, "decision": "allow"},
                                         headers={"Authorization": f"Bearer {world['session']}"})
            assert "code=" not in no_pkce.headers.get("location", "")
            assert "PKCE" in (no_pkce.headers.get("location", "") + no_pkce.text).replace("+", " ")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(b"x" * 50).digest()).rstrip(b"=").decode()
            plain = await browser.post("/oauth/authorize", data={**query, "code_challenge": "y" * 50,
                                                                 "code_challenge_method": "plain", "decision": "allow"},
                                       headers={"Authorization": f"Bearer {world['session']}"})
            assert "code=" not in plain.headers.get("location", "")
            denied = await browser.post("/oauth/authorize", data={**query, "code_challenge": challenge,
                                                                  "code_challenge_method": "S256", "decision": "deny"},
                                        headers={"Authorization": f"Bearer {world['session']}"})
            assert denied.status_code == 302 and "error=access_denied" in denied.headers["location"]
            assert "state=s1" in denied.headers["location"]
            unknown = await browser.get("/oauth/authorize", params={**query, "redirect_uri": "https://evil.test/cb"})
            assert unknown.status_code == 400  # never redirected to an unregistered URI

    _run(flow())


def test_client_credentials_token_acts_for_its_business_with_its_scopes(world):
    client, secret = world["machine"]

    async def flow():
        async with AsyncOAuth2Client(client.client_id, secret, scope="team:read", transport=_transport(),
                                     base_url=_issuer()) as machine:
            token = await machine.fetch_token(f"{_issuer()}/oauth/token", grant_type="client_credentials")
            assert "refresh_token" not in token
            members = await machine.get(f"/api/v1/businesses/{world['farm'].id}/members")
            assert members.status_code == 200 and members.json()[0]["name"] == "Olive Owner"
            coas = await machine.get(f"/api/v1/coas?business_id={world['farm'].id}")
            assert coas.status_code == 403
            # A client-credentials client is no resource server: it cannot introspect (not even its own token).
            assert await _introspect((client.client_id, secret), token["access_token"]) == {"active": False}
            meant = await _introspect(world["team_api"], token["access_token"])
            assert meant["active"] is True and meant["scope"] == "team:read"
            assert await _introspect(world["coa_api"], token["access_token"]) == {"active": False}

    _run(flow())


def test_a_resource_server_has_a_secret_and_api_scopes(world):
    from icc_app.core.errors import ValidationFailed

    with unit_of_work() as session:
        admin = identity.build_principal(session, make_user(session, is_platform_admin=True))
        for public, scope in ((True, "coa:read"), (False, "openid profile")):
            with pytest.raises(ValidationFailed, match="resource server"):
                register_client(session, admin=admin, name="Some API", redirect_uris=[], public=public,
                                grant_types=["introspection"], scope=scope)


def test_key_rotation_keeps_the_old_key_published_until_its_tokens_expire(world):
    with unit_of_work() as session:
        old = keys.active_key(session).kid
        new = keys.rotate(session).kid
        published = {k["kid"] for k in keys.jwks(session)["keys"]}
    assert old != new and {old, new} <= published
    with unit_of_work() as session:
        from datetime import timedelta

        from icc_app.core.models import utcnow
        from icc_app.identity.oidc.models import SigningKey
        from sqlmodel import select

        row = session.exec(select(SigningKey).where(SigningKey.kid == old)).one()
        row.publish_until = utcnow() - timedelta(seconds=1)
        session.add(row)
    with unit_of_work() as session:
        assert old not in {k["kid"] for k in keys.jwks(session)["keys"]}
