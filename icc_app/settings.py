"""Twelve-factor settings, read once from the environment (and an optional .env file).

Every deployment knob lives here so that rxconfig, the API, the workers and the CLI agree. A missing or
malformed value stops the process at start with a message naming the variable, rather than failing later
in the middle of a request.
"""

from __future__ import annotations

import functools
import zoneinfo
from pathlib import Path
from urllib.parse import urlparse

from cryptography.fernet import Fernet
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


class SettingsError(SystemExit):
    """Raised at start when the configuration is unusable; the message names each bad variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'icc.db'}",
        description="SQLAlchemy URL: sqlite:///path (embedded) or postgresql+psycopg://user@host/db (full).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Celery broker, rate limits, Reflex state. Unset: tasks run in-process (embedded mode).",
    )
    storage_url: str = Field(
        default=f"file://{VAR_DIR / 'media'}",
        description="file:///dir for local disk, or s3://bucket/prefix?endpoint_url=...&region=... for S3.",
    )
    smtp_url: str = Field(
        default="console://",
        description="smtp://user:pass@host:port (smtps:// for TLS) or console:// to print email to the log.",
    )
    secret_key: str = Field(description="Signs sessions and tokens; at least 32 characters.")
    encryption_keys: str = Field(
        description="Comma-separated Fernet keys for secrets and PII at rest; the first encrypts, all decrypt."
    )
    audit_key: str | None = Field(
        default=None, min_length=32,
        description="HMAC key of the audit chain, kept outside the database; unset: derived from SECRET_KEY "
        "(then rotating SECRET_KEY makes older audit rows fail verification).",
    )
    public_url: str = Field(default="http://localhost:3000", description="Where users reach the app.")
    timezone: str = Field(default="America/Denver", description="Default display timezone of businesses.")
    email_from: str = Field(default="ICC <no-reply@icc.local>", description="Sender of platform email.")
    max_upload_mb: int = Field(default=50, ge=1, le=1024, description="Largest accepted upload, in MiB.")
    sync_lease_seconds: int = Field(default=300, ge=5, le=3600,
                                    description="How long a POS sync run holds its connection without a sign of "
                                                "life before another worker takes it over.")
    map_tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Map tiles ({z}/{x}/{y}), loaded by the visitor's browser; empty: maps show markers only.",
    )
    geocoder_url: str | None = Field(
        default=None,
        description="A US Census geocoder (or a server speaking its API) for street addresses; unset: ZIP codes only.",
    )
    map_tile_attribution: str = Field(
        default="&copy; OpenStreetMap contributors", description="The credit line the tile server requires."
    )

    cors_origins: str = Field(
        default="",
        description="Comma-separated origins (https://app.example.com) allowed to call the API and the websocket "
        "with credentials, besides PUBLIC_URL's own; empty: same origin only.",
    )

    @field_validator("cors_origins")
    @classmethod
    def _cors_origins(cls, value: str) -> str:
        origins = [o.strip().rstrip("/") for o in (value or "").split(",") if o.strip()]
        for origin in origins:
            parsed = urlparse(origin)
            if origin == "*" or parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path:
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com (no '*', no path)")
        return ",".join(origins)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = urlparse(value).scheme
        if scheme == "postgresql" or scheme == "postgres":
            value = "postgresql+psycopg" + value[len(scheme) :]
        elif not (scheme.startswith("sqlite") or scheme.startswith("postgresql+")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if urlparse(value).scheme not in ("redis", "rediss"):
            raise ValueError("must start with redis:// or rediss://")
        return value

    @field_validator("storage_url")
    @classmethod
    def _storage_url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("file", "s3"):
            raise ValueError("must start with file:// or s3://")
        if parsed.scheme == "s3" and not parsed.netloc:
            raise ValueError("s3:// URL needs a bucket name, e.g. s3://icc-media")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("smtp", "smtps", "console"):
            raise ValueError("must start with smtp://, smtps:// or console://")
        if parsed.scheme != "console" and not parsed.hostname:
            raise ValueError("needs a host, e.g. smtp://mail.example.com:587")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: str) -> str:
        if len(value) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _encryption_keys(cls, value: str) -> str:
        keys = [k.strip() for k in value.split(",") if k.strip()]
        if not keys:
            raise ValueError("needs at least one Fernet key")
        for index, key in enumerate(keys, start=1):
            try:
                Fernet(key)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"key #{index} is not a valid Fernet key (32 url-safe base64 bytes)") from exc
        return ",".join(keys)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def embedded_tasks(self) -> bool:
        """No broker configured: Celery runs tasks eagerly in the calling process."""
        return self.redis_url is None

    @property
    def allowed_origins(self) -> list[str]:
        """PUBLIC_URL's origin plus CORS_ORIGINS: the only origins the API and websocket accept credentials from."""
        public = urlparse(self.public_url)
        own = [f"{public.scheme}://{public.netloc}"] if public.scheme and public.netloc else []
        if public.hostname in _LOOPBACK_NAMES and own:  # a local install answers to both of its names
            port = f":{public.port}" if public.port else ""
            own += [f"{public.scheme}://{name}{port}" for name in _LOOPBACK_NAMES]
        extra = [o for o in self.cors_origins.split(",") if o]
        return list(dict.fromkeys(own + extra))

    @property
    def runs_locally(self) -> bool:
        """The app is served on this machine (development, staging, tests): vendor connections may then point at
        local servers speaking a vendor's protocol. A deployment with a public address refuses them."""
        return (urlparse(self.public_url).hostname or "") in _LOOPBACK_NAMES

    @property
    def encryption_key_list(self) -> list[str]:
        return self.encryption_keys.split(",")


_LOOPBACK_NAMES = ("localhost", "127.0.0.1")


def load_settings() -> Settings:
    """Build settings, turning validation errors into one readable message naming each variable."""
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            variable = str(error["loc"][0]).upper() if error["loc"] else "?"
            reason = "is required but not set" if error["type"] == "missing" else error["msg"]
            lines.append(f"  {variable}: {reason}")
        raise SettingsError("ICC configuration error:\n" + "\n".join(lines)) from None


@functools.cache
def get_settings() -> Settings:
    return load_settings()
