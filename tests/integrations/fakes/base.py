"""A local HTTP server, in the test process, that a vendor fake builds on: real sockets and real HTTP (the client
under test cannot tell it from the vendor), a request log, and injected failures.

A fake subclasses FakeVendorServer and implements `handle(request) -> Reply`; failures queued with `fail(...)` are
served before the handler runs, in order, for requests whose path matches:

    with FakeDutchie(products=[...]) as server:          # starts on a free port
        server.fail(429, times=2, retry_after=1)            # the next two calls are rate-limited
        server.fail("timeout", path="/reporting")           # the next /reporting call hangs past the timeout
        server.fail("malformed")                            # the next call answers broken JSON
        adapter = Adapter(ConnectionConfig(vendor="dutchie", base_url=server.url, ...))

Also usable outside pytest (the browser tests and `make bench` start fakes the same way).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, str]  # first value of each parameter
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes/str
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return b"" if self.body is None else json.dumps(self.body, default=str).encode()


def json_reply(body: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status, body, {"Content-Type": "application/json", **headers})


@dataclass
class _Failure:
    kind: int | str  # an HTTP status, "timeout", "malformed", "reset"
    path: str | None
    retry_after: str | None
    body: Any


class FakeVendorServer:
    """Base of every vendor fake. Thread-safe; one instance per test (or per benchmark)."""

    timeout_hang_s = 3.0  # how long a "timeout" failure holds the request (set the client's timeout below it)

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._failures: deque[_Failure] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- to implement -----------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    # --- control ------------------------------------------------------------------------------------
    def fail(self, kind: int | str, *, times: int = 1, path: str | None = None, retry_after: int | str | None = None,
             body: Any = None) -> None:
        """Queue `times` failures for the next requests whose path starts with `path` (any path when None)."""
        with self._lock:
            for _ in range(times):
                self._failures.append(_Failure(kind, path, None if retry_after is None else str(retry_after), body))

    def calls(self, path_prefix: str = "", method: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix) and (method is None or r.method == method)]

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, port: int = 0) -> FakeVendorServer:
        """Serve on 127.0.0.1:`port` (0: any free port) in a background thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.requests.append(request)
                    failure = fake._take_failure(request.path)
                if failure is not None and failure.kind == "reset":
                    self.close_connection = True
                    self.connection.close()
                    return
                if failure is not None and failure.kind == "timeout":
                    time.sleep(fake.timeout_hang_s)
                    reply = json_reply({"message": "late"}, 504)
                elif failure is not None and failure.kind == "malformed":
                    reply = Reply(200, b'{"data": [ {"id": 1, ', {"Content-Type": "application/json"})
                elif failure is not None:
                    headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                    reply = json_reply(failure.body or {"message": f"injected {failure.kind}"}, int(failure.kind),
                                       **headers)
                else:
                    try:
                        reply = fake.handle(request)
                    except Exception as exc:  # a bug in the fake shows as a 500 with its reason
                        reply = json_reply({"message": f"fake server error: {exc!r}"}, 500)
                payload = reply.encoded()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=lambda: self._server.serve_forever(poll_interval=0.05), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _take_failure(self, path: str) -> _Failure | None:
        for index, failure in enumerate(self._failures):
            if failure.path is None or path.startswith(failure.path):
                del self._failures[index]
                return failure
        return None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
