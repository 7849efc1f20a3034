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
from icc_app.identity.models import BusinessLicense, LicenseStatus, Product, Verification
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import Principal
from icc_app.maps.models import Dispensary, MenuItem

CATEGORIES = ["flower", "pre_roll", "vape", "concentrate", "edible", "tincture", "topical", "accessory", "other"]
STRAIN_TYPES = ["indica", "sativa", "hybrid", "cbd"]
CSV_COLUMNS = ["sku", "name", "brand", "category", "strain_name", "strain_type", "thc_pct", "cbd_pct", "price",
               "weight_g", "in_stock_qty"]


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


def _owned(session: Session, principal: Principal, dispensary_id: uuid.UUID) -> Dispensary:
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
    name = (row.get("name") or "").strip()
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
    return dict(name=name[:300], brand=(row.get("brand") or "").strip()[:200] or None, category=category,
                strain_name=(row.get("strain_name") or "").strip()[:120] or None, strain_type=strain_type,
                thc_min=thc, thc_max=thc, cbd_min=cbd, cbd_max=cbd, price=price, in_stock_qty=int(stock),
                variants=[{"label": f"{weight:g} g" if weight else "each", "weight_g": weight, "price": price}])


def upsert_item(session: Session, *, principal: Principal, dispensary_id: uuid.UUID, external_id: str, row: dict
                ) -> MenuItem:
    dispensary = _owned(session, principal, dispensary_id)
    external_id = (external_id or "").strip()[:120]
    if not external_id:
        raise ValidationFailed("Give the item a SKU.", field="sku")
    values = _item_values(row)
    item = session.exec(select(MenuItem).where(MenuItem.dispensary_id == dispensary.id, MenuItem.source == "manual",
                                               MenuItem.external_id == external_id)).first()
    if item is None:
        item = MenuItem(dispensary_id=dispensary.id, source="manual", external_id=external_id, **values)
    else:
        for key, value in values.items():
            setattr(item, key, value)
    session.add(item)
    session.flush()
    return item


@dataclass
class MenuImport:
    saved: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def import_csv(session: Session, *, principal: Principal, dispensary_id: uuid.UUID, data: bytes) -> MenuImport:
    dispensary = _owned(session, principal, dispensary_id)
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
    _owned(session, principal, item.dispensary_id)
    if quantity < 0:
        raise ValidationFailed("Stock cannot be negative.", field="quantity")
    item.in_stock_qty = quantity
    session.add(item)
    return item


def public_menu(session: Session, dispensary_id: uuid.UUID) -> tuple[Dispensary, list[MenuItem]]:
    """What visitors see: active items in stock, by category and name."""
    dispensary = session.get(Dispensary, dispensary_id)
    if dispensary is None or not dispensary.is_active:
        raise NotFound("Dispensary not found.")
    items = session.exec(select(MenuItem).where(MenuItem.dispensary_id == dispensary_id, MenuItem.is_active == True,  # noqa: E712
                                                MenuItem.in_stock_qty > 0)
                         .order_by(col(MenuItem.category), col(MenuItem.name))).all()
    return dispensary, list(items)
