"""OAuth2/OIDC provider tables: registered clients, authorization codes, tokens and signing keys.

Secrets are never stored: client secrets, codes, access and refresh tokens are kept as keyed hashes, and the
RSA private keys are Fernet-encrypted. A refresh token belongs to a family (one authorization); presenting a
refresh token that was already rotated revokes the whole family (reuse detection, RFC 6819 5.2.2.3).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import UTCDateTime, UUIDModel, utcnow
from icc_app.core.security import EncryptedString, hash_token


class OAuthClient(UUIDModel, table=True):
    __tablename__ = "oauth_clients"

    client_id: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    client_secret_hash: str | None = Field(default=None, max_length=64)  # None: a public client (PKCE required)
    name: str = Field(max_length=120)
    redirect_uris: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    grant_types: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    scope: str = Field(default="openid profile email", max_length=1000)
    business_id: uuid.UUID | None = Field(default=None, foreign_key="businesses.id", ondelete="CASCADE")
    is_active: bool = Field(default=True)
    created_by: uuid.UUID | None = Field(default=None)

    # --- authlib ClientMixin ---
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        import hmac

        return bool(self.client_secret_hash) and hmac.compare_digest(self.client_secret_hash, hash_token(client_secret))

    @property
    def is_public(self) -> bool:
        return self.client_secret_hash is None

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


class OAuthAuthorizationCode(UUIDModel, table=True):
    __tablename__ = "oauth_authorization_codes"

    code_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    client_id: str = Field(max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    business_id: uuid.UUID | None = Field(default=None)
    redirect_uri: str = Field(default="", max_length=1000)
    scope: str = Field(default="", max_length=1000)
    nonce: str | None = Field(default=None, max_length=255)
    code_challenge: str | None = Field(default=None, max_length=128)
    code_challenge_method: str | None = Field(default=None, max_length=10)
    auth_time: int = Field(default_factory=lambda: int(time.time()))
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    # --- authlib AuthorizationCodeMixin ---
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()


class OAuthToken(UUIDModel, table=True):
    __tablename__ = "oauth_tokens"

    client_id: str = Field(max_length=64, index=True)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    business_id: uuid.UUID | None = Field(default=None)
    family_id: uuid.UUID = Field(default_factory=uuid.uuid4, index=True)
    access_token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    refresh_token_hash: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    scope: str = Field(default="", max_length=1000)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_in: int = 3600
    refresh_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    access_revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    refresh_revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # its refresh token was exchanged

    @property
    def access_expires_at(self) -> datetime:
        from datetime import timedelta

        return self.issued_at + timedelta(seconds=self.expires_in)

    # --- authlib TokenMixin ---
    def check_client(self, client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.access_expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.access_revoked_at is not None

    def is_refresh_token_usable(self) -> bool:
        return (
            self.refresh_token_hash is not None
            and self.refresh_revoked_at is None
            and self.rotated_at is None
            and (self.refresh_expires_at is None or self.refresh_expires_at > utcnow())
        )


class SigningKey(UUIDModel, table=True):
    """RS256 keys for id_tokens. The newest active key signs; retired keys stay in the JWKS until
    `publish_until` (the retirement time plus the longest token lifetime), so tokens already issued verify."""

    __tablename__ = "oidc_signing_keys"

    kid: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    private_pem: str = Field(sa_type=EncryptedString)
    public_jwk: dict = Field(sa_type=sa.JSON)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    publish_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
