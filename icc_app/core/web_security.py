"""Browser security for every response of the one server (pages, REST API, OAuth, the Reflex websocket).

- Security headers: a Content-Security-Policy, no framing (frame-ancestors 'none' and X-Frame-Options, so the
  OAuth consent page cannot be clickjacked), nosniff, a strict Referrer-Policy, and HSTS when PUBLIC_URL is https.
- The CSP allows the inline scripts of each HTML page by their SHA-256 (the production build inlines the React
  Router boot and the theme script; the hashes are computed from the page being sent, so nothing else inline
  runs). 'unsafe-eval' stays: Reflex runs server-sent `call_script` events with eval(). Styles allow inline:
  Emotion and Radix write style elements and attributes at run time. Images: self, data:, blob: and the
  MAP_TILE_URL origin; connections: self and this host's websocket.
- The session cookie is HttpOnly and set only by the server (identity/web_session.py). The Reflex websocket
  handshake would still carry it into the UI state (stored in Redis with the router headers), so on the
  websocket path the raw token is swapped for its keyed hash (`icc_session_ref`): the state can find the
  session, but what it stores cannot be replayed as a cookie or bearer token.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import re
import zlib
from http.cookies import SimpleCookie
from urllib.parse import urlparse

from icc_app.core.security import hash_token
from icc_app.settings import get_settings

SESSION_COOKIE = "icc_session"
SESSION_REF_COOKIE = "icc_session_ref"  # only ever written by this middleware, on the websocket path
SESSION_MAX_AGE = 14 * 24 * 3600
EVENT_PATH = "/_event"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.S | re.I)
_HTML_LIMIT = 2 * 1024 * 1024  # pages are far smaller; a larger body is passed through without inline hashes


def origin_of(url: str) -> str:
    parsed = urlparse(url or "")
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.scheme and parsed.netloc else ""


def is_https() -> bool:
    return urlparse(get_settings().public_url).scheme == "https"


def session_cookie_header(token: str, *, max_age: int = SESSION_MAX_AGE) -> str:
    """The Set-Cookie value of the session: HttpOnly, SameSite=Strict (a cross-site request never carries it,
    so cookie-authenticated writes are CSRF-safe), Secure behind https."""
    secure = "; Secure" if is_https() else ""
    return f"{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"


def cleared_session_cookie_header() -> str:
    return session_cookie_header("", max_age=0)


@functools.cache
def _static_policy() -> str:
    settings = get_settings()
    tiles = origin_of(settings.map_tile_url.replace("{", "").replace("}", ""))
    return "; ".join([
        "default-src 'self'",
        f"img-src 'self' data: blob:{' ' + tiles if tiles else ''}",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "worker-src 'self' blob:",
        "manifest-src 'self'",
    ])


def content_security_policy(host: str, inline_hashes: list[str], *, frameable: bool = False) -> str:
    """The policy for one response; `host` is the request's Host (its websocket is allowed)."""
    sockets = f" ws://{host} wss://{host}" if host and re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", host) else ""
    scripts = "".join(f" 'sha256-{h}'" for h in inline_hashes)
    policy = _static_policy()
    if frameable:
        policy = policy.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
    return f"{policy}; script-src 'self' 'unsafe-eval'{scripts}; connect-src 'self'{sockets}"


# Documents our own pages show beside their data (the COA viewer frames the original PDF): nothing in them can be
# clicked into doing something, so our own origin may frame them; every page and everything else stays unframeable.
_FRAMEABLE_TYPES = (b"application/pdf", b"image/")


def security_headers(host: str, inline_hashes: list[str] | None = None, *, frameable: bool = False
                     ) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", content_security_policy(host, inline_hashes or [], frameable=frameable).encode()),
        (b"x-frame-options", b"SAMEORIGIN" if frameable else b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if is_https():
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


def inline_script_hashes(html: bytes) -> list[str]:
    return sorted({base64.b64encode(hashlib.sha256(body).digest()).decode()
                   for body in _INLINE_SCRIPT.findall(html) if body.strip()})


def _decoded(body: bytes, encoding: str) -> bytes | None:
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
        return body if not encoding or encoding == "identity" else None
    except (OSError, zlib.error, EOFError):
        return None


def _readable_encodings(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A page request (Accept: text/html) may ask for gzip or nothing; other encodings (br, zstd) are dropped."""
    if b"text/html" not in dict(headers).get(b"accept", b""):
        return headers
    out = []
    for name, value in headers:
        if name.lower() == b"accept-encoding":
            kept = [v.strip() for v in value.split(b",") if v.strip().split(b";")[0] in (b"gzip", b"identity")]
            if not kept:
                continue
            value = b", ".join(kept)
        out.append((name, value))
    return out


def _swap_session_cookie(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The websocket handshake's headers with the session token replaced by its keyed hash (and any
    client-sent `icc_session_ref` dropped: only this middleware may write it)."""
    out, ref = [], ""
    for name, value in headers:
        if name.lower() != b"cookie":
            out.append((name, value))
            continue
        kept = []
        for part in value.decode("latin-1").split(";"):
            key, _, val = part.strip().partition("=")
            if key == SESSION_COOKIE:
                ref = hash_token(val.strip()) if val.strip() else ""
            elif key and key != SESSION_REF_COOKIE:
                kept.append(f"{key}={val}")
        if kept:
            out.append((b"cookie", "; ".join(kept).encode("latin-1")))
    if ref:
        cookie = [i for i, (n, _) in enumerate(out) if n == b"cookie"]
        pair = f"{SESSION_REF_COOKIE}={ref}".encode()
        if cookie:
            out[cookie[0]] = (b"cookie", out[cookie[0]][1] + b"; " + pair)
        else:
            out.append((b"cookie", pair))
    return out


def session_ref_from_cookie_header(cookie_header: str) -> str:
    """What the UI state reads: the session token's keyed hash, as written by the middleware."""
    jar = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except Exception:  # noqa: BLE001 - a malformed Cookie header means: no session
        return ""
    morsel = jar.get(SESSION_REF_COOKIE)
    return morsel.value if morsel else ""


def middleware(app):
    """ASGI middleware (a Reflex api_transformer, outermost): headers on every HTTP response, the session
    cookie swapped for its hash on the Reflex event path."""

    async def wrapped(scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await app(scope, receive, send)
        if scope["type"] == "websocket" or scope.get("path", "").startswith(EVENT_PATH):
            scope = {**scope, "headers": _swap_session_cookie(list(scope.get("headers", [])))}
        if scope["type"] == "websocket":
            return await app(scope, receive, send)
        # Bodies as bytes (an HTML page is read before its headers go out), not as a file path to send; and a
        # page in an encoding this module can read (gzip), so its inline scripts can be hashed.
        extensions = {k: v for k, v in (scope.get("extensions") or {}).items()
                      if k not in ("http.response.pathsend", "http.response.zerocopysend")}
        scope = {**scope, "extensions": extensions, "headers": _readable_encodings(scope.get("headers", []))}
        host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
        start: dict = {}
        chunks: list[bytes] = []

        async def send_with_headers(message):
            if message["type"] == "http.response.start" and message.get("status") == 304:
                # Not modified: the browser keeps the cached page and merges these headers into it. A policy
                # without that page's inline-script hashes would replace the right one and block hydration.
                await send(_with_headers(message, security_headers(host)[1:]))
                return
            if message["type"] == "http.response.start":
                headers = dict((k.lower(), v) for k, v in message.get("headers", []))
                if b"text/html" in headers.get(b"content-type", b""):
                    start.update(message)  # held until the body is read: its inline scripts set the policy
                    return
                frameable = headers.get(b"content-type", b"").lower().startswith(_FRAMEABLE_TYPES)
                await send(_with_headers(message, security_headers(host, frameable=frameable)))
                return
            if not start or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body") and sum(map(len, chunks)) < _HTML_LIMIT:
                return
            body = b"".join(chunks)
            chunks.clear()
            encoding = dict(start.get("headers", [])).get(b"content-encoding", b"").decode().lower()
            html = _decoded(body, encoding)
            hashes = inline_script_hashes(html) if html is not None else []
            await send(_with_headers(start, security_headers(host, hashes)))
            start.clear()
            await send({"type": "http.response.body", "body": body, "more_body": message.get("more_body", False)})

        return await app(scope, receive, send_with_headers)

    return wrapped


def _with_headers(message: dict, extra: list[tuple[bytes, bytes]]) -> dict:
    names = {name for name, _ in extra}
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
    return {**message, "headers": headers + extra}
