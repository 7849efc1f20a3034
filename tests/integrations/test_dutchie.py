"""Dutchie POS adapter against FakeDutchie, a local server speaking the Dutchie POS API over real HTTP (Basic auth
with the location key, /whoami, /products, /reporting/inventory, /reporting/transactions, customers paging), with a
catalog built from a real Dutchie-backed menu capture. Every injected failure ends in a complete result or an
IntegrationError, never a partial list."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from icc_app.integrations.base import (
    AuthFailed,
    Capability,
    ConnectionConfig,
    IntegrationError,
    MalformedPayload,
    VendorUnavailable,
    make_adapter,
)
from icc_app.integrations.dutchie import client as dutchie_client
from icc_app.integrations.dutchie import pos_mapping
from icc_app.integrations.dutchie.client import Adapter
from tests.integrations.fakes.base import json_reply
from tests.integrations.fakes.dutchie import DEFAULT_KEY, FakeDutchie, load_capture, make_customers

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 1}
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
OUR_CATEGORY = {"FLOWER": "flower", "PRE_ROLLS": "pre_roll", "VAPORIZERS": "vape", "CONCENTRATES": "concentrate",
                "EDIBLES": "edible", "TINCTURES": "tincture", "TOPICALS": "topical"}


@pytest.fixture(scope="module")
def capture(request):
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.exists():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return load_capture()


@pytest.fixture
def server(capture):
    with FakeDutchie().load_capture() as fake:
        fake.timeout_hang_s = 1.3
        fake.generate_customers(250, seed=3)
        fake.generate_transactions(240, start=NOW - timedelta(days=4), end=NOW, seed=5)
        yield fake


def adapter_for(fake: FakeDutchie, *, key: str | None = None, location_id: str | None = None,
                http: dict | None = None) -> Adapter:
    config = ConnectionConfig(vendor="dutchie", base_url=fake.url,
                              credentials={"location_key": fake.location_key if key is None else key},
                              location_id=location_id, rate_key=f"test-{uuid.uuid4()}",
                              http_options={**FAST, **(http or {})})
    return make_adapter(config)


def by_name(records):
    return {r.values["name"]: r for r in records if "_skip" not in r.values}


# ----------------------------------------------------------------------------------------------- connection


def test_declares_what_it_can_do(server):
    adapter = adapter_for(server)
    assert isinstance(adapter, Adapter)
    assert adapter.capabilities == {Capability.menu, Capability.sales, Capability.customers, Capability.update_price}
    assert adapter.credential_fields == {"location_key": "Location API key"}


def test_connection_with_the_right_key_names_the_store(server):
    answer = adapter_for(server).test_connection()
    assert answer == "Connected to Cuzzies Trenton (Trenton, NJ), Dutchie location 4417."
    (call,) = server.calls("/whoami")
    scheme, _, token = call.headers["authorization"].partition(" ")
    assert scheme == "Basic" and base64.b64decode(token).decode() == f"{DEFAULT_KEY}:"  # key as user, no password


def test_connection_with_a_wrong_key_is_refused_clearly_without_retrying(server):
    with pytest.raises(AuthFailed) as caught:
        adapter_for(server, key="not-the-key").test_connection()
    assert "refused the credentials (401 on /whoami)" in caught.value.message
    assert "check the key" in caught.value.message
    assert len(server.calls("/whoami")) == 1


def test_connection_with_the_key_of_another_location(server):
    with pytest.raises(AuthFailed, match="belongs to Dutchie location 4417 \\(Cuzzies Trenton\\), not location 12"):
        adapter_for(server, location_id="12").test_connection()
    assert adapter_for(server, location_id="4417").test_connection().startswith("Connected to Cuzzies Trenton")


def test_a_missing_key_fails_before_any_request(server):
    with pytest.raises(AuthFailed, match="No Dutchie location API key"):
        adapter_for(server, key="").test_connection()
    assert server.requests == []


# ----------------------------------------------------------------------------------------------- menu mapping


def test_full_menu_of_real_payload_shapes(server, capture):
    records = adapter_for(server).fetch_menu()
    assert len(records) == len(capture) == 226
    assert len({r.external_id for r in records}) == 226
    assert not [r for r in records if "_skip" in r.values]
    assert {c["category"] for c in capture} <= set(OUR_CATEGORY)
    # Every product lands in the category the store's own menu gives it, from the store's POS words ("Singles",
    # "Shake/Trim", "RSO", "Disposables", "Balms"...), falling back to the master category.
    for item, record in zip(capture, records, strict=True):
        assert record.values["category"] == OUR_CATEGORY[item["category"]], record.values["name"]
    assert server.calls("/products")[0].query == {"isActive": "true"}
    assert server.calls("/reporting/inventory")[0].query == {"includeLabResults": "true"}


def test_thca_counts_as_total_thc_like_the_store_shows_it(server, capture):
    """The lab reports THCA and THC apart; the store's menu shows total THC (THC + 0.877 x THCA). Our mapping of the
    POS lab results must give the store's number for every product that has a THCA result."""
    records = {r.external_id: r for r in adapter_for(server).fetch_menu()}
    checked = 0
    for product in server.products.values():
        item = capture[product["productId"] - 10_000]  # the catalog keeps the capture's order
        assert item["name"] == product["productName"]
        if not any(c["name"].startswith("THCA") for c in item.get("cannabinoids") or []):
            continue
        shown = float(item["potencyThcRangeLow"])
        values = records[str(product["productId"])].values
        assert values["thc_unit"] == "%"
        assert values["thc_min"] - 0.05 <= shown <= values["thc_max"] + 0.05, (product["productName"], values)
        if len(server.packages_of(product["productId"])) == 1:
            assert values["thc_min"] == values["thc_max"] == pytest.approx(shown, abs=0.05)
        checked += 1
    assert checked == 128


def test_one_flower_product_in_detail(server):
    records = by_name(adapter_for(server).fetch_menu())
    record = records["Devil's Diesel | Seed & Strain Flower"]
    (package,) = server.packages_of(int(record.external_id))
    values = record.values
    assert values["brand"] == "Seed & Strain" and values["category"] == "flower"
    assert values["strain_name"] == "Devil's Diesel" and values["strain_type"] == "hybrid"
    # lab: THCA 22.76 %, THC 0.8 %, CBDA 0.07 %
    assert (values["thc_min"], values["thc_max"], values["thc_unit"]) == (20.76, 20.76, "%")
    assert (values["cbd_min"], values["cbd_max"]) == (0.06, 0.06)
    assert values["terpenes"][0] == {"name": "beta myrcene", "pct": 0.49}
    assert [t["name"] for t in values["terpenes"]][:3] == ["beta myrcene", "limonene", "beta caryophyllene"]
    assert values["variants"] == [{"label": "1oz", "weight_g": 28.0, "price": 220.0}]
    assert values["price"] == Decimal("220.00") and values["in_stock_qty"] == 3
    inventory = record.inventory
    assert inventory.quantity == Decimal("3") and inventory.unit == "each"
    assert inventory.unit_cost == Decimal(str(package["unitCost"])).quantize(Decimal("0.01"))
    assert inventory.expires_on == date.fromisoformat(package["expirationDate"][:10])
    assert inventory.package_label == package["externalPackageId"] and inventory.batch == package["batchName"]
    assert record.raw["product"]["productId"] == int(record.external_id)
    assert record.raw["packages"][0]["inventoryId"] == package["inventoryId"]


def test_package_sizes_become_grams(server):
    records = by_name(adapter_for(server).fetch_menu())
    weights = {r.values["variants"][0]["label"]: r.values["variants"][0]["weight_g"] for r in records.values()
               if r.values["category"] in ("flower", "pre_roll")}
    assert weights["1/8oz"] == 3.5 and weights["1/4oz"] == 7.0 and weights["1/2oz"] == 14.0
    assert weights["1oz"] == 28.0 and weights["1g"] == 1.0 and weights["2g"] == 2.0


def test_edibles_and_topicals_in_mg(server):
    records = by_name(adapter_for(server).fetch_menu())
    shot = records["Sugar Free Lemonade | Major | 100mg THC Shot"].values
    assert (shot["thc_min"], shot["thc_max"], shot["thc_unit"], shot["category"]) == (100.0, 100.0, "mg", "edible")
    # The store typed "0.29 mg" for a 100 mg pack; Dutchie's effective potency says 100.
    rso = records["Sour Black Cherry RSO Hybrid Gummies [10pk] 100mg"].values
    assert (rso["thc_min"], rso["thc_unit"]) == (100.0, "mg")
    lotion = records["Pain Relief 1:1 CBD:THC Lotion [2oz] 100mg CBD/100mg THC"].values
    assert (lotion["thc_min"], lotion["thc_unit"], lotion["cbd_min"], lotion["cbd_unit"]) == (100.0, "mg", 100.0, "mg")
    # No mg anywhere: the lab's mg/g becomes % (THC 0.76 mg/g = 0.076 %).
    pearls = records["Gron | 10:1 Tart Cherry Pearls (CBN/THC) | Gummies"].values
    assert (pearls["thc_min"], pearls["thc_unit"]) == (0.08, "%")


def test_two_batches_give_a_potency_range_summed_stock_and_weighted_cost(server):
    records = {r.external_id: r for r in adapter_for(server).fetch_menu()}
    ranged = 0
    for product_id in server.product_ids():
        packages = server.packages_of(product_id)
        if len(packages) < 2:
            continue
        record = records[str(product_id)]
        assert record.inventory.quantity == sum(Decimal(str(p["quantityAvailable"])) for p in packages)
        weighted = sum(Decimal(str(p["unitCost"])) * Decimal(str(p["quantityAvailable"])) for p in packages) / sum(
            Decimal(str(p["quantityAvailable"])) for p in packages)
        assert record.inventory.unit_cost == weighted.quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert record.inventory.expires_on == min(date.fromisoformat(p["expirationDate"][:10]) for p in packages)
        if record.values["thc_min"] is not None and record.values["thc_min"] < record.values["thc_max"]:
            ranged += 1
    assert ranged >= 20


def test_stock_price_and_removal_between_syncs(server):
    adapter = adapter_for(server)
    first = {r.external_id: r for r in adapter.fetch_menu()}
    sold_out, repriced, removed = server.product_ids()[60], server.product_ids()[61], server.product_ids()[62]
    server.set_stock(sold_out, 0)
    server.set_price(repriced, 41.5)
    server.remove_product(removed)
    second = {r.external_id: r for r in adapter.fetch_menu()}
    assert first[str(sold_out)].values["in_stock_qty"] > 0
    assert second[str(sold_out)].values["in_stock_qty"] == 0  # still on the menu, out of stock
    assert second[str(sold_out)].inventory.quantity == 0
    assert second[str(repriced)].values["price"] == Decimal("41.50")
    assert second[str(repriced)].values["variants"][0]["price"] == 41.5
    assert str(removed) not in second and len(second) == len(first) - 1
    for key, record in second.items():  # same data, same values: nothing else looks changed to the engine
        if key not in (str(sold_out), str(repriced)):
            assert (record.values, record.inventory) == (first[key].values, first[key].inventory)


def test_a_key_without_reporting_reads_the_plain_inventory(server):
    server.reporting_forbidden = True
    records = {r.external_id: r for r in adapter_for(server).fetch_menu()}
    assert len(server.calls("/inventory")) == 1 and len(records) == 226
    product = server.products[server.product_ids()[5]]
    assert records[str(product["productId"])].inventory.unit_cost == Decimal(str(product["unitCost"]))


def _product(**overrides):
    base = {"productId": 1, "productName": "Blue Dream 3.5g", "category": "Flower", "masterCategory": "Flower",
            "strain": "Blue Dream", "strainType": "Sativa", "brandName": "Acme", "price": 40.0, "recPrice": 40.0,
            "isActive": True, "isCoupon": False}
    return {**base, **overrides}


def _package(**overrides):
    base = {"inventoryId": 11, "productId": 1, "productName": "Blue Dream 3.5g", "quantityAvailable": 5,
            "quantityUnits": "ea", "unitWeight": 3.5, "unitWeightUnit": "g", "packageStatus": "Active",
            "unitPrice": 40.0, "recUnitPrice": 40.0, "unitCost": 18.0, "batchName": "BD-1",
            "externalPackageId": "1A4000000000000000000011", "expirationDate": "2027-06-01T00:00:00"}
    return {**base, **overrides}


def test_items_without_name_or_price_are_returned_as_skipped_with_their_reason():
    records = pos_mapping.menu_records(
        [_product(productId=1, productName=None), _product(productId=2, price=None, recPrice=None),
         _product(productId=3, isCoupon=True), _product(productId=4, price=-5, recPrice=-5),
         _product(productId=5)],
        [_package(productId=5, inventoryId=51)])
    reasons = {r.external_id: r.values.get("_skip") for r in records}
    assert reasons["1"] == "no name" and reasons["2"] == "no price" and reasons["3"] == "a coupon, not a product"
    assert "out of range" in reasons["4"]
    assert reasons["5"] is None
    skipped = [r for r in records if "_skip" in r.values]
    assert all(set(r.values) == {"_skip"} and r.raw["product"] for r in skipped)


def test_lab_shapes_totals_nd_units_and_package_status():
    labs = [{"labTest": "THCA", "value": 25.0, "labResultUnit": "%"}, {"labTest": "THC", "value": 1.0,
                                                                        "labResultUnit": "%"},
            {"labTest": "CBD", "value": None, "labResultUnit": "ND"},
            {"labTest": "beta-Myrcene", "value": 8.0, "labResultUnit": "mg/g"},
            {"labTest": "Total Terpenes", "value": 2.5, "labResultUnit": "%"}]
    (record,) = pos_mapping.menu_records([_product()], [_package(labResults=labs)])
    assert record.values["thc_min"] == round(1.0 + 0.877 * 25.0, 2)
    assert (record.values["cbd_min"], record.values["cbd_max"]) == (0.0, 0.0)
    assert record.values["terpenes"] == [{"name": "beta-myrcene", "pct": 0.8}]  # mg/g -> %, totals left out
    labs_total = [*labs, {"labTest": "Total THC", "value": 21.3, "labResultUnit": "%"}]
    (record,) = pos_mapping.menu_records([_product()], [_package(labResults=labs_total)])
    assert record.values["thc_min"] == 21.3  # the lab's own total wins
    # A quarantined package is not for sale; an inventory-only product is listed; an inactive one is not.
    records = {r.external_id: r for r in pos_mapping.menu_records(
        [_product(), _product(productId=3, isActive=False)],
        [_package(), _package(inventoryId=12, packageStatus="Quarantine", quantityAvailable=50),
         _package(inventoryId=21, productId=2, productName="House Shake 7g", category="Shake"),
         _package(inventoryId=31, productId=3)])}
    assert records["1"].values["in_stock_qty"] == 5
    assert records["2"].values["name"] == "House Shake 7g" and records["2"].values["category"] == "flower"
    assert records["2"].values["variants"][0]["weight_g"] == 3.5
    assert "3" not in records


def test_bulk_stock_in_ounces_is_kept_in_grams():
    (record,) = pos_mapping.menu_records([_product()], [_package(quantityAvailable=2, quantityUnits="oz")])
    assert record.inventory.unit == "g" and record.inventory.quantity == Decimal("56.699")
    assert record.values["in_stock_qty"] == 57


# ----------------------------------------------------------------------------------------------- sales


def _sales_calls(fake):
    return fake.calls("/reporting/transactions")


def test_sales_are_read_incrementally_by_last_modified_windows(server):
    since, until = NOW - timedelta(days=3, hours=12), NOW
    sales = adapter_for(server).fetch_sales(since=since, until=until)
    calls = _sales_calls(server)
    assert len(calls) == 4  # 3.5 days in one-day windows
    for call in calls:  # only the last-modified pair: the filters are mutually exclusive
        assert set(call.query) == {"FromLastModifiedDateUTC", "ToLastModifiedDateUTC", "IncludeDetail", "IncludeTaxes"}
        assert call.query["IncludeDetail"] == "true"
    assert calls[0].query["FromLastModifiedDateUTC"] == "2026-11-28T20:00:00.000Z"
    assert calls[-1].query["ToLastModifiedDateUTC"] == "2026-12-02T08:00:00.000Z"
    expected = {str(t["transactionId"]) for t in server.transactions.values()
                if since <= datetime.fromisoformat(t["lastModifiedDateUTC"].replace("Z", "+00:00")) <= until}
    assert expected
    assert {s.external_id for s in sales} == expected and len(sales) == len(expected)
    assert [s.occurred_at for s in sales] == sorted(s.occurred_at for s in sales)


def test_the_fake_rejects_mixed_filters_like_dutchie(server):
    import httpx

    auth = (DEFAULT_KEY, "")
    answer = httpx.get(f"{server.url}/reporting/transactions", auth=auth,
                       params={"FromDateUTC": "2026-12-01T00:00:00Z", "FromLastModifiedDateUTC": "2026-12-01T00:00:00Z"})
    assert answer.status_code == 400 and answer.json()["isValid"] is False


def test_sale_mapping_lines_discounts_taxes_returns_voids(server):
    adapter = adapter_for(server)
    adapter.fetch_menu()  # names and categories of the lines come from the catalog just read
    sales = adapter.fetch_sales(since=NOW - timedelta(days=5), until=NOW)
    raw = {str(t["transactionId"]): t for t in server.transactions.values()}
    sale = next(s for s in sales if not s.is_return and not s.is_void and raw[s.external_id]["totalDiscount"])
    source = raw[sale.external_id]
    assert sale.total == Decimal(str(source["total"])).quantize(Decimal("0.01")) > 0
    assert sale.discount == Decimal(str(source["totalDiscount"])).quantize(Decimal("0.01"))
    assert sale.tax == Decimal(str(source["tax"])).quantize(Decimal("0.01"))
    assert sale.subtotal - sale.discount + sale.tax == sale.total
    assert len(sale.lines) == len(source["items"])
    line, item = sale.lines[0], source["items"][0]
    assert line.product_external_id == str(item["productId"])
    assert line.name == server.products[item["productId"]]["productName"] and line.category
    assert line.quantity == Decimal(str(item["quantity"])) and line.unit_price == Decimal(str(item["unitPrice"]))
    assert line.total == Decimal(str(item["totalPrice"])).quantize(Decimal("0.01"))
    assert sale.occurred_at.tzinfo is not None and sale.raw == source
    returns = [s for s in sales if s.is_return]
    assert returns and all(s.total < 0 and all(ln.quantity < 0 and ln.total < 0 for ln in s.lines) for s in returns)
    assert any(s.is_void for s in sales)
    anonymous = [s for s in sales if raw[s.external_id]["customerId"] == 0]
    named = [s for s in sales if raw[s.external_id]["customerId"]]
    assert anonymous and all(s.customer_external_id is None for s in anonymous)
    assert all(s.customer_external_id == str(raw[s.external_id]["customerId"]) for s in named)


def test_sale_shapes_returns_sent_positive_coupons_tax_summary_and_bad_rows():
    from icc_app.integrations.dutchie import pos_sales

    row = {"transactionId": 5, "customerId": 88, "transactionDate": "2026-12-01T18:30:00", "isReturn": True,
           "transactionType": "Retail", "subtotal": 40.0, "totalDiscount": 4.0, "tax": 0.0, "total": 38.38,
           "taxSummary": [{"rateName": "Sales", "amount": 1.19}, {"rateName": "Excise", "amount": 1.19}],
           "items": [{"productId": 7, "quantity": 2, "unitPrice": 20.0, "totalPrice": 36.0, "totalDiscount": 0.0,
                      "discounts": [{"amount": 4.0}], "unitCost": 8.5},
                     {"productId": 0, "quantity": 1, "unitPrice": 0, "totalPrice": -5, "isCoupon": True}]}
    sale = pos_sales.sale_record(row, {"7": {"productName": "Blue Dream 3.5g", "category": "Flower"}})
    assert sale.is_return and (sale.subtotal, sale.discount, sale.tax, sale.total) == (
        Decimal("-40.00"), Decimal("-4.00"), Decimal("-2.38"), Decimal("-38.38"))
    assert sale.occurred_at == datetime(2026, 12, 1, 18, 30, tzinfo=UTC) and sale.customer_external_id == "88"
    (line,) = sale.lines  # the coupon is not a product line
    assert (line.quantity, line.total, line.discount, line.unit_price, line.unit_cost) == (
        Decimal("-2"), Decimal("-36.00"), Decimal("-4.00"), Decimal("20.00"), Decimal("8.50"))
    assert (line.name, line.category) == ("Blue Dream 3.5g", "flower")
    assert pos_sales.sale_record({**row, "transactionType": "WholesaleOrder"}) is None
    with pytest.raises(MalformedPayload, match="transaction 5 has no transactionDate"):
        pos_sales.sale_record({**row, "transactionDate": None})
    with pytest.raises(MalformedPayload, match="Not a timestamp"):
        pos_sales.sale_record({**row, "transactionDate": "yesterday"})


def test_a_void_after_the_cursor_is_read_again_and_transfers_are_not_sales(server):
    adapter = adapter_for(server)
    sold = NOW - timedelta(hours=30)
    base = dict(next(iter(server.transactions.values())))
    server.add_transaction({**base, "transactionId": 1, "transactionDate": sold.isoformat(), "isVoid": False,
                            "lastModifiedDateUTC": sold.isoformat()})
    server.add_transaction({**base, "transactionId": 2, "transactionType": "Transfer",
                            "transactionDate": sold.isoformat(), "lastModifiedDateUTC": sold.isoformat()})
    first = {s.external_id: s for s in adapter.fetch_sales(since=NOW - timedelta(days=2), until=NOW - timedelta(hours=1))}
    assert first["1"].is_void is False and "2" not in first
    server.transactions[1].update(isVoid=True, lastModifiedDateUTC=(NOW - timedelta(minutes=20)).isoformat())
    second = {s.external_id: s for s in adapter.fetch_sales(since=NOW - timedelta(hours=1), until=NOW)}
    assert second["1"].is_void is True and second["1"].occurred_at == sold


def test_a_transaction_on_a_window_edge_is_returned_once(server):
    edge = NOW - timedelta(days=1)  # the boundary between the two windows of a two-day read
    base = dict(next(iter(server.transactions.values())))
    server.add_transaction({**base, "transactionId": 77, "transactionDate": edge.isoformat(),
                            "lastModifiedDateUTC": edge.isoformat()})
    sales = adapter_for(server).fetch_sales(since=NOW - timedelta(days=2), until=NOW)
    assert [s.external_id for s in sales].count("77") == 1
    assert len(_sales_calls(server)) == 2


def test_a_window_that_keeps_failing_fails_the_whole_read(server, monkeypatch):
    original = server._transactions

    def second_window_down(request):
        if request.query["FromLastModifiedDateUTC"].startswith("2026-11-30T08:00"):
            return json_reply({"Message": "Something went wrong."}, 500)
        return original(request)

    monkeypatch.setattr(server, "_transactions", second_window_down)
    with pytest.raises(VendorUnavailable, match="kept failing \\(500\\) after 3 tries"):
        adapter_for(server, http={"max_retries": 2}).fetch_sales(since=NOW - timedelta(days=3), until=NOW)
    windows = [c.query["FromLastModifiedDateUTC"][:16] for c in _sales_calls(server)]
    assert windows == ["2026-11-29T08:00"] + ["2026-11-30T08:00"] * 3  # the first window's sales were not returned


# ----------------------------------------------------------------------------------------------- customers


def test_customers_paging_from_one(server):
    customers = adapter_for(server).fetch_customers(since=None)
    assert len(customers) == 250 and len({c.external_id for c in customers}) == 250
    pages = [(c.query["PageNumber"], c.query["PageSize"]) for c in server.calls("/customer/customers-paginated")]
    # page 0 probes the numbering (this server answers it with page 1); 1, 2, 3 (short) and the empty 4 confirms it
    assert pages == [("0", "100"), ("1", "100"), ("2", "100"), ("3", "100"), ("4", "100")]
    assert all(c.query["includeAnonymous"] == "false" for c in server.calls("/customer"))


def test_customers_paging_from_zero_and_a_full_last_page(capture):
    with FakeDutchie(customers=make_customers(200, seed=1), customer_first_page=0) as fake:
        customers = adapter_for(fake).fetch_customers(since=None)
        assert sorted(int(c.external_id) for c in customers) == sorted(c["customerId"] for c in fake.customers)
        assert [c.query["PageNumber"] for c in fake.calls("/customer")] == ["0", "1", "2"]


@pytest.mark.parametrize("page_zero", ["empty", "error"])
def test_customers_from_a_list_that_refuses_or_empties_page_zero(page_zero):
    with FakeDutchie(customers=make_customers(130, seed=2), page_zero=page_zero) as fake:
        customers = adapter_for(fake).fetch_customers(since=None)
        assert sorted(int(c.external_id) for c in customers) == sorted(c["customerId"] for c in fake.customers)
        assert [c.query["PageNumber"] for c in fake.calls("/customer")] == ["0", "1", "2", "3"]


def test_customers_since_and_mapping(server):
    server.customers[3]["mergedIntoCustomerId"] = server.customers[4]["customerId"]
    since = datetime.fromisoformat(server.customers[200]["lastModifiedDateUTC"].replace("Z", "+00:00"))
    customers = adapter_for(server).fetch_customers(since=since)
    assert server.calls("/customer")[0].query["fromLastModifiedDateUTC"] == since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert len(customers) == 50
    everyone = {c.external_id: c for c in adapter_for(server).fetch_customers(since=None)}
    assert str(server.customers[3]["customerId"]) not in everyone and len(everyone) == 249  # merged away
    source = server.customers[10]
    record = everyone[str(source["customerId"])]
    assert record.name == f"{source['firstName']} {source['lastName']}" and record.email == source["emailAddress"]
    assert record.phone == source["cellPhone"] and record.birth_date == date.fromisoformat(source["dateOfBirth"][:10])
    assert record.customer_type == source["customerType"].lower() and record.state == "NJ"
    assert record.email_opt_in is source["optedIntoMarketing"] and record.created_at.tzinfo is not None
    assert record.raw == source


def test_a_short_page_before_the_end_is_read_again(server):
    server.fail_page(2, "truncate")
    customers = adapter_for(server).fetch_customers(since=None)
    assert len({c.external_id for c in customers}) == len(customers) == 250


def test_a_page_that_stays_short_fails_the_read(server):
    server.fail_page(2, "truncate", times=2)
    with pytest.raises(MalformedPayload, match="inconsistent at page 2 \\(a short page that is not the last one\\)"):
        adapter_for(server).fetch_customers(since=None)


def test_an_out_of_order_page_is_read_again_or_fails_the_read(server):
    server.fail_page(3, "repeat")
    assert len(adapter_for(server).fetch_customers(since=None)) == 250
    server.fail_page(3, "repeat", times=2)
    with pytest.raises(MalformedPayload, match="repeats customers of an earlier page"):
        adapter_for(server).fetch_customers(since=None)


def test_a_failing_customers_page_retries_then_completes(server):
    server.fail(500, times=2, path="/customer/customers-paginated")
    assert len(adapter_for(server).fetch_customers(since=None)) == 250


# ----------------------------------------------------------------------------------------------- price


def test_a_price_written_back_shows_in_the_next_menu_read(server):
    adapter = adapter_for(server)
    product_id = server.product_ids()[40]
    adapter.update_price(str(product_id), Decimal("37.5"))
    assert server.overrides == [{"productId": product_id, "price": 37.5, "recPrice": 37.5}]
    (call,) = server.calls("/products/location-overrides", method="POST")
    assert base64.b64decode(call.headers["authorization"][6:]).decode() == f"{DEFAULT_KEY}:"
    record = {r.external_id: r for r in adapter.fetch_menu()}[str(product_id)]
    assert record.values["price"] == Decimal("37.50")


def test_a_price_write_refused_or_failing(server):
    adapter = adapter_for(server, http={"max_retries": 1})
    with pytest.raises(IntegrationError, match="Product 1 does not exist"):
        adapter.update_price("1", Decimal("10"))
    with pytest.raises(IntegrationError, match="above zero"):
        adapter.update_price(str(server.product_ids()[0]), Decimal("0"))
    with pytest.raises(IntegrationError, match="not a Dutchie product id"):
        adapter.update_price("abc", Decimal("10"))
    server.fail(500, path="/products/location-overrides")
    adapter.update_price(str(server.product_ids()[0]), Decimal("12.00"))  # retried: setting a price twice is harmless
    assert server.products[server.product_ids()[0]]["price"] == 12.0
    server.fail(500, times=2, path="/products/location-overrides")
    with pytest.raises(VendorUnavailable):
        adapter.update_price(str(server.product_ids()[0]), Decimal("13.00"))


# ----------------------------------------------------------------------------------------------- injected failures


def test_wrong_key_on_a_sync_is_auth_failed(server):
    with pytest.raises(AuthFailed, match="401 on /products"):
        adapter_for(server, key="stale-key").fetch_menu()
    assert len(server.requests) == 1


def test_429_with_retry_after_is_honoured(server):
    waits: list[float] = []
    server.fail(429, retry_after=7, path="/products")
    records = adapter_for(server, http={"max_backoff_s": 30, "sleep": waits.append}).fetch_menu()
    assert waits == [7.0] and len(records) == 226
    assert len(server.calls("/products")) == 2


def test_429_retry_after_really_waits(server):
    server.fail(429, retry_after=1, path="/whoami", body={"Message": "Too many requests - only 200 per minute allowed"})
    started = time.monotonic()
    assert adapter_for(server, http={"max_backoff_s": 5}).test_connection().startswith("Connected")
    assert time.monotonic() - started >= 1.0 and len(server.calls("/whoami")) == 2


def test_500_then_success(server):
    server.fail(500, times=2, path="/reporting/inventory")
    assert len(adapter_for(server).fetch_menu()) == 226
    assert len(server.calls("/reporting/inventory")) == 3


def test_500_forever_is_vendor_unavailable(server):
    server.fail(500, times=10, path="/reporting/inventory")
    with pytest.raises(VendorUnavailable, match="GET /reporting/inventory kept failing \\(500\\) after 3 tries"):
        adapter_for(server, http={"max_retries": 2}).fetch_menu()


def test_a_timeout_is_retried_and_timeouts_that_persist_fail(server):
    server.fail("timeout", path="/products")
    assert len(adapter_for(server).fetch_menu()) == 226
    server.fail("timeout", times=2, path="/whoami")
    with pytest.raises(VendorUnavailable, match="timed out after 2 tries"):
        adapter_for(server, http={"max_retries": 1}).test_connection()


def test_a_dropped_connection_is_retried(server):
    server.fail("reset", path="/products")
    assert len(adapter_for(server).fetch_menu()) == 226


def test_malformed_json_and_wrong_shapes_are_malformed(server):
    server.fail("malformed", path="/reporting/inventory")
    with pytest.raises(MalformedPayload, match="not JSON"):
        adapter_for(server).fetch_menu()
    server.fail(200, path="/products", body={"items": []})
    with pytest.raises(MalformedPayload, match="answered dict where a list was expected"):
        adapter_for(server).fetch_menu()
    server.fail("malformed", path="/reporting/transactions")
    with pytest.raises(MalformedPayload):
        adapter_for(server).fetch_sales(since=NOW - timedelta(days=2), until=NOW)
    server.fail("malformed", path="/customer")
    with pytest.raises(MalformedPayload):
        adapter_for(server).fetch_customers(since=None)


def test_every_endpoint_has_its_documented_rate_budget(server, monkeypatch):
    adapter = adapter_for(server)
    limits = {bucket: (adapter._http(bucket).budget.limit, adapter._http(bucket).budget.window_s)
              for bucket in dutchie_client.RATE_LIMITS}
    assert limits == {"whoami": (200, 60), "inventory": (200, 60), "products": (120, 60), "customers": (120, 60),
                      "reporting_inventory": (60, 60), "transactions": (600, 60)}
    monkeypatch.setitem(dutchie_client.RATE_LIMITS, "whoami", (2, 1))
    limited = adapter_for(server)
    started = time.monotonic()
    for _ in range(5):  # 2 per one-second window: the fifth call cannot go before a whole window has passed
        limited.test_connection()
    assert time.monotonic() - started >= 0.9
    assert len(server.calls("/whoami")) == 5


def test_big_catalog_is_fetched_whole(capture):
    with FakeDutchie().generate_inventory(1200, seed=4) as fake:
        records = adapter_for(fake).fetch_menu()
        assert len(records) == 1200 == len({r.external_id for r in records})
        assert not [r for r in records if "_skip" in r.values]


def test_errors_are_integration_errors():
    assert issubclass(MalformedPayload, IntegrationError) and issubclass(AuthFailed, IntegrationError)
