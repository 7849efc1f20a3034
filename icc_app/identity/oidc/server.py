"""The OAuth2/OIDC authorization server, built on Authlib's grants and endpoints.

Authlib ships server integrations for Flask and Django only; `IccRequest` is the small adapter that hands it a
framework-neutral request (method, URL, headers, query and form), so the same server serves the FastAPI routes
and the Reflex consent page. A server is made per request around that request's database session.

Grants: authorization code (+ PKCE, S256 required for public clients, + OpenID Connect id_tokens), refresh
token with rotation and reuse detection, client credentials. Endpoints: revocation (RFC 7009), introspection
(RFC 7662). Access and refresh tokens are opaque random strings stored as keyed hashes, so revocation is
immediate; id_tokens are RS256 JWTs verifiable with the JWKS.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request, grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.models import utcnow
from icc_app.core.security import hash_token
from icc_app.identity.models import Business, BusinessMember, User
from icc_app.identity.oidc import keys
from icc_app.identity.oidc.models import OAuthAuthorizationCode, OAuthClient, OAuthToken
from icc_app.identity.oidc.scopes import DEFAULT_CLIENT_SCOPE, SCOPES
from icc_app.settings import get_settings

ACCESS_TOKEN_PREFIX = "icc_at_"
REFRESH_TOKEN_PREFIX = "icc_rt_"
ACCESS_TOKEN_LIFETIME = 3600
ID_TOKEN_LIFETIME = 3600
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
CODE_LIFETIME = timedelta(minutes=5)


def issuer() -> str:
    return get_settings().public_url.rstrip("/")


@dataclass
class GrantUser:
    """The resource owner of a grant: the user and the business they chose to act for."""

    user: User
    business_id: uuid.UUID | None

    def get_user_id(self):
        return str(self.user.id)


class IccRequest(OAuth2Request):
    def __init__(self, method: str, uri: str, headers: dict, args: dict, form: dict):
        super().__init__(method, uri, headers=headers)
        self._args, self._form = dict(args), dict(form)
        self.payload = BasicOAuth2Payload({**self._args, **self._form})

    @property
    def args(self):
        return self._args

    @property
    def form(self):
        return self._form


@dataclass(frozen=True)
class Response:
    status: int
    body: dict | str
    headers: dict


class _TokenView:
    """One token string looked up for revocation or introspection: access or refresh half of a row."""

    def __init__(self, row: OAuthToken, kind: str):
        self.row, self.kind = row, kind

    def check_client(self, client) -> bool:
        return self.row.check_client(client)

    def get_scope(self) -> str:
        return self.row.scope

    def is_expired(self) -> bool:
        if self.kind == "access_token":
            return self.row.is_expired()
        return self.row.refresh_expires_at is not None and self.row.refresh_expires_at <= utcnow()

    def is_revoked(self) -> bool:
        if self.kind == "access_token":
            return self.row.is_revoked()
        return self.row.refresh_revoked_at is not None or self.row.rotated_at is not None


def find_token(session: Session, raw: str, kind: str | None = None) -> _TokenView | None:
    if kind in (None, "access_token") and raw.startswith(ACCESS_TOKEN_PREFIX):
        row = session.exec(select(OAuthToken).where(OAuthToken.access_token_hash == hash_token(raw))).first()
        return _TokenView(row, "access_token") if row else None
    if kind in (None, "refresh_token") and raw.startswith(REFRESH_TOKEN_PREFIX):
        row = session.exec(select(OAuthToken).where(OAuthToken.refresh_token_hash == hash_token(raw))).first()
        return _TokenView(row, "refresh_token") if row else None
    return None


def revoke_family(session: Session, family_id: uuid.UUID, *, reason: str) -> int:
    now, count = utcnow(), 0
    for row in session.exec(select(OAuthToken).where(OAuthToken.family_id == family_id)):
        row.access_revoked_at = row.access_revoked_at or now
        row.refresh_revoked_at = row.refresh_revoked_at or now
        session.add(row)
        count += 1
    audit.record(session, action="identity.oauth.family_revoked", object_type="oauth_grant", object_id=family_id,
                 after={"reason": reason, "tokens": count})
    return count


def user_claims(session: Session, grant_user: GrantUser, scope: str) -> dict:
    """Claims for id_tokens and userinfo: standard ones by scope, and ICC's license identity."""
    from icc_app.identity.service import license_claims

    user, scopes = grant_user.user, set((scope or "").split())
    claims: dict = {"sub": str(user.id)}
    if "profile" in scopes:
        claims["name"] = user.display_name
        if user.handle:
            claims["preferred_username"] = user.handle
    if "email" in scopes:
        claims["email"], claims["email_verified"] = user.email, user.email_verified_at is not None
    if "business" in scopes and grant_user.business_id is not None:
        business = session.get(Business, grant_user.business_id)
        member = session.exec(select(BusinessMember).where(BusinessMember.business_id == business.id,
                                                           BusinessMember.user_id == user.id)).first()
        if member is not None:
            claims.update(_business_claims(session, business, license_claims(session, business.id)))
            claims["roles"] = [member.role.value if hasattr(member.role, "value") else member.role]
            claims["products"] = "all" if claims["roles"] == ["admin"] else list(member.products or [])
    return claims


def _business_claims(session: Session, business: Business, licenses) -> dict:
    return {
        "business_id": str(business.id),
        "business_name": business.dba or business.legal_name,
        "business_type": business.business_type.value if hasattr(business.business_type, "value") else business.business_type,
        "license_numbers": [{"number": lic.number, "state": lic.state, "license_type": lic.license_type,
                             "verification": lic.verification.value, "status": lic.status.value,
                             "expires_on": lic.expires_on.isoformat() if lic.expires_on else None} for lic in licenses],
    }


class _SessionBound:
    @property
    def db(self) -> Session:
        return self.server.session


class StrictCodeChallenge(CodeChallenge):
    """PKCE: public clients must send an S256 challenge; confidential clients may, and only S256."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        client = grant.server.query_client(grant.request.payload.client_id)
        if client is not None and client.is_public:
            if not data.get("code_challenge"):
                raise InvalidRequestError("Public clients must use PKCE: send code_challenge.")
            if data.get("code_challenge_method") != "S256":
                raise InvalidRequestError("Public clients must use code_challenge_method=S256.")


class AuthorizationCodeGrant(_SessionBound, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code, request):
        grant_user: GrantUser = request.user
        data = request.payload.data
        row = OAuthAuthorizationCode(
            code_hash=hash_token(code), client_id=request.client.client_id, user_id=grant_user.user.id,
            business_id=grant_user.business_id, redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope or "", nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"), expires_at=utcnow() + CODE_LIFETIME,
        )
        self.db.add(row)
        self.db.flush()
        return row

    def query_authorization_code(self, code, client):
        row = self.db.exec(select(OAuthAuthorizationCode).where(
            OAuthAuthorizationCode.code_hash == hash_token(code), OAuthAuthorizationCode.client_id == client.client_id
        )).first()
        if row is None or row.is_expired():
            return None
        if row.used_at is not None:  # a replayed code: refuse, and revoke what it minted (RFC 6749 4.1.2)
            revoke_family(self.db, row.id, reason="authorization code replayed")
            return None
        return row

    def delete_authorization_code(self, authorization_code):
        authorization_code.used_at = utcnow()
        self.db.add(authorization_code)

    def authenticate_user(self, authorization_code):
        self.request.family_id = authorization_code.id  # tokens minted from this code share its id as family
        user = self.db.get(User, authorization_code.user_id)
        return GrantUser(user, authorization_code.business_id) if user and user.is_active else None


class IccOpenIDCode(OpenIDCode):
    def __init__(self, session: Session):
        super().__init__(require_nonce=False)
        self.session = session

    def exists_nonce(self, nonce, request):
        return self.session.exec(select(OAuthAuthorizationCode.id).where(
            OAuthAuthorizationCode.client_id == request.payload.client_id, OAuthAuthorizationCode.nonce == nonce
        )).first() is not None

    def get_client_algorithm(self, client):
        return "RS256"

    def resolve_client_private_key(self, client):
        key = keys.active_key(self.session)
        return RSAKey.import_key(key.private_pem, {"kid": key.kid})

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": keys.active_key(self.session).kid, "typ": "JWT"}

    def get_client_claims(self, client):
        return {"iss": issuer(), "aud": [client.client_id], "exp": int(time.time()) + ID_TOKEN_LIFETIME}

    def generate_user_info(self, user, scope):
        return UserInfo(user_claims(self.session, user, scope))


class RefreshTokenGrant(_SessionBound, grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every use returns a new refresh token

    def authenticate_refresh_token(self, refresh_token):
        row = self.db.exec(select(OAuthToken).where(OAuthToken.refresh_token_hash == hash_token(refresh_token))).first()
        if row is None:
            return None
        if row.rotated_at is not None and row.refresh_revoked_at is None:
            # Reuse of a rotated token: someone holds a copy. Revoke the whole grant (RFC 6819 5.2.2.3).
            # The error is answered, not raised, so the unit of work commits this revocation.
            revoke_family(self.db, row.family_id, reason="refresh token reused")
            return None
        return row if row.is_refresh_token_usable() else None

    def authenticate_user(self, refresh_token):
        user = self.db.get(User, refresh_token.user_id) if refresh_token.user_id else None
        return GrantUser(user, refresh_token.business_id) if user and user.is_active else None

    def revoke_old_credential(self, refresh_token):
        refresh_token.rotated_at = utcnow()
        refresh_token.access_revoked_at = refresh_token.access_revoked_at or utcnow()
        self.db.add(refresh_token)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class IccRevocationEndpoint(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string, token_type_hint):
        return find_token(self.server.session, token_string, token_type_hint) or (
            find_token(self.server.session, token_string) if token_type_hint else None)

    def revoke_token(self, token, request):
        # Revoking either half ends the grant: the access token and the refresh token go together.
        row, now = token.row, utcnow()
        row.access_revoked_at = row.access_revoked_at or now
        row.refresh_revoked_at = row.refresh_revoked_at or now
        self.server.session.add(row)
        audit.record(self.server.session, action="identity.oauth.token_revoked", object_type="oauth_token",
                     object_id=row.id, actor_id=row.user_id, business_id=row.business_id,
                     after={"client_id": row.client_id, "hint": token.kind})


RESOURCE_SERVER = "introspection"  # in a client's grant types: it is an API that receives ICC access tokens
IDENTITY_SCOPES = frozenset(DEFAULT_CLIENT_SCOPE.split())  # about the person, served by ICC itself


def is_resource_server(client) -> bool:
    return RESOURCE_SERVER in (client.grant_types or []) and not client.is_public and client.is_active


def token_is_for(token_scope: str, resource_server) -> bool:
    """A token's audience: the resource servers serving one of its API scopes (a resource server's `scope`
    lists the API scopes it serves). Identity scopes (openid, email ...) make no resource server an audience."""
    served = set(resource_server.scope.split()) - IDENTITY_SCOPES
    return bool(served & set((token_scope or "").split()))


class IccIntrospectionEndpoint(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string, token_type_hint):
        return find_token(self.server.session, token_string, token_type_hint) or (
            find_token(self.server.session, token_string) if token_type_hint else None)

    def check_permission(self, token, client, request):
        """Only resource servers introspect, and only tokens meant for them (anything else reads as inactive)."""
        return is_resource_server(client) and token_is_for(token.get_scope(), client)

    def introspect_token(self, token):
        row = token.row
        expires = row.access_expires_at if token.kind == "access_token" else row.refresh_expires_at
        return {"active": True, "client_id": row.client_id, "token_type": "Bearer", "scope": row.scope,
                "sub": str(row.user_id) if row.user_id else None, "iss": issuer(),
                "exp": int(expires.timestamp()) if expires else None, "iat": int(row.issued_at.timestamp()),
                "business_id": str(row.business_id) if row.business_id else None}


def _expires_in(client, grant_type):
    return ACCESS_TOKEN_LIFETIME


class IccAuthorizationServer(AuthorizationServer):
    def __init__(self, session: Session):
        super().__init__(scopes_supported=list(SCOPES))
        self.session = session
        self.register_token_generator("default", BearerTokenGenerator(
            lambda **_: ACCESS_TOKEN_PREFIX + generate_token(42),
            lambda **_: REFRESH_TOKEN_PREFIX + generate_token(48),
            _expires_in,
        ))
        self.register_grant(AuthorizationCodeGrant, [StrictCodeChallenge(required=True), IccOpenIDCode(session)])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(IccRevocationEndpoint)
        self.register_endpoint(IccIntrospectionEndpoint)

    def query_client(self, client_id):
        if not client_id:
            return None
        return self.session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id,
                                                           OAuthClient.is_active == True)).first()  # noqa: E712

    def save_token(self, token, request):
        grant_user: GrantUser | None = request.user
        old: OAuthToken | None = request.refresh_token if isinstance(request.refresh_token, OAuthToken) else None
        if old is not None:
            family_id, business_id = old.family_id, old.business_id
        else:
            family_id = getattr(request, "family_id", None) or uuid.uuid4()
            business_id = grant_user.business_id if grant_user else request.client.business_id
        refresh = token.get("refresh_token")
        row = OAuthToken(
            client_id=request.client.client_id, user_id=grant_user.user.id if grant_user else None,
            business_id=business_id, family_id=family_id, access_token_hash=hash_token(token["access_token"]),
            refresh_token_hash=hash_token(refresh) if refresh else None, scope=token.get("scope", "") or "",
            expires_in=int(token.get("expires_in", ACCESS_TOKEN_LIFETIME)),
            refresh_expires_at=utcnow() + REFRESH_TOKEN_LIFETIME if refresh else None,
        )
        self.session.add(row)
        self.session.flush()
        audit.record(self.session, action="identity.oauth.token_issued", object_type="oauth_token", object_id=row.id,
                     actor_id=row.user_id, business_id=business_id,
                     after={"client_id": row.client_id, "scope": row.scope, "grant_type": request.payload.grant_type})

    def create_oauth2_request(self, request):
        return request

    def create_json_request(self, request):
        return request

    def handle_response(self, status_code, payload, headers):
        return Response(status_code, payload, dict(headers))

    def send_signal(self, name, *args, **kwargs):
        return None


def resolve_access_token(session: Session, raw: str):
    """The token row behind a bearer access token, or None when unknown, expired or revoked."""
    view = find_token(session, raw, "access_token")
    if view is None or view.is_expired() or view.is_revoked():
        return None
    return view.row


def live_grants(session: Session, *, user_id: uuid.UUID) -> list[OAuthToken]:
    return list(session.exec(select(OAuthToken).where(OAuthToken.user_id == user_id,
                                                      col(OAuthToken.refresh_revoked_at).is_(None))))
