"""Treez payloads mapped to our normalized records. Pure functions (no I/O); the adapter in client.py feeds them.

Shapes (learned from Treez's v2.0 Product API reference, its webhook pages and the public tap-treez schemas):
- product_list item: product_id, product_status, last_updated_at, sellable_quantity (CAPPED by Treez, currently at
  30), sellable_quantity_detail[{inventory_type, location, sellable_quantity}], category_type (FLOWER, PREROLL,
  CARTRIDGE, EXTRACT, EDIBLE, BEVERAGE, PILL, TINCTURE, TOPICAL, MERCH, NON-INV, PLANT, MISC),
  product_configurable_fields{name, brand, classification, amount, uom, size, subtype/sub_type, total_mg_thc,
  total_mg_cbd}, pricing{price_type FLAT|TIER, price_sell, tier_name}, lab_results[{result_type, amount{minimum_value,
  maximum_value}, amount_type}], e_commerce{menu_title, hide_from_menu, ...}, above_threshold.
- TICKET webhook / ticket API record: ticket_id, order_status, payment_status, date_created, date_closed,
  last_updated_at, sub_total, tax_total, discount_total, total, customer_id, original_ticket_id, refund_reason,
  items[{product_id, product_type, quantity, price_sell, price_total, product_unit, discounts[...]}].
- INVENTORY webhook data: one inventory card (package): id, packageLabel, productId, productName, expirationDate,
  inventory[{batchId, location, sellable, quantity{available, reserved, packedAndReady, returned, total}}].

The list quantity cap: Treez shows at most `cap` (30) as sellable_quantity. A list-synced record whose quantity is
at the cap carries values["_qty_capped_at"] = cap, meaning "at least this many": the engine keeps a higher quantity
that an INVENTORY webhook reported instead of lowering it to the cap. Keys starting with "_" are instructions to the
engine, never MenuItem fields.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from icc_app.integrations import normalize
from icc_app.integrations.base import (
    CustomerRecord,
    InventoryRecord,
    MalformedPayload,
    MenuRecord,
    SaleLineRecord,
    SaleRecord,
)
from icc_app.integrations.http import parse_time

QUANTITY_CAP = 30  # Treez's documented cap on product_list sellable_quantity

CATEGORY_TYPES = {
    "FLOWER": "flower", "PREROLL": "pre_roll", "PRE-ROLL": "pre_roll", "CARTRIDGE": "vape", "EXTRACT": "concentrate",
    "EDIBLE": "edible", "BEVERAGE": "edible", "PILL": "edible", "TINCTURE": "tincture", "TOPICAL": "topical",
    "MERCH": "accessory", "NON-INV": "accessory", "PLANT": "other",
}
# Ticket statuses: only a completed ticket is a sale; a canceled one voids a sale we may already hold; the
# fulfilment stages in between (draft, verification, awaiting processing, packed, out for delivery) are not sales yet.
COMPLETED_STATUSES = {"COMPLETED", "COMPLETE", "CLOSED", "PAID", "FULFILLED", "DELIVERED"}
VOID_STATUSES = {"CANCELED", "CANCELLED", "VOID", "VOIDED", "REFUNDED_VOID"}
UNITS = {"EACH": "each", "UNIT": "each", "UNITS": "each", "GRAMS": "g", "GRAM": "g", "G": "g", "MILLIGRAMS": "mg",
         "MG": "mg", "MILLILITERS": "ml", "ML": "ml", "OUNCES": "g", "OZ": "g"}
_TERPENES = ("myrcene", "limonene", "caryophyllene", "linalool", "pinene", "humulene", "terpinolene", "ocimene",
             "bisabolol", "nerolidol", "guaiol", "eucalyptol", "camphene", "terpineol", "geraniol", "valencene",
             "farnesene", "borneol", "carene", "fenchol", "phellandrene", "sabinene", "cymene", "isopulegol")
# Words kept upper case when a shouted Treez name is put in title case.
_KEEP_UPPER = {"OG", "THC", "THCA", "CBD", "CBDA", "CBN", "CBG", "CBC", "THCV", "RSO", "AIO", "XL", "XXL", "LA", "SF",
               "NYC", "GSC", "GG", "GMO", "MAC", "BHO", "CO2", "PAX", "UK", "USA", "II", "III", "IV", "HTE", "FSE",
               "LSO", "OZ", "PR", "PK", "AK", "BC", "DJ", "ATF", "GDP", "SFV", "ABX"}


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def display_case(value: Any, limit: int) -> str | None:
    """Treez stores names and brands in capitals ("1:1 CINNAMON MINTS - 100 MILLIGRAMS"): shown in title case, keeping
    acronyms and tokens with digits ("OG", "3.5G", "1:1") as they are. Mixed-case text is left alone."""
    cleaned = normalize.text(value, limit)
    if not cleaned or not any(ch.isalpha() for ch in cleaned) or cleaned != cleaned.upper():
        return cleaned

    def word(match: re.Match) -> str:
        token = match.group(0)
        if token in _KEEP_UPPER:
            return token
        if any(ch.isdigit() for ch in token):  # "3.5G" -> "3.5g", "10PK" -> "10pk", "1:1" and "GG4" kept
            return re.sub(r"(?<=\d)(MG|G|ML|OZ|PK|CT|PC|PCS)$", lambda m: m.group(1).lower(), token)
        return token[:1] + token[1:].lower()

    return re.sub(r"[A-Z0-9][A-Z0-9'.]*", word, cleaned)


def _num_key(value: Any) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(value or "").upper())


# ----------------------------------------------------------------------------------------------- potency


_ALIASES = {"D9THC": "THC", "DELTA9THC": "THC", "DELTA9": "THC", "THCD9": "THC", "D9": "THC", "THCTOTAL": "TOTALTHC",
            "CBDTOTAL": "TOTALCBD"}


def _lab_results(product: dict) -> dict[str, tuple[float | None, float | None, str]]:
    """lab_results by normalized type ("THC", "THCA", "TOTALTHC", "CBD", ...) -> (min, max, unit)."""
    found: dict[str, tuple[float | None, float | None, str]] = {}
    for entry in _list(product.get("lab_results")):
        if not isinstance(entry, dict):
            continue
        kind = _num_key(entry.get("result_type"))
        kind = _ALIASES.get(kind, kind)
        amount = _dict(entry.get("amount"))
        low, high = normalize.number(amount.get("minimum_value")), normalize.number(amount.get("maximum_value"))
        if low is None and high is None:
            continue
        amount_type = str(entry.get("amount_type") or "").upper()
        unit = "mg" if amount_type.startswith("MG") or "MILLIGRAM" in amount_type else "%"
        found[kind] = (low if low is not None else high, high if high is not None else low, unit)
    return found


def _cannabinoid(labs: dict, neutral: str, acid: str, total_mg: Any) -> tuple[float | None, float | None, str]:
    """(min, max, unit) of THC or CBD: a reported total wins; else neutral + 0.877 x acid (same unit only); else the
    product's total mg field (edibles, tinctures)."""
    mg = normalize.number(total_mg)
    if f"TOTAL{neutral}" in labs:
        low, high, unit = labs[f"TOTAL{neutral}"]
        result = normalize.potency(low=low, high=high, unit=unit)
        return result.low, result.high, result.unit
    base, acid_value = labs.get(neutral), labs.get(acid)
    if base is not None or acid_value is not None:
        unit = (base or acid_value)[2]
        if base is not None and acid_value is not None and base[2] != acid_value[2]:
            acid_value = None  # mg beside %: not addable
        low = normalize.potency(base[0] if base else 0.0, unit=unit, thca=acid_value[0] if acid_value else None)
        high = normalize.potency(base[1] if base else 0.0, unit=unit, thca=acid_value[1] if acid_value else None)
        if low.low is not None and high.high is not None and not (high.high == 0 and mg):
            return min(low.low, high.high), max(low.low, high.high), low.unit
    if mg is not None and mg > 0:
        return round(mg, 2), round(mg, 2), "mg"
    return None, None, "%"


def _terpenes(product: dict) -> list[dict]:
    entries = []
    for entry in _list(product.get("lab_results")):
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("result_type") or "").lower().replace("_", " ").replace("-", " ")
        amount_type = str(entry.get("amount_type") or "").upper()
        if amount_type.startswith("MG") or not any(t in name for t in _TERPENES):
            continue
        amount = _dict(entry.get("amount"))
        value = normalize.number(amount.get("maximum_value"))
        if value is None:
            value = normalize.number(amount.get("minimum_value"))
        entries.append({"name": name.replace("beta ", "β-").replace("alpha ", "α-").strip(), "value": value})
    return normalize.terpenes(entries)


# ----------------------------------------------------------------------------------------------- products


def _category(product: dict, fields: dict) -> str:
    kind = str(product.get("category_type") or "").strip().upper()
    subtype = fields.get("subtype") or fields.get("sub_type")
    if kind in CATEGORY_TYPES:
        return CATEGORY_TYPES[kind]
    return normalize.category(kind, subtype, fields.get("name"))


def _variant(fields: dict, category: str, price: Decimal) -> dict:
    amount = normalize.number(fields.get("amount"))
    uom = str(fields.get("uom") or "").strip().upper()
    size = normalize.text(fields.get("size"), 40)
    weight = None
    if amount and category in ("flower", "pre_roll", "vape", "concentrate") and uom in ("GRAMS", "GRAM", "G", "OUNCES",
                                                                                         "OZ", "MILLIGRAMS", "MG"):
        weight = normalize.grams(f"{fields.get('amount')} {uom.lower()}")
    if weight:
        label = f"{weight:g} g" if weight < 28 or weight % 28 else f"{weight / 28:g} oz"
    elif size:
        label = display_case(size, 40) or "each"
    elif amount and uom in ("MILLIGRAMS", "MG"):
        label = f"{amount:g} mg"
    else:
        label = "each"
    return {"label": label, "weight_g": weight, "price": float(price)}


def sellable_quantity(product: dict) -> Decimal:
    """The product's sellable quantity from the list API: the top-level figure, else the per-location details."""
    if product.get("sellable_quantity") is not None:
        return normalize.quantity(product.get("sellable_quantity"))
    details = [d for d in _list(product.get("sellable_quantity_detail")) if isinstance(d, dict)]
    return normalize.quantity(sum(normalize.number(d.get("sellable_quantity")) or 0 for d in details))


def hidden_from_menu(product: dict) -> bool:
    return _dict(product.get("e_commerce")).get("hide_from_menu") is True


def product_record(product: Any, *, quantity_cap: int | None = QUANTITY_CAP) -> MenuRecord:
    """One product_list item as a complete MenuRecord; values={"_skip": reason} when it cannot be listed."""
    if not isinstance(product, dict) or not product.get("product_id"):
        raise MalformedPayload("A Treez product without a product_id.")
    external_id = str(product["product_id"])[:120]
    fields = _dict(product.get("product_configurable_fields"))
    e_commerce = _dict(product.get("e_commerce"))
    pricing = _dict(product.get("pricing"))
    name = display_case(e_commerce.get("menu_title") or fields.get("name"), 300)
    if not name:
        return MenuRecord(external_id, {"_skip": "no product name"}, raw=product)
    try:
        price = normalize.money(pricing.get("price_sell"), field="price_sell")
    except MalformedPayload as exc:
        return MenuRecord(external_id, {"_skip": f"{name}: {exc.message}"}, raw=product)
    if price is None or price <= 0:
        tier = normalize.text(pricing.get("tier_name"), 60)
        reason = f"tier pricing ({tier}) has no flat price" if tier else "no price"
        return MenuRecord(external_id, {"_skip": f"{name}: {reason}"}, raw=product)
    if hidden_from_menu(product):
        return MenuRecord(external_id, {"_skip": f"{name}: hidden from the menu in Treez"}, raw=product)

    category = _category(product, fields)
    labs = _lab_results(product)
    thc = _cannabinoid(labs, "THC", "THCA", fields.get("total_mg_thc"))
    cbd = _cannabinoid(labs, "CBD", "CBDA", fields.get("total_mg_cbd"))
    qty = sellable_quantity(product)
    values: dict[str, Any] = {
        "name": name,
        "brand": display_case(fields.get("brand"), 200),
        "category": category,
        "strain_name": _strain_name(name) if category in ("flower", "pre_roll", "vape", "concentrate") else None,
        "strain_type": normalize.strain_type(fields.get("classification")),
        "thc_min": thc[0], "thc_max": thc[1], "thc_unit": thc[2],
        "cbd_min": cbd[0], "cbd_max": cbd[1], "cbd_unit": cbd[2],
        "terpenes": _terpenes(product),
        "variants": [_variant(fields, category, price)],
        "price": price,
        "in_stock_qty": int(qty),
    }
    if quantity_cap is not None and qty >= quantity_cap:
        values["_qty_capped_at"] = quantity_cap
    # No InventoryRecord: the list has no cost, batch or expiry, and its quantity may be capped; the engine derives
    # the level from in_stock_qty after applying the cap rule (an INVENTORY webhook brings the package details).
    return MenuRecord(external_id, values, raw=product)


_SIZE_SUFFIX = re.compile(r"\s*(?:[-|(\[]\s*)?\b(?:\d+(?:\.\d+)?\s*(?:g|mg|oz|ml|gram|grams|pk|ct)\b|\d+/\d+\s*oz|"
                          r"eighth|quarter|half)\b.*$", re.I)


def _strain_name(name: str) -> str | None:
    stripped = _SIZE_SUFFIX.sub("", name).strip(" -|")
    return (stripped or name)[:120] or None


# ----------------------------------------------------------------------------------------------- webhooks


def inventory_record(data: Any) -> MenuRecord:
    """An INVENTORY webhook's data (one package) as a partial MenuRecord carrying the package's sellable available
    quantity (not capped, unlike the list API) and its InventoryRecord (batch, package label, expiry)."""
    if not isinstance(data, dict) or not data.get("productId"):
        raise MalformedPayload("An INVENTORY event without data.productId.")
    rows = [row for row in _list(data.get("inventory")) if isinstance(row, dict)]
    sellable = [row for row in rows if row.get("sellable") is not False]
    available = sum((normalize.quantity(_dict(row.get("quantity")).get("available")) for row in sellable),
                    Decimal("0"))
    batch = next((str(row["batchId"]) for row in sellable if row.get("batchId")), None)
    label = normalize.text(data.get("packageLabel") or data.get("id"), 60)
    inventory = InventoryRecord(quantity=available, unit="each", expires_on=normalize.day(data.get("expirationDate")),
                                batch=batch[:120] if batch else None, package_label=label)
    return MenuRecord(str(data["productId"])[:120], {"in_stock_qty": int(available)}, raw=data, inventory=inventory,
                      partial=True)


# ----------------------------------------------------------------------------------------------- tickets


def _amount(value: Any, field: str) -> Decimal:
    """A ticket amount (may be negative on a refund) to the cent."""
    number = normalize.number(value)
    if number is None:
        return Decimal("0")
    if abs(number) > float(normalize.MAX_PRICE) * 100:
        raise MalformedPayload(f"{field} is out of range: {str(value)[:20]!r}.")
    return Decimal(str(number)).quantize(Decimal("0.01"))


def _signed(amount: Decimal, is_return: bool) -> Decimal:
    return -abs(amount) if is_return else amount


def ticket_status(ticket: dict) -> str:
    return str(ticket.get("order_status") or "").strip().upper().replace(" ", "_")


def is_sale(ticket: dict) -> bool:
    """A completed ticket is a sale; a canceled one is kept (as a void) so a sale we already hold is voided."""
    status = ticket_status(ticket)
    return status in COMPLETED_STATUSES or status in VOID_STATUSES


def ticket_record(ticket: Any) -> SaleRecord:
    """A ticket (from the ticket API or a TICKET webhook) as a SaleRecord. Returns are negative."""
    if not isinstance(ticket, dict) or not ticket.get("ticket_id"):
        raise MalformedPayload("A Treez ticket without a ticket_id.")
    occurred = parse_time(ticket.get("date_closed") or ticket.get("date_created") or ticket.get("last_updated_at"))
    if occurred is None:
        raise MalformedPayload(f"Ticket {str(ticket['ticket_id'])[:40]} has no date.")
    is_return = bool(ticket.get("original_ticket_id") or ticket.get("refund_reason")) or (
        (normalize.number(ticket.get("total")) or 0) < 0)
    lines = []
    for item in _list(ticket.get("items")):
        if not isinstance(item, dict):
            continue
        quantity = normalize.number(item.get("quantity")) or 0.0
        unit_price = _amount(item.get("price_sell"), "price_sell")
        discount = sum((_amount(d.get("discount_amount") if d.get("savings") is None else d.get("savings"), "discount")
                        for d in _list(item.get("discounts")) if isinstance(d, dict)), Decimal("0"))
        total = (_amount(item.get("price_total"), "price_total") if item.get("price_total") is not None
                 else (unit_price * Decimal(str(quantity)) - discount).quantize(Decimal("0.01")))
        lines.append(SaleLineRecord(
            product_external_id=str(item.get("product_id") or "")[:120],
            name=display_case(item.get("product_name") or item.get("product_size_name"), 300) or "",
            category=normalize.category(item.get("product_type")) if item.get("product_type") else None,
            quantity=Decimal(str(round(-abs(quantity) if is_return else quantity, 3))),
            unit=UNITS.get(str(item.get("product_unit") or "").strip().upper(), "each"),
            unit_price=abs(unit_price),
            discount=_signed(abs(discount), is_return),
            total=_signed(total, is_return),
        ))
    customer = ticket.get("customer_id")
    return SaleRecord(
        external_id=str(ticket["ticket_id"])[:120],
        occurred_at=occurred,
        customer_external_id=str(customer) if customer not in (None, "") else None,
        subtotal=_signed(_amount(ticket.get("sub_total"), "sub_total"), is_return),
        discount=_signed(abs(_amount(ticket.get("discount_total"), "discount_total")), is_return),
        tax=_signed(_amount(ticket.get("tax_total"), "tax_total"), is_return),
        total=_signed(_amount(ticket.get("total"), "total"), is_return),
        is_return=is_return,
        is_void=ticket_status(ticket) in VOID_STATUSES,
        lines=lines,
        raw=ticket,
    )


def ticket_updated_at(ticket: dict) -> datetime | None:
    return parse_time(ticket.get("last_updated_at") or ticket.get("date_closed") or ticket.get("date_created"))


# ----------------------------------------------------------------------------------------------- customers

PATIENT_TYPES = {"ADULT": "recreational", "RECREATIONAL": "recreational", "MEDICAL": "medical",
                 "MEDICAL_PATIENT": "medical"}


def customer_record(customer: Any) -> CustomerRecord:
    if not isinstance(customer, dict) or customer.get("customer_id") in (None, ""):
        raise MalformedPayload("A Treez customer without a customer_id.")
    name = " ".join(p for p in (normalize.text(customer.get("first_name"), 80),
                                normalize.text(customer.get("last_name"), 80)) if p) or None
    addresses = [a for a in _list(customer.get("addresses")) if isinstance(a, dict)]
    address = next((a for a in addresses if a.get("primary")), addresses[0] if addresses else {})
    opt_out = str(customer.get("opt_out") or "").upper()
    state = normalize.text(address.get("state"), 2)
    return CustomerRecord(
        external_id=str(customer["customer_id"])[:120],
        name=name,
        email=(normalize.text(customer.get("email"), 200) or "").lower() or None,
        phone=normalize.text(re.sub(r"[^\d+]", "", str(customer.get("phone") or "")), 20),
        birth_date=normalize.day(customer.get("birthday")),
        customer_type=PATIENT_TYPES.get(str(customer.get("patient_type") or "").upper()),
        email_opt_in=(False if ("EMAIL" in opt_out or opt_out in ("ALL", "TRUE", "YES")) else None),
        sms_opt_in=(False if ("SMS" in opt_out or "TEXT" in opt_out or opt_out in ("ALL", "TRUE", "YES")) else None),
        state=state.upper() if state else None,
        postal_code=normalize.text(address.get("zipcode"), 10),
        created_at=parse_time(customer.get("signup_date")),
        raw=customer,
    )
