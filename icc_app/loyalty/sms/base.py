"""What the campaign sender needs of an SMS provider. One package per provider (twilio.py first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SmsSent:
    provider_id: str  # the provider's message id (Twilio: the Message SID)
    status: str  # the provider's first status (queued / accepted / sent)


class SmsError(Exception):
    """A message the provider refused. `unsubscribed`: the provider says the recipient opted out (honour it);
    `retryable`: worth trying again later (rate limits, outages)."""

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None,
                 retryable: bool = False, unsubscribed: bool = False, invalid_number: bool = False):
        super().__init__(message)
        self.code, self.http_status = code, http_status
        self.retryable, self.unsubscribed, self.invalid_number = retryable, unsubscribed, invalid_number


class SmsProvider(Protocol):
    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SmsSent: ...

    def close(self) -> None: ...


# Delivery states providers report, mapped to ours (MessageStatus values); anything else leaves the message as is.
DELIVERY_STATES = {"delivered": "delivered", "undelivered": "failed", "failed": "failed", "sent": "sent"}
