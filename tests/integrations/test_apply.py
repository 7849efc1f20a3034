"""Applying fetched records to the menu, inventory, sales and customers: complete, idempotent, never destructive."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlmodel import select

from icc_app.integrations import apply
from icc_app.integrations.base import (CustomerRecord, InventoryRecord, MenuRecord, SaleLineRecord, SaleRecord)
from icc_app.integrations.models import InventoryLevel, PosCustomer, Sale, SaleLine, SyncedRecord
from icc_app.maps.models import MenuItem
from tests.integrations.conftest import make_connection


def _item(external_id: str, name: str = "Blue Dream 3.5g", *, price="35.00", qty=10, **extra) -> MenuRecord:
    return MenuRecord(external_id=external_id, values={"name": name, "category": "flower", "price": Decimal(price),
                                                       "in_stock_qty": qty, "thc_min": 21.0, "thc_max": 21.0,
                                                       "strain_name": "Blue Dream", "strain_type": "hybrid",
                                                       "variants": [{"label": "3.5 g", "weight_g": 3.5,
                                                                     "price": float(price)}], **extra},
                      raw={"id": external_id, "name": name},
                      inventory=InventoryRecord(quantity=Decimal(qty), unit_cost=Decimal("12.00"),
                                                expires_on=date(2027, 3, 1)))


def _menu(session, store):
    return {i.external_id: i for i in session.exec(select(MenuItem).where(MenuItem.dispensary_id == store.id))}


def test_first_sync_creates_items_with_inventory_and_raw_payload(session, store):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    counts = apply.Counts()
    apply.apply_menu(session, connection, [_item("A"), _item("B", "Gelato 1g", price="12.5", qty=3)], counts)
    menu = _menu(session, shop)
    assert (counts.created, counts.updated, counts.unchanged) == (2, 0, 0)
    assert menu["B"].price == Decimal("12.50") and menu["B"].in_stock_qty == 3 and menu["B"].source == "dutchie"
    level = session.exec(select(InventoryLevel).where(InventoryLevel.external_id == "A")).one()
    assert level.unit_cost == Decimal("12.00") and level.expires_on == date(2027, 3, 1)
    assert level.menu_item_id == menu["A"].id
    raw = session.exec(select(SyncedRecord).where(SyncedRecord.external_id == "B")).one()
    assert raw.payload == {"id": "B", "name": "Gelato 1g"}


def test_the_same_data_again_writes_nothing(session, store):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    records = [_item(str(n), f"Item {n}") for n in range(20)]
    apply.apply_menu(session, connection, records, apply.Counts())
    stamps = {k: v.updated_at for k, v in _menu(session, shop).items()}
    session.expire_all()
    counts = apply.Counts()
    writes: list[str] = []
    from sqlalchemy import event

    def count_writes(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    engine_conn = session.connection()
    event.listen(engine_conn, "before_cursor_execute", count_writes)
    try:
        apply.apply_menu(session, connection, [_item(str(n), f"Item {n}") for n in range(20)], counts)
    finally:
        event.remove(engine_conn, "before_cursor_execute", count_writes)
    assert counts.unchanged == 20 and counts.created == counts.updated == 0
    assert writes == []
    assert {k: v.updated_at for k, v in _menu(session, shop).items()} == stamps
    assert len(_menu(session, shop)) == 20


def test_a_changed_price_updates_only_that_item(session, store):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    apply.apply_menu(session, connection, [_item("A"), _item("B", "Gelato")], apply.Counts())
    counts = apply.Counts()
    apply.apply_menu(session, connection, [_item("A", price="30.00"), _item("B", "Gelato")], counts)
    assert (counts.updated, counts.unchanged) == (1, 1)
    assert _menu(session, shop)["A"].price == Decimal("30.00")


def test_items_the_vendor_drops_go_out_of_stock_and_stay(session, store):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    apply.apply_menu(session, connection, [_item("A"), _item("B", "Gelato")], apply.Counts())
    counts = apply.Counts()
    apply.apply_menu(session, connection, [_item("A")], counts)
    gone = _menu(session, shop)["B"]
    assert counts.out_of_stock == 1 and gone.in_stock_qty == 0 and gone.is_active
    assert session.exec(select(InventoryLevel).where(InventoryLevel.external_id == "B")).one().quantity == 0
    # and back in stock when the vendor lists it again
    counts = apply.Counts()
    apply.apply_menu(session, connection, [_item("A"), _item("B", "Gelato")], counts)
    assert _menu(session, shop)["B"].in_stock_qty == 10 and counts.updated == 1


def test_bad_records_are_skipped_with_reasons_and_the_rest_applied(session, store):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    records = [_item("A"), MenuRecord("B", {"_skip": "no price in the POS"}, raw={}),
               MenuRecord("C", {"name": "", "price": 5}), _item("A", "dup"),
               MenuRecord("D", {"name": "Weird", "price": "abc"}), MenuRecord("", {"name": "No id", "price": 1}),
               MenuRecord("E", {"name": "Too strong", "price": 10, "thc_min": 250, "thc_unit": "%"}),
               _item("F", "Nul\x00 byte name")]
    counts = apply.Counts()
    apply.apply_menu(session, connection, records, counts)
    menu = _menu(session, shop)
    assert set(menu) == {"A", "F"} and menu["F"].name == "Nul byte name"
    reasons = {e["item"]: e["reason"] for e in counts.errors}
    assert counts.skipped == 6
    assert "no price in the POS" in reasons["B"] and "listed twice" in reasons["dup"]
    assert "THC" in reasons["Too strong"] and "name" in reasons["C"]


def test_a_webhook_patch_changes_only_stock_and_the_next_full_sync_compares_afresh(session, store):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    apply.apply_menu(session, connection, [_item("A")], apply.Counts())
    counts = apply.Counts()
    apply.apply_menu(session, connection, [MenuRecord("A", {"in_stock_qty": 2}, partial=True),
                                           MenuRecord("Z", {"in_stock_qty": 5}, partial=True)], counts, complete=False)
    item = _menu(session, shop)["A"]
    assert item.in_stock_qty == 2 and item.name == "Blue Dream 3.5g" and counts.updated == 1
    assert counts.skipped == 1 and "next full sync" in counts.errors[0]["reason"]
    counts = apply.Counts()
    apply.apply_menu(session, connection, [_item("A", qty=10)], counts)  # the POS is the truth at the next poll
    assert _menu(session, shop)["A"].in_stock_qty == 10 and counts.updated == 1


def test_a_capped_list_quantity_does_not_undo_the_webhook_count(session, store):
    _, business, shop = store
    connection = make_connection(session, business, shop, vendor="treez")
    apply.apply_menu(session, connection, [_item("A", qty=50)], apply.Counts())
    apply.apply_menu(session, connection, [MenuRecord("A", {"in_stock_qty": 400}, partial=True)], apply.Counts(),
                     complete=False)
    apply.apply_menu(session, connection, [_item("A", qty=50, _qty_capped_at=50)], apply.Counts())
    assert _menu(session, shop)["A"].in_stock_qty == 400


def _sale(external_id: str, total: str = "40.00", customer: str | None = "cust-1", **extra) -> SaleRecord:
    return SaleRecord(external_id=external_id, occurred_at=datetime(2026, 11, 20, 18, 5, tzinfo=UTC),
                      customer_external_id=customer, subtotal=Decimal(total), total=Decimal(total),
                      lines=[SaleLineRecord(product_external_id="A", name="Blue Dream", quantity=Decimal("1"),
                                            unit_price=Decimal(total), total=Decimal(total))], raw={"id": external_id},
                      **extra)


def test_sales_are_upserted_once_with_hashed_customer_and_linked_lines(session, store):
    _, business, shop = store
    connection = make_connection(session, business, shop)
    apply.apply_menu(session, connection, [_item("A")], apply.Counts())
    counts = apply.Counts()
    apply.apply_sales(session, connection, [_sale("T1"), _sale("T2", "12.00", None), _sale("T1")], counts)
    apply.apply_sales(session, connection, [_sale("T1"), _sale("T2", "12.00", None)], apply.Counts())
    sales = session.exec(select(Sale).where(Sale.connection_id == connection.id)).all()
    assert len(sales) == 2
    t1 = next(s for s in sales if s.external_id == "T1")
    assert t1.customer_ref and "cust-1" not in t1.customer_ref and len(t1.customer_ref) == 64
    lines = session.exec(select(SaleLine).where(SaleLine.sale_id == t1.id)).all()
    assert len(lines) == 1 and lines[0].menu_item_id == _menu(session, shop)["A"].id
    # a corrected sale (a return added) replaces its lines instead of adding more
    apply.apply_sales(session, connection, [_sale("T1", "30.00")], apply.Counts())
    session.expire_all()
    assert session.get(Sale, t1.id).total == Decimal("30.00")
    assert len(session.exec(select(SaleLine).where(SaleLine.sale_id == t1.id)).all()) == 1


def test_customers_keep_pii_encrypted_and_ids_hashed(session, store, connection):
    _, business, shop = store
    pos = make_connection(session, business, shop)
    counts = apply.Counts()
    apply.apply_customers(session, pos, [CustomerRecord("c-77", name="Ana Lima", email="Ana@Example.com",
                                                        phone="(206) 555-0101", birth_date=date(1990, 5, 1),
                                                        customer_type="recreational", sms_opt_in=True)], counts)
    customer = session.exec(select(PosCustomer).where(PosCustomer.connection_id == pos.id)).one()
    assert customer.email == "Ana@Example.com" and customer.birth_date == "1990-05-01"
    raw = connection.exec_driver_sql("SELECT external_ref, email, name, email_hash FROM pos_customers").fetchall()
    stored = " ".join(str(v) for row in raw for v in row)
    assert "c-77" not in stored and "Ana" not in stored and "example.com" not in stored.lower()
    # the same customer from another system of the business matches by hashed email
    other = make_connection(session, business, shop, vendor="flowhub")
    apply.apply_customers(session, other, [CustomerRecord("F-1", email="ana@example.com ")], apply.Counts())
    hashes = session.exec(select(PosCustomer.email_hash).where(PosCustomer.business_id == business.id)).all()
    assert len(hashes) == 2 and hashes[0] == hashes[1]
