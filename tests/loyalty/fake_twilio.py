"""A local server that speaks Twilio's Messages API: POST /2010-04-01/Accounts/{sid}/Messages.json with HTTP basic
auth, form-encoded To/From/Body/StatusCallback; 201 with the message resource; Twilio's error bodies
({"code", "message", "more_info", "status"}) for bad credentials (20003), invalid numbers (21211), recipients who
replied STOP (21610); and the status callbacks it would post, signed with X-Twilio-Signature.

Used by tests/loyalty and by bench/loyalty_send.py (built on tests/integrations/fakes/base.py)."""

from __future__ import annotations

import base64
import itertools
import re
import threading

from icc_app.loyalty.sms.twilio import signature
from tests.integrations.fakes.base import FakeVendorServer, Reply, Request, json_reply

_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")


def _error(code: int, message: str, status: int) -> Reply:
    return json_reply({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                       "status": status}, status)


class FakeTwilio(FakeVendorServer):
    def __init__(self, *, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token",
                 keep_requests: bool = True):
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.unsubscribed: set[str] = set()  # numbers that replied STOP to our sender
        self.messages: list[dict] = []  # accepted messages
        self.keep_requests = keep_requests
        self._ids = itertools.count(1)
        self._msg_lock = threading.Lock()

    def start(self, port: int = 0) -> FakeTwilio:
        super().start(port)
        # the base handler writes headers and body separately; without TCP_NODELAY every reply waits for the
        # client's delayed ACK (~40 ms), which would make the benchmark measure the kernel, not the sender
        self._server.RequestHandlerClass.disable_nagle_algorithm = True
        return self

    def handle(self, request: Request) -> Reply:
        if not self.keep_requests:
            with self._lock:
                self.requests.clear()
        match = _PATH.match(request.path)
        if request.method != "POST" or not match:
            return _error(20404, "The requested resource was not found", 404)
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if match.group("sid") != self.account_sid or request.headers.get("authorization") != expected:
            return _error(20003, "Authenticate", 401)
        form = request.form()
        to = form.get("To", "")
        if not re.fullmatch(r"\+[1-9]\d{9,14}", to):
            return _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
        if not form.get("Body"):
            return _error(21602, "Message body is required.", 400)
        if to in self.unsubscribed:
            return _error(21610, "Attempt to send to unsubscribed recipient", 400)
        sid = f"SM{next(self._ids):032x}"
        message = {"sid": sid, "account_sid": self.account_sid, "to": to, "from": form.get("From"),
                   "body": form["Body"], "status": "queued", "num_segments": str(1 + len(form["Body"]) // 153),
                   "status_callback": form.get("StatusCallback"), "error_code": None, "error_message": None}
        with self._msg_lock:
            self.messages.append(message)
        return json_reply({k: v for k, v in message.items() if k != "status_callback"}, 201)

    def callbacks(self, status: str = "delivered", error_code: str | None = None) -> list[tuple[str, dict, str]]:
        """(url, form, X-Twilio-Signature) of the status callback for every accepted message, as Twilio posts it."""
        out = []
        for m in self.messages:
            if not m["status_callback"]:
                continue
            form = {"MessageSid": m["sid"], "SmsSid": m["sid"], "AccountSid": self.account_sid,
                    "MessageStatus": status, "To": m["to"], "From": m["from"] or ""}
            if error_code:
                form["ErrorCode"] = error_code
            out.append((m["status_callback"], form, signature(self.auth_token, m["status_callback"], form)))
        return out
