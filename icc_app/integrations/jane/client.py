"""Jane adapter: verified order webhooks, and a partner product feed where Jane grants one.

Webhooks (documented by Jane): every delivery carries X-Jane-Signature, the hex HMAC-SHA256 of
f"{X-Jane-Request-Timestamp}:{raw body}" under the subscription's signing secret, and an
`Authorization: Bearer <token>` header set up with Jane. We check the token (when configured), the timestamp window
(5 minutes either way) and the signature (constant-time), then map the cart: a finished order becomes a SaleRecord;
other statuses are valid events with nothing to apply.

Product feed (ASSUMED shape, no public spec exists): when the connection has a `feed_url` credential (a path on the
connection's base URL, or a URL on its host; optionally a `feed_token`), GET feed_url?page=N&per_page=M with `Authorization: Bearer <feed_token>` answers
{"products": [...], "meta": {"page", "per_page", "total", "total_pages"}}. Without `feed_url` the adapter offers
webhooks only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from urllib.parse import urlsplit
from datetime import UTC, datetime
from typing import Any, ClassVar

from icc_app.integrations.base import (AuthFailed, Capability, ConnectionConfig, IntegrationError, MalformedPayload,
                                       MenuRecord, Progress, Unsupported, WebhookMessage, WebhookRejected,
                                       no_progress)
from icc_app.integrations.http import VendorHttp
from icc_app.integrations.jane import mapping

TOLERANCE_S = 300
PER_PAGE = 200
MAX_PAGES = 5_000


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Jane's signature: hex HMAC-SHA256 of "timestamp:raw body"."""
    return hmac.new(secret.encode(), timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


class Adapter:
    vendor: ClassVar[str] = "jane"
    # What Jane can do at most; an instance without a feed_url offers webhooks only (see `capabilities` below).
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.webhooks, Capability.menu})
    # The Jane store ID is the connection's location ID; the signing secret is the connection's webhook secret.
    credential_fields: ClassVar[dict[str, str]] = {
        "auth_token": "Webhook bearer token (optional)",
        "feed_url": "Product feed URL, if Jane granted one (optional)",
        "feed_token": "Product feed token (optional)"}

    def __init__(self, config: ConnectionConfig, *, per_page: int = PER_PAGE, tolerance_s: int = TOLERANCE_S):
        self.config = config
        creds = config.credentials or {}
        self.store_id = str(config.location_id or "").strip() or None
        self.auth_token = str(creds.get("auth_token") or "").strip() or None
        self.feed_url = str(creds.get("feed_url") or "").strip() or None
        self.feed_token = str(creds.get("feed_token") or "").strip() or None
        self.per_page, self.tolerance_s = per_page, tolerance_s
        self.capabilities = frozenset({Capability.webhooks} | ({Capability.menu} if self.feed_url else set()))
        self._http: VendorHttp | None = None

    @property
    def http(self) -> VendorHttp:
        if self._http is None:
            headers = {"Authorization": f"Bearer {self.feed_token}"} if self.feed_token else None
            options = {"rate_limit": (20, 1), "rate_key": self.config.rate_key or f"jane#{self.feed_url}",
                       **dict(self.config.http_options or {})}
            self._http = VendorHttp(self.config.base_url, vendor="jane", headers=headers, **options)
        return self._http

    def feed_path(self) -> str:
        """The feed on the connection's base URL (checked like any vendor address): a path relative to it, or an
        absolute URL on the same scheme and host. Anything else is refused before a call is made."""
        if not self.feed_url:
            raise Unsupported("Jane shares products only with a partner feed: add the feed URL Jane granted.")
        feed, base = urlsplit(self.feed_url), urlsplit(self.config.base_url)
        if not feed.scheme and not feed.netloc:
            return "/" + self.feed_url.lstrip("/")
        if (feed.scheme, feed.netloc) != (base.scheme, base.netloc):
            raise IntegrationError(f"The Jane feed URL must be on the connection's address ({base.scheme}://"
                                   f"{base.netloc}); set the base URL to the feed's host.")
        return self.feed_url

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    # --- connection -------------------------------------------------------------------------------
    def test_connection(self) -> str:
        if not self.config.webhook_secret:
            raise AuthFailed("Jane signs its order webhooks: set the signing secret Jane gave for this subscription "
                             "as the connection's webhook secret.")
        store = f"store {self.store_id}" if self.store_id else "any store of the subscription"
        if not self.feed_url:
            return f"Ready for Jane order webhooks from {store} (no product feed configured)"
        payload = self.http.get(self.feed_path(), params={"page": 1, "per_page": 1})
        self._products(payload)
        total = (payload.get("meta") or {}).get("total") if isinstance(payload, dict) else None
        return (f"Connected to the Jane product feed for {store}"
                + (f": {total} products" if isinstance(total, int) else "") + "; order webhooks ready")

    # --- webhooks -----------------------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> WebhookMessage:
        lower = {str(k).lower(): str(v) for k, v in headers.items()}
        secret = self.config.webhook_secret
        if not secret:
            raise WebhookRejected("No Jane signing secret is configured for this connection.")
        if self.auth_token is not None:
            given = lower.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.auth_token}".encode()):
                raise WebhookRejected("The Authorization bearer token is missing or wrong.")
        signature = lower.get("x-jane-signature", "").strip().lower()
        timestamp = lower.get("x-jane-request-timestamp", "").strip()
        if not signature or not timestamp:
            raise WebhookRejected("Unsigned: X-Jane-Signature or X-Jane-Request-Timestamp is missing.")
        sent_at = _timestamp(timestamp)
        skew = (now.astimezone(UTC) - sent_at).total_seconds()
        if skew > self.tolerance_s:
            raise WebhookRejected(f"Stale: signed {int(skew)} s ago (more than {self.tolerance_s} s).")
        if skew < -self.tolerance_s:
            raise WebhookRejected(f"Timestamp {int(-skew)} s in the future (more than {self.tolerance_s} s).")
        expected = sign(secret, timestamp, body)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise WebhookRejected("Bad signature: X-Jane-Signature does not match the body and timestamp.")
        try:
            payload = json.loads(body)
            cart = mapping.cart_of(payload)
        except (ValueError, MalformedPayload) as exc:
            raise WebhookRejected(f"Signed, but not a Jane cart event: {exc}") from None
        store_id = str(cart.get("store_id")) if cart.get("store_id") not in (None, "") else None
        if self.store_id and store_id and store_id != self.store_id:
            raise WebhookRejected(f"The event is for Jane store {store_id}, not {self.store_id}.")
        status = str(cart.get("status") or "").strip().lower()
        event_type = str(payload.get("event") or payload.get("type") or "cart_status_updated")
        try:
            sales = [mapping.sale_record(cart)] if mapping.is_finished(cart) else []
        except MalformedPayload as exc:
            raise WebhookRejected(f"The finished cart cannot be read: {exc.message}") from None
        return WebhookMessage(event_id=mapping.event_id(payload, cart), event_type=f"{event_type}:{status or '?'}",
                              location_id=store_id, payload=payload, sales=sales, occurred_at=sent_at)

    # --- product feed -------------------------------------------------------------------------------
    def fetch_menu(self, progress: Progress = no_progress) -> list[MenuRecord]:
        path = self.feed_path()
        seen: dict[str, dict] = {}
        total = total_pages = None
        for page in range(1, MAX_PAGES + 1):
            payload = self.http.get(path, params={"page": page, "per_page": self.per_page})
            products = self._products(payload)
            meta = payload.get("meta") if isinstance(payload, dict) and isinstance(payload.get("meta"), dict) else {}
            total = meta.get("total") if isinstance(meta.get("total"), int) else total
            total_pages = meta.get("total_pages") if isinstance(meta.get("total_pages"), int) else total_pages
            for product in products:
                if not isinstance(product, dict) or product.get("product_id") in (None, ""):
                    raise MalformedPayload(f"Jane feed: a product without a product_id on page {page}.")
                seen[str(product["product_id"])] = product
            progress(f"page {page}" + (f" of {total_pages}" if total_pages else ""))
            last = (total_pages is not None and page >= total_pages) or (
                total_pages is None and len(products) < self.per_page)
            if last or (total is not None and len(seen) >= total):
                break
        else:
            raise MalformedPayload(f"Jane feed: more than {MAX_PAGES} pages.")
        if total is not None and len(seen) < total:
            raise MalformedPayload(f"Jane feed: {len(seen)} of {total} products arrived (a page is missing or short); "
                                   "nothing was applied.")
        return [mapping.menu_record(product) for _, product in sorted(seen.items())]

    @staticmethod
    def _products(payload: Any) -> list:
        if isinstance(payload, dict) and isinstance(payload.get("products"), list):
            return payload["products"]
        if isinstance(payload, dict) and isinstance(payload.get("data"), dict) and isinstance(
                payload["data"].get("products"), list):
            return payload["data"]["products"]
        raise MalformedPayload("The Jane feed answered without a products list.")


def _timestamp(value: str) -> datetime:
    """X-Jane-Request-Timestamp: Unix seconds (or ms), or an ISO time."""
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        seconds = number / 1000 if number > 10**11 else number
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise WebhookRejected("X-Jane-Request-Timestamp is not a time.") from None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WebhookRejected("X-Jane-Request-Timestamp is not a time.") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
