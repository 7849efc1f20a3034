"""Jane adapter: signed order webhooks (good, bad signature, stale and future timestamps, missing headers, wrong
bearer token, duplicate deliveries with one event id), finished carts as sales, and the optional partner product
feed over real HTTP with injected failures. The feed's shape is our assumption (Jane publishes no product spec)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from icc_app.integrations import service
from icc_app.integrations.base import (AuthFailed, Capability, ConnectionConfig, IntegrationError, MalformedPayload,
                                       Unsupported, VendorUnavailable, WebhookRejected, make_adapter)
from icc_app.integrations.jane.client import Adapter, sign
from tests.integrations.fakes.jane import FakeJane, JaneDeliveries, feed_product, generate_feed

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 1}
NOW = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
SECRET = "jane-signing-secret-0123456789"


def adapter(*, secret=SECRET, token="hook-token", store_id="68", feed_url=None, feed_token=None, per_page=200,
            **options):
    creds = {"auth_token": token} if token else {}
    if feed_url:
        creds.update(feed_url=feed_url, feed_token=feed_token)
    config = ConnectionConfig(vendor="jane", base_url=feed_url or "http://127.0.0.1:9", credentials=creds,
                              location_id=store_id,
                              webhook_secret=secret, rate_key="jane-test", http_options={**FAST, **options})
    return Adapter(config, per_page=per_page)


@pytest.fixture
def jane():
    return JaneDeliveries(secret=SECRET, token="hook-token")


# --------------------------------------------------------------------------------------------- webhooks


def test_the_connect_form_takes_no_credential_or_only_the_optional_ones():
    assert service.clean_credentials("jane", {}) == {}
    assert service.clean_credentials("jane", {"auth_token": "t", "feed_url": "https://feed.example/x"}) == {
        "auth_token": "t", "feed_url": "https://feed.example/x"}
    assert isinstance(make_adapter(ConnectionConfig(vendor="jane", base_url="https://x.example", credentials={})),
                      Adapter)


def test_the_signature_is_hmac_sha256_of_timestamp_colon_body():
    # computed independently of the code under test: printf '%s' '1764658800:{"a":1}' | openssl dgst -sha256 -hmac k
    assert sign("k", "1764658800", b'{"a":1}') == "a14d90668d6703cba382c92622b0657e171810093967bdc76aeddcd6be060bc6"


def test_a_good_finished_order_becomes_a_sale(jane):
    headers, body = jane.delivery(jane.cart(7469, status="finished", amount=41.8), now=NOW)
    message = adapter().verify_webhook(headers, body, now=NOW)
    assert message.location_id == "68" and message.event_type == "cart_status_updated:finished"
    assert message.payload == json.loads(body)
    [sale] = message.sales
    assert sale.external_id == "7469" and sale.total == Decimal("41.80") and sale.customer_external_id == "9001"
    assert sale.occurred_at == datetime(2026, 12, 2, 6, 41, 28, tzinfo=UTC)
    assert [(line.product_external_id, line.quantity, line.unit_price, line.category) for line in sale.lines] == [
        ("555", 1, Decimal("35.00"), "flower"), ("556", 1, Decimal("6.80"), "edible")]
    assert sale.raw["id"] == 7469


def test_intermediate_statuses_are_valid_events_without_a_sale(jane):
    ids = set()
    for status in ("verification", "preparing", "ready_for_pickup", "cancelled"):
        headers, body = jane.delivery(jane.cart(7469, status=status), now=NOW)
        message = adapter().verify_webhook(headers, body, now=NOW)
        assert message.sales == [] and message.menu == [] and message.event_type.endswith(status)
        ids.add(message.event_id)
    assert len(ids) == 4  # each status change is its own event


def test_duplicate_delivery_keeps_one_event_id_even_when_re_signed_later(jane):
    cart = jane.cart(7470, status="finished")
    first = adapter().verify_webhook(*jane.delivery(cart, now=NOW), now=NOW)
    replay = adapter().verify_webhook(*jane.delivery(cart, now=NOW), now=NOW + timedelta(seconds=30))
    retried = adapter().verify_webhook(*jane.delivery(cart, now=NOW + timedelta(seconds=90)),
                                       now=NOW + timedelta(seconds=90))
    assert first.event_id == replay.event_id == retried.event_id
    other = adapter().verify_webhook(*jane.delivery(jane.cart(7471, status="finished"), now=NOW), now=NOW)
    assert other.event_id != first.event_id


@pytest.mark.parametrize(("broken", "reason"), [
    ({"bad_signature": True}, "Bad signature"),
    ({"stale_s": 301}, "Stale: signed 301 s ago"),
    ({"future_s": 400}, "in the future"),
    ({"unsigned": True}, "Unsigned"),
    ({"token": "someone-else"}, "bearer token"),
])
def test_broken_deliveries_are_rejected_with_the_reason(jane, broken, reason):
    headers, body = jane.delivery(jane.cart(7469), now=NOW, **broken)
    with pytest.raises(WebhookRejected, match=reason):
        adapter().verify_webhook(headers, body, now=NOW)


def test_within_the_window_either_way_is_accepted(jane):
    for shift in ({"stale_s": 299}, {"future_s": 299}):
        headers, body = jane.delivery(jane.cart(7469), now=NOW, **shift)
        assert adapter().verify_webhook(headers, body, now=NOW).sales


def test_a_tampered_body_fails_the_signature(jane):
    headers, body = jane.delivery(jane.cart(7469, amount=41.8), now=NOW)
    tampered = body.replace(b"41.8", b"1.8")
    with pytest.raises(WebhookRejected, match="Bad signature"):
        adapter().verify_webhook(headers, tampered, now=NOW)


def test_header_names_are_case_insensitive_and_the_token_is_optional(jane):
    headers, body = jane.delivery(jane.cart(7469), now=NOW, token="")
    lower = {k.lower(): v for k, v in headers.items() if k.lower() != "authorization"}
    assert adapter(token=None).verify_webhook(lower, body, now=NOW).sales


def test_no_secret_or_another_store_or_not_a_cart_is_rejected(jane):
    headers, body = jane.delivery(jane.cart(7469), now=NOW)
    with pytest.raises(WebhookRejected, match="No Jane signing secret"):
        adapter(secret=None).verify_webhook(headers, body, now=NOW)
    with pytest.raises(WebhookRejected, match="store 68, not 99"):
        adapter(store_id="99").verify_webhook(headers, body, now=NOW)
    headers, body = jane.delivery({}, now=NOW, raw_body=b'{"hello": "world"}')
    with pytest.raises(WebhookRejected, match="not a Jane cart event"):
        adapter().verify_webhook(headers, body, now=NOW)
    headers, body = jane.delivery({}, now=NOW, raw_body=b"not json")
    with pytest.raises(WebhookRejected, match="not a Jane cart event"):
        adapter().verify_webhook(headers, body, now=NOW)


# --------------------------------------------------------------------------------------------- product feed


def test_without_a_feed_only_webhooks_are_offered():
    plain = adapter()
    assert plain.capabilities == frozenset({Capability.webhooks})
    assert plain.test_connection() == "Ready for Jane order webhooks from store 68 (no product feed configured)"
    with pytest.raises(AuthFailed, match="signing secret"):
        adapter(secret=None).test_connection()
    with pytest.raises(Unsupported, match="feed URL"):
        plain.fetch_menu()


def test_feed_menu_is_read_page_by_page_and_normalized():
    products = generate_feed(45, seed=3) + [
        feed_product(1, name="Blue Dream", kind="flower", category="sativa", percent_thc=18.0, percent_thca=10.0,
                     quantity=7, prices={"gram": 12.0, "eighth_ounce": 35.0},
                     terpenes=[{"name": "Myrcene", "value": 0.8}]),
        feed_product(2, name="Chewy Gummies", kind="edible", category=None, percent_thc=None, dosage="100mg",
                     prices={"each": 18.0}),
        feed_product(3, name="No Price", prices={}),
        feed_product(4, name="", prices={"each": 5.0}),
    ]
    with FakeJane(products=products, token="feed-token") as server:
        jane = adapter(feed_url=server.feed_url, feed_token="feed-token", per_page=20)
        assert Capability.menu in jane.capabilities
        assert jane.test_connection() == ("Connected to the Jane product feed for store 68: 49 products; "
                                          "order webhooks ready")
        records = {r.external_id: r for r in jane.fetch_menu()}
        assert len(server.calls("/feed")) == 1 + 3  # test + three pages of 20
    assert len(records) == 49
    flower = records["1"].values
    assert (flower["thc_min"], flower["thc_unit"], flower["strain_type"]) == (26.77, "%", "sativa")
    assert flower["variants"] == [{"label": "1 g", "weight_g": 1.0, "price": 12.0},
                                  {"label": "1/8 oz", "weight_g": 3.5, "price": 35.0}]
    assert flower["price"] == Decimal("12.00") and flower["in_stock_qty"] == 7
    assert flower["terpenes"] == [{"name": "myrcene", "pct": 0.8}]
    assert (records["2"].values["thc_min"], records["2"].values["thc_unit"]) == (100.0, "mg")
    assert records["3"].values == {"_skip": "No Price: no price"}
    assert records["4"].values == {"_skip": "no product name"}
    assert records["1"].raw["name"] == "Blue Dream"


def test_the_feed_must_live_on_the_connection_address():
    with FakeJane(products=generate_feed(3, seed=1), token="feed-token") as server:
        relative = Adapter(ConnectionConfig(vendor="jane", base_url=server.url, location_id="68",
                                            credentials={"feed_url": "/feed", "feed_token": "feed-token"},
                                            webhook_secret=SECRET, http_options=FAST))
        assert len(relative.fetch_menu()) == 3
        elsewhere = Adapter(ConnectionConfig(vendor="jane", base_url="https://jane.example", location_id="68",
                                             credentials={"feed_url": server.feed_url}, webhook_secret=SECRET,
                                             http_options=FAST))
        with pytest.raises(IntegrationError, match="must be on the connection's address"):
            elsewhere.fetch_menu()
        assert len(server.calls()) == 1


def test_feed_failures_raise_and_return_nothing():
    with FakeJane(products=generate_feed(45, seed=3), token="feed-token") as server:
        with pytest.raises(AuthFailed):
            adapter(feed_url=server.feed_url, feed_token="wrong").fetch_menu()
        waits = []
        server.fail(429, retry_after=1)
        server.fail(503)
        ok = adapter(feed_url=server.feed_url, feed_token="feed-token", per_page=20, max_backoff_s=5,
                     sleep=waits.append)
        assert len(ok.fetch_menu()) == 45 and waits[0] == 1.0 and len(waits) == 2
        server.drop_page = 2
        with pytest.raises(MalformedPayload, match="25 of 45 products arrived"):
            adapter(feed_url=server.feed_url, feed_token="feed-token", per_page=20).fetch_menu()
        server.drop_page = None
        server.fail("malformed", path="/feed")
        with pytest.raises(MalformedPayload, match="not JSON"):
            adapter(feed_url=server.feed_url, feed_token="feed-token", per_page=20).fetch_menu()
        server.timeout_hang_s = 1.5
        server.fail("timeout", times=2, path="/feed")
        with pytest.raises(VendorUnavailable, match="timed out after 2 tries"):
            adapter(feed_url=server.feed_url, feed_token="feed-token", max_retries=1).fetch_menu()


# --------------------------------------------------------------------------------------------- through the endpoint


def test_a_signed_finished_order_is_stored_once_and_a_stale_one_is_rejected(session, store, jane):
    from sqlmodel import select

    from icc_app.integrations import webhooks
    from icc_app.integrations.models import Sale
    from tests.integrations.conftest import make_connection

    _, business, shop = store
    connection = make_connection(session, business, shop, vendor="jane", credentials={"auth_token": "hook-token"},
                                 webhook_secret=SECRET, location_id="68")
    now = datetime.now(UTC)
    headers, body = jane.delivery(jane.cart(8100, status="finished", amount=52.5), now=now)
    event, duplicate = webhooks.receive(session, vendor="jane", headers=headers, body=body, now=now)
    assert not duplicate and event.connection_id == connection.id
    webhooks.process(event.id)
    again, duplicate = webhooks.receive(session, vendor="jane", headers=headers, body=body,
                                        now=now + timedelta(seconds=20))
    assert duplicate and again.id == event.id
    sales = session.exec(select(Sale).where(Sale.connection_id == connection.id)).all()
    assert [(s.external_id, s.total) for s in sales] == [("8100", Decimal("52.50"))]
    stale_headers, stale_body = jane.delivery(jane.cart(8101, status="finished"), now=now, stale_s=900)
    with pytest.raises(WebhookRejected, match="Stale"):
        webhooks.receive(session, vendor="jane", headers=stale_headers, body=stale_body, now=now)
