"""Partner API keys: a business's Admin creates one for a partner system (a name, scopes, an expiry), sees the raw
key once, and can rotate it (the old key keeps working for a short grace period) or revoke it.

Only the keyed hash of a key is stored (core.security.hash_token) with a short visible prefix. A key acts for its
business only: `principal_for_api_key` turns it into a Principal with that one membership and the key's scopes, so
every REST endpoint's scope check and tenant scoping apply unchanged. Each key has its own rate limit. Creating,
rotating, revoking, and every refused use are audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import NotAuthenticated, NotFound, PermissionDenied, RateLimited, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import RateLimiter, hash_token, new_token
from icc_app.core.validation import safe_text
from icc_app.identity.models import Business, BusinessMember, Role, UserKind
from icc_app.identity.oidc.scopes import SCOPES as OAUTH_SCOPES
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import Principal
from icc_app.integrations.partners.models import ApiKey, ApiKeyEvent, ApiKeyStatus

API_KEY_PREFIX = "icc_pk_"
VISIBLE_PREFIX_LENGTH = len(API_KEY_PREFIX) + 6  # "icc_pk_Ab3xYz": enough to tell keys apart, useless to guess
DEFAULT_GRACE_MINUTES = 60  # how long a rotated key keeps working unless the Admin chooses otherwise
MAX_GRACE_MINUTES = 7 * 24 * 60
MAX_EXPIRY_DAYS = 730
DEFAULT_RATE_LIMIT = 120  # requests per minute per key
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often (not on every request)

# Scopes only partner keys carry, with the words the console shows.
PARTNER_SCOPES: dict[str, str] = {
    "menu:read": "Read your dispensaries' menus (items, prices, stock)",
    "sales:read": "Read your point-of-sale sales",
    "lots:read": "Read your business's lots on the exchange",
    "orders:read": "Read your business's exchange orders",
    "webhooks:manage": "Add, change and remove webhook endpoints, and redeliver events",
    "widget": "Embed the checkout widget on your website",
}
# The platform's OAuth API scopes a key may also carry (identity scopes such as openid or email make no sense for
# a key: it is no person).
_IDENTITY_SCOPES = {"openid", "profile", "email", "business", "offline_access"}
KEY_SCOPES: dict[str, str] = PARTNER_SCOPES | {s: d for s, d in OAUTH_SCOPES.items() if s not in _IDENTITY_SCOPES}
# Products a key's principal may reach, as for an OAuth client acting for its business; its scopes narrow it down.
KEY_PRODUCTS = ["exchange", "maps", "integrations", "console"]

unknown_keys_by_ip = RateLimiter(name="api_key_unknown_ip", limit=30, window_seconds=60)
rate_limit_audits = RateLimiter(name="api_key_429_audit", limit=1, window_seconds=60)


def _limiter(key: ApiKey) -> RateLimiter:
    return RateLimiter(name="api_key", limit=key.rate_limit_per_minute, window_seconds=60)


@dataclass(frozen=True)
class IssuedKey:
    """A freshly made key: `raw` exists only in this object, returned once to the Admin who asked."""

    key: ApiKey
    raw: str


def display_status(key: ApiKey, *, now: datetime | None = None) -> str:
    """What a person sees: active, expiring (rotated, still in its grace period), expired, revoked."""
    now = now or utcnow()
    if key.status == ApiKeyStatus.revoked:
        return "revoked"
    if key.status == ApiKeyStatus.rotated:
        return "expiring" if key.grace_until and key.grace_until > now else "expired"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def _admin(principal: Principal, business_id: uuid.UUID) -> None:
    """Keys are managed by a signed-in Admin of the business, never by a key or a third-party token."""
    if principal.scopes is not None and principal.membership(business_id) is not None:
        raise PermissionDenied("API keys are managed by a signed-in Admin, not with an API key or access token.")
    require_member(principal, business_id, min_role=Role.admin)


def _clean_scopes(scopes: list[str]) -> list[str]:
    chosen = sorted({(s or "").strip() for s in scopes if (s or "").strip()})
    if not chosen:
        raise ValidationFailed("Choose at least one scope.", field="scopes")
    unknown = [s for s in chosen if s not in KEY_SCOPES]
    if unknown:
        raise ValidationFailed(f"Unknown scope {', '.join(unknown)}; choose from {', '.join(KEY_SCOPES)}.",
                               field="scopes")
    return chosen


def _expiry(expires_in_days: int | None) -> datetime | None:
    if expires_in_days is None:
        return None
    if not 1 <= int(expires_in_days) <= MAX_EXPIRY_DAYS:
        raise ValidationFailed(f"A key expires in 1 to {MAX_EXPIRY_DAYS} days (or never).", field="expires_in_days")
    return utcnow() + timedelta(days=int(expires_in_days))


def _issue(session: Session, *, business_id: uuid.UUID, name: str, scopes: list[str], expires_at: datetime | None,
           rate_limit_per_minute: int, created_by: uuid.UUID | None) -> IssuedKey:
    raw = API_KEY_PREFIX + new_token(32)
    key = ApiKey(business_id=business_id, name=name, prefix=raw[:VISIBLE_PREFIX_LENGTH], key_hash=hash_token(raw),
                 scopes=scopes, expires_at=expires_at, rate_limit_per_minute=rate_limit_per_minute,
                 created_by=created_by)
    session.add(key)
    session.flush()
    return IssuedKey(key, raw)


def _event(session: Session, key: ApiKey, *, actor_id, from_status: str, to_status: str, reason: str = "") -> None:
    session.add(ApiKeyEvent(key_id=key.id, business_id=key.business_id, actor_id=actor_id, from_status=from_status,
                            to_status=to_status, reason=reason[:500]))


def _summary(key: ApiKey) -> dict:
    return {"name": key.name, "prefix": key.prefix, "scopes": key.scopes, "status": key.status,
            "expires_at": key.expires_at, "rate_limit_per_minute": key.rate_limit_per_minute}


def create_key(session: Session, *, principal: Principal, business_id: uuid.UUID, name: str, scopes: list[str],
               expires_in_days: int | None = 90, rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
               ip: str | None = None) -> IssuedKey:
    """A new key for a partner; the caller shows `IssuedKey.raw` once and never stores it."""
    _admin(principal, business_id)
    name = safe_text(name, "name", max_length=120)
    if len(name) < 2:
        raise ValidationFailed("Name the key after the partner or system that will use it.", field="name")
    if not 1 <= int(rate_limit_per_minute) <= 10_000:
        raise ValidationFailed("The rate limit is 1 to 10,000 requests a minute.", field="rate_limit_per_minute")
    issued = _issue(session, business_id=business_id, name=name, scopes=_clean_scopes(scopes),
                    expires_at=_expiry(expires_in_days), rate_limit_per_minute=int(rate_limit_per_minute),
                    created_by=principal.user_id)
    _event(session, issued.key, actor_id=principal.user_id, from_status="", to_status=ApiKeyStatus.active.value,
           reason="created")
    audit.record(session, action="integrations.api_key.created", object_type="api_key", object_id=issued.key.id,
                 actor_id=principal.user_id, business_id=business_id, after=_summary(issued.key), ip=ip)
    return issued


def list_keys(session: Session, *, principal: Principal, business_id: uuid.UUID) -> list[ApiKey]:
    """The business's keys, newest first (revoked and expired ones too: the list is their history)."""
    _admin(principal, business_id)
    return list(session.exec(select(ApiKey).where(ApiKey.business_id == business_id)
                             .order_by(col(ApiKey.created_at).desc())))


def own_key(session: Session, principal: Principal, key_id: uuid.UUID, *, lock: bool = False) -> ApiKey:
    """One of the principal's businesses' keys; another tenant's key is a 404."""
    business_ids = [m.business_id for m in principal.memberships]
    query = select(ApiKey).where(ApiKey.id == key_id, col(ApiKey.business_id).in_(business_ids))
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    key = session.exec(query).first()
    if key is None:
        raise NotFound("API key not found.")
    _admin(principal, key.business_id)
    return key


def rotate_key(session: Session, *, principal: Principal, key_id: uuid.UUID,
               grace_minutes: int = DEFAULT_GRACE_MINUTES, ip: str | None = None) -> IssuedKey:
    """A new key with the same name, scopes, expiry and limit; the old one keeps working for `grace_minutes` so the
    partner can switch without downtime, then is refused."""
    key = own_key(session, principal, key_id, lock=True)
    if not 0 <= int(grace_minutes) <= MAX_GRACE_MINUTES:
        raise ValidationFailed(f"The grace period is 0 to {MAX_GRACE_MINUTES} minutes.", field="grace_minutes")
    state = display_status(key)
    if state != "active":
        raise ValidationFailed(f"Only an active key can be rotated; this one is {state}.", field="key")
    issued = _issue(session, business_id=key.business_id, name=key.name, scopes=list(key.scopes),
                    expires_at=key.expires_at, rate_limit_per_minute=key.rate_limit_per_minute,
                    created_by=principal.user_id)
    now = utcnow()
    key.status, key.rotated_at, key.replaced_by_id = ApiKeyStatus.rotated, now, issued.key.id
    key.grace_until = now + timedelta(minutes=int(grace_minutes))
    session.add(key)
    reason = f"rotated; works for {int(grace_minutes)} more minutes"
    _event(session, key, actor_id=principal.user_id, from_status="active", to_status="rotated", reason=reason)
    _event(session, issued.key, actor_id=principal.user_id, from_status="", to_status="active",
           reason=f"replaces {key.prefix}")
    audit.record(session, action="integrations.api_key.rotated", object_type="api_key", object_id=key.id,
                 actor_id=principal.user_id, business_id=key.business_id, before={"status": "active"},
                 after={"status": "rotated", "grace_until": key.grace_until, "replaced_by": issued.key.id,
                        "new_prefix": issued.key.prefix}, ip=ip)
    return issued


def revoke_key(session: Session, *, principal: Principal, key_id: uuid.UUID, reason: str = "",
               ip: str | None = None) -> ApiKey:
    """Refused from now on (a rotated key in its grace period too)."""
    key = own_key(session, principal, key_id, lock=True)
    reason = safe_text(reason, "reason", max_length=300)
    if key.status == ApiKeyStatus.revoked:
        raise ValidationFailed("This key is already revoked.", field="key")
    before = key.status
    key.status, key.revoked_at, key.revoked_by = ApiKeyStatus.revoked, utcnow(), principal.user_id
    session.add(key)
    _event(session, key, actor_id=principal.user_id, from_status=str(before), to_status="revoked", reason=reason)
    audit.record(session, action="integrations.api_key.revoked", object_type="api_key", object_id=key.id,
                 actor_id=principal.user_id, business_id=key.business_id, before={"status": str(before)},
                 after={"status": "revoked", "reason": reason}, ip=ip)
    return key


def _refuse(session: Session, *, reason: str, message: str, key: ApiKey | None = None, ip: str | None = None,
            scope: str | None = None) -> NotAuthenticated:
    """Audit a refused use in the caller's session (see authenticate_api_key) and return the error to raise."""
    audit.record(session, action="integrations.api_key.refused", object_type="api_key",
                 object_id=key.id if key else None, business_id=key.business_id if key else None,
                 after={"reason": reason, "prefix": key.prefix if key else None, "scope": scope}, ip=ip)
    return NotAuthenticated(message)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def authenticate_api_key(session: Session, raw_key: str, *, scope: str | None = None,
                         ip: str | None = None) -> tuple[Business, ApiKey]:
    """The business and key behind a raw partner key, or an error: NotAuthenticated (401: unknown, expired, rotated
    past its grace period, revoked), PermissionDenied (403: the key lacks `scope`), RateLimited (429: over the
    key's limit, with retry_after).

    A refusal is audited in `session`: a caller that wants the audit row kept catches the error, lets its unit of
    work commit, then re-raises (as identity.api_auth.current_principal does)."""
    raw_key = (raw_key or "").strip()
    if not raw_key.startswith(API_KEY_PREFIX):
        raise NotAuthenticated("Send a partner API key: Authorization: Bearer icc_pk_...")
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_token(raw_key))).first()
    if key is None:
        unknown_keys_by_ip.hit(ip or "unknown")
        raise _refuse(session, reason="unknown", ip=ip, scope=scope,
                      message="This API key is not valid: check that it was copied whole, or create a new one.")
    now = utcnow()
    state = display_status(key, now=now)
    if state == "revoked":
        raise _refuse(session, reason="revoked", key=key, ip=ip, scope=scope,
                      message=f"This API key ({key.prefix}…) was revoked on {_when(key.revoked_at)}.")
    if state == "expired" and key.status == ApiKeyStatus.rotated:
        replacement = session.get(ApiKey, key.replaced_by_id) if key.replaced_by_id else None
        hint = f" by the key {replacement.prefix}…" if replacement else ""
        raise _refuse(session, reason="rotated", key=key, ip=ip, scope=scope,
                      message=f"This API key ({key.prefix}…) was replaced{hint}; its grace period ended on "
                              f"{_when(key.grace_until)}. Use the new key.")
    if state == "expired":
        raise _refuse(session, reason="expired", key=key, ip=ip, scope=scope,
                      message=f"This API key ({key.prefix}…) expired on {_when(key.expires_at)}. Ask an Admin of "
                              "the business for a new one.")
    try:
        _limiter(key).hit(str(key.id))
    except RateLimited as exc:
        try:  # one audit row per key and window, not one per refused request of a client in a loop
            rate_limit_audits.hit(str(key.id))
            _refuse(session, reason="rate_limited", key=key, ip=ip, scope=scope, message="")
        except RateLimited:
            pass
        raise RateLimited(f"This API key is limited to {key.rate_limit_per_minute} requests a minute. Try again "
                          f"in {exc.retry_after} s.", retry_after=exc.retry_after) from None
    if scope is not None and scope not in key.scopes:
        _refuse(session, reason="scope", key=key, ip=ip, scope=scope, message="")
        raise PermissionDenied(f"This API key lacks the '{scope}' scope.")
    business = session.get(Business, key.business_id)
    if business is None:
        raise _refuse(session, reason="no business", key=key, ip=ip, scope=scope,
                      message="This API key's business no longer exists.")
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY or key.last_used_ip != ip:
        key.last_used_at, key.last_used_ip = now, ip
        session.add(key)
    return business, key


def principal_for_api_key(session: Session, raw_key: str, *, ip: str | None = None) -> Principal:
    """The principal a REST request with `Authorization: Bearer icc_pk_...` acts as: its business only, the key's
    scopes (checked per endpoint), no user and no platform-admin powers."""
    from icc_app.identity.service import membership_read

    business, key = authenticate_api_key(session, raw_key, ip=ip)
    member = BusinessMember(business_id=business.id, user_id=uuid.uuid4(), role=Role.manager, products=KEY_PRODUCTS)
    return Principal(user_id=None, email="", display_name=f"API key {key.name} ({key.prefix}…)",
                     kind=UserKind.service, is_platform_admin=False, scopes=list(key.scopes),
                     client_id=f"api_key:{key.id}", memberships=[membership_read(session, member, business)])


def key_id_of(principal: Principal) -> uuid.UUID | None:
    """The key a principal came from, when it came from one."""
    if principal.client_id and principal.client_id.startswith("api_key:"):
        return uuid.UUID(principal.client_id.removeprefix("api_key:"))
    return None


def events(session: Session, *, principal: Principal, key_id: uuid.UUID) -> list[ApiKeyEvent]:
    own_key(session, principal, key_id)
    return list(session.exec(select(ApiKeyEvent).where(ApiKeyEvent.key_id == key_id)
                             .order_by(col(ApiKeyEvent.created_at))))


def audit_scope_refusal(principal: Principal, scope: str) -> None:
    """An endpoint refused a key for lacking its scope: audited in a transaction of its own (the request that
    carried the key fails with 403 and commits nothing)."""
    from icc_app.core.db import unit_of_work

    key_id = key_id_of(principal)
    with unit_of_work() as session:
        key = session.get(ApiKey, key_id) if key_id else None
        _refuse(session, reason="scope", key=key, scope=scope, message="")
