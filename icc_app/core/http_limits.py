"""Request body size limits for the API, enforced while the body streams in.

Why: without a limit a 200 MB JSON body was read and parsed (780 MB of memory) before any field was checked.
The declared Content-Length is refused up front; a body without one (chunked) is counted chunk by chunk and
refused as soon as it passes the limit, so at most one chunk beyond the limit is ever held. The answer is a
413 whose message states the limit of that route.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024
MIB = 1024 * KIB
JSON_BODY_LIMIT = 64 * KIB  # the largest JSON body of the API (a lot with a 5,000 character description) is ~25 KB
FORM_FIELDS_ALLOWANCE = 64 * KIB  # multipart boundaries and the small form fields beside an uploaded file


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    what: str  # how the message names it: "request bodies on this route", "COA uploads"
    allowance: int = 0  # bytes of form fields accepted on top of the stated limit (uploads)

    def message(self) -> str:
        stated = _size(self.max_bytes - self.allowance)
        return f"The request body is too large: {self.what} are limited to {stated}."


def _size(n: int) -> str:
    return f"{n // MIB} MB" if n % MIB == 0 else f"{n // KIB} KB" if n % KIB == 0 else f"{n} bytes"


def upload_limit(max_upload_mb: int, what: str) -> BodyLimit:
    """An upload route: the file cap (MAX_UPLOAD_MB) plus room for the form fields around it."""
    return BodyLimit(max_upload_mb * MIB + FORM_FIELDS_ALLOWANCE, what, allowance=FORM_FIELDS_ALLOWANCE)


class BodySizeLimitMiddleware:
    """ASGI middleware: `limit_for(method, path)` gives the route's BodyLimit, or None for paths it leaves alone
    (the web app's own endpoints have their own rules)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], BodyLimit | None]):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    # fastapi.HTTPException passes through FastAPI's body parsing untouched (others become 400s)
                    raise HTTPException(413, detail=limit.message())
            return message

        await self.app(scope, counted_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: BodyLimit) -> JSONResponse:
    return JSONResponse({"detail": limit.message()}, status_code=413,
                        headers={"Connection": "close"})
