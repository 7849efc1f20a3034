"""Delivering partner webhooks: signing, one attempt (claim in a transaction, POST outside any transaction, record
in a transaction), exponential backoff with jitter, giving up after MAX_ATTEMPTS, and what the beat sweep finds due.

Each attempt POSTs the JSON body signed with HMAC-SHA256 over "timestamp.body" (header
`ICC-Signature: t=<unix seconds>,v1=<hex>`), with the event id in `ICC-Event-Id` so the partner can drop
duplicates. The HTTP call never runs inside a database transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.lifecycle import Lifecycle
from icc_app.core.models import utcnow
from icc_app.core.security import constant_time_equal
from icc_app.integrations.partners.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from icc_app.settings import get_settings

DELIVER_TASK = "integrations.deliver_partner_webhook"
SIGNATURE_HEADER = "ICC-Signature"
EVENT_ID_HEADER = "ICC-Event-Id"
MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 30  # 30 s, 1 min, 2 min ... doubled per failed attempt
BACKOFF_CAP_S = 6 * 3600
TIMEOUT_S = 10.0
LOCK_S = 60  # an attempt in flight holds its delivery this long (a dead worker's hold lapses)
SIGNATURE_TOLERANCE_S = 300
USER_AGENT = "ICC-Webhooks/1"
# A failed delivery does not move again: "redeliver" sends the same event as a new delivery (redelivery_of).
DELIVERY_LIFECYCLE = Lifecycle(object_type="webhook_delivery", action="integrations.webhook_delivery", moves={
    DeliveryStatus.pending: [DeliveryStatus.delivered, DeliveryStatus.retrying, DeliveryStatus.failed],
    DeliveryStatus.retrying: [DeliveryStatus.delivered, DeliveryStatus.retrying, DeliveryStatus.failed],
})


# ---- signing ---------------------------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ICC-Signature header value for a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance_s: int = SIGNATURE_TOLERANCE_S,
                     now: float | None = None) -> bool:
    """What a partner runs on receipt: the header's v1 matches HMAC-SHA256(secret, "t.body") and t is within
    `tolerance_s` of now (a replayed old delivery is refused). Constant-time comparison."""
    try:
        fields = dict(part.split("=", 1) for part in (header or "").split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return constant_time_equal(expected, fields.get("v1", ""))


# ---- delivery --------------------------------------------------------------------------------------------------


def backoff_seconds(failed_attempts: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: 30 s * 2^(n-1), capped at 6 h, then a random 50-100% of it (so many
    deliveries that failed together do not retry together)."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(failed_attempts - 1, 0))
    return ceiling * (0.5 + 0.5 * (rng or random).random())


@dataclass(frozen=True)
class Request:
    delivery_id: uuid.UUID
    url: str
    body: bytes
    headers: dict[str, str]
    attempt: int


def claim(session: Session, delivery_id: uuid.UUID, *, now: datetime, force: bool = False) -> Request | None:
    """Take a due delivery for one attempt (held for LOCK_S) and build its signed request; None when there is
    nothing to do (delivered, given up, not due yet, or another worker holds it)."""
    query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    delivery = session.exec(query).first()
    if delivery is None or delivery.status in (DeliveryStatus.delivered, DeliveryStatus.failed):
        return None
    if delivery.locked_until and delivery.locked_until > now:
        return None
    if not force and delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=5):
        return None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        DELIVERY_LIFECYCLE.move(session, delivery, DeliveryStatus.failed, last_error="The endpoint is disabled.",
                                why="The endpoint is disabled.")
        return None
    delivery.locked_until = now + timedelta(seconds=LOCK_S)
    session.add(delivery)
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    attempt = delivery.attempts + 1
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               SIGNATURE_HEADER: sign(endpoint.secret, body, int(now.timestamp())),
               EVENT_ID_HEADER: delivery.event_id, "ICC-Event-Type": delivery.event_type,
               "ICC-Delivery-Id": str(delivery.id), "ICC-Delivery-Attempt": str(attempt)}
    return Request(delivery.id, endpoint.url, body, headers, attempt)


@dataclass(frozen=True)
class Response:
    status_code: int | None
    error: str | None
    excerpt: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(request: Request, *, timeout: float = TIMEOUT_S) -> Response:
    """One HTTP attempt; never raises (a network error is an answer too). Redirects are not followed."""
    started = time.monotonic()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            answer = client.post(request.url, content=request.body, headers=request.headers)
        ms = int((time.monotonic() - started) * 1000)
        error = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
        return Response(answer.status_code, error, answer.text[:300], ms)
    except httpx.TimeoutException:
        return Response(None, f"No answer within {timeout:g} s.", "", int((time.monotonic() - started) * 1000))
    except httpx.HTTPError as exc:
        message = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        return Response(None, message, "", int((time.monotonic() - started) * 1000))


def record(session: Session, request: Request, response: Response, *, now: datetime,
           rng: random.Random | None = None) -> WebhookDelivery:
    """Write the attempt and move the delivery on: delivered, retrying (next attempt scheduled) or failed."""
    query = select(WebhookDelivery).where(WebhookDelivery.id == request.delivery_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    delivery = session.exec(query).one()
    session.add(WebhookAttempt(delivery_id=delivery.id, business_id=delivery.business_id, number=request.attempt,
                               status_code=response.status_code, error=response.error,
                               response_excerpt=response.excerpt, duration_ms=response.duration_ms))
    if delivery.status in (DeliveryStatus.delivered, DeliveryStatus.failed):
        return delivery  # a stalled attempt came back after another one settled it: its answer is logged, no more
    delivery.attempts, delivery.last_attempt_at, delivery.locked_until = request.attempt, now, None
    delivery.response_status, delivery.duration_ms = response.status_code, response.duration_ms
    delivery.last_error = response.error
    if response.ok:
        DELIVERY_LIFECYCLE.move(session, delivery, DeliveryStatus.delivered, delivered_at=now, next_attempt_at=None,
                                why=f"attempt {request.attempt}: HTTP {response.status_code}")
    elif request.attempt >= MAX_ATTEMPTS:
        given_up = f"Gave up after {request.attempt} attempts; last: {response.error}"[:500]
        DELIVERY_LIFECYCLE.move(session, delivery, DeliveryStatus.failed, next_attempt_at=None, last_error=given_up,
                                why=given_up)
    else:
        delay = backoff_seconds(request.attempt, rng=rng)
        DELIVERY_LIFECYCLE.move(session, delivery, DeliveryStatus.retrying,
                                next_attempt_at=now + timedelta(seconds=delay),
                                why=f"attempt {request.attempt}: {response.error}; next in {delay:.0f} s")
        if not get_settings().embedded_tasks:  # in-process tasks ignore countdowns: the sweep retries instead
            enqueue(session, DELIVER_TASK, str(delivery.id), countdown=delay)
    return delivery


def attempt(delivery_id: uuid.UUID, *, now: datetime | None = None, force: bool = False,
            rng: random.Random | None = None) -> WebhookDelivery | None:
    """One attempt of a delivery in three steps: claim (a transaction), POST (no transaction), record (a
    transaction). Safe to run twice: a delivered or held delivery is left alone."""
    now = now or utcnow()
    with unit_of_work() as session:
        request = claim(session, delivery_id, now=now, force=force)
    if request is None:
        return None
    response = post(request)
    with unit_of_work() as session:
        return record(session, request, response, now=now, rng=rng)


def due_deliveries(session: Session, *, now: datetime | None = None, overdue_by: timedelta = timedelta(0),
                   limit: int = 500) -> list[uuid.UUID]:
    """Deliveries whose attempt was due `overdue_by` ago and is not in flight: what the beat sweep re-sends."""
    now = now or utcnow()
    rows = session.exec(select(WebhookDelivery.id).where(
        col(WebhookDelivery.status).in_([DeliveryStatus.pending, DeliveryStatus.retrying]),
        col(WebhookDelivery.next_attempt_at) <= now - overdue_by,
        sa.or_(col(WebhookDelivery.locked_until).is_(None), col(WebhookDelivery.locked_until) <= now),
    ).order_by(col(WebhookDelivery.next_attempt_at)).limit(limit)).all()
    return list(rows)
