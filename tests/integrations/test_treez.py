"""Treez adapter against FakeTreez, a local server speaking Treez's protocol over real HTTP: token exchange and
refresh, product_list paging and filters, the quantity cap, incremental reads, every injected failure (a run either
returns the complete menu or raises), tickets, customers and the INVENTORY / TICKET webhooks."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from icc_app.integrations.base import (
    AuthFailed,
    Capability,
    ConnectionConfig,
    IntegrationError,
    MalformedPayload,
    VendorUnavailable,
    WebhookRejected,
    make_adapter,
)
from icc_app.integrations.treez import mapping
from icc_app.integrations.treez.client import Adapter, treez_time
from tests.integrations.fakes.treez import FakeTreez, lab, make_product

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 1}
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def server():
    with FakeTreez(products=FakeTreez.generate_products(120, seed=7), default_page_size=50) as fake:
        fake.timeout_hang_s = 1.3
        yield fake


def adapter_for(fake: FakeTreez, *, http: dict | None = None, secret: str | None = "hook-token",
                location: str | None = None, page_size: int | None = None, **credentials):
    creds = {"client_id": fake.client_id, "api_key": fake.api_key, "dispensary": fake.dispensary, **credentials}
    config = ConnectionConfig(vendor="treez", base_url=fake.url, credentials=creds, webhook_secret=secret,
                              location_id=location, rate_key=f"test-{uuid.uuid4()}",
                              http_options={**FAST, **(http or {})})
    return Adapter(config, page_size=page_size) if page_size else make_adapter(config)


def listed(fake: FakeTreez) -> set[str]:
    return {p["product_id"] for p in fake.products.values() if p["above_threshold"]}


def product_calls(fake: FakeTreez):
    return [r for r in fake.requests if "/product/product_list" in r.path]


# ----------------------------------------------------------------------------------------------- auth


def test_declares_what_it_can_do(server):
    adapter = adapter_for(server)
    assert isinstance(adapter, Adapter)
    assert adapter.capabilities == {Capability.menu, Capability.sales, Capability.customers, Capability.update_price,
                                    Capability.webhooks}
    assert set(adapter.credential_fields) == {"client_id", "api_key", "dispensary"}


def test_test_connection_exchanges_the_key_for_a_token_form_encoded(server):
    answer = adapter_for(server).test_connection()
    assert answer == f"Connected to Treez dispensary partnersandbox2: {len(listed(server))} products for sale."
    token_call = server.requests[0]
    assert token_call.path == "/partnersandbox2/config/api/gettokens" and token_call.method == "POST"
    assert token_call.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert token_call.form() == {"client_id": "partner-client", "apikey": "location-key"}
    api_call = server.requests[1]
    assert api_call.headers["client_id"] == "partner-client"
    assert api_call.headers["authorization"] in server.tokens


def test_the_token_is_reused_until_close_to_expiry_then_refreshed_before_it_expires(server):
    adapter = adapter_for(server)
    adapter.fetch_menu()
    adapter.fetch_menu()
    assert server.tokens_issued == 1  # cached: two full syncs, one token
    first = server.requests[1].headers["authorization"]
    real = time.time
    adapter.clock = lambda: real() + 3600  # an hour in: still good
    adapter.fetch_menu()
    assert server.tokens_issued == 1
    adapter.clock = lambda: real() + 7200 - 120  # two minutes before expiry: refresh first, no 401 needed
    before = len(server.requests)
    adapter.fetch_menu()
    assert server.tokens_issued == 2
    assert server.requests[before].path.endswith("/config/api/gettokens")  # the refresh came before any call
    assert all(r.headers["authorization"] != first for r in server.requests[before + 1:])
    assert server.tokens[first] > real()  # the old token was still valid: the refresh was not forced by a 401


def test_a_short_lived_token_is_refreshed_before_it_runs_out(server):
    server.token_ttl_s = 600  # Treez says how long a token lives: 10 minutes here, so refresh in its last minute
    adapter = adapter_for(server)
    adapter.test_connection()
    real = time.time
    adapter.clock = lambda: real() + 530
    adapter.fetch_menu()
    assert server.tokens_issued == 1  # 70 s left: still used
    adapter.clock = lambda: real() + 545
    adapter.fetch_menu()
    assert server.tokens_issued == 2  # 55 s left: refreshed first
    assert [c.query["page"] for c in product_calls(server)] == ["1"] + ["1", "2", "3"] * 2  # never a 401 round trip


def test_an_expired_token_gets_one_refresh_on_401(server):
    adapter = adapter_for(server)
    adapter.test_connection()
    server.expire_tokens()  # Treez revoked or expired it early
    records = adapter.fetch_menu()
    assert {r.external_id for r in records} == listed(server)
    assert server.tokens_issued == 2


def test_a_second_401_is_auth_failed(server):
    adapter = adapter_for(server)
    server.fail(401, times=2, path="/partnersandbox2/product/")
    with pytest.raises(AuthFailed, match="fresh access token"):
        adapter.fetch_menu()
    assert server.tokens_issued == 2  # the first token, one refresh, then give up
    assert len(product_calls(server)) == 2


def test_wrong_key_is_auth_failed_and_reads_nothing(server):
    adapter = adapter_for(server, api_key="not-the-key")
    with pytest.raises(AuthFailed, match="client ID or API key for dispensary 'partnersandbox2'"):
        adapter.test_connection()
    assert product_calls(server) == []


def test_a_token_complaint_in_the_body_gets_one_refresh_too(server):
    adapter = adapter_for(server)
    server.fail(200, path="/partnersandbox2/product/",
                body={"resultCode": "FAIL", "resultReason": "Access token expired"})
    assert {r.external_id for r in adapter.fetch_menu()} == listed(server)
    assert server.tokens_issued == 2


def test_a_token_answer_without_success_is_auth_failed(server):
    server.fail(200, path="/partnersandbox2/config/api/gettokens",
                body={"resultCode": "FAIL", "resultReason": "API key disabled", "access_token": None})
    with pytest.raises(AuthFailed, match="API key disabled"):
        adapter_for(server).fetch_menu()


def test_missing_credentials_are_refused_before_calling_treez(server):
    with pytest.raises(AuthFailed, match="needs the API key"):
        adapter_for(server, api_key="").test_connection()
    with pytest.raises(AuthFailed, match="dispensary short name"):
        adapter_for(server, dispensary="").fetch_menu()
    assert server.requests == []


def test_the_connection_s_location_is_the_dispensary(server):
    adapter = adapter_for(server, dispensary="", location="partnersandbox2")
    assert adapter.fetch_menu() and server.requests[0].path == "/partnersandbox2/config/api/gettokens"


# ----------------------------------------------------------------------------------------------- menu


def test_full_menu_reads_every_page_with_the_filters_treez_asks_for(server):
    pages = []
    records = adapter_for(server).fetch_menu(progress=pages.append)
    assert {r.external_id for r in records} == listed(server)
    assert len(records) == len(listed(server)) > 100
    calls = product_calls(server)
    assert [c.query["page"] for c in calls] == ["1", "2", "3"]
    assert all(c.query["active"] == "all" and c.query["above_threshold"] == "true" for c in calls)
    assert all("page_size" not in c.query for c in calls)  # Treez recommends letting it send its maximum
    assert pages[-1] == f"page 3 of 3 ({len(records)} of {len(records)} products)"
    deactivated = [p for p in server.products.values() if p["product_status"] == "DEACTIVATED" and p["above_threshold"]]
    assert deactivated and {p["product_id"] for p in deactivated} <= {r.external_id for r in records}


def test_page_size_when_set_is_sent_and_kept_within_the_documented_maximum(server):
    adapter_for(server, page_size=40).fetch_menu()
    assert {c.query["page_size"] for c in product_calls(server)} == {"40"}
    server.requests.clear()
    records = adapter_for(server, page_size=5000).fetch_menu()
    assert {c.query["page_size"] for c in product_calls(server)} == {"1000"}
    assert len(records) == len(listed(server))


def test_a_product_dropping_below_the_display_threshold_leaves_the_list(server):
    adapter = adapter_for(server)
    some = next(iter(listed(server)))
    server.set_stock(some, 0)
    assert some not in {r.external_id for r in adapter.fetch_menu()}


def test_flower_with_thca_is_mapped_to_total_thc_and_grams():
    with FakeTreez(products=[make_product(
            product_id="p-flower", name="SUGAR SAND 3.5G", brand="HIGH GRASS FARMS", classification="INDICA",
            amount="3.5", uom="GRAMS", price=45, quantity=12,
            lab_results=[lab("THC", 1.2), lab("THCA", 24.0), lab("CBD", 0.1), lab("BETA_MYRCENE", 0.8),
                         lab("LIMONENE", 0.3)])]) as fake:
        record = adapter_for(fake).fetch_menu()[0]
    values = record.values
    assert record.external_id == "p-flower" and record.partial is False
    assert values["name"] == "Sugar Sand 3.5g" and values["brand"] == "High Grass Farms"
    assert values["category"] == "flower" and values["strain_type"] == "indica"
    assert values["strain_name"] == "Sugar Sand"
    assert (values["thc_min"], values["thc_max"], values["thc_unit"]) == (22.25, 22.25, "%")  # 1.2 + 0.877 x 24
    assert (values["cbd_min"], values["cbd_unit"]) == (0.1, "%")
    assert [t["name"] for t in values["terpenes"]] == ["β-myrcene", "limonene"]
    assert values["variants"] == [{"label": "3.5 g", "weight_g": 3.5, "price": 45.0}]
    assert values["price"] == Decimal("45.00") and values["in_stock_qty"] == 12
    assert "_qty_capped_at" not in values
    assert record.inventory is None  # the list has no cost, batch or expiry; webhooks bring them
    assert record.raw["product_configurable_fields"]["name"] == "SUGAR SAND 3.5G"  # raw payload kept


def test_potency_ranges_and_milligram_products():
    products = [
        make_product(product_id="range", name="BLUE DREAM", lab_results=[lab("THC", 18.0, 22.5)]),
        make_product(product_id="gummy", name="WATERMELON GUMMIES 100MG", category_type="EDIBLE", amount=None,
                     uom="EACH", size="10PK", total_mg_thc="100", total_mg_cbd="5"),
        make_product(product_id="mg-lab", name="TINCTURE", category_type="TINCTURE", uom="EACH", amount=None,
                     lab_results=[lab("THC", 250, amount_type="MILLIGRAMS")]),
        make_product(product_id="mislabelled", name="ODD", lab_results=[lab("THC", 250)]),  # 250 % is not a percent
        make_product(product_id="total", name="OG", lab_results=[lab("TOTAL_THC", 27.3), lab("THCA", 30.0)]),
        make_product(product_id="d9-only", name="D9", lab_results=[lab("D9_THC", 0.9), lab("THCA", 20.0)]),
        make_product(product_id="zero-lab", name="SODA", category_type="BEVERAGE", total_mg_thc=10,
                     lab_results=[lab("THC", 0.0)]),
    ]
    with FakeTreez(products=products) as fake:
        records = {r.external_id: r.values for r in adapter_for(fake).fetch_menu()}
    assert (records["range"]["thc_min"], records["range"]["thc_max"], records["range"]["thc_unit"]) == (18.0, 22.5, "%")
    gummy = records["gummy"]
    assert (gummy["thc_min"], gummy["thc_unit"], gummy["cbd_min"], gummy["cbd_unit"]) == (100.0, "mg", 5.0, "mg")
    assert gummy["category"] == "edible" and gummy["variants"][0]["label"] == "10pk"
    assert gummy["variants"][0]["weight_g"] is None
    assert (records["mg-lab"]["thc_max"], records["mg-lab"]["thc_unit"]) == (250.0, "mg")
    assert records["mislabelled"]["thc_min"] is None
    assert records["total"]["thc_min"] == 27.3  # a reported total wins over adding THCA ourselves
    assert records["d9-only"]["thc_min"] == 18.44  # delta-9 spelled out: 0.9 + 0.877 x 20
    assert (records["zero-lab"]["thc_min"], records["zero-lab"]["thc_unit"]) == (10.0, "mg")


def test_treez_product_types_map_to_our_categories():
    kinds = {"PREROLL": "pre_roll", "CARTRIDGE": "vape", "EXTRACT": "concentrate", "BEVERAGE": "edible",
             "PILL": "edible", "TOPICAL": "topical", "MERCH": "accessory", "PLANT": "other", "MISC": "edible"}
    products = [make_product(product_id=kind, category_type=kind, subtype="GUMMY" if kind == "MISC" else None)
                for kind in kinds]
    with FakeTreez(products=products) as fake:
        records = {r.external_id: r.values["category"] for r in adapter_for(fake).fetch_menu()}
    assert records == kinds


def test_items_without_name_or_price_are_returned_as_skipped_with_a_reason():
    products = [make_product(product_id="ok"), make_product(product_id="noname", name="  "),
                make_product(product_id="noprice", price=None),
                make_product(product_id="tier", price=None, price_type="TIER", tier_name="FLOWER TIER A"),
                make_product(product_id="hidden", hide_from_menu=True)]
    with FakeTreez(products=products) as fake:
        notes = []
        records = {r.external_id: r.values for r in adapter_for(fake).fetch_menu(progress=notes.append)}
    assert set(records) == {"ok", "noname", "noprice", "tier"}  # hidden: left out, so it goes out of stock
    assert "_skip" not in records["ok"]
    assert records["noname"] == {"_skip": "no product name"}
    assert records["noprice"]["_skip"].endswith("no price")
    assert "tier pricing (FLOWER TIER A)" in records["tier"]["_skip"]
    assert "1 product hidden from the menu in Treez left out" in notes
    assert "hidden from the menu" in mapping.product_record(products[-1]).values["_skip"]


def test_capped_list_quantity_is_marked_and_the_webhook_carries_the_true_quantity():
    with FakeTreez(products=[make_product(product_id="big", quantity=75), make_product(product_id="small",
                                                                                      quantity=12)]) as fake:
        adapter = adapter_for(fake)
        records = {r.external_id: r for r in adapter.fetch_menu()}
        assert records["big"].values["in_stock_qty"] == 30  # what the list API shows
        assert records["big"].values["_qty_capped_at"] == 30  # "at least 30": a higher webhook quantity wins
        assert "_qty_capped_at" not in records["small"].values  # below the cap the list is exact
        headers, body = fake.inventory_webhook("big", available=75, reserved=4, expiration="2027-06-30")
        message = adapter.verify_webhook(headers, body, now=NOW)
    [record] = message.menu
    assert record.partial is True and record.external_id == "big"
    assert record.values == {"in_stock_qty": 75}  # available to sell: reserved units are held for orders
    assert record.inventory.quantity == Decimal("75")
    assert record.inventory.expires_on.isoformat() == "2027-06-30"
    assert record.inventory.package_label == "1A4060300003B01000000123" and record.inventory.batch == "B1"


def test_a_package_webhook_is_reconciled_with_the_product_s_other_packages():
    products = [make_product(product_id="two-packages", quantity=25), make_product(product_id="plenty", quantity=75),
                make_product(product_id="plenty-small-package", quantity=75)]
    with FakeTreez(products=products) as fake:
        adapter = adapter_for(fake)
        patches = [adapter.verify_webhook(*fake.inventory_webhook(pid, available=qty), now=NOW).menu[0]
                   for pid, qty in (("two-packages", 5), ("plenty", 60), ("plenty-small-package", 10),
                                    ("not-listed", 7))]
        reconciled = adapter.reconcile_patches(patches)
        fixed = {r.external_id: r.values["in_stock_qty"] for r in reconciled}
        assert all(r.inventory.quantity == r.values["in_stock_qty"] for r in reconciled)  # the product's level
        assert reconciled[0].inventory.package_label == patches[0].inventory.package_label
        by_id = [r for r in fake.requests if r.query.get("id")]
    assert fixed == {"two-packages": 25,  # below the cap the list counts every package: exact
                     "plenty": 60,  # the list says 30 (capped), this package alone has 60
                     "plenty-small-package": 30,  # at least the cap, though this package has 10
                     "not-listed": 7}
    assert len(by_id) == 1 and set(by_id[0].query["id"].split(",")) == {"two-packages", "plenty",
                                                                        "plenty-small-package", "not-listed"}


def test_incremental_menu_reads_only_products_changed_after_the_cursor(server):
    adapter = adapter_for(server)
    cursor = datetime.now(UTC) - timedelta(seconds=1)
    assert adapter.fetch_menu_changes(since=cursor) == []
    changed = next(iter(listed(server)))
    server.set_price(changed, 51.5)
    stock_only = [p for p in listed(server) if p != changed][0]
    server.set_stock(stock_only, 99)  # a stock change does not move last_updated_at (as Treez documents)
    records = adapter.fetch_menu_changes(since=cursor)
    assert [(r.external_id, r.values["price"]) for r in records] == [(changed, Decimal("51.50"))]
    call = product_calls(server)[-1]
    assert call.path.startswith("/partnersandbox2/product/product_list/lastUpdated/after/")
    assert call.query["active"] == "all"


def test_update_price_writes_the_flat_price_back_keeping_the_product_s_fields(server):
    adapter = adapter_for(server)
    product_id = next(p for p in listed(server) if server.products[p]["pricing"]["price_type"] == "FLAT")
    fields = dict(server.products[product_id]["product_configurable_fields"])
    adapter.update_price(product_id, Decimal("39.5"))
    [body] = server.updates
    assert body["pricing"] == {"price_type": "FLAT", "price_sell": 39.5, "tier_name": None}
    assert body["product_configurable_fields"] == fields and body["category_type"]
    record = next(r for r in adapter.fetch_menu() if r.external_id == product_id)
    assert record.values["price"] == Decimal("39.50")


def test_update_price_is_refused_for_tier_pricing_and_read_only_locations():
    with FakeTreez(products=[make_product(product_id="tiered", price=None, price_type="TIER", tier_name="TOP SHELF"),
                             make_product(product_id="flat")]) as fake:
        adapter = adapter_for(fake)
        with pytest.raises(IntegrationError, match="tier TOP SHELF in Treez"):
            adapter.update_price("tiered", Decimal("30"))
        fake.read_only = True
        with pytest.raises(IntegrationError, match="read-only with Treez Catalog"):
            adapter.update_price("flat", Decimal("30"))
        assert fake.updates == [] and fake.products["flat"]["pricing"]["price_sell"] == 45.0


# ----------------------------------------------------------------------------------------------- failures


def test_429_with_retry_after_is_waited_out_and_the_menu_is_complete(server):
    waits = []
    adapter = adapter_for(server, http={"sleep": waits.append})
    server.fail(429, times=2, path="/partnersandbox2/product/", retry_after=0)
    records = adapter.fetch_menu()
    assert {r.external_id for r in records} == listed(server)
    assert waits[:2] == [0.0, 0.0]  # the server's Retry-After, not our own backoff
    assert adapter.http.retries == 2


def test_retry_after_is_capped_by_our_longest_backoff(server):
    waits = []
    adapter = adapter_for(server, http={"sleep": waits.append})
    server.fail(429, path="/partnersandbox2/product/", retry_after=120)
    adapter.fetch_menu()
    assert waits[0] == pytest.approx(0.05)


def test_a_500_mid_paging_is_retried_and_the_menu_is_complete(server):
    adapter = adapter_for(server)

    def on_page(message: str) -> None:
        if message.startswith("page 1 "):
            server.fail(500, path="/partnersandbox2/product/")

    records = adapter.fetch_menu(progress=on_page)
    assert {r.external_id for r in records} == listed(server)
    assert [c.query["page"] for c in product_calls(server)] == ["1", "2", "2", "3"]


def test_a_vendor_that_keeps_failing_mid_paging_raises_instead_of_returning_part(server):
    adapter = adapter_for(server, http={"max_retries": 2})

    def on_page(message: str) -> None:
        if message.startswith("page 2 "):
            server.fail(503, times=5, path="/partnersandbox2/product/")

    with pytest.raises(VendorUnavailable, match="kept failing"):
        adapter.fetch_menu(progress=on_page)


def test_a_timeout_is_retried(server):
    adapter = adapter_for(server)
    server.fail("timeout", path="/partnersandbox2/product/")
    assert {r.external_id for r in adapter.fetch_menu()} == listed(server)


def test_timeouts_that_outlast_the_retries_raise(server):
    adapter = adapter_for(server, http={"max_retries": 0})
    server.fail("timeout", path="/partnersandbox2/product/")
    with pytest.raises(VendorUnavailable, match="timed out"):
        adapter.fetch_menu()


def test_malformed_json_on_a_later_page_raises_not_a_partial_menu(server):
    adapter = adapter_for(server)

    def on_page(message: str) -> None:
        if message.startswith("page 2 "):
            server.fail("malformed", path="/partnersandbox2/product/")

    with pytest.raises(MalformedPayload, match="not JSON"):
        adapter.fetch_menu(progress=on_page)


def test_a_short_page_raises_not_a_partial_menu(server):
    server.truncated_pages[2] = 10  # page 2 sends 10 of its 50 products
    with pytest.raises(MalformedPayload, match="nothing was applied"):
        adapter_for(server).fetch_menu()


def test_an_out_of_order_page_is_detected(server):
    server.misrouted_pages[3] = 2  # asked for page 3, Treez sends page 2 again
    with pytest.raises(MalformedPayload, match="kept changing"):
        adapter_for(server).fetch_menu()
    assert [c.query["page"] for c in product_calls(server)] == ["1", "2", "3", "1", "2", "3"]  # read again once


def test_a_list_that_moves_while_paging_is_read_again_and_complete(server):
    server.grow_after_page = 1  # a product is added while we read: the total changes under us
    records = adapter_for(server).fetch_menu()
    assert {r.external_id for r in records} == listed(server)
    assert any(r.values.get("name") == "Late Arrival 1g" for r in records)


def test_a_page_without_a_product_list_is_malformed(server):
    server.fail(200, path="/partnersandbox2/product/", body={"resultCode": "SUCCESS", "data": None})
    with pytest.raises(MalformedPayload, match="product_list"):
        adapter_for(server).fetch_menu()


def test_a_refusal_in_the_body_is_reported_with_treez_s_reason(server):
    server.fail(200, path="/partnersandbox2/product/", body={"resultCode": "FAIL", "resultReason": "Store offline"})
    with pytest.raises(IntegrationError, match="Store offline"):
        adapter_for(server).fetch_menu()


def test_calls_are_held_to_ten_per_second_per_location(server):
    adapter = adapter_for(server, page_size=5)  # 22 pages + the token: three rate windows at least
    assert (adapter.http.budget.limit, adapter.http.budget.window_s) == (10, 1)
    assert adapter.http.budget.key == adapter.auth_http.budget.key  # the token call draws from the same budget
    started = time.monotonic()
    records = adapter.fetch_menu()
    assert len(records) == len(listed(server))
    assert len(server.requests) >= 21 and time.monotonic() - started >= 1.0


# ----------------------------------------------------------------------------------------------- webhooks


def test_inventory_webhook_with_the_right_token_is_accepted(server):
    adapter = adapter_for(server)
    product = next(iter(listed(server)))
    headers, body = server.inventory_webhook(product, available=44)
    message = adapter.verify_webhook(headers, body, now=NOW)
    assert (message.event_type, message.location_id) == ("INVENTORY", "partnersandbox2")
    assert message.payload["data"]["productId"] == product
    assert [(r.external_id, r.values["in_stock_qty"], r.partial) for r in message.menu] == [(product, 44, True)]
    assert message.sales == []


def test_unsellable_locations_do_not_count(server):
    adapter = adapter_for(server)
    product = next(iter(listed(server)))
    vault = {"id": "v", "batchId": "B1", "location": "VAULT", "sellable": False,
             "quantity": {"available": 500.0, "reserved": 0.0, "packedAndReady": 0.0, "returned": 0.0, "total": 500}}
    headers, body = server.inventory_webhook(product, available=6, extra_rows=[vault])
    assert adapter.verify_webhook(headers, body, now=NOW).menu[0].values == {"in_stock_qty": 6}


@pytest.mark.parametrize(("authorization", "reason"), [
    (None, "without an Authorization header"),
    ("Bearer wrong-token", "does not match"),
    ("Bearer hook-token-and-more", "does not match"),
    ("Basic aG9vay10b2tlbg==", "not 'Bearer <token>'"),
    ("hook-token", "not 'Bearer <token>'"),
])
def test_a_missing_or_wrong_token_is_rejected(server, authorization, reason):
    headers, body = server.inventory_webhook(next(iter(listed(server))), available=3)
    headers.pop("authorization")
    if authorization is not None:
        headers["Authorization"] = authorization
    with pytest.raises(WebhookRejected, match=reason):
        adapter_for(server).verify_webhook(headers, body, now=NOW)


def test_a_connection_without_a_webhook_token_rejects_everything(server):
    headers, body = server.inventory_webhook(next(iter(listed(server))), available=3)
    with pytest.raises(WebhookRejected, match="no webhook token"):
        adapter_for(server, secret=None).verify_webhook(headers, body, now=NOW)


@pytest.mark.parametrize(("body", "reason"), [
    (b"not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"event_type": "PRODUCT", "dispensary_short_name": "partnersandbox2", "data": {}}).encode(),
     "Unknown Treez event type 'PRODUCT'"),
    (json.dumps({"dispensary_short_name": "partnersandbox2", "data": {}}).encode(), "Unknown Treez event type 'none'"),
    (json.dumps({"event_type": "INVENTORY", "dispensary_short_name": "partnersandbox2"}).encode(), "without a data"),
    (json.dumps({"event_type": "INVENTORY", "dispensary_short_name": "partnersandbox2",
                 "data": {"id": "x", "inventory": []}}).encode(), "cannot be read: .*productId"),
    (json.dumps({"event_type": "TICKET", "dispensary_short_name": "elsewhere", "data": {}}).encode(),
     "for dispensary 'elsewhere'"),
])
def test_unknown_or_malformed_events_are_rejected_with_a_reason(server, body, reason):
    headers = {"authorization": "Bearer hook-token", "content-type": "application/json"}
    with pytest.raises(WebhookRejected, match=reason):
        adapter_for(server).verify_webhook(headers, body, now=NOW)


def test_a_duplicate_delivery_gets_the_same_event_id(server):
    adapter = adapter_for(server)
    product = next(iter(listed(server)))
    headers, body = server.inventory_webhook(product, available=9)
    first = adapter.verify_webhook(headers, body, now=NOW)
    again = adapter.verify_webhook(headers, body, now=NOW + timedelta(minutes=5))
    reserialized = json.dumps(json.loads(body), indent=2, sort_keys=True).encode()  # same event, other formatting
    assert first.event_id == again.event_id == adapter.verify_webhook(headers, reserialized, now=NOW).event_id
    assert first.event_id.startswith("inventory:partnersandbox2:")
    _, other = server.inventory_webhook(product, available=8)
    assert adapter.verify_webhook(headers, other, now=NOW).event_id != first.event_id


def test_a_completed_ticket_webhook_is_a_sale(server):
    adapter = adapter_for(server)
    flower, gummy = list(listed(server))[:2]
    ticket = server.make_ticket([(flower, 2), (gummy, 1)], customer_id=233, discount=5.0,
                                when=datetime(2026, 12, 1, 18, 30, tzinfo=UTC))
    headers, body = server.ticket_webhook(ticket)
    message = adapter.verify_webhook(headers, body, now=NOW)
    assert message.event_type == "TICKET" and message.menu == []
    [sale] = message.sales
    assert sale.external_id == ticket["ticket_id"]
    assert sale.occurred_at == datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    assert sale.customer_external_id == "233"
    assert sale.subtotal == Decimal(str(ticket["sub_total"])).quantize(Decimal("0.01"))
    assert sale.total == Decimal(str(ticket["total"])).quantize(Decimal("0.01"))
    assert sale.discount == Decimal("5.00") and not sale.is_return and not sale.is_void
    assert [(line.product_external_id, line.quantity) for line in sale.lines] == [(flower, Decimal("2")),
                                                                                   (gummy, Decimal("1"))]
    price = Decimal(str(server.products[flower]["pricing"]["price_sell"])).quantize(Decimal("0.01"))
    assert sale.lines[0].unit_price == price and sale.lines[0].total == price * 2
    assert sale.raw["order_number"] == ticket["order_number"]


def test_a_ticket_still_in_progress_is_accepted_but_is_not_a_sale_yet(server):
    ticket = server.make_ticket([(next(iter(listed(server))), 1)], status="AWAITING_PROCESSING", store=False)
    message = adapter_for(server).verify_webhook(*server.ticket_webhook(ticket), now=NOW)
    assert message.event_type == "TICKET" and message.sales == [] and message.payload["data"] == ticket


def test_a_refund_ticket_is_a_negative_return(server):
    product = next(iter(listed(server)))
    original = server.make_ticket([(product, 1)])
    refund = server.make_ticket([(product, 1)], refund_of=original["ticket_id"])
    [sale] = adapter_for(server).verify_webhook(*server.ticket_webhook(refund), now=NOW).sales
    assert sale.is_return and sale.total < 0 and sale.subtotal < 0
    assert sale.lines[0].quantity == Decimal("-1") and sale.lines[0].total < 0


# ----------------------------------------------------------------------------------------------- sales, customers


def test_fetch_sales_pages_through_tickets_and_keeps_completed_and_canceled_in_the_window(server):
    products = list(listed(server))
    start = (datetime.now(UTC) - timedelta(days=5)).replace(second=0, microsecond=0)
    done = [server.make_ticket([(products[i % 5], 1)], when=start + timedelta(minutes=i)) for i in range(60)]
    canceled = server.make_ticket([(products[0], 1)], status="CANCELED", when=start + timedelta(hours=2))
    server.make_ticket([(products[1], 1)], status="PACKED_AND_READY", when=start + timedelta(hours=2))
    server.make_ticket([(products[1], 1)], when=start + timedelta(days=2))  # after `until`
    server.make_ticket([(products[1], 1)], when=start - timedelta(days=2))  # before `since`
    sales = adapter_for(server).fetch_sales(since=start, until=start + timedelta(days=1))
    assert [s.external_id for s in sales] == [t["ticket_id"] for t in done] + [canceled["ticket_id"]]
    assert sales[-1].is_void and not any(s.is_void for s in sales[:-1])
    pages = [r.path for r in server.requests if "/ticket/" in r.path]
    stamp = quote(treez_time(start - timedelta(seconds=1)), safe="")  # "after" is strict: one second of overlap
    assert pages == [f"/partnersandbox2/ticket/lastUpdated/after/{stamp}/page/{n}/pagesize/50" for n in (1, 2)]


def test_fetch_sales_reaches_back_at_most_the_30_days_treez_serves(server):
    now = datetime.now(UTC)
    recent = server.make_ticket([(next(iter(listed(server))), 1)], when=now - timedelta(days=3))
    sales = adapter_for(server).fetch_sales(since=now - timedelta(days=45), until=now)
    assert [s.external_id for s in sales] == [recent["ticket_id"]]
    asked = [r.path for r in server.requests if "/ticket/" in r.path][0].split("/after/")[1].split("/")[0]
    assert datetime.fromisoformat(asked.replace("%3A", ":").replace("%2B", "+")) > now - timedelta(days=30)


def test_fetch_sales_fails_on_a_malformed_ticket_page(server):
    server.make_ticket([(next(iter(listed(server))), 1)])
    server.fail(200, path="/partnersandbox2/ticket/", body={"resultCode": "SUCCESS", "ticketList": [{"x": 1}]})
    with pytest.raises(MalformedPayload, match="ticket_id"):
        adapter_for(server).fetch_sales(since=NOW - timedelta(days=1), until=NOW + timedelta(days=1))


def test_fetch_customers_maps_what_the_business_needs(server):
    server.add_customer("233", email="Alex@Example.com", phone="(555) 555-0142", patient_type="MEDICAL",
                        opt_out="SMS")
    server.add_customer("234", first_name="Sam", last_name="Lee", email=None, patient_type="ADULT")
    customers = {c.external_id: c for c in adapter_for(server).fetch_customers(since=None)}
    alex = customers["233"]
    assert (alex.name, alex.email, alex.phone) == ("Alex Rivera", "alex@example.com", "5555550142")
    assert alex.birth_date.isoformat() == "1990-04-20" and alex.customer_type == "medical"
    assert (alex.sms_opt_in, alex.email_opt_in) == (False, None)
    assert (alex.state, alex.postal_code) == ("CA", "94110")
    assert customers["234"].customer_type == "recreational" and customers["234"].email is None


def test_the_connect_form_takes_treez_credentials_with_the_dispensary_optional():
    from icc_app.integrations.service import clean_credentials

    assert clean_credentials("treez", {"client_id": "c", "api_key": "k"}) == {"client_id": "c", "api_key": "k"}
    assert clean_credentials("treez", {"client_id": "c", "api_key": "k", "dispensary": "d"})["dispensary"] == "d"


# ----------------------------------------------------------------------------------------------- through the engine


def test_engine_sync_then_webhooks_keep_the_true_quantity_and_record_the_sale(session, store):
    from sqlmodel import select

    from icc_app.integrations import sync, webhooks
    from icc_app.integrations.models import InventoryLevel, Sale, SyncRun
    from icc_app.maps.models import MenuItem
    from tests.integrations.conftest import make_connection

    _, business, shop = store
    big = make_product(product_id="big", name="GELATO 3.5G", quantity=75)
    with FakeTreez(products=[big, make_product(product_id="small", quantity=4)]) as fake:
        connection = make_connection(session, business, shop, vendor="treez", base_url=fake.url,
                                     credentials={"client_id": fake.client_id, "api_key": fake.api_key},
                                     webhook_secret=fake.webhook_token, location_id=fake.dispensary)

        def run_sync() -> SyncRun:
            run, _ = sync.request_sync(session, connection, trigger="manual")
            session.flush()
            sync.execute(run.id, http_options=FAST)
            session.expire_all()
            return session.get(SyncRun, run.id)

        def menu() -> dict[str, MenuItem]:
            return {i.external_id: i for i in session.exec(select(MenuItem).where(MenuItem.dispensary_id == shop.id))}

        first = run_sync()
        assert first.status == "succeeded", first.error
        assert first.created == 2 and menu()["big"].in_stock_qty == 30 and menu()["big"].name == "Gelato 3.5g"

        headers, body = fake.inventory_webhook("big", available=75, expiration="2027-06-30")
        event, duplicate = webhooks.receive(session, vendor="treez", headers=headers, body=body)
        assert not duplicate and webhooks.process(event.id) == "processed"
        assert webhooks.receive(session, vendor="treez", headers=headers, body=body)[1] is True  # same delivery
        session.expire_all()
        assert menu()["big"].in_stock_qty == 75

        second = run_sync()  # the list still says 30 (capped): the webhook's 75 stands
        assert second.status == "succeeded", second.error
        assert menu()["big"].in_stock_qty == 75 and menu()["small"].in_stock_qty == 4
        level = session.exec(select(InventoryLevel).where(InventoryLevel.connection_id == connection.id,
                                                          InventoryLevel.external_id == "big")).one()
        assert level.quantity == Decimal("75")

        fake.set_stock("big", 12)  # sold down below the cap: the list is exact again and wins
        assert run_sync().status == "succeeded" and menu()["big"].in_stock_qty == 12

        ticket = fake.make_ticket([("big", 2)], store=False)
        event, _ = webhooks.receive(session, vendor="treez", headers=fake.ticket_webhook(ticket)[0],
                                    body=fake.ticket_webhook(ticket)[1])
        assert webhooks.process(event.id) == "processed"
        sale = session.exec(select(Sale).where(Sale.connection_id == connection.id)).one()
        assert sale.external_id == ticket["ticket_id"] and sale.total == Decimal(str(ticket["total"]))

        bad_headers = {**headers, "authorization": "Bearer nope"}
        with pytest.raises(webhooks.Rejected, match="does not match"):
            webhooks.receive(session, vendor="treez", headers=bad_headers, body=body)
