"""The HTTP layer every vendor client uses: timeouts, retries with exponential backoff and full jitter on 429/5xx/
timeouts (a 429's Retry-After is honoured), a rate budget per vendor key shared by all workers (Redis when
configured, else this process), and errors sorted into the kinds the operator needs to act on
(integrations.base: AuthFailed, VendorUnavailable, MalformedPayload, IntegrationError).

Never logs credentials or bodies; an error message quotes at most a short, sanitized piece of the vendor's answer.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from icc_app.integrations.base import AuthFailed, IntegrationError, MalformedPayload, VendorUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}


class RateBudget:
    """At most `limit` calls per `window_s` seconds for one key, across processes when Redis is configured (a fixed
    window counter), else within this process. `acquire` waits for the next window when the budget is spent."""

    _local: dict[str, tuple[int, int]] = {}
    _lock = threading.Lock()

    def __init__(self, key: str, *, limit: int, window_s: int = 60, sleep: Callable[[float], None] = time.sleep):
        self.key, self.limit, self.window_s, self.sleep = key, limit, window_s, sleep

    def _redis(self):
        from icc_app.core.redis import get_redis

        return get_redis()

    def _spend(self, window: int) -> int:
        redis = None
        try:
            redis = self._redis()
        except Exception:  # noqa: BLE001 - a broken Redis must not stop syncs; fall back to this process
            log.warning("rate budget: Redis unavailable, counting in this process")
        if redis is not None:
            name = f"icc:vendor-rate:{self.key}:{window}"
            pipe = redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, self.window_s * 2)
            return int(pipe.execute()[0])
        with self._lock:
            seen_window, count = self._local.get(self.key, (window, 0))
            count = count + 1 if seen_window == window else 1
            self._local[self.key] = (window, count)
            return count

    def acquire(self) -> float:
        """Take one call from the budget; returns the seconds waited."""
        waited = 0.0
        while True:
            now = time.time()
            window = int(now // self.window_s)
            if self._spend(window) <= self.limit:
                return waited
            pause = (window + 1) * self.window_s - now + random.uniform(0, 0.25)
            self.sleep(pause)
            waited += pause


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _snippet(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


class VendorHttp:
    """One vendor location's HTTP client.

    `auth` / `headers` authenticate every call (a callable `headers` is evaluated per request, for tokens that
    refresh). `rate_limit` = (calls, per seconds). `max_retries` counts retries after the first try; the wait
    before retry n is min(max_backoff_s, backoff_s * 2**n) * random(0.5..1) (jitter), or the server's
    Retry-After when it says so (capped at max_backoff_s)."""

    def __init__(self, base_url: str, *, vendor: str, auth: httpx.Auth | tuple[str, str] | None = None,
                 headers: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
                 timeout_s: float = 20.0, max_retries: int = 4, backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 rate_limit: tuple[int, int] | None = None, rate_key: str = "",
                 sleep: Callable[[float], None] = time.sleep, transport: httpx.BaseTransport | None = None):
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self._headers = headers
        self.max_retries, self.backoff_s, self.max_backoff_s = max_retries, backoff_s, max_backoff_s
        self.sleep = sleep
        self.budget = (RateBudget(f"{vendor}:{rate_key or base_url}", limit=rate_limit[0], window_s=rate_limit[1],
                                  sleep=sleep) if rate_limit else None)
        self.calls = 0  # requests actually sent (retries included): benchmarks and tests read it
        self.retries = 0
        self.client = httpx.Client(base_url=self.base_url, auth=auth, timeout=timeout_s, transport=transport,
                                   follow_redirects=False, headers={"Accept": "application/json",
                                                                    "User-Agent": "ICC-integrations/1"})

    def close(self) -> None:
        self.client.close()

    def _extra_headers(self) -> dict[str, str]:
        if self._headers is None:
            return {}
        return dict(self._headers() if callable(self._headers) else self._headers)

    def _backoff(self, attempt: int) -> float:
        return min(self.max_backoff_s, self.backoff_s * 2 ** attempt) * random.uniform(0.5, 1.0)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None,
                data: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
                expect_json: bool = True) -> Any:
        """Send one request, retrying what can be retried; return the parsed JSON (or the text)."""
        label = f"{self.vendor} {method} {path}"
        attempt = 0
        while True:
            if self.budget is not None:
                self.budget.acquire()
            self.calls += 1
            try:
                response = self.client.request(method, path, params=params, json=json_body, data=data,
                                               headers={**self._extra_headers(), **(headers or {})})
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if attempt >= self.max_retries:
                    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "could not be reached"
                    raise VendorUnavailable(f"{label} {kind} after {attempt + 1} tries.") from exc
                self._wait(attempt, None)
                attempt += 1
                continue
            status = response.status_code
            if status in (401, 403):
                raise AuthFailed(f"{self.vendor.title()} refused the credentials ({status} on {path}): check the key "
                                 "and that it has access to this location.")
            if status in RETRY_STATUSES:
                if attempt >= self.max_retries:
                    what = "kept rate-limiting us" if status == 429 else f"kept failing ({status})"
                    raise VendorUnavailable(f"{label} {what} after {attempt + 1} tries.")
                self._wait(attempt, retry_after_seconds(response.headers.get("retry-after")))
                attempt += 1
                continue
            if status >= 400:
                raise IntegrationError(f"{label} was refused ({status}): {_snippet(response.text)}")
            if not expect_json:
                return response.text
            if not response.content:
                return None
            try:
                return response.json()
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise MalformedPayload(f"{label} answered something that is not JSON: "
                                       f"{_snippet(response.text, 80)!r}") from exc

    def _wait(self, attempt: int, retry_after: float | None) -> None:
        pause = min(self.max_backoff_s, retry_after) if retry_after is not None else self._backoff(attempt)
        self.retries += 1
        log.info("%s: retry %d in %.2fs", self.vendor, attempt + 1, pause)
        self.sleep(pause)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)


def parse_time(value: Any) -> datetime | None:
    """A vendor timestamp (ISO 8601 with or without zone, 'Z', or epoch seconds/ms) as an aware UTC datetime;
    a naive time is taken as UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedPayload(f"Not a timestamp: {str(value)[:40]!r}.") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
