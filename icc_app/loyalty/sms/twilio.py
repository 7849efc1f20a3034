"""Twilio's REST Messages API: send (POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, HTTP basic
auth with the Account SID and Auth Token), its error bodies ({"code", "message", "more_info", "status"}), and the
X-Twilio-Signature check of the status callbacks and inbound texts it posts back to us.

Error codes acted on: 21610 (the recipient replied STOP to this sender: treat as an opt-out), 21211 / 21614 (not a
valid / not a mobile number), 20429 and HTTP 429 / 5xx (retry after a pause), 20003 (bad credentials: stop).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import httpx

from icc_app.core.security import constant_time_equal
from icc_app.loyalty.sms.base import SmsError, SmsSent

PUBLIC_API = "https://api.twilio.com"
UNSUBSCRIBED_CODES = {"21610"}
INVALID_NUMBER_CODES = {"21211", "21614", "21612"}


class TwilioClient:
    def __init__(self, *, account_sid: str, auth_token: str, from_number: str, base_url: str | None = None,
                 timeout: float = 10.0, max_attempts: int = 3, pause: float = 0.5):
        self.account_sid, self.from_number = account_sid, from_number
        self.max_attempts, self.pause = max_attempts, pause
        self._http = httpx.Client(base_url=(base_url or PUBLIC_API).rstrip("/"), auth=(account_sid, auth_token),
                                  timeout=timeout, headers={"Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SmsSent:
        form = {"To": to, "From": self.from_number, "Body": body}
        if status_callback:
            form["StatusCallback"] = status_callback
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._http.post(path, data=form)
            except httpx.HTTPError as exc:
                if attempt == self.max_attempts:
                    raise SmsError(f"Twilio could not be reached: {exc.__class__.__name__}", retryable=True) from exc
                time.sleep(self.pause * attempt)
                continue
            if response.status_code in (200, 201):
                try:
                    data = response.json()
                    return SmsSent(provider_id=str(data["sid"]), status=str(data.get("status", "queued")))
                except (ValueError, KeyError) as exc:
                    raise SmsError("Twilio answered without a message id.", http_status=response.status_code,
                                   retryable=True) from exc
            error = _error(response)
            if error.retryable and attempt < self.max_attempts:
                wait = response.headers.get("Retry-After")
                time.sleep(min(float(wait), 5.0) if wait and wait.replace(".", "", 1).isdigit() else self.pause * attempt)
                continue
            raise error
        raise SmsError("Twilio did not accept the message.", retryable=True)  # pragma: no cover


def _error(response: httpx.Response) -> SmsError:
    try:
        data = response.json()
    except ValueError:
        data = {}
    code = str(data.get("code")) if data.get("code") is not None else None
    message = str(data.get("message") or f"HTTP {response.status_code}")
    return SmsError(f"Twilio error {code or response.status_code}: {message}", code=code,
                    http_status=response.status_code,
                    retryable=response.status_code == 429 or response.status_code >= 500 or code == "20429",
                    unsubscribed=code in UNSUBSCRIBED_CODES, invalid_number=code in INVALID_NUMBER_CODES)


def signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the full URL followed by each POST parameter name and value, sorted
    by name."""
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def valid_signature(auth_token: str, url: str, params: dict[str, str], given: str | None) -> bool:
    return bool(given) and constant_time_equal(signature(auth_token, url, params), given)
