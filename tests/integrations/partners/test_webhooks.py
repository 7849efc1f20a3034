"""Outbound partner webhooks against a real local HTTP receiver: signed deliveries the partner can verify, retries
with backoff on failure, giving up after the limit, redelivery, and events emitted by real changes."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import timedelta

import pytest
from sqlmodel import select

from icc_app.core.audit import AuditLog
from icc_app.core.db import pending_tasks, unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.core.models import utcnow
from icc_app.integrations.partners import delivery as outbound
from icc_app.integrations.partners import tasks, webhooks
from icc_app.integrations.partners.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from icc_app.maps import menus
from tests.factories import status_trail
from tests.integrations.partners.conftest import bearer, raw_key
from tests.maps.conftest import retailer_with_store

ITEM = {"name": "Cherry Punch 3.5g", "category": "flower", "price": "35", "in_stock_qty": "12"}


@pytest.fixture()
def store(connection, redis_client):
    """A retailer that claimed its dispensary: (principal, business, dispensary)."""
    with unit_of_work() as session:
        principal, business, dispensary = retailer_with_store(session, name="Hook Shop", number="413001")
        menus.claim(session, principal=principal, business_id=business.id, dispensary_id=dispensary.id)
    return principal, business, dispensary


def _endpoint(principal, business_id, url, events=("menu.item_changed",)):
    with unit_of_work() as session:
        return webhooks.create_endpoint(session, principal=principal, business_id=business_id, url=url,
                                        events=list(events))


def _change_menu(principal, dispensary, price="35"):
    with unit_of_work() as session:
        menus.upsert_item(session, principal=principal, dispensary_id=dispensary.id, external_id="CP-35",
                          row=ITEM | {"price": price})
        return [t for t in pending_tasks(session) if t.name == outbound.DELIVER_TASK]


def test_a_menu_change_reaches_the_partner_signed_and_verifiable(store, receiver, session):
    principal, business, dispensary = store
    made = _endpoint(principal, business.id, receiver.url)
    assert made.secret.startswith("whsec_") and made.endpoint.secret_hint == made.secret[:10]
    queued = _change_menu(principal, dispensary)
    assert len(queued) == 1  # sent after the commit, one task per delivery
    assert tasks.deliver_partner_webhook(*queued[0].args) == "delivered"

    [request] = receiver.received
    headers, body = request["headers"], request["body"]
    assert outbound.verify_signature(made.secret, headers["ICC-Signature"], body)
    # What a partner who never saw our code computes from the docs: HMAC-SHA256 over "t.body".
    fields = dict(part.split("=", 1) for part in headers["ICC-Signature"].split(","))
    expected = hmac.new(made.secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert not outbound.verify_signature("whsec_wrong", headers["ICC-Signature"], body)
    assert not outbound.verify_signature(made.secret, headers["ICC-Signature"], body + b" ")  # tampered
    assert not outbound.verify_signature(made.secret, headers["ICC-Signature"], body,
                                         now=int(fields["t"]) + 3600)  # replayed an hour later
    event = receiver.json_bodies()[0]
    assert event["type"] == "menu.item_changed" and headers["ICC-Event-Id"] == event["id"]
    assert event["data"]["sku"] == "CP-35" and event["data"]["price"] == "35.00"
    assert event["business_id"] == str(business.id) and headers["Content-Type"] == "application/json"

    delivery = session.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == event["id"])).one()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.delivered, 1, 200)
    assert delivery.delivered_at is not None and delivery.duration_ms is not None
    assert tasks.deliver_partner_webhook(str(delivery.id)) == "skipped"  # run twice: sent once
    assert len(receiver.received) == 1


def test_failures_are_retried_with_growing_jittered_delays_until_delivered(store, receiver, session):
    principal, business, dispensary = store
    receiver.answers = [500, 503, 200]
    _endpoint(principal, business.id, receiver.url)
    delivery_id = _change_menu(principal, dispensary)[0].args[0]
    now, delays = utcnow(), []
    for _ in range(3):
        with unit_of_work() as uow:
            before = uow.get(WebhookDelivery, delivery_id)
            now = max(now, before.next_attempt_at)
        delivery = outbound.attempt(delivery_id, now=now, rng=random.Random(7))
        if delivery.status == DeliveryStatus.retrying:
            delays.append((delivery.next_attempt_at - now).total_seconds())
    assert delivery.status == DeliveryStatus.delivered and delivery.attempts == 3
    assert status_trail(session, delivery_id) == ["retrying", "retrying", "delivered"]
    assert 15 <= delays[0] <= 30 and 30 <= delays[1] <= 60  # 30 s then 60 s ceilings, 50-100% of each
    attempts = session.exec(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
                            .order_by(WebhookAttempt.number)).all()
    assert [(a.number, a.status_code, a.error) for a in attempts] == [(1, 500, "HTTP 500"), (2, 503, "HTTP 503"),
                                                                       (3, 200, None)]
    assert attempts[0].response_excerpt == "receiver is down"
    bodies = receiver.json_bodies()
    assert len({b["id"] for b in bodies}) == 1  # the same event id every time: the receiver can drop repeats
    assert [r["headers"]["ICC-Delivery-Attempt"] for r in receiver.received] == ["1", "2", "3"]


def test_an_attempt_before_its_time_does_nothing_and_the_retry_is_scheduled(store, receiver):
    principal, business, dispensary = store
    receiver.answers = [500]
    _endpoint(principal, business.id, receiver.url)
    delivery_id = _change_menu(principal, dispensary)[0].args[0]
    with unit_of_work() as uow:
        outbound.record(uow, outbound.claim(uow, delivery_id, now=utcnow()),
                        outbound.Response(500, "HTTP 500", "", 3), now=utcnow())
        retry = [t for t in pending_tasks(uow) if t.name == outbound.DELIVER_TASK]
    assert retry and 15 <= retry[0].countdown <= 30  # the worker retries itself after the backoff
    assert outbound.attempt(delivery_id) is None  # not due yet: nothing sent
    assert receiver.received == []
    with unit_of_work() as uow:
        assert [str(d) for d in outbound.due_deliveries(uow, now=utcnow() + timedelta(minutes=1))] == [delivery_id]


def test_gives_up_after_the_limit_then_redelivers_on_request(store, receiver, session):
    principal, business, dispensary = store
    receiver.answers = [500]
    _endpoint(principal, business.id, receiver.url)
    delivery_id = _change_menu(principal, dispensary)[0].args[0]
    now = utcnow()
    for _ in range(outbound.MAX_ATTEMPTS):
        delivery = outbound.attempt(delivery_id, now=now)
        now = (delivery.next_attempt_at or now) + timedelta(seconds=1)
    assert delivery.status == DeliveryStatus.failed and delivery.attempts == outbound.MAX_ATTEMPTS
    assert delivery.last_error == f"Gave up after {outbound.MAX_ATTEMPTS} attempts; last: HTTP 500"
    assert outbound.attempt(delivery_id, now=now + timedelta(days=1)) is None
    assert len(receiver.received) == outbound.MAX_ATTEMPTS

    receiver.answers = [200]
    receiver.received.clear()
    from fastapi.testclient import TestClient

    from icc_app import api
    from tests.factories import session_token

    with unit_of_work() as uow:
        from icc_app.identity.models import User

        headers = bearer(session_token(uow, uow.get(User, principal.user_id)))
    client = TestClient(api.build(), raise_server_exceptions=False)
    answer = client.post(f"/api/v1/webhook-deliveries/{delivery_id}/redeliver", headers=headers)
    assert answer.status_code == 202, answer.text
    copy = answer.json()
    assert copy["redelivery_of"] == str(delivery_id) and copy["status"] == "pending"
    assert tasks.deliver_partner_webhook(copy["id"]) == "delivered"
    original = session.get(WebhookDelivery, delivery_id)
    assert receiver.json_bodies()[0]["id"] == original.event_id  # same event, so the partner can dedupe
    detail = client.get(f"/api/v1/webhook-deliveries/{copy['id']}", headers=headers).json()
    assert detail["status"] == "delivered" and [a["status_code"] for a in detail["attempt_log"]] == [200]
    log = client.get(f"/api/v1/webhook-endpoints/{original.endpoint_id}/deliveries", headers=headers).json()
    assert [d["status"] for d in log] == ["delivered", "failed"]
    assert session.exec(select(AuditLog).where(AuditLog.action == "integrations.webhook_delivery.redelivered")).all()


def test_only_subscribed_events_are_sent_and_a_rolled_back_change_sends_nothing(store, receiver, session):
    principal, business, dispensary = store
    _endpoint(principal, business.id, receiver.url, events=["order.status_changed"])
    assert _change_menu(principal, dispensary) == []  # not subscribed to menu events
    _endpoint(principal, business.id, receiver.url, events=["*"])
    with pytest.raises(RuntimeError), unit_of_work() as uow:
        menus.upsert_item(uow, principal=principal, dispensary_id=dispensary.id, external_id="GONE", row=ITEM)
        raise RuntimeError("the request failed after the change")
    assert session.exec(select(WebhookDelivery).where(WebhookDelivery.business_id == business.id)).all() == []
    with unit_of_work() as uow:  # two changes of one item in one transaction: one event, with the latest data
        menus.upsert_item(uow, principal=principal, dispensary_id=dispensary.id, external_id="CP-35", row=ITEM)
        item = menus.upsert_item(uow, principal=principal, dispensary_id=dispensary.id, external_id="CP-35",
                                 row=ITEM | {"price": "30"})
        menus.set_stock(uow, principal=principal, item_id=item.id, quantity=0)
    [delivery] = session.exec(select(WebhookDelivery).where(WebhookDelivery.business_id == business.id)).all()
    assert delivery.payload["data"]["price"] == "30.00" and delivery.payload["data"]["in_stock_qty"] == 0


def test_addresses_must_be_public_https(store, receiver):
    principal, business, _ = store
    for url, words in (("http://partner.example.com/hook", "https://"), ("https://10.0.0.7/hook", "private"),
                       ("https://user:pw@partner.example.com/", "credentials"), ("partner.example.com", "full")):
        with pytest.raises(ValidationFailed, match=words), unit_of_work() as session:
            webhooks.create_endpoint(session, principal=principal, business_id=business.id, url=url, events=["*"])
    assert _endpoint(principal, business.id, "https://partner.example.com/hook").endpoint.url.startswith("https")
    assert _endpoint(principal, business.id, receiver.url).endpoint.url == receiver.url  # localhost: tests only
    with pytest.raises(ValidationFailed, match="Unknown event"), unit_of_work() as session:
        webhooks.create_endpoint(session, principal=principal, business_id=business.id, url=receiver.url,
                                 events=["lot.deleted"])


def test_endpoints_over_the_api_secret_once_and_another_business_is_a_404(partners, receiver):
    shop = partners.shop
    made = partners.client.post("/api/v1/webhook-endpoints", headers=shop.admin_headers, json={
        "business_id": str(shop.business.id), "url": receiver.url, "events": ["ping", "order.created"]})
    assert made.status_code == 201, made.text
    secret, endpoint_id = made.json()["secret"], made.json()["endpoint"]["id"]
    listed = partners.client.get("/api/v1/webhook-endpoints", params={"business_id": str(shop.business.id)},
                                 headers=shop.admin_headers)
    assert listed.status_code == 200 and secret not in listed.text
    assert listed.json()[0]["secret_hint"] == secret[:10]
    ping = partners.client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test", headers=shop.admin_headers)
    assert ping.status_code == 202 and tasks.deliver_partner_webhook(ping.json()["id"]) == "delivered"
    assert outbound.verify_signature(secret, receiver.received[0]["headers"]["ICC-Signature"],
                                     receiver.received[0]["body"])
    for method, path in (("get", f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries"),
                         ("patch", f"/api/v1/webhook-endpoints/{endpoint_id}"),
                         ("delete", f"/api/v1/webhook-endpoints/{endpoint_id}"),
                         ("post", f"/api/v1/webhook-deliveries/{ping.json()['id']}/redeliver")):
        answer = partners.client.request(method, path, headers=partners.other.admin_headers, json={"enabled": False})
        assert answer.status_code == 404, (method, path)
    # a partner key with webhooks:manage manages its own business's endpoints, and nobody else's
    key = bearer(raw_key(partners.create_key(["webhooks:manage"])))
    paused = partners.client.patch(f"/api/v1/webhook-endpoints/{endpoint_id}", headers=key, json={"enabled": False})
    assert paused.status_code == 200 and paused.json()["enabled"] is False
    staff = partners.client.get("/api/v1/webhook-endpoints", params={"business_id": str(shop.business.id)},
                                headers=partners.staff_headers)
    assert staff.status_code == 403
    assert partners.client.delete(f"/api/v1/webhook-endpoints/{endpoint_id}", headers=key).status_code == 204


def test_the_beat_sweep_resends_deliveries_whose_retry_is_overdue(store, receiver):
    principal, business, dispensary = store
    _endpoint(principal, business.id, receiver.url)
    delivery_id = _change_menu(principal, dispensary)[0].args[0]
    assert tasks.retry_partner_webhooks() == 0  # just due: its own task is on its way
    with unit_of_work() as uow:  # the task was lost (a broker outage): five minutes overdue now
        delivery = uow.get(WebhookDelivery, delivery_id)
        delivery.next_attempt_at = utcnow() - timedelta(minutes=5)
        uow.add(delivery)
    with unit_of_work() as uow:
        assert [str(d) for d in outbound.due_deliveries(uow, overdue_by=timedelta(minutes=2))] == [delivery_id]
    assert tasks.retry_partner_webhooks() == 1


def test_a_stalled_attempt_that_answers_after_another_delivered_is_logged_and_changes_nothing(store, receiver,
                                                                                              session):
    principal, business, dispensary = store
    receiver.answers = [200, 500]
    _endpoint(principal, business.id, receiver.url)
    delivery_id = _change_menu(principal, dispensary)[0].args[0]
    now = utcnow()
    with unit_of_work() as uow:  # worker 1 takes the delivery, then stalls past its hold
        stalled = outbound.claim(uow, delivery_id, now=now)
    later = now + timedelta(seconds=outbound.LOCK_S + 1)
    assert outbound.attempt(delivery_id, now=later).status == DeliveryStatus.delivered  # worker 2 delivers
    late = outbound.post(stalled)  # worker 1's answer finally comes back (a 500)
    with unit_of_work() as uow:
        kept = outbound.record(uow, stalled, late, now=later)
    assert kept.status == DeliveryStatus.delivered and kept.next_attempt_at is None
    attempts = session.exec(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)).all()
    assert sorted(a.status_code for a in attempts) == [200, 500]  # both answers are in the log
