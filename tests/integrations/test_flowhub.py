"""Flowhub adapter against FakeFlowhub over real HTTP: connection, menu (For Sale stock only), customers, orders
by date, and every injected failure (401, 429 + Retry-After, 500, timeout, malformed JSON, short/repeated pages)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from icc_app.core.errors import ValidationFailed
from icc_app.integrations import service
from icc_app.integrations.base import (AuthFailed, Capability, ConnectionConfig, IntegrationError, MalformedPayload,
                                       VendorUnavailable, make_adapter)
from icc_app.integrations.flowhub.client import Adapter
from icc_app.integrations.flowhub import mapping
from tests.conftest import SHARED_DATA
from tests.integrations.fakes.flowhub import LOCATION_ID_DEFAULT, FakeFlowhub, inventory_row

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 1}
FIXTURES = SHARED_DATA / "vendors" / "flowhub" / "fixtures"


def fixture(file: str, name: str) -> dict:
    """One object literal from the public Flowhub client's test fixtures (read in place, never copied)."""
    if not (FIXTURES / file).exists():
        pytest.skip(f"{FIXTURES} is absent (../shared/data)")
    text = (FIXTURES / file).read_text()
    start = text.index("{", text.index("=", text.index(f"const {name}")))
    depth = 0
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            break
    literal = re.sub(r"(?m)(^\s*|[{,]\s*)([A-Za-z_$][\w$]*)\s*:", r'\1"\2":', text[start:end + 1])
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", literal))


@pytest.fixture
def server():
    with FakeFlowhub(client_id="client-1", api_key="key-1") as fake:
        fake.timeout_hang_s = 1.5
        yield fake


def adapter(server, *, key="key-1", location=LOCATION_ID_DEFAULT, page_size=100, **options):
    config = ConnectionConfig(vendor="flowhub", base_url=server.url, location_id=location,
                              credentials={"client_id": "client-1", "api_key": key},
                              rate_key=f"test-{id(server)}", http_options={**FAST, **options})
    return Adapter(config, page_size=page_size)


# --------------------------------------------------------------------------------------------- connection


def test_connection_names_the_client_and_location_and_sends_both_headers(server):
    assert make_adapter(ConnectionConfig(vendor="flowhub", base_url=server.url, location_id=LOCATION_ID_DEFAULT,
                                         credentials={"client_id": "client-1", "api_key": "key-1"})).vendor == "flowhub"
    answer = adapter(server).test_connection()
    assert answer == "Connected to Blazed and Infused, location Headquarters"
    sent = server.calls("/v0/clientsLocations")[0].headers
    assert sent["clientid"] == "client-1" and sent["key"] == "key-1"
    assert Capability.menu in Adapter.capabilities and Capability.webhooks not in Adapter.capabilities


def test_the_connect_form_asks_for_the_client_id_and_key():
    assert service.clean_credentials("flowhub", {"client_id": "c", "api_key": "k"}) == {"client_id": "c",
                                                                                         "api_key": "k"}
    with pytest.raises(ValidationFailed, match="Missing: API key"):
        service.clean_credentials("flowhub", {"client_id": "c"})


def test_wrong_key_is_an_auth_failure_without_retries(server):
    with pytest.raises(AuthFailed, match="refused the credentials"):
        adapter(server, key="wrong").test_connection()
    assert len(server.calls()) == 1


def test_unknown_location_says_so(server):
    with pytest.raises(IntegrationError, match="location nope is not in this account"):
        adapter(server, location="nope").test_connection()


def test_missing_credentials_are_refused_before_any_call(server):
    incomplete = Adapter(ConnectionConfig(vendor="flowhub", base_url=server.url, credentials={"client_id": "x"}))
    assert Capability.customers in incomplete.capabilities  # building the adapter never fails
    with pytest.raises(AuthFailed, match="needs the API key"):
        incomplete.fetch_menu()
    assert server.calls() == []


def test_without_a_location_id_a_single_location_account_uses_its_location(server):
    assert adapter(server, location=None).test_connection().endswith("location Headquarters")
    assert adapter(server, location=server.import_id).test_connection().endswith("location Headquarters")


# --------------------------------------------------------------------------------------------- menu


def test_menu_holds_only_for_sale_stock_with_normalized_values(server):
    server.inventory = [
        inventory_row(product_id="p-flower-0001", name="Afghani Shake - One Gram", price_cents=1000, quantity=45,
                      category="PackedBud", species="Indica", thc=(18.0, 20.0), thca=(10.0, 12.0), cbd=(0.5, 0.5),
                      weight=1, inventory_unit="grams", cost_cents=450, expires="2027-03-01", brand="Green Co",
                      terpenes=[{"name": "Limonene", "lowerRange": 12, "upperRange": 24, "unitOfMeasure": "mg/g",
                                 "unitOfMeasureToGramsMultiplier": 1}]),
        # the same product in a second For Sale room (summed) and in the vault (not on the menu)
        inventory_row(product_id="p-flower-0001", name="Afghani Shake - One Gram", price_cents=1000, quantity=5,
                      room="Display", weight=1, inventory_unit="grams", expires="2027-02-01"),
        inventory_row(product_id="p-flower-0001", name="Afghani Shake - One Gram", price_cents=1000, quantity=500,
                      room="Vault", for_sale=False, weight=1, inventory_unit="grams"),
        inventory_row(product_id="p-edible-0002", name="Chewy Gummies 100mg", price_cents=2250, quantity=12,
                      category="Edibles", thc=(100, 100), potency_unit="mg", weight=15, weight_unit="each"),
        inventory_row(product_id="p-vault-0003", name="Back Stock Only", price_cents=900, quantity=80,
                      room="Vault", for_sale=False),
        inventory_row(product_id="p-preroll-04", name="Infused Joint 1g", price_cents=1200, quantity=3,
                      category="InfusedPreRolls", weight=1),
        inventory_row(product_id="p-noprice-05", name="Mystery", price_cents=None, quantity=3),
        inventory_row(product_id="p-noname-006", name="", price_cents=500, quantity=3, parentProductName=""),
    ]
    records = {r.external_id: r for r in adapter(server).fetch_menu()}
    assert "p-vault-0003" not in records  # stock only in the vault is not on the menu
    flower = records["p-flower-0001"]
    assert flower.values["in_stock_qty"] == 50  # 45 + 5 grams in For Sale rooms, 1 g packages; vault left out
    assert flower.inventory.quantity == Decimal("50") and flower.inventory.unit == "g"
    assert flower.inventory.unit_cost == Decimal("4.55")  # (45 x 4.50 + 5 x 5.00) / 50 and flower.inventory.expires_on == date(2027, 2, 1)
    assert flower.values["price"] == Decimal("10.00") and flower.values["category"] == "flower"
    assert flower.values["strain_type"] == "indica" and flower.values["brand"] == "Green Co"
    # THCA counted as total THC: 18 + 0.877 x 10 = 26.77, 20 + 0.877 x 12 = 30.52
    assert (flower.values["thc_min"], flower.values["thc_max"], flower.values["thc_unit"]) == (26.77, 30.52, "%")
    assert flower.values["terpenes"] == [{"name": "limonene", "pct": 1.8}]  # 12-24 mg/g -> 1.8 %
    assert flower.values["variants"] == [{"label": "1 g", "weight_g": 1.0, "price": 10.0}]
    assert len(flower.raw["rows"]) == 2 and all(r["forSale"] for r in flower.raw["rows"])
    edible = records["p-edible-0002"]
    assert (edible.values["thc_min"], edible.values["thc_unit"], edible.values["category"]) == (100.0, "mg", "edible")
    assert edible.values["in_stock_qty"] == 12 and edible.values["variants"][0]["weight_g"] is None
    assert records["p-preroll-04"].values["category"] == "pre_roll"
    assert records["p-noprice-05"].values == {"_skip": "Mystery: no price"}
    assert records["p-noname-006"].values == {"_skip": "no product name"}


def test_a_reported_total_thc_is_taken_as_is_and_thca_alone_counts_as_total():
    def row(*cannabinoids):
        return inventory_row(product_id="p-1", name="Runtz", price_cents=4000, quantity=1, cannabinoidInformation=[
            {"name": n, "lowerRange": lo, "upperRange": hi, "unitOfMeasure": u} for n, lo, hi, u in cannabinoids])

    reported = mapping.menu_records([row(("thc", 0.5, 0.5, "%"), ("thc-a", 25, 25, "%"), ("total-thc", 22.4, 22.4, "%"))])
    assert (reported[0].values["thc_min"], reported[0].values["thc_max"]) == (22.4, 22.4)
    acid_only = mapping.menu_records([row(("THCa", 240, 260, "mg/g"))])  # 24-26 % THCA -> 21.05-22.8 % total THC
    assert (acid_only[0].values["thc_min"], acid_only[0].values["thc_max"], acid_only[0].values["thc_unit"]) == (
        21.05, 22.8, "%")
    absurd = mapping.menu_records([row(("thc", 2400, 2400, "%"))])  # mg mislabelled as %: dropped, never guessed
    assert absurd[0].values["thc_min"] is None


def test_the_published_fixture_shapes_map_as_expected(server):
    flower, edible = (fixture("inventory.fixtures.ts", n) for n in ("INVENTORY_FLOWER", "INVENTORY_EDIBLE"))
    # the analytics-by-rooms shape is the same row plus room and forSale
    server.inventory = [{**flower, "roomId": "room-001", "roomName": "Main Floor", "forSale": True, "upc": None},
                        {**edible, "roomId": "room-001", "roomName": "Main Floor", "forSale": True, "upc": None},
                        {**edible, "roomId": "room-009", "roomName": "Vault", "forSale": False, "upc": None}]
    server.location_id = flower["locationId"]
    records = {r.external_id: r for r in adapter(server, location=flower["locationId"]).fetch_menu()}
    shake = records[flower["productId"]]
    assert (shake.values["name"], shake.values["category"], shake.values["price"]) == (
        "Afghani Shake - One Gram", "flower", Decimal("1.00"))
    assert (shake.values["thc_min"], shake.values["thc_max"]) == (1.88, 1.88)  # 1 % THC + 0.877 x 1 % THCA
    assert (shake.values["cbd_min"], shake.values["terpenes"]) == (1.88, [{"name": "limonene", "pct": 1.8}])
    assert (shake.values["in_stock_qty"], shake.inventory.unit, shake.inventory.unit_cost) == (45, "g", Decimal("0.50"))
    assert shake.values["strain_name"] == "Afghani" and shake.inventory.batch == "1A4040300003C35000000M001"
    gummies = records[edible["productId"]]
    assert (gummies.values["thc_min"], gummies.values["thc_unit"], gummies.values["category"]) == (100.0, "mg",
                                                                                                    "edible")
    assert gummies.values["in_stock_qty"] == 1000 and gummies.inventory.expires_on == date(2030, 10, 10)
    sale = mapping.sale_record(fixture("orders.fixtures.ts", "SALE_FIXTURE"))
    assert (sale.subtotal, sale.tax, sale.total, sale.is_void, sale.is_return) == (
        Decimal("35.00"), Decimal("5.25"), Decimal("40.25"), False, False)
    assert sale.occurred_at == datetime(2026, 5, 1, 10, 5, tzinfo=UTC)  # completedOn, not createdAt
    assert (sale.lines[0].category, sale.lines[0].unit_cost) == ("flower", Decimal("20.00"))  # "PackedBud"
    customer = mapping.customer_record(fixture("orders.fixtures.ts", "CUSTOMER_FIXTURE"))
    assert (customer.customer_type, customer.birth_date, customer.state) == ("recreational", date(1990, 5, 15), "CO")


def test_generated_menu_follows_stock_and_price_changes(server):
    server.inventory = server.generate_inventory(300, seed=7)
    for_sale = {r["productId"] for r in server.inventory if r["forSale"]}
    first = {r.external_id: r for r in adapter(server).fetch_menu()}
    assert set(first) == for_sale and not any(pid.startswith("vault-only") for pid in first)
    product_id = sorted(for_sale)[0]
    server.set_quantity(product_id, 0)
    server.set_price(product_id, 4321)
    second = {r.external_id: r for r in adapter(server).fetch_menu()}
    assert second[product_id].values["in_stock_qty"] == 0
    assert second[product_id].values["price"] == Decimal("43.21")
    unchanged = [pid for pid in for_sale if pid != product_id]
    assert all(first[pid].values == second[pid].values for pid in unchanged)


# --------------------------------------------------------------------------------------------- customers


def test_customers_are_read_page_by_page_since_a_date(server):
    for index in range(230):
        server.add_customer(f"c-{index:04d}", name=f"Customer {index}",
                            updated="2026-05-01T10:00:00Z" if index < 200 else "2026-04-01T10:00:00Z",
                            type="medCustomer" if index % 2 else "recCustomer")
    progress = []
    customers = adapter(server).fetch_customers(since=datetime(2026, 4, 15, 18, tzinfo=UTC), progress=progress.append)
    assert len(customers) == 200 and len(server.calls("/v1/customers")) == 2
    assert server.calls("/v1/customers")[0].query["updated_after"] == "2026-04-15"
    first = next(c for c in customers if c.external_id == "c-0001")
    assert (first.customer_type, first.birth_date, first.email_opt_in, first.sms_opt_in, first.postal_code) == (
        "medical", date(1990, 5, 15), True, False, "80202")
    assert first.raw["name"] == "Customer 1" and progress[-1] == "page 2, 200 of 200"
    assert len(adapter(server).fetch_customers(since=None)) == 230


# --------------------------------------------------------------------------------------------- orders


def _orders(server, start: datetime, count: int, *, step=timedelta(hours=5)):
    for index in range(count):
        server.add_order(f"s-{index:04d}", created=start + index * step, lines=[("prod-1", 2, 1500)])


def test_orders_incremental_by_date_only_sold_in_window(server):
    start = datetime(2026, 5, 1, 8, tzinfo=UTC)
    _orders(server, start, 30)  # every 5 hours over ~6 days
    server.add_order("pending-1", created=start + timedelta(hours=1), status="pending")
    server.add_order("cancel-1", created=start + timedelta(hours=2), status="Cancelled")
    server.add_order("void-1", created=start + timedelta(hours=3), status="Sold", voided=True)
    since, until = start, start + timedelta(days=2)
    sales = adapter(server, page_size=10).fetch_sales(since=since, until=until)
    ids = [s.external_id for s in sales]
    # completed 5 minutes after creation: in the window when since <= completedOn < until
    expected = [f"s-{i:04d}" for i in range(30) if since <= start + i * timedelta(hours=5) + timedelta(minutes=5) < until]
    assert sorted(set(ids) - {"void-1"}) == expected and "pending-1" not in ids and "cancel-1" not in ids
    query = server.calls("/v1/orders")[0].query
    assert (query["created_after"], query["created_before"]) == ("2026-04-30", "2026-05-04")  # a day either side
    sale = next(s for s in sales if s.external_id == "s-0000")
    assert (sale.subtotal, sale.tax, sale.total) == (Decimal("30.00"), Decimal("4.50"), Decimal("34.50"))
    assert sale.lines[0].quantity == 2 and sale.lines[0].unit_price == Decimal("15.00")
    assert sale.lines[0].unit_cost == Decimal("7.50") and sale.occurred_at.tzinfo is not None
    assert next(s for s in sales if s.external_id == "void-1").is_void
    # the next window picks up where this one ended, without overlap
    later = adapter(server, page_size=10).fetch_sales(since=until, until=until + timedelta(days=10))
    assert not set(ids) & {s.external_id for s in later}
    assert len(set(ids) - {"void-1"}) + len(later) == 30


def test_order_pages_out_of_order_rows_are_still_complete(server):
    start = datetime(2026, 5, 1, 8, tzinfo=UTC)
    _orders(server, start, 25)
    server.orders.reverse()  # the fake sorts by creation; the adapter does not rely on row order either
    sales = adapter(server, page_size=10).fetch_sales(since=start - timedelta(days=1), until=start + timedelta(days=9))
    assert len(sales) == 25 and sales == sorted(sales, key=lambda s: s.occurred_at)


# --------------------------------------------------------------------------------------------- failures


def test_rate_limit_waits_as_retry_after_says_then_succeeds(server):
    waits = []
    server.fail(429, times=2, retry_after=2)
    answer = adapter(server, max_backoff_s=5, sleep=waits.append).test_connection()
    assert answer.startswith("Connected to") and waits == [2.0, 2.0] and len(server.calls()) == 3


def test_server_errors_are_retried_then_reported(server):
    server.fail(500, times=1)
    assert adapter(server).test_connection().startswith("Connected")
    server.fail(500, times=10)
    with pytest.raises(VendorUnavailable, match=r"kept failing \(500\) after 3 tries"):
        adapter(server, max_retries=2).test_connection()


def test_timeout_is_retried_and_reported_when_it_persists(server):
    server.inventory = server.generate_inventory(5, seed=1)
    server.fail("timeout", path="/v0/locations")
    assert len(adapter(server).fetch_menu()) == 5
    server.fail("timeout", times=2, path="/v0/locations")
    with pytest.raises(VendorUnavailable, match="timed out after 2 tries"):
        adapter(server, max_retries=1).fetch_menu()


def test_malformed_json_fails_the_whole_fetch(server):
    server.inventory = server.generate_inventory(5, seed=1)
    server.fail("malformed", path="/v0/locations")
    with pytest.raises(MalformedPayload, match="not JSON"):
        adapter(server).fetch_menu()


def test_a_missing_or_repeated_page_returns_nothing(server):
    start = datetime(2026, 5, 1, 8, tzinfo=UTC)
    _orders(server, start, 25)
    window = {"since": start - timedelta(days=1), "until": start + timedelta(days=9)}
    server.short_page = ("orders", 2)
    with pytest.raises(MalformedPayload, match="page 2 ended after 10 of 25"):
        adapter(server, page_size=10).fetch_sales(**window)
    server.short_page, server.repeat_page = None, ("orders", 2)
    with pytest.raises(MalformedPayload, match="a page is missing or short"):
        adapter(server, page_size=10).fetch_sales(**window)


def test_auth_lost_mid_paging_raises_instead_of_a_partial_list(server):
    for index in range(25):
        server.add_customer(f"c-{index}")
    server.fail(401, path="/v1/customers")
    with pytest.raises(AuthFailed):
        adapter(server, page_size=10).fetch_customers(since=None)


def test_a_list_without_rows_is_malformed(server):
    server.fail(200, path="/v0/clientsLocations", body={"status": 200, "message": "ok"})
    with pytest.raises(MalformedPayload, match="without a locations list"):
        adapter(server).test_connection()


# --------------------------------------------------------------------------------------------- through the engine


def _engine_run(session, connection):
    from icc_app.integrations import sync
    from icc_app.integrations.models import SyncRun

    run, _ = sync.request_sync(session, connection, trigger="manual")
    session.flush()
    sync.execute(run.id, http_options={**FAST, "max_retries": 1})
    session.expire_all()
    return session.get(SyncRun, run.id)


def test_a_flowhub_sync_fills_the_menu_with_for_sale_stock_and_re_running_changes_nothing(session, store, server):
    from sqlmodel import select

    from icc_app.integrations.models import Sale
    from icc_app.maps.models import MenuItem
    from tests.integrations.conftest import make_connection

    server.inventory = server.generate_inventory(120, seed=3)
    server.inventory.append(inventory_row(product_id="p-noprice-77", name="Mystery", price_cents=None, quantity=3))
    now = datetime.now(UTC)
    _orders(server, now - timedelta(days=3), 12)
    for index in range(7):
        server.add_customer(f"c-{index}")
    _, business, shop = store
    connection = make_connection(session, business, shop, vendor="flowhub", base_url=server.url,
                                 credentials={"client_id": "client-1", "api_key": "key-1"},
                                 location_id=LOCATION_ID_DEFAULT)
    run = _engine_run(session, connection)
    assert run.status == "succeeded", run.error
    menu = {i.external_id: i for i in session.exec(select(MenuItem).where(MenuItem.dispensary_id == shop.id))}
    for_sale = {r["productId"] for r in server.inventory if r["forSale"]} - {"p-noprice-77"}
    assert set(menu) == for_sale and run.created == 120 and run.skipped == 1
    assert (run.sales, run.customers) == (12, 7)
    assert len(session.exec(select(Sale).where(Sale.connection_id == connection.id)).all()) == 12
    again = _engine_run(session, connection)
    assert (again.created, again.updated, again.out_of_stock, again.unchanged) == (0, 0, 0, 120)
    # stock moved from the floor to the vault: the item goes out of stock, it is not deleted
    moved = sorted(for_sale)[0]
    server.for_sale_row(moved)["forSale"] = False
    third = _engine_run(session, connection)
    assert third.out_of_stock == 1
    session.expire_all()
    item = session.exec(select(MenuItem).where(MenuItem.dispensary_id == shop.id, MenuItem.external_id == moved)).one()
    assert item.in_stock_qty == 0
