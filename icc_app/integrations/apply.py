"""Applying what an adapter fetched: the menu (maps.MenuItem), inventory levels, sales and customers, for one
connection, inside the caller's transaction. Pure database work, no HTTP.

Idempotent by construction: every record carries a content hash of its mapped values; a record whose hash has not
moved writes nothing (no row, no updated_at), so re-running the same data changes nothing. Items the vendor no
longer lists go out of stock (kept, with their history), never deleted. A record we cannot use is skipped with its
reason; it never stops the others.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from icc_app.core.errors import ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import email_lookup
from icc_app.integrations import normalize
from icc_app.integrations.base import CustomerRecord, InventoryRecord, MenuRecord, SaleRecord
from icc_app.integrations.models import Connection, InventoryLevel, PosCustomer, Sale, SaleLine, SyncedRecord
from icc_app.maps.menus import CATEGORIES, STRAIN_TYPES
from icc_app.maps.models import MenuItem, menu_price
from icc_app.settings import get_settings

MAX_ERRORS_KEPT = 200
MENU_FIELDS = ("name", "brand", "category", "strain_name", "strain_type", "thc_min", "thc_max", "thc_unit", "cbd_min",
               "cbd_max", "cbd_unit", "terpenes", "variants", "price", "in_stock_qty")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    out_of_stock: int = 0
    skipped: int = 0
    sales: int = 0
    customers: int = 0
    errors: list[dict] = field(default_factory=list)

    def skip(self, item: str, reason: str) -> None:
        self.skipped += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append({"item": item[:200], "reason": reason[:300]})

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "out_of_stock": self.out_of_stock, "skipped": self.skipped, "sales": self.sales,
                "customers": self.customers, "errors": self.errors}


# ------------------------------------------------------------------------------------------- keyed references


def _keyed(purpose: str, value: str) -> str:
    return hmac.new(get_settings().secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def customer_ref(business_id: uuid.UUID, vendor: str, external_id: str) -> str:
    """The stored stand-in for a vendor's customer id: equal ids give equal refs within a business; the id itself
    is not stored."""
    return _keyed(f"pos-customer:{business_id}:{vendor}", external_id.strip())


def phone_lookup(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return _keyed("phone", digits) if len(digits) >= 10 else None


# ------------------------------------------------------------------------------------------- menu


def _float(value: Any, name: str, low: float = 0, high: float = 1e6) -> float | None:
    if value is None:
        return None
    number = normalize.number(value)
    if number is None or not low <= number <= high:
        raise ValidationFailed(f"{name} is not a number between {low:g} and {high:g}.", field=name)
    return round(number, 3)


def clean_menu_values(values: dict[str, Any]) -> dict[str, Any]:
    """The adapter's mapped values checked as the menu stores them; raises ValidationFailed with the reason."""
    name = normalize.text(values.get("name"), 300)
    if not name:
        raise ValidationFailed("no product name", field="name")
    category = values.get("category") or "other"
    if category not in CATEGORIES:
        category = "other"
    strain_type = values.get("strain_type")
    price = values.get("price")
    try:
        price = menu_price(price) if price is not None else None
    except ArithmeticError:
        raise ValidationFailed("the price is not an amount", field="price") from None
    if price is not None and not Decimal("0") <= price <= normalize.MAX_PRICE:
        raise ValidationFailed("the price is out of range", field="price")
    variants = []
    for variant in values.get("variants") or []:
        vprice = _float(variant.get("price"), "variant price", 0, float(normalize.MAX_PRICE))
        variants.append({"label": normalize.text(variant.get("label"), 60) or "each",
                         "weight_g": _float(variant.get("weight_g"), "weight", 0, 1e5), "price": vprice})
    if price is None:
        prices = [v["price"] for v in variants if v["price"] is not None]
        price = menu_price(min(prices)) if prices else None
    if price is None:
        raise ValidationFailed("no price", field="price")
    stock = normalize.number(values.get("in_stock_qty"))
    thc_unit = "mg" if values.get("thc_unit") == "mg" else "%"
    cbd_unit = "mg" if values.get("cbd_unit") == "mg" else "%"
    thc_high = 1e5 if thc_unit == "mg" else 100
    cbd_high = 1e5 if cbd_unit == "mg" else 100
    return {
        "name": name, "brand": normalize.text(values.get("brand"), 200), "category": category,
        "strain_name": normalize.text(values.get("strain_name"), 120),
        "strain_type": strain_type if strain_type in STRAIN_TYPES else None,
        "thc_min": _float(values.get("thc_min"), "THC", 0, thc_high),
        "thc_max": _float(values.get("thc_max"), "THC", 0, thc_high), "thc_unit": thc_unit,
        "cbd_min": _float(values.get("cbd_min"), "CBD", 0, cbd_high),
        "cbd_max": _float(values.get("cbd_max"), "CBD", 0, cbd_high), "cbd_unit": cbd_unit,
        "terpenes": [{"name": normalize.text(t.get("name"), 60), "pct": _float(t.get("pct"), "terpene", 0, 100)}
                     for t in (values.get("terpenes") or [])[:12] if normalize.text(t.get("name"), 60)],
        "variants": variants[:30], "price": price,
        "in_stock_qty": max(0, int(stock)) if stock is not None and stock < 10**9 else 0,
    }


LEVEL_DEFAULTS = {"unit": "each", "unit_cost": None, "expires_on": None, "batch": None, "package_label": None}


def _inventory_values(inventory: InventoryRecord | None, menu_qty: int) -> dict[str, Any]:
    """The inventory row's values; a record without inventory details gives only the quantity, so the cost, expiry
    and batch another source brought in (a webhook) are kept."""
    if inventory is None:
        return {"quantity": Decimal(menu_qty)}
    return {"quantity": inventory.quantity, "unit": (inventory.unit or "each")[:10],
            "unit_cost": inventory.unit_cost, "expires_on": inventory.expires_on,
            "batch": normalize.text(inventory.batch, 120), "package_label": normalize.text(inventory.package_label, 60)}


def _set_changed(row: Any, values: dict[str, Any]) -> bool:
    """Assign only values that differ, so an unchanged row is never written (and keeps its updated_at)."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def apply_menu(session: Session, connection: Connection, records: Iterable[MenuRecord], counts: Counts, *,
               complete: bool = True) -> None:
    """Make the connection's menu match `records`. `complete`: the records are the whole menu, so items missing
    from them go out of stock; a webhook's records are not (complete=False) and may be partial (patches).

    Built for 10,000-item menus: existing rows are first read as light tuples (id, hash, stock); new rows are
    inserted in bulk; only rows whose content hash moved are loaded as objects and written, column by column."""
    if connection.dispensary_id is None:
        raise ValidationFailed("Choose which of your dispensaries this connection's menu feeds.",
                               field="dispensary_id")
    records = list(records)
    patches = [r for r in records if r.partial]
    full = [r for r in records if not r.partial]
    if patches:
        _apply_patches(session, connection, patches, counts)
    if not full and not complete:
        return
    only = None if complete else list({r.external_id for r in full if r.external_id})[:5000]
    items = {row.external_id: row for row in session.exec(_scoped(select(
        MenuItem.id, MenuItem.external_id, MenuItem.is_active, MenuItem.in_stock_qty).where(
        MenuItem.dispensary_id == connection.dispensary_id, MenuItem.source == connection.vendor),
        MenuItem.external_id, only))}
    hashes = dict(session.exec(_scoped(select(SyncedRecord.external_id, SyncedRecord.content_hash).where(
        SyncedRecord.connection_id == connection.id, SyncedRecord.kind == "menu_item"), SyncedRecord.external_id,
        only)).all())
    seen: set[str] = set()
    creates: list[tuple[str, dict, dict, str, dict]] = []
    updates: dict[str, tuple[dict, dict, str, dict]] = {}
    for record in full:
        external_id = normalize.text(record.external_id, 120) or ""
        label = normalize.text((record.values or {}).get("name"), 80) or external_id or "(no id)"
        if not external_id:
            counts.skip(label, "the vendor sent it without an id")
            continue
        if external_id in seen:
            counts.skip(label, "listed twice in the same feed; the first listing was used")
            continue
        seen.add(external_id)
        values = dict(record.values or {})
        if "_skip" in values:
            counts.skip(label, str(values["_skip"]))
            continue
        capped_at = values.pop("_qty_capped_at", None)
        try:
            clean = clean_menu_values(values)
        except ValidationFailed as exc:
            counts.skip(label, exc.message)
            continue
        item = items.get(external_id)
        if capped_at is not None and item is not None and clean["in_stock_qty"] >= capped_at and \
                item.in_stock_qty > clean["in_stock_qty"]:
            clean["in_stock_qty"] = item.in_stock_qty  # the list caps quantities; the webhook's count wins
        inventory = _inventory_values(record.inventory, clean["in_stock_qty"])
        digest = normalize.content_hash(clean, inventory)
        if item is None:
            creates.append((external_id, clean, inventory, digest, record.raw or {}))
        elif hashes.get(external_id) == digest and item.is_active:
            counts.unchanged += 1
        else:
            updates[external_id] = (clean, inventory, digest, record.raw or {})
    _insert_new(session, connection, creates, hashes, counts)
    _update_changed(session, connection, updates, counts)
    if complete:
        gone = [external_id for external_id, row in items.items() if external_id not in seen and row.in_stock_qty > 0]
        _mark_out_of_stock(session, connection, gone, [items[e].id for e in gone])
        counts.out_of_stock += len(gone)
    session.flush()


def _chunks(values: list, size: int = 1000):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _insert_new(session: Session, connection: Connection, creates: list, hashes: dict[str, str],
                counts: Counts) -> None:
    """New items, their raw payloads and inventory levels, in bulk (one INSERT per 1,000 rows)."""
    if not creates:
        return
    now = utcnow()
    levels = dict(session.exec(select(InventoryLevel.external_id, InventoryLevel.id).where(
        InventoryLevel.connection_id == connection.id, col(InventoryLevel.external_id).in_(
            [c[0] for c in creates][:5000]))).all()) if hashes else {}
    item_rows, record_rows, level_rows = [], [], []
    for external_id, clean, inventory, digest, raw in creates:
        item_id = uuid.uuid4()
        item_rows.append({"id": item_id, "created_at": now, "updated_at": now, "dispensary_id":
                          connection.dispensary_id, "source": connection.vendor, "external_id": external_id,
                          "currency": "USD", "is_active": True, "lot_id": None, **clean})
        if external_id in hashes:  # a raw record left from an item removed by hand: refresh it
            session.exec(sa.update(SyncedRecord).where(
                col(SyncedRecord.connection_id) == connection.id, col(SyncedRecord.kind) == "menu_item",
                col(SyncedRecord.external_id) == external_id).values(content_hash=digest,
                                                                     payload=normalize.storable(raw)))
        else:
            record_rows.append({"id": uuid.uuid4(), "created_at": now, "updated_at": now,
                                "connection_id": connection.id, "business_id": connection.business_id,
                                "kind": "menu_item", "external_id": external_id, "content_hash": digest,
                                "payload": normalize.storable(raw)})
        if external_id in levels:
            session.exec(sa.update(InventoryLevel).where(col(InventoryLevel.id) == levels[external_id])
                         .values(menu_item_id=item_id, updated_at=now, **inventory))
        else:
            level_rows.append({"id": uuid.uuid4(), "created_at": now, "updated_at": now,
                               "business_id": connection.business_id, "connection_id": connection.id,
                               "menu_item_id": item_id, "external_id": external_id, **LEVEL_DEFAULTS, **inventory})
    for table, rows in ((MenuItem.__table__, item_rows), (SyncedRecord.__table__, record_rows),
                        (InventoryLevel.__table__, level_rows)):
        _bulk_insert(session, table, rows)
    counts.created += len(item_rows)


def _bulk_insert(session: Session, table: sa.Table, rows: list[dict]) -> None:
    """Rows in few round trips: executemany, which psycopg pipelines (COPY would be faster still, but PostgreSQL
    refuses COPY FROM on tables with row-level security)."""
    for chunk in _chunks(rows, 2000):
        session.execute(sa.insert(table), chunk)


def _update_changed(session: Session, connection: Connection, updates: dict, counts: Counts) -> None:
    """Items whose content moved: loaded as objects (1,000 at a time) and written only where a column differs."""
    for chunk in _chunks(list(updates)):
        items = {i.external_id: i for i in session.exec(select(MenuItem).where(
            MenuItem.dispensary_id == connection.dispensary_id, MenuItem.source == connection.vendor,
            col(MenuItem.external_id).in_(chunk)))}
        records = {r.external_id: r for r in session.exec(select(SyncedRecord).where(
            SyncedRecord.connection_id == connection.id, SyncedRecord.kind == "menu_item",
            col(SyncedRecord.external_id).in_(chunk)))}
        levels = {lv.external_id: lv for lv in session.exec(select(InventoryLevel).where(
            InventoryLevel.connection_id == connection.id, col(InventoryLevel.external_id).in_(chunk)))}
        for external_id in chunk:
            clean, inventory, digest, raw = updates[external_id]
            item = items[external_id]
            if _set_changed(item, {**clean, "is_active": True}):
                session.add(item)
                counts.updated += 1
            else:
                counts.unchanged += 1
            known = records.get(external_id)
            if known is None:
                session.add(SyncedRecord(connection_id=connection.id, business_id=connection.business_id,
                                         kind="menu_item", external_id=external_id, content_hash=digest,
                                         payload=normalize.storable(raw)))
            elif known.content_hash != digest:
                known.content_hash, known.payload = digest, normalize.storable(raw)
                session.add(known)
            level = levels.get(external_id)
            if level is None:
                session.add(InventoryLevel(business_id=connection.business_id, connection_id=connection.id,
                                           external_id=external_id, menu_item_id=item.id, **inventory))
            elif _set_changed(level, {**inventory, "menu_item_id": item.id}):
                session.add(level)
        session.flush()


def _mark_out_of_stock(session: Session, connection: Connection, external_ids: list[str],
                       item_ids: list[uuid.UUID]) -> None:
    """Items the vendor no longer lists: stock 0, kept with their history; their raw record is compared afresh
    when they come back."""
    now = utcnow()
    for chunk in _chunks(item_ids):
        session.exec(sa.update(MenuItem).where(col(MenuItem.id).in_(chunk)).values(in_stock_qty=0, updated_at=now))
    for chunk in _chunks(external_ids):
        session.exec(sa.update(SyncedRecord).where(
            col(SyncedRecord.connection_id) == connection.id, col(SyncedRecord.kind) == "menu_item",
            col(SyncedRecord.external_id).in_(chunk), col(SyncedRecord.content_hash) != "")
            .values(content_hash="", updated_at=now))
        session.exec(sa.update(InventoryLevel).where(
            col(InventoryLevel.connection_id) == connection.id, col(InventoryLevel.external_id).in_(chunk),
            col(InventoryLevel.quantity) != 0).values(quantity=0, updated_at=now))


def _apply_patches(session: Session, connection: Connection, patches: list[MenuRecord], counts: Counts) -> None:
    ids = list({r.external_id for r in patches if r.external_id})[:5000]
    items = {i.external_id: i for i in session.exec(select(MenuItem).where(
        MenuItem.dispensary_id == connection.dispensary_id, MenuItem.source == connection.vendor,
        col(MenuItem.external_id).in_(ids)))}
    synced = {r.external_id: r for r in session.exec(select(SyncedRecord).where(
        SyncedRecord.connection_id == connection.id, SyncedRecord.kind == "menu_item",
        col(SyncedRecord.external_id).in_(ids)))}
    levels = {lv.external_id: lv for lv in session.exec(select(InventoryLevel).where(
        InventoryLevel.connection_id == connection.id, col(InventoryLevel.external_id).in_(ids)))}
    for record in patches:
        external_id = normalize.text(record.external_id, 120) or ""
        label = normalize.text((record.values or {}).get("name"), 80) or external_id or "(no id)"
        if "_skip" in (record.values or {}):
            counts.skip(label, str(record.values["_skip"]))
            continue
        _apply_patch(session, connection, items.get(external_id), levels.get(external_id), synced.get(external_id),
                     record, counts, label)
    session.flush()


def _scoped(query, column, external_ids: list[str] | None):
    return query if external_ids is None else query.where(col(column).in_(external_ids))


def _apply_patch(session: Session, connection: Connection, item: MenuItem | None, level: InventoryLevel | None,
                 known: SyncedRecord | None, record: MenuRecord, counts: Counts, label: str) -> None:
    """A webhook's partial record: change only the fields it carries. An item we have never seen waits for the
    next full sync (a patch has too little to list it)."""
    if item is None:
        counts.skip(label, "not on the menu yet; the next full sync adds it")
        return
    changes: dict[str, Any] = {}
    values = {k: v for k, v in (record.values or {}).items() if k in MENU_FIELDS}
    if "in_stock_qty" in values:
        stock = normalize.number(values["in_stock_qty"])
        changes["in_stock_qty"] = max(0, int(stock)) if stock is not None else item.in_stock_qty
    if "price" in values and values["price"] is not None:
        changes["price"] = menu_price(values["price"])
    for key in ("name", "brand"):
        if values.get(key):
            changes[key] = normalize.text(values[key], 300 if key == "name" else 200)
    if _set_changed(item, changes):
        session.add(item)
        counts.updated += 1
        if known is not None and known.content_hash:
            known.content_hash = ""  # the next full sync compares afresh instead of trusting the old hash
            session.add(known)
    else:
        counts.unchanged += 1
    if record.inventory is not None:
        inventory = _inventory_values(record.inventory, changes.get("in_stock_qty", item.in_stock_qty))
        if level is None:
            session.add(InventoryLevel(business_id=connection.business_id, connection_id=connection.id,
                                       external_id=item.external_id, menu_item_id=item.id, **inventory))
        elif _set_changed(level, inventory):
            session.add(level)


# ------------------------------------------------------------------------------------------- sales


def _money(value: Any) -> Decimal:
    amount = value if isinstance(value, Decimal) else normalize.number(value)
    if amount is None:
        return Decimal("0")
    amount = Decimal(str(amount))
    if abs(amount) > Decimal("1e10"):
        raise ValidationFailed("an amount is out of range", field="total")
    return amount.quantize(Decimal("0.01"))


def _sale_values(connection: Connection, record: SaleRecord) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if not isinstance(record.occurred_at, datetime) or record.occurred_at.tzinfo is None:
        raise ValidationFailed("the sale has no time with a zone", field="occurred_at")
    sale = {"occurred_at": record.occurred_at,
            "customer_ref": customer_ref(connection.business_id, connection.vendor, record.customer_external_id)
            if record.customer_external_id else None,
            "subtotal": _money(record.subtotal), "discount": _money(record.discount), "tax": _money(record.tax),
            "total": _money(record.total), "currency": (record.currency or "USD")[:3].upper(),
            "is_return": bool(record.is_return), "is_void": bool(record.is_void)}
    lines = []
    for line in record.lines:
        quantity = normalize.number(line.quantity)
        if quantity is None or abs(quantity) > 1e7:
            raise ValidationFailed("a line has no readable quantity", field="quantity")
        lines.append({"product_external_id": (normalize.text(line.product_external_id, 120) or "?"),
                      "name": normalize.text(line.name, 300) or "", "category": normalize.text(line.category, 40),
                      "quantity": Decimal(str(round(quantity, 3))), "unit": (line.unit or "each")[:10],
                      "unit_price": _money(line.unit_price), "discount": _money(line.discount),
                      "total": _money(line.total),
                      "unit_cost": None if line.unit_cost is None else _money(line.unit_cost)})
    return sale, lines


def apply_sales(session: Session, connection: Connection, records: list[SaleRecord], counts: Counts) -> None:
    by_id: dict[str, SaleRecord] = {}
    for record in records:
        external_id = normalize.text(record.external_id, 120)
        if external_id:
            by_id[external_id] = record  # a later page's copy of the same sale wins (it is the newer one)
        else:
            counts.skip("sale", "a sale without an id")
    items = dict(session.exec(select(MenuItem.external_id, MenuItem.id).where(
        MenuItem.dispensary_id == connection.dispensary_id, MenuItem.source == connection.vendor)).all()) \
        if connection.dispensary_id else {}
    ids = list(by_id)
    existing: dict[str, Sale] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        existing.update({s.external_id: s for s in session.exec(select(Sale).where(
            Sale.connection_id == connection.id, col(Sale.external_id).in_(chunk)))})
    for external_id, record in by_id.items():
        try:
            values, lines = _sale_values(connection, record)
        except ValidationFailed as exc:
            counts.skip(f"sale {external_id}", exc.message)
            continue
        digest = normalize.content_hash(values, lines)
        sale = existing.get(external_id)
        if sale is not None and sale.content_hash == digest:
            continue
        if sale is None:
            sale = Sale(business_id=connection.business_id, connection_id=connection.id,
                        dispensary_id=connection.dispensary_id, external_id=external_id, content_hash=digest,
                        payload=normalize.storable(record.raw or {}), **values)
            session.add(sale)
        else:
            _set_changed(sale, {**values, "content_hash": digest, "payload": normalize.storable(record.raw or {})})
            session.add(sale)
            session.exec(delete(SaleLine).where(SaleLine.sale_id == sale.id))
        for line in lines:
            session.add(SaleLine(sale_id=sale.id, business_id=connection.business_id,
                                 menu_item_id=items.get(line["product_external_id"]), **line))
        counts.sales += 1
    session.flush()


# ------------------------------------------------------------------------------------------- customers


def apply_customers(session: Session, connection: Connection, records: list[CustomerRecord], counts: Counts) -> None:
    existing = {c.external_ref: c for c in session.exec(select(PosCustomer).where(
        PosCustomer.connection_id == connection.id))}
    now = utcnow()
    for record in records:
        external_id = normalize.text(record.external_id, 120)
        if not external_id:
            counts.skip("customer", "a customer without an id")
            continue
        ref = customer_ref(connection.business_id, connection.vendor, external_id)
        email = normalize.text(record.email, 254)
        phone = normalize.text(record.phone, 40)
        values = {"name": normalize.text(record.name, 200), "email": email, "phone": phone,
                  "birth_date": record.birth_date.isoformat() if record.birth_date else None,
                  "customer_type": record.customer_type if record.customer_type in ("medical", "recreational")
                  else None, "email_opt_in": record.email_opt_in, "sms_opt_in": record.sms_opt_in,
                  "state": (normalize.text(record.state, 2) or None), "postal_code": normalize.text(record.postal_code,
                                                                                                       10)}
        digest = normalize.content_hash(values)
        customer = existing.get(ref)
        if customer is not None and customer.content_hash == digest:
            continue
        lookups = {"email_hash": email_lookup(email) if email and "@" in email else None,
                   "phone_hash": phone_lookup(phone) if phone else None, "content_hash": digest}
        if customer is None:
            customer = PosCustomer(business_id=connection.business_id, connection_id=connection.id, external_ref=ref,
                                   first_seen_at=record.created_at or now, **values, **lookups)
            existing[ref] = customer
        else:
            for key, value in {**values, **lookups}.items():
                setattr(customer, key, value)
        session.add(customer)
        counts.customers += 1
    session.flush()
