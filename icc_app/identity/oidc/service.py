"""What the OIDC routes and the consent page call: registered clients (platform admins), the authorization
request shown on the consent screen, the user's decision, token requests, and bearer-token principals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlencode, urlparse

from authlib.oauth2.rfc6749.errors import OAuth2Error
from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import NotFound, ValidationFailed
from icc_app.core.security import hash_token, new_token
from icc_app.identity.models import User
from icc_app.identity.oidc.models import OAuthClient, OAuthToken
from icc_app.identity.oidc.scopes import DEFAULT_CLIENT_SCOPE, SCOPES
from icc_app.identity.oidc.server import (
    IDENTITY_SCOPES,
    GrantUser,
    IccAuthorizationServer,
    IccRequest,
    Response,
    issuer,
    resolve_access_token,
)
from icc_app.identity.schemas import Principal

GRANT_TYPES = {"authorization_code", "refresh_token", "client_credentials", "introspection"}


@dataclass(frozen=True)
class ClientRead:
    id: uuid.UUID
    client_id: str
    name: str
    public: bool
    redirect_uris: list[str]
    grant_types: list[str]
    scope: str
    business_id: uuid.UUID | None
    is_active: bool


def _read(client: OAuthClient) -> ClientRead:
    return ClientRead(id=client.id, client_id=client.client_id, name=client.name, public=client.is_public,
                      redirect_uris=list(client.redirect_uris), grant_types=list(client.grant_types),
                      scope=client.scope, business_id=client.business_id, is_active=client.is_active)


def register_client(session: Session, *, admin: Principal, name: str, redirect_uris: list[str], public: bool = False,
                    grant_types: list[str] | None = None, scope: str = DEFAULT_CLIENT_SCOPE,
                    business_id: uuid.UUID | None = None, ip: str | None = None) -> tuple[ClientRead, str | None]:
    """Register a relying party; returns it and its secret (shown once; None for a public client)."""
    from icc_app.identity.permissions import require_platform_admin

    require_platform_admin(admin)
    name = (name or "").strip()
    if len(name) < 2:
        raise ValidationFailed("Give the client a name people will recognise on the consent screen.", field="name")
    grant_types = sorted(set(grant_types or ["authorization_code", "refresh_token"]))
    if not set(grant_types) <= GRANT_TYPES:
        raise ValidationFailed(f"Grant types are {', '.join(sorted(GRANT_TYPES))}.", field="grant_types")
    if public and "client_credentials" in grant_types:
        raise ValidationFailed("A public client cannot use client credentials.", field="grant_types")
    if "client_credentials" in grant_types and business_id is None:
        raise ValidationFailed("A client-credentials client acts for one business: choose it.", field="business_id")
    uris = [u.strip() for u in redirect_uris if u and u.strip()]
    for uri in uris:
        parsed = urlparse(uri)
        local = parsed.hostname in ("localhost", "127.0.0.1", "::1")
        if parsed.fragment or not parsed.hostname or parsed.scheme not in ("https", "http") or (
            parsed.scheme == "http" and not local
        ):
            raise ValidationFailed(f"{uri!r} is not allowed: use https (http only for localhost), no fragment.",
                                   field="redirect_uris")
    if "authorization_code" in grant_types and not uris:
        raise ValidationFailed("Add at least one redirect URI.", field="redirect_uris")
    unknown = [s for s in scope.split() if s not in SCOPES]
    if unknown:
        raise ValidationFailed(f"Unknown scope: {', '.join(unknown)}.", field="scope")
    if "introspection" in grant_types and (public or not set(scope.split()) - IDENTITY_SCOPES):
        raise ValidationFailed("A resource server (introspection) needs a secret and the API scopes it serves, "
                               "e.g. coa:read.", field="scope")
    secret = None if public else new_token(32)
    client = OAuthClient(client_id="icc_" + new_token(12), client_secret_hash=hash_token(secret) if secret else None,
                         name=name, redirect_uris=uris, grant_types=grant_types, scope=" ".join(scope.split()),
                         business_id=business_id, created_by=admin.user_id)
    session.add(client)
    session.flush()
    audit.record(session, action="identity.oauth.client_registered", object_type="oauth_client",
                 object_id=client.client_id, actor_id=admin.user_id,
                 after={"name": name, "public": public, "grant_types": grant_types, "scope": client.scope,
                        "redirect_uris": uris}, ip=ip)
    return _read(client), secret


def list_clients(session: Session) -> list[ClientRead]:
    return [_read(c) for c in session.exec(select(OAuthClient).order_by(col(OAuthClient.created_at).desc()))]


def set_client_active(session: Session, *, admin: Principal, client_id: str, active: bool) -> ClientRead:
    from icc_app.identity.permissions import require_platform_admin

    require_platform_admin(admin)
    client = session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()
    if client is None:
        raise NotFound("Client not found.")
    client.is_active = active
    session.add(client)
    if not active:  # a disabled client's tokens stop working at once
        for token in session.exec(select(OAuthToken).where(OAuthToken.client_id == client_id)):
            from icc_app.core.models import utcnow

            token.access_revoked_at = token.access_revoked_at or utcnow()
            token.refresh_revoked_at = token.refresh_revoked_at or utcnow()
            session.add(token)
    audit.record(session, action="identity.oauth.client_" + ("enabled" if active else "disabled"),
                 object_type="oauth_client", object_id=client_id, actor_id=admin.user_id)
    return _read(client)


# --- authorization (consent) -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConsentRequest:
    client_name: str
    client_id: str
    scopes: list[tuple[str, str]]  # (scope, what it lets the client do)
    redirect_host: str


class AuthorizationError(Exception):
    """The request cannot go back to the client (unknown client or redirect URI): shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _authorize_request(query: dict, form: dict | None = None) -> IccRequest:
    uri = f"{issuer()}/oauth/authorize?{urlencode(query)}"
    return IccRequest("POST" if form else "GET", uri, {}, query, form or {})


def consent_request(session: Session, *, query: dict, user: User) -> ConsentRequest:
    """Validate the client's authorization request for the consent screen."""
    server = IccAuthorizationServer(session)
    try:
        grant = server.get_consent_grant(_authorize_request(query), end_user=GrantUser(user, None))
    except OAuth2Error as error:
        raise AuthorizationError(error.description or error.error) from None
    client = grant.client
    scope = grant.request.scope or ""
    return ConsentRequest(client_name=client.name, client_id=client.client_id,
                          scopes=[(s, SCOPES.get(s, s)) for s in scope.split()],
                          redirect_host=urlparse(grant.redirect_uri).netloc)


def decide(session: Session, *, query: dict, user: User, allow: bool, business_id: uuid.UUID | None,
           ip: str | None = None) -> str:
    """The user's answer; returns the URL to send the browser to (the client's redirect URI with a code,
    or with error=access_denied)."""
    from icc_app.identity.service import build_principal

    if allow and business_id is not None and build_principal(session, user).membership(business_id) is None:
        raise NotFound("Business not found.")
    if allow and business_id is None:
        first = build_principal(session, user).memberships
        business_id = first[0].business_id if first else None
    server = IccAuthorizationServer(session)
    request = _authorize_request(query)
    try:
        grant = server.get_consent_grant(request, end_user=GrantUser(user, business_id))
    except OAuth2Error as error:
        raise AuthorizationError(error.description or error.error) from None
    response: Response = server.create_authorization_response(request, GrantUser(user, business_id) if allow else None,
                                                               grant)
    audit.record(session, action="identity.oauth.consent_" + ("granted" if allow else "denied"),
                 object_type="oauth_client", object_id=query.get("client_id"), actor_id=user.id,
                 business_id=business_id, after={"scope": query.get("scope")}, ip=ip)
    return response.headers["Location"]


def token_response(session: Session, *, endpoint: str, url: str, headers, form: dict) -> Response:
    """headers: a case-insensitive mapping (Starlette's Headers), as Authlib reads "Authorization"."""
    server = IccAuthorizationServer(session)
    request = IccRequest("POST", url, headers, {}, form)
    if endpoint == "token":
        return server.create_token_response(request)
    return server.create_endpoint_response(endpoint, request)


def principal_for_access_token(session: Session, raw: str) -> Principal | None:
    """The principal behind an OAuth bearer token: a user (narrowed to the token's business) or, for client
    credentials, the client acting for its business. Scopes travel with it and are checked per endpoint."""
    from icc_app.identity.service import build_principal, membership_read
    from icc_app.identity.models import Business, BusinessMember, Role, UserKind

    row = resolve_access_token(session, raw)
    if row is None:
        return None
    scopes = row.scope.split()
    if row.user_id is not None:
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        principal = build_principal(session, user, scopes=scopes, client_id=row.client_id)
        if row.business_id is not None:  # a token acts for the one business chosen at consent
            principal.memberships = [m for m in principal.memberships if m.business_id == row.business_id]
        principal.is_platform_admin = False  # admin powers never travel in third-party tokens
        return principal
    business = session.get(Business, row.business_id) if row.business_id else None
    if business is None:
        return None
    service_member = BusinessMember(business_id=business.id, user_id=uuid.uuid4(), role=Role.manager, products=[
        "exchange", "console", "integrations"])
    return Principal(user_id=None, email="", display_name=f"OAuth client {row.client_id}", kind=UserKind.service,
                     is_platform_admin=False, scopes=scopes, client_id=row.client_id,
                     memberships=[membership_read(session, service_member, business)])


def discovery() -> dict:
    base = issuer()
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "jwks_uri": f"{base}/oauth/jwks",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "grant_types_supported": sorted(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "name", "preferred_username", "email", "email_verified", "business_id",
                             "business_name", "business_type", "license_numbers", "roles", "products"],
    }


@dataclass(frozen=True)
class ConnectedApp:
    client_id: str
    name: str
    scope: str
    since: str


def connected_apps(session: Session, *, user_id: uuid.UUID) -> list[ConnectedApp]:
    """Applications holding a live grant (an unexpired, unrevoked token) for this person."""
    from icc_app.core.models import utcnow

    apps: dict[str, ConnectedApp] = {}
    rows = session.exec(select(OAuthToken, OAuthClient).join(OAuthClient, col(OAuthClient.client_id) == OAuthToken.client_id)
                        .where(OAuthToken.user_id == user_id, col(OAuthToken.refresh_revoked_at).is_(None))
                        .order_by(col(OAuthToken.issued_at))).all()
    for token, client in rows:
        live_refresh = token.is_refresh_token_usable()
        live_access = not token.is_revoked() and token.access_expires_at > utcnow()
        if (live_refresh or live_access) and client.client_id not in apps:
            apps[client.client_id] = ConnectedApp(client_id=client.client_id, name=client.name, scope=token.scope,
                                                  since=token.issued_at.strftime("%Y-%m-%d"))
    return list(apps.values())


def revoke_app(session: Session, *, user_id: uuid.UUID, client_id: str, ip: str | None = None) -> int:
    """Disconnect an application: every token it holds for this person stops working at once."""
    from icc_app.core.models import utcnow

    count = 0
    for token in session.exec(select(OAuthToken).where(OAuthToken.user_id == user_id, OAuthToken.client_id == client_id)):
        token.access_revoked_at = token.access_revoked_at or utcnow()
        token.refresh_revoked_at = token.refresh_revoked_at or utcnow()
        session.add(token)
        count += 1
    if count == 0:
        raise NotFound("Application not found.")
    audit.record(session, action="identity.oauth.app_disconnected", object_type="oauth_client", object_id=client_id,
                 actor_id=user_id, after={"tokens": count}, ip=ip)
    return count
