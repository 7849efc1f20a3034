"""Dispensary claims and manual menus: a business whose verified license matches a dispensary claims it, then its
people edit the menu by hand or import a CSV (valid rows are saved; every bad row is reported with its reason)."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.core.validation import safe_text
from icc_app.identity.models import BusinessLicense, LicenseStatus, Product, Verification
from icc_app.identity.permissions import has_product, require_member
from icc_app.identity.schemas import Principal
from icc_app.integrations.partners import events as partner_events
from icc_app.maps.models import Dispensary, MenuItem, menu_price

CATEGORIES = ["flower", "pre_roll", "vape", "concentrate", "edible", "tincture", "topical", "accessory", "other"]
STRAIN_TYPES = ["indica", "sativa", "hybrid", "cbd"]
CSV_COLUMNS = ["sku", "name", "brand", "category", "strain_name", "strain_type", "thc_pct", "cbd_pct", "price",
               "weight_g", "in_stock_qty", "terpenes"]  # terpenes: "myrcene 0.8; limonene 0.45" (percent)


def claim(session: Session, *, principal: Principal, business_id: uuid.UUID, dispensary_id: uuid.UUID) -> Dispensary:
    """The business must hold a verified, unexpired license with the dispensary's state and number."""
    require_member(principal, business_id, product=Product.maps)
    dispensary = session.get(Dispensary, dispensary_id)
    if dispensary is None:
        raise NotFound("Dispensary not found.")
    if dispensary.claimed_by_business_id not in (None, business_id):
        raise Conflict("Another business has claimed this dispensary. Contact support if it is yours.")
    match = session.exec(select(BusinessLicense.id).where(
        BusinessLicense.business_id == business_id, BusinessLicense.state == dispensary.state,
        BusinessLicense.license_number == dispensary.license_number,
        BusinessLicense.verification == Verification.verified, BusinessLicense.status == LicenseStatus.active,
    )).first()
    if match is None:
        raise PermissionDenied(f"Claiming needs your verified license {dispensary.state} {dispensary.license_number}.")
    dispensary.claimed_by_business_id = business_id
    session.add(dispensary)
    audit.record(session, action="maps.dispensary.claimed", object_type="dispensary", object_id=dispensary.id,
                 actor_id=principal.user_id, business_id=business_id)
    return dispensary


def business_for_maps(principal: Principal) -> uuid.UUID | None:
    """The business whose store this person runs on Maps: the first of theirs that gives them Maps access."""
    return next((m.business_id for m in principal.memberships if has_product(m, Product.maps)), None)


def claimable(session: Session, *, principal: Principal, business_id: uuid.UUID) -> list[tuple[Dispensary, bool]]:
    """The dispensaries whose state and number match one of the business's verified licenses, with whether this
    business has already claimed each (a store another business claimed is not offered)."""
    require_member(principal, business_id, product=Product.maps)
    licenses = session.exec(select(BusinessLicense.state, BusinessLicense.license_number).where(
        BusinessLicense.business_id == business_id, BusinessLicense.verification == Verification.verified)).all()
    found: list[tuple[Dispensary, bool]] = []
    for state, number in licenses:
        for dispensary in session.exec(select(Dispensary).where(Dispensary.state == state,
                                                                Dispensary.license_number == number)):
            if dispensary.claimed_by_business_id in (None, business_id):
                found.append((dispensary, dispensary.claimed_by_business_id == business_id))
    return found


def _hhmm(value: str, field: str) -> str:
    value = (value or "").strip()
    parts = value.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or not (0 <= int(parts[0]) <= 23 and
                                                                      0 <= int(parts[1]) <= 59):
        day, _, which = field.partition("_")
        raise ValidationFailed(f"{day.title()} {'opening' if which == 'open' else 'closing'} time: write it as HH:MM "
                               f"(24-hour), e.g. 09:00.", field=field)
    return f"{int(parts[0]):02d}:{int(parts[1]):02d}"


def update_profile(session: Session, *, principal: Principal, dispensary_id: uuid.UUID, phone: str = "",
                   website: str = "", hours: dict[str, tuple[str, str] | None], services: list[str]) -> Dispensary:
    """Contact details, opening hours by weekday (a day without hours is closed) and services."""
    from icc_app.maps.service import SERVICES, WEEKDAYS

    dispensary = owned(session, principal, dispensary_id)
    clean_hours: dict[str, list[str]] = {}
    for day, span in hours.items():
        if day not in WEEKDAYS:
            raise ValidationFailed(f"Unknown weekday {day!r}.", field="hours")
        if span and any((part or "").strip() for part in span):
            opens, closes = _hhmm(span[0], f"{day}_open"), _hhmm(span[1], f"{day}_close")
            if opens == closes:
                raise ValidationFailed(f"{day.title()}: opening and closing times are the same.", field=f"{day}_close")
            clean_hours[day] = [opens, closes]
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        raise ValidationFailed(f"Unknown service: {', '.join(unknown)}.", field="services")
    website, phone = safe_text(website, "website", max_length=300), safe_text(phone, "phone", max_length=40)
    if website and not website.startswith(("https://", "http://")):
        raise ValidationFailed("The website starts with https://.", field="website")
    if phone and sum(c.isdigit() for c in phone) < 10:
        raise ValidationFailed("The phone number needs its area code.", field="phone")
    before = {"hours": dispensary.hours, "services": dispensary.services, "phone": dispensary.phone,
              "website": dispensary.website}
    dispensary.hours, dispensary.services = clean_hours, sorted(set(services), key=SERVICES.index)
    dispensary.phone, dispensary.website = phone or None, website or None
    session.add(dispensary)
    audit.record(session, action="maps.dispensary.updated", object_type="dispensary", object_id=dispensary.id,
                 actor_id=principal.user_id, business_id=dispensary.claimed_by_business_id, before=before,
                 after={"hours": clean_hours, "services": dispensary.services, "phone": dispensary.phone,
                        "website": dispensary.website})
    return dispensary


def manage_menu(session: Session, *, principal: Principal, dispensary_id: uuid.UUID) -> list[MenuItem]:
    """Everything on the menu, out of stock included, for the people who run it."""
    dispensary = owned(session, principal, dispensary_id)
    return list(session.exec(select(MenuItem).where(MenuItem.dispensary_id == dispensary.id, MenuItem.is_active == True)  # noqa: E712
                             .order_by(col(MenuItem.category), col(MenuItem.name))))


def owned(session: Session, principal: Principal, dispensary_id: uuid.UUID) -> Dispensary:
    dispensary = session.get(Dispensary, dispensary_id)
    if dispensary is None or dispensary.claimed_by_business_id is None or \
            principal.membership(dispensary.claimed_by_business_id) is None:
        raise NotFound("Dispensary not found.")
    require_member(principal, dispensary.claimed_by_business_id, product=Product.maps)
    return dispensary


def _number(value: str, field: str, low: float = 0, high: float = 1e6) -> float | None:
    value = (value or "").strip().rstrip("%")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValidationFailed(f"{field} is not a number: {value!r}.", field=field) from None
    if not low <= number <= high:
        raise ValidationFailed(f"{field} must be between {low:g} and {high:g}.", field=field)
    return number


def _item_values(row: dict) -> dict:
    name = safe_text(row.get("name"), "name", max_length=300)
    brand = safe_text(row.get("brand"), "brand", max_length=200)
    strain_name = safe_text(row.get("strain_name"), "strain_name", max_length=120)
    safe_text(row.get("terpenes"), "terpenes", max_length=2000)
    if not name:
        raise ValidationFailed("name is missing.", field="name")
    category = (row.get("category") or "").strip().lower().replace("-", "_").replace(" ", "_")
    if category not in CATEGORIES:
        raise ValidationFailed(f"category {category!r} is not one of {', '.join(CATEGORIES)}.", field="category")
    strain_type = (row.get("strain_type") or "").strip().lower() or None
    if strain_type and strain_type not in STRAIN_TYPES:
        raise ValidationFailed(f"strain_type {strain_type!r} is not one of {', '.join(STRAIN_TYPES)}.", field="strain_type")
    price = _number(row.get("price", ""), "price", 0.01, 100000)
    if price is None:
        raise ValidationFailed("price is missing.", field="price")
    thc, cbd = _number(row.get("thc_pct", ""), "thc_pct", 0, 100), _number(row.get("cbd_pct", ""), "cbd_pct", 0, 100)
    weight = _number(row.get("weight_g", ""), "weight_g", 0, 100000)
    stock = _number(row.get("in_stock_qty", "") or "0", "in_stock_qty", 0, 10**7)
    terpenes = []
    for part in (row.get("terpenes") or "").replace(",", ";").split(";"):
        if part.strip():
            terpene, _, pct = part.strip().rpartition(" ")
            if not terpene:
                raise ValidationFailed(f"terpenes: write each as 'name percent', e.g. 'myrcene 0.8' (got {part!r}).",
                                       field="terpenes")
            terpenes.append({"name": terpene.strip().lower(), "pct": _number(pct, "terpenes", 0, 100)})
    return dict(terpenes=sorted(terpenes, key=lambda t: -(t["pct"] or 0)),
                name=name, brand=brand or None, category=category, strain_name=strain_name or None,
                strain_type=strain_type,
                thc_min=thc, thc_max=thc, cbd_min=cbd, cbd_max=cbd, price=menu_price(price), in_stock_qty=int(stock),
                variants=[{"label": f"{weight:g} g" if weight else "each", "weight_g": weight, "price": price}])


def upsert_item(session: Session, *, principal: Principal, dispensary_id: uuid.UUID, external_id: str, row: dict
                ) -> MenuItem:
    dispensary = owned(session, principal, dispensary_id)
    external_id = (external_id or "").strip()[:120]
    if not external_id:
        raise ValidationFailed("Give the item a SKU.", field="sku")
    values = _item_values(row)
    if (row.get("lot_id") or "").strip():
        values |= _lot_link(session, dispensary, row["lot_id"].strip(), values)
    item = session.exec(select(MenuItem).where(MenuItem.dispensary_id == dispensary.id, MenuItem.source == "manual",
                                               MenuItem.external_id == external_id)).first()
    created = item is None
    if item is None:
        item = MenuItem(dispensary_id=dispensary.id, source="manual", external_id=external_id, **values)
    else:
        for key, value in values.items():
            setattr(item, key, value)
    session.add(item)
    session.flush()
    audit.record(session, action="maps.menu.item_created" if created else "maps.menu.item_updated",
                 object_type="menu_item", object_id=item.id, actor_id=principal.user_id,
                 business_id=dispensary.claimed_by_business_id,
                 after={"sku": external_id, "name": item.name, "price": item.price, "in_stock_qty": item.in_stock_qty})
    partner_events.menu_item_changed(session, item, business_id=dispensary.claimed_by_business_id)
    return item


def bought_lots(session: Session, *, principal: Principal, dispensary_id: uuid.UUID) -> list:
    """Exchange lots the dispensary's business bought (orders not cancelled): what a menu item can link to."""
    from icc_app.exchange.models import Lot, Order, OrderStatus

    dispensary = owned(session, principal, dispensary_id)
    return list(session.exec(select(Lot).join(Order, col(Order.lot_id) == Lot.id).where(
        Order.buyer_business_id == dispensary.claimed_by_business_id, Order.status != OrderStatus.cancelled)
        .distinct().order_by(col(Lot.title))))


def _lot_link(session: Session, dispensary: Dispensary, lot_id: str, values: dict) -> dict:
    """Link an item to an exchange lot the business bought; the lab's terpenes and THC fill what was left blank."""
    from icc_app.exchange.models import Lot, Order, OrderStatus
    from icc_app.labs.models import LabAnalyte

    try:
        lot_uuid = uuid.UUID(lot_id)
    except ValueError:
        raise ValidationFailed("lot_id is not an exchange lot id.", field="lot_id") from None
    bought = session.exec(select(Order.id).where(Order.lot_id == lot_uuid, Order.status != OrderStatus.cancelled,
                                                 Order.buyer_business_id == dispensary.claimed_by_business_id)).first()
    lot = session.get(Lot, lot_uuid)
    if bought is None or lot is None:
        raise ValidationFailed("Link only exchange lots your business bought.", field="lot_id")
    linked: dict = {"lot_id": lot.id}
    if values.get("thc_min") is None and lot.thc_pct is not None:
        linked |= {"thc_min": lot.thc_pct, "thc_max": lot.thc_pct}
    if not values.get("terpenes") and lot.coa_id is not None:
        rows = session.exec(select(LabAnalyte).where(LabAnalyte.document_id == lot.coa_id,
                                                     LabAnalyte.category == "terpene", col(LabAnalyte.pct) > 0)
                            .order_by(col(LabAnalyte.pct).desc()).limit(8)).all()
        linked["terpenes"] = [{"name": r.key.replace("_", " "), "pct": r.pct} for r in rows]
    return linked


@dataclass
class MenuImport:
    saved: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def import_csv(session: Session, *, principal: Principal, dispensary_id: uuid.UUID, data: bytes) -> MenuImport:
    dispensary = owned(session, principal, dispensary_id)
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    missing = [c for c in ("sku", "name", "category", "price") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"The CSV needs the columns {', '.join(missing)} (all: {', '.join(CSV_COLUMNS)}).",
                               field="file")
    report = MenuImport()
    for line, row in enumerate(reader, start=2):
        try:
            with session.begin_nested():
                upsert_item(session, principal=principal, dispensary_id=dispensary.id, external_id=row.get("sku", ""),
                            row=row)
            report.saved += 1
        except ValidationFailed as exc:
            report.errors.append((line, exc.message))
    audit.record(session, action="maps.menu.imported", object_type="dispensary", object_id=dispensary.id,
                 actor_id=principal.user_id, business_id=dispensary.claimed_by_business_id,
                 after={"saved": report.saved, "errors": len(report.errors)})
    return report


def set_stock(session: Session, *, principal: Principal, item_id: uuid.UUID, quantity: int) -> MenuItem:
    item = session.get(MenuItem, item_id)
    if item is None:
        raise NotFound("Menu item not found.")
    owned(session, principal, item.dispensary_id)
    if quantity < 0:
        raise ValidationFailed("Stock cannot be negative.", field="quantity")
    before, item.in_stock_qty = item.in_stock_qty, quantity
    session.add(item)
    audit.record(session, action="maps.menu.stock_set", object_type="menu_item", object_id=item.id,
                 actor_id=principal.user_id, before={"in_stock_qty": before}, after={"in_stock_qty": quantity})
    partner_events.menu_item_changed(session, item, business_id=session.get(Dispensary, item.dispensary_id).claimed_by_business_id)
    return item


def sync_items(session: Session, *, dispensary_id: uuid.UUID, source: str, items: list[tuple[str, dict]]
               ) -> tuple[int, int]:
    """Make the dispensary's items from one source (a POS feed) exactly `items` ((external id, values)): upsert
    each, take the ones the feed no longer lists off the menu. Returns (saved, removed)."""
    current = {i.external_id: i for i in session.exec(select(MenuItem).where(MenuItem.dispensary_id == dispensary_id,
                                                                            MenuItem.source == source))}
    for external_id, values in items:
        item = current.pop(external_id, None) or MenuItem(dispensary_id=dispensary_id, source=source,
                                                          external_id=external_id, category="other", name="")
        for key, value in values.items():
            setattr(item, key, menu_price(value) if key == "price" else value)
        item.is_active = True
        session.add(item)
    for gone in current.values():
        gone.is_active = False
        session.add(gone)
    session.flush()
    audit.record(session, action="maps.menu.synced", object_type="dispensary", object_id=dispensary_id,
                 after={"source": source, "saved": len(items), "removed": len(current)})
    return len(items), len(current)
