"""Flowhub payloads mapped to our records. Pure functions, no I/O.

Shapes (learned from the public, unofficial Flowhub client's types): an inventory row per product variant and room
(`InventoryAnalyticsByRooms`: productId, variantId, productName, brand, category, speciesName, strainName,
cannabinoidInformation[{name, lowerRange, upperRange, unitOfMeasure}], terpenes[...], priceInMinorUnits,
costInMinorUnits, quantity, inventoryUnitOfMeasure, productWeight, productUnitOfMeasure, expirationDate,
regulatoryId, roomId, roomName, forSale); customers (id, type medCustomer/recCustomer, name, birthDate, ...);
orders (id, createdAt, completedOn, orderStatus, voided, totals{...} and itemsInCart[...], amounts in cents).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from icc_app.integrations import normalize
from icc_app.integrations.base import (CustomerRecord, InventoryRecord, MalformedPayload, MenuRecord, SaleLineRecord,
                                       SaleRecord)
from icc_app.integrations.http import parse_time

CENT = Decimal("0.01")
_GRAM_UNITS = {"g", "gram", "grams", "gr"}
_WEIGHED = {"flower", "pre_roll", "vape", "concentrate"}
SOLD_STATUSES = {"sold", "completed", "complete"}


def cents(value: Any, *, field: str = "amount") -> Decimal | None:
    """Flowhub amounts are integer minor units (cents)."""
    amount = normalize.number(value)
    if amount is None:
        return None
    return normalize.money(Decimal(str(amount)) / 100, field=field)


def signed_cents(value: Any) -> Decimal:
    """A total that may be negative (returns): cents as a Decimal to the cent, 0 when absent."""
    amount = normalize.number(value)
    return Decimal("0") if amount is None else (Decimal(str(amount)) / 100).quantize(CENT)


def _words(value: Any) -> str:
    """'PackedBud' -> 'Packed Bud', 'InfusedPreRolls' -> 'Infused Pre Rolls' (Flowhub categories are CamelCase)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(value or ""))


@functools.lru_cache(maxsize=4096)
def our_category(custom: Any, category: Any, kind: Any) -> str:
    """Our category from Flowhub's custom category, category and type (few distinct values: cached)."""
    return normalize.category(_words(custom), _words(category), _words(kind))


def is_for_sale(row: dict) -> bool:
    """Stock on the menu: the row's forSale flag; rows without the flag count when their room is named For Sale or
    Sales Floor (vaults, quarantine and back stock are not on the menu)."""
    flag = row.get("forSale")
    if isinstance(flag, bool):
        return flag
    room = str(row.get("roomName") or "").strip().lower()
    return room in ("for sale", "sales floor", "salesfloor")


def _unit(value: Any) -> str:
    text = str(value or "").strip().lower()
    if text in _GRAM_UNITS:
        return "g"
    if text in ("mg", "milligram", "milligrams"):
        return "mg"
    if text in ("ml", "milliliter", "milliliters", "millilitre"):
        return "ml"
    return "each"


def _cannabinoids(row: dict) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for entry in row.get("cannabinoidInformation") or []:
        if isinstance(entry, dict) and entry.get("name"):
            key = re.sub(r"[^a-z0-9]", "", str(entry["name"]).lower())  # "thc-a" -> "thca", "THCa" -> "thca"
            found.setdefault(key, entry)
    return found


def _as_percent_or_mg(entry: dict | None, bound: str) -> tuple[float | None, str]:
    """(value, unit) of one bound of a Flowhub cannabinoid range: % stays %, mg/g becomes % (/10), mg stays mg."""
    if not entry:
        return None, "%"
    value = normalize.number(entry.get(bound))
    unit = str(entry.get("unitOfMeasure") or "%").strip().lower().replace(" ", "")
    if value is None:
        return None, "%"
    if unit in ("mg/g", "mgperg"):
        return value / 10, "%"
    if unit.startswith("mg"):
        return value, "mg"
    return value, "%"


def potency_of(row: dict, compound: str) -> normalize.Potency:
    """THC (counting THCA as total THC) or CBD (counting CBDA the same way) as a range; a reported total
    ("total-thc") is taken as is."""
    found = _cannabinoids(row)
    total = found.get("total" + compound)
    if total is not None:  # the lab's own total (e.g. "Total THC") already counts the acid form
        low, unit = _as_percent_or_mg(total, "lowerRange")
        high, _ = _as_percent_or_mg(total, "upperRange")
        return normalize.potency(low=low, high=high, unit=unit)
    base, acid = found.get(compound), found.get(compound + "a")
    ends = []
    for bound in ("lowerRange", "upperRange"):
        value, unit = _as_percent_or_mg(base, bound)
        acid_value, acid_unit = _as_percent_or_mg(acid, bound)
        if base is None:
            unit = acid_unit
        if acid_value is not None and acid_unit != unit:
            acid_value = None  # THC in mg per package and THCA in %: not addable, keep what was labelled THC
        ends.append(normalize.potency(value, unit=unit, thca=acid_value))
    low, high = ends
    if low.low is None and high.low is None:
        return normalize.Potency(None, None, low.unit)
    return normalize.Potency(low.low if low.low is not None else high.low,
                             high.high if high.high is not None else low.high, low.unit)


def terpenes_of(row: dict) -> list[dict]:
    shares: dict[str, float] = {}
    for entry in row.get("terpenes") or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        values = [v for v in (normalize.number(entry.get("lowerRange")), normalize.number(entry.get("upperRange")))
                  if v is not None]
        if not values:
            continue
        value = sum(values) / len(values)
        unit = str(entry.get("unitOfMeasure") or "%").strip().lower().replace(" ", "")
        if unit in ("mg/g", "mgperg"):
            value /= 10
        elif unit != "%":
            continue
        shares[str(entry["name"])] = value
    return normalize.terpenes(shares)


def weight_grams(row: dict, category: str) -> float | None:
    """Package weight: productWeight in its unit (to grams by the row's multiplier), else read from the name
    ("Blue Dream 3.5g") for weighed categories."""
    weight = normalize.number(row.get("productWeight"))
    unit = _unit(row.get("productUnitOfMeasure"))
    multiplier = normalize.number(row.get("productUnitOfMeasureToGramsMultiplier"))
    if weight and weight > 0 and unit == "g":
        return round(weight * (multiplier or 1.0), 3)
    if weight and weight > 0 and unit == "mg" and category in _WEIGHED:
        return round(weight / 1000, 3)
    if category in _WEIGHED:
        return normalize.grams(row.get("variantName")) or normalize.grams(row.get("productName"))
    return None


def _variant_label(row: dict, weight: float | None) -> str:
    label = normalize.text(row.get("variantName"), 60)
    if label and label.lower() not in ("one", "each", "default"):
        return label
    if weight:
        return f"{weight:g} g"
    return "each"


def menu_records(rows: Iterable[dict]) -> list[MenuRecord]:
    """One MenuRecord per Flowhub product (productId) from its For Sale rows: quantity summed over the For Sale
    rooms, the earliest expiration, the first row's product data. Products with stock only in other rooms are
    left out (they are not on the menu). Rows missing a name or a price come back marked `_skip`."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise MalformedPayload("Flowhub inventory: a row is not an object.")
        if not is_for_sale(row):
            continue
        product_id = row.get("productId") or row.get("variantId")
        if not product_id:
            raise MalformedPayload("Flowhub inventory: a row has no productId.")
        groups.setdefault(str(product_id), []).append(row)
    return [menu_record(product_id, group) for product_id, group in sorted(groups.items())]


def menu_record(product_id: str, rows: list[dict]) -> MenuRecord:
    rows = sorted(rows, key=lambda r: (str(r.get("roomId") or ""), str(r.get("variantId") or "")))
    # Product data from the room holding the most stock (rooms share the product; ties by room id).
    first = max(rows, key=lambda r: normalize.quantity(r.get("quantity")))
    raw = {"rows": rows}
    name = normalize.text(first.get("productName") or first.get("parentProductName"), 300)
    if not name:
        return MenuRecord(product_id, {"_skip": "no product name"}, raw=raw)
    price = cents(first.get("priceInMinorUnits") if first.get("priceInMinorUnits") is not None
                  else first.get("preTaxPriceInPennies"), field=f"price of {name}")
    if price is None or price <= 0:
        return MenuRecord(product_id, {"_skip": f"{name}: no price"}, raw=raw)
    ours = our_category(*(str(first.get(k) or "") for k in ("customCategoryName", "category", "type")))
    thc, cbd = potency_of(first, "thc"), potency_of(first, "cbd")
    weight = weight_grams(first, ours)
    total = sum((normalize.quantity(r.get("quantity")) for r in rows), Decimal("0"))
    unit = _unit(first.get("inventoryUnitOfMeasure"))
    if unit == "g" and weight and not first.get("isSoldByWeight"):
        packages = math.floor(total / Decimal(str(weight)))  # grams on hand -> packages of this size
    else:
        packages = math.floor(total)
    expiries = sorted(d for r in rows if (d := normalize.day(r.get("expirationDate"))) is not None)
    values = {
        "name": name,
        "brand": normalize.text(first.get("brand"), 200),
        "category": ours,
        "strain_name": normalize.text(first.get("strainName"), 120),
        "strain_type": normalize.strain_type(first.get("speciesName")),
        "thc_min": thc.low, "thc_max": thc.high, "thc_unit": thc.unit,
        "cbd_min": cbd.low, "cbd_max": cbd.high, "cbd_unit": cbd.unit,
        "terpenes": terpenes_of(first),
        "variants": [{"label": _variant_label(first, weight), "weight_g": weight, "price": float(price)}],
        "price": price,
        "currency": str(first.get("currencyCode") or "USD")[:3].upper(),
        "in_stock_qty": int(packages),
    }
    inventory = InventoryRecord(quantity=total, unit=unit, unit_cost=_unit_cost(rows, first, name),
                                expires_on=expiries[0] if expiries else None,
                                batch=normalize.text(first.get("manifestId"), 120),
                                package_label=normalize.text(first.get("regulatoryId"), 120))
    return MenuRecord(product_id, values, raw=raw, inventory=inventory)


def _unit_cost(rows: list[dict], first: dict, name: str) -> Decimal | None:
    """Cost per unit, weighted by each room's quantity (rooms may hold batches bought at different costs)."""
    weighted, held = Decimal("0"), Decimal("0")
    for row in rows:
        cost, qty = cents(row.get("costInMinorUnits"), field=f"cost of {name}"), normalize.quantity(row.get("quantity"))
        if cost is not None and qty > 0:
            weighted, held = weighted + cost * qty, held + qty
    if held > 0:
        return (weighted / held).quantize(CENT)
    return cents(first.get("costInMinorUnits"), field=f"cost of {name}")


# ----------------------------------------------------------------------------------------------- customers

CUSTOMER_TYPES = {"medcustomer": "medical", "med": "medical", "medical": "medical", "reccustomer": "recreational",
                  "rec": "recreational", "recreational": "recreational"}


def customer_record(payload: dict) -> CustomerRecord:
    if not isinstance(payload, dict) or not payload.get("id"):
        raise MalformedPayload("Flowhub customer without an id.")
    return CustomerRecord(
        external_id=str(payload["id"]),
        name=normalize.text(payload.get("name"), 200),
        email=normalize.text(payload.get("email"), 254),
        phone=normalize.text(payload.get("phone"), 40),
        birth_date=normalize.day(payload.get("birthDate")),
        customer_type=CUSTOMER_TYPES.get(str(payload.get("type") or "").lower()),
        email_opt_in=payload.get("consentsToPromotionalEmail") if isinstance(
            payload.get("consentsToPromotionalEmail"), bool) else None,
        sms_opt_in=payload.get("consentsToPromotionalSMS") if isinstance(
            payload.get("consentsToPromotionalSMS"), bool) else None,
        state=normalize.text(payload.get("state"), 40),
        postal_code=normalize.text(payload.get("zip"), 20),
        created_at=parse_time(payload.get("createdAt")),
        raw=payload,
    )


# ----------------------------------------------------------------------------------------------- orders


def sale_occurred_at(order: dict) -> datetime:
    when = parse_time(order.get("completedOn")) or parse_time(order.get("createdAt"))
    if when is None:
        raise MalformedPayload(f"Flowhub order {order.get('id')!r} has no time.")
    return when


def is_sale(order: dict) -> bool:
    """Sold (or voided after being sold) orders are sales; pending and cancelled orders are not."""
    return str(order.get("orderStatus") or "").strip().lower() in SOLD_STATUSES or bool(order.get("voided"))


def _line(item: dict) -> SaleLineRecord:
    quantity = Decimal(str(normalize.number(item.get("quantity")) or 0))
    discount = Decimal("0")
    for entry in item.get("itemDiscounts") or []:
        if isinstance(entry, dict):
            pennies = normalize.number(entry.get("penniesOff"))
            dollars = normalize.number(entry.get("dollarsOff"))
            if pennies is not None:
                discount += Decimal(str(pennies)) / 100
            elif dollars is not None:
                discount += Decimal(str(dollars))
    category = item.get("category") or item.get("type")
    return SaleLineRecord(
        product_external_id=str(item.get("productId") or item.get("variantId") or item.get("sku") or ""),
        name=normalize.text(item.get("productName") or item.get("title1"), 300) or "",
        category=our_category("", str(category), "") if category else None,
        quantity=quantity,
        unit=_unit(item.get("unitOfWeight")),
        unit_price=signed_cents(item.get("unitPrice")),
        discount=discount.quantize(CENT),
        total=signed_cents(item.get("totalPrice")),
        unit_cost=cents(item.get("unitCost"), field="unit cost") if item.get("unitCost") is not None else None,
    )


def sale_record(order: dict) -> SaleRecord:
    if not isinstance(order, dict) or not order.get("id"):
        raise MalformedPayload("Flowhub order without an id.")
    totals = order.get("totals") if isinstance(order.get("totals"), dict) else {}
    lines = [_line(item) for item in order.get("itemsInCart") or [] if isinstance(item, dict)]
    total = signed_cents(totals.get("FinalTotal"))
    return SaleRecord(
        external_id=str(order["id"]),
        occurred_at=sale_occurred_at(order),
        customer_external_id=str(order["customerId"]) if order.get("customerId") else None,
        subtotal=signed_cents(totals.get("SubTotal")),
        discount=signed_cents(totals.get("TotalDiscounts")),
        tax=signed_cents(totals.get("TotalTaxes")),
        total=total,
        is_return=bool(order.get("originalSaleId")) or total < 0,
        is_void=bool(order.get("voided")),
        lines=lines,
        raw=order,
    )
