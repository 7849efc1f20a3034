"""Where operations data comes from: the POS sync's tables (sales lines, inventory) rolled up into daily demand and
stock, or a CSV upload for businesses without a connected POS. A CSV is checked row by row: the valid rows are
saved, each bad row is reported with its line number and reason, and importing the same file twice changes
nothing the second time (a day's total is set, not added)."""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import ValidationFailed
from icc_app.identity.models import Role
from icc_app.identity.schemas import Principal
from icc_app.integrations.models import InventoryLevel, Sale, SaleLine
from icc_app.maps.models import MenuItem
from icc_app.operations import scoping
from icc_app.operations.models import DemandDay, StockItem
from icc_app.operations.series_csv import CsvError, decode, parse_date

MAX_ERRORS = 200
DEFAULT_LOCATION = "main"


@dataclass
class ImportReport:
    saved: int = 0
    errors: list[dict] = field(default_factory=list)  # [{line, message}]

    def error(self, line: int, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"line": line, "message": message})


def _decimal(text: str, what: str, *, required: bool = True, minimum: Decimal | None = Decimal("0")) -> Decimal | None:
    text = (text or "").strip().replace("$", "").replace(",", "")
    if not text:
        if required:
            raise ValueError(f"{what} is empty")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} '{text[:30]}' is not a number") from None
    if not value.is_finite() or (minimum is not None and value < minimum):
        raise ValueError(f"{what} must be {minimum} or more")
    return value


def _rows(data: bytes, required: tuple[str, ...]) -> tuple[list[str], csv.DictReader]:
    try:
        text = decode(data)
    except CsvError as exc:
        raise ValidationFailed(str(exc), field="file") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationFailed(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.", field="file")
    reader.fieldnames = header
    return header, reader


def _cell(row: dict, name: str, limit: int) -> str:
    return (row.get(name) or "").strip()[:limit]


def import_sales(session: Session, *, principal: Principal, business_id: uuid.UUID, data: bytes) -> ImportReport:
    """Columns: date, sku, quantity (required); location, category, revenue (optional). One row per sale line or
    per day: rows of the same day, location and sku are added together."""
    scoping.member(principal, business_id, min_role=Role.manager)
    _, reader = _rows(data, ("date", "sku", "quantity"))
    report = ImportReport()
    totals: dict[tuple[str, str, date], list] = defaultdict(lambda: [Decimal(0), Decimal(0), "other"])
    for row in reader:
        line = reader.line_num
        try:
            sku = _cell(row, "sku", 120)
            if not sku:
                raise ValueError("sku is empty")
            day = parse_date(row.get("date") or "")
            quantity = _decimal(row.get("quantity"), "quantity", minimum=None)
            revenue = _decimal(row.get("revenue"), "revenue", required=False, minimum=None) or Decimal(0)
        except ValueError as exc:
            report.error(line, str(exc))
            continue
        key = (_cell(row, "location", 120) or DEFAULT_LOCATION, sku, day)
        totals[key][0] += quantity
        totals[key][1] += revenue
        totals[key][2] = (_cell(row, "category", 40) or totals[key][2]).lower()
        report.saved += 1
    _save_demand(session, business_id, totals, source="csv")
    audit.record(session, action="operations.import_sales", object_type="business", object_id=business_id,
                 actor_id=principal.user_id, business_id=business_id,
                 after={"rows": report.saved, "errors": len(report.errors)})
    return report


def _save_demand(session: Session, business_id: uuid.UUID, totals: dict, *, source: str) -> None:
    if not totals:
        return
    days = {k[2] for k in totals}
    existing = {(d.location_key, d.product_key, d.day): d for d in session.exec(
        select(DemandDay).where(DemandDay.business_id == business_id, col(DemandDay.day).in_(days)))}
    for (location, product, day), (quantity, revenue, category) in totals.items():
        row = existing.get((location, product, day)) or DemandDay(business_id=business_id, location_key=location,
                                                                  product_key=product, day=day)
        row.quantity, row.revenue = quantity, Decimal(revenue).quantize(Decimal("0.01"))
        row.category, row.source = category or "other", source
        session.add(row)
    session.flush()


def import_inventory(session: Session, *, principal: Principal, business_id: uuid.UUID, data: bytes) -> ImportReport:
    """Columns: sku, quantity (required); location, name, category, strain, size, unit_cost, price, expires_on,
    batch (optional). A row replaces the stock of its (location, sku, batch)."""
    scoping.member(principal, business_id, min_role=Role.manager)
    _, reader = _rows(data, ("sku", "quantity"))
    report = ImportReport()
    for row in reader:
        line = reader.line_num
        try:
            sku = _cell(row, "sku", 120)
            if not sku:
                raise ValueError("sku is empty")
            quantity = _decimal(row.get("quantity"), "quantity")
            unit_cost = _decimal(row.get("unit_cost"), "unit_cost", required=False)
            price = _decimal(row.get("price"), "price", required=False)
            expires = (row.get("expires_on") or "").strip()
            expires_on = parse_date(expires) if expires else None
        except ValueError as exc:
            report.error(line, str(exc))
            continue
        location, batch = _cell(row, "location", 120) or DEFAULT_LOCATION, _cell(row, "batch", 120)
        item = session.exec(scoping.rows(StockItem, principal, business_id).where(
            StockItem.location_key == location, StockItem.product_key == sku, StockItem.batch == batch)).first()
        item = item or StockItem(business_id=business_id, location_key=location, product_key=sku, batch=batch)
        item.quantity, item.unit_cost, item.price, item.expires_on, item.source = quantity, unit_cost, price, \
            expires_on, "csv"
        item.name = _cell(row, "name", 300) or item.name or sku
        item.category = (_cell(row, "category", 40) or item.category or "other").lower()
        item.strain_name = _cell(row, "strain", 120) or item.strain_name
        item.size_label = _cell(row, "size", 40) or item.size_label
        session.add(item)
        report.saved += 1
    session.flush()
    audit.record(session, action="operations.import_inventory", object_type="business", object_id=business_id,
                 actor_id=principal.user_id, business_id=business_id,
                 after={"rows": report.saved, "errors": len(report.errors)})
    return report


def size_label(item: MenuItem | None) -> str | None:
    """The smallest variant's size ('3.5g'), as menus print it."""
    if item is None or not item.variants:
        return None
    weights = [v.get("weight_g") for v in item.variants if v.get("weight_g")]
    if weights:
        return f"{min(weights):g}g"
    return (item.variants[0].get("label") or None) if item.variants else None


def sync_from_pos(session: Session, *, business_id: uuid.UUID, days: int = 400, today: date | None = None) -> int:
    """Roll the POS sync's sales lines up into daily demand and copy its inventory into stock (system task: no
    principal; every statement is filtered by the business). Returns the demand days written."""
    today = today or datetime.now(UTC).date()
    since = datetime.combine(today - timedelta(days=days), datetime.min.time(), tzinfo=UTC)
    lines = session.exec(
        select(Sale.connection_id, Sale.occurred_at, SaleLine.product_external_id, SaleLine.category,
               SaleLine.quantity, SaleLine.total)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(Sale.business_id == business_id, SaleLine.business_id == business_id, Sale.occurred_at >= since,
               col(Sale.is_void).is_(False))).all()
    totals: dict[tuple[str, str, date], list] = defaultdict(lambda: [Decimal(0), Decimal(0), "other"])
    for connection_id, occurred_at, product, category, quantity, total in lines:
        key = (str(connection_id), product, occurred_at.astimezone(UTC).date())
        totals[key][0] += quantity or 0
        totals[key][1] += total or 0
        totals[key][2] = (category or totals[key][2]).lower()
    _save_demand(session, business_id, totals, source="pos")
    levels = session.exec(select(InventoryLevel, MenuItem).join(MenuItem, MenuItem.id == InventoryLevel.menu_item_id,
                                                                isouter=True)
                          .where(InventoryLevel.business_id == business_id)).all()
    existing = {(s.location_key, s.product_key, s.batch): s for s in session.exec(
        select(StockItem).where(StockItem.business_id == business_id, StockItem.source == "pos"))}
    for level, menu in levels:
        key = (str(level.connection_id), level.external_id, level.batch or "")
        item = existing.pop(key, None) or StockItem(business_id=business_id, location_key=key[0],
                                                    product_key=key[1], batch=key[2])
        item.quantity, item.unit_cost, item.expires_on, item.menu_item_id = (level.quantity, level.unit_cost,
                                                                             level.expires_on, level.menu_item_id)
        if menu is not None:
            item.name, item.category, item.strain_name = menu.name, menu.category.lower(), menu.strain_name
            item.price, item.size_label = menu.price, size_label(menu)
        item.name = item.name or level.external_id
        session.add(item)
    for gone in existing.values():  # no longer reported by the POS: nothing on the shelf
        gone.quantity = Decimal(0)
        session.add(gone)
    session.flush()
    return len(totals)
