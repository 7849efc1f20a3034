"""Jane payloads mapped to our records. Pure functions, no I/O.

Order webhook (documented by Jane, "post-checkout interactions"): a `cart` object with id, status, store_id,
store_name, amount, checked_out_time, created_at, pos_order_id, customer_*, user_id, external_user_id, ... Jane's
statuses: pending, verification, staff_member_review, preparing, delivery_started, delivery_finished,
ready_for_pickup, finished, with_review, cancelled. Only a finished order (finished or delivery_finished; both map to
the same sale, by cart id) is a sale. Jane's example times carry no zone ('2021-06-21 21:41:28'): read as UTC.

ASSUMPTIONS (no public spec exists): the cart's line items (`products`: product_id, name, brand, kind, count,
price_id, unit_price/price) and the partner product feed's item shape (below) are our design, modelled on the
field names Jane uses on its public menus (product_id, name, brand, kind, category, percent_thc, percent_thca,
percent_cbd, price_each / price_gram / price_eighth_ounce ..., dosage "10mg", quantity). They are kept raw so they
can be re-mapped when a partner shares the real shape.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from icc_app.integrations import normalize
from icc_app.integrations.base import MalformedPayload, MenuRecord, SaleLineRecord, SaleRecord
from icc_app.integrations.http import parse_time

FINISHED_STATUSES = {"finished", "delivery_finished"}
KNOWN_STATUSES = {"pending", "verification", "staff_member_review", "preparing", "delivery_started",
                  "delivery_finished", "ready_for_pickup", "finished", "with_review", "cancelled"}
# Jane's weight price keys -> (label, grams)
WEIGHT_PRICES = [("half_gram", "0.5 g", 0.5), ("gram", "1 g", 1.0), ("two_gram", "2 g", 2.0),
                 ("eighth_ounce", "1/8 oz", 3.5), ("quarter_ounce", "1/4 oz", 7.0), ("half_ounce", "1/2 oz", 14.0),
                 ("ounce", "1 oz", 28.0)]
_KINDS = {"flower": "flower", "pre-roll": "pre_roll", "pre_roll": "pre_roll", "vape": "vape",
          "extract": "concentrate", "concentrate": "concentrate", "edible": "edible", "tincture": "tincture",
          "topical": "topical", "gear": "accessory", "merch": "accessory", "grow": "other"}
_DOSED = {"edible", "tincture", "topical"}


# ----------------------------------------------------------------------------------------------- webhook


def cart_of(payload: Any) -> dict:
    """The cart object of a webhook body: {"cart": {...}}, {"data": {"cart": {...}}} or a bare cart."""
    if not isinstance(payload, dict):
        raise MalformedPayload("The Jane webhook body is not a JSON object.")
    for candidate in (payload.get("cart"), (payload.get("data") or {}).get("cart")
                      if isinstance(payload.get("data"), dict) else None):
        if isinstance(candidate, dict):
            return candidate
    if "id" in payload and "status" in payload and "store_id" in payload:
        return payload
    raise MalformedPayload("The Jane webhook has no cart.")


def event_id(payload: dict, cart: dict) -> str:
    """Stable across Jane's retries of one event: the payload's own id when it has one, else the cart id, its status
    and the cart's own time of that status (never the delivery's request timestamp, which changes per retry)."""
    for key in ("event_id", "webhook_id"):
        if payload.get(key):
            return f"jane:{payload[key]}"
    stamp = cart.get("updated_at") or cart.get("status_updated_at") or ""
    return f"jane:{cart.get('store_id')}:{cart.get('id')}:{cart.get('status')}:{stamp}"


def is_finished(cart: dict) -> bool:
    return str(cart.get("status") or "").strip().lower() in FINISHED_STATUSES


def _line(item: dict) -> SaleLineRecord:
    quantity = Decimal(str(normalize.number(item.get("count") or item.get("quantity")) or 0))
    unit_price = normalize.money(item.get("unit_price") if item.get("unit_price") is not None
                                 else item.get("price"), field="unit price") or Decimal("0")
    total = normalize.money(item.get("total") if item.get("total") is not None else None, field="line total")
    discount = normalize.money(item.get("discount"), field="discount") or Decimal("0")
    kind = item.get("kind") or item.get("category")
    return SaleLineRecord(
        product_external_id=str(item.get("product_id") or item.get("id") or ""),
        name=normalize.text(item.get("name"), 300) or "",
        category=_category(str(kind)) if kind else None,
        quantity=quantity, unit="each", unit_price=unit_price, discount=discount,
        total=total if total is not None else (unit_price * quantity - discount).quantize(Decimal("0.01")),
    )


def sale_record(cart: dict) -> SaleRecord:
    """A finished cart as a sale: its id, checkout time and amount; line items when the cart carries them."""
    if cart.get("id") in (None, ""):
        raise MalformedPayload("The Jane cart has no id.")
    when = (parse_time(cart.get("checked_out_time")) or parse_time(cart.get("updated_at"))
            or parse_time(cart.get("created_at")))
    if when is None:
        raise MalformedPayload(f"The Jane cart {cart.get('id')} has no time.")
    total = normalize.money(cart.get("amount"), field="cart amount") or Decimal("0")
    lines = [_line(item) for item in cart.get("products") or [] if isinstance(item, dict)]
    tax = normalize.money(cart.get("tax_amount") or cart.get("sales_tax_amount"), field="tax") or Decimal("0")
    discount = normalize.money(cart.get("discount_total"), field="discount") or Decimal("0")
    customer = cart.get("user_id") or cart.get("external_user_id")
    return SaleRecord(
        external_id=str(cart["id"]), occurred_at=when,
        customer_external_id=str(customer) if customer not in (None, "") else None,
        subtotal=(total - tax) if tax else total, discount=discount, tax=tax, total=total, lines=lines, raw=cart,
    )


# ----------------------------------------------------------------------------------------------- product feed


def _kind(product: dict) -> str:
    return _category(*(str(product.get(k) or "") for k in ("kind", "kind_subtype", "root_subtype")))


@functools.lru_cache(maxsize=4096)
def _category(kind: Any, subtype: Any = None, root: Any = None) -> str:
    """Jane's kind ("flower", "extract", "gear", ...) or its subtypes as our category (few values: cached)."""
    return _KINDS.get(str(kind or "").strip().lower()) or normalize.category(subtype, kind, root)


def _price(value: Any, name: str) -> Decimal | None:
    return normalize.money(value, field=f"price of {name}")


def variants_of(product: dict, name: str) -> list[dict]:
    variants = []
    for key, label, weight in WEIGHT_PRICES:
        price = _price(product.get(f"discounted_price_{key}") or product.get(f"price_{key}"), name)
        if price is not None and price > 0:
            variants.append({"label": label, "weight_g": weight, "price": float(price)})
    each = _price(product.get("discounted_price_each") or product.get("price_each"), name)
    if each is not None and each > 0:
        weight = normalize.grams(product.get("net_weight") or product.get("amount")) if _kind(product) in (
            "flower", "pre_roll", "vape", "concentrate") else None
        variants.append({"label": "each", "weight_g": weight, "price": float(each)})
    return variants


def menu_record(product: dict) -> MenuRecord:
    if not isinstance(product, dict) or product.get("product_id") in (None, ""):
        raise MalformedPayload("A Jane product without a product_id.")
    external_id = str(product["product_id"])
    name = normalize.text(product.get("name"), 300)
    if not name:
        return MenuRecord(external_id, {"_skip": "no product name"}, raw=product)
    variants = variants_of(product, name)
    if not variants:
        return MenuRecord(external_id, {"_skip": f"{name}: no price"}, raw=product)
    ours = _kind(product)
    if ours in _DOSED and (product.get("dosage") or product.get("thc_mg")) is not None:
        dose = product.get("thc_mg") if product.get("thc_mg") is not None else product.get("dosage")
        thc = normalize.potency(dose if isinstance(dose, str) else f"{dose}mg", unit="mg")
    else:
        thc = normalize.potency(product.get("percent_thc"), thca=product.get("percent_thca"))
    cbd = normalize.potency(product.get("percent_cbd"), thca=product.get("percent_cbda"))
    quantity = normalize.quantity(product.get("quantity") if product.get("quantity") is not None
                                  else product.get("inventory_quantity"))
    values = {
        "name": name, "brand": normalize.text(product.get("brand"), 200), "category": ours,
        "strain_name": normalize.text(product.get("strain") or product.get("strain_name"), 120)
        if ours in ("flower", "pre_roll", "vape", "concentrate") else None,
        "strain_type": normalize.strain_type(product.get("category")),
        "thc_min": thc.low, "thc_max": thc.high, "thc_unit": thc.unit,
        "cbd_min": cbd.low, "cbd_max": cbd.high, "cbd_unit": cbd.unit,
        "terpenes": normalize.terpenes(product.get("terpenes") or []),
        "variants": variants, "price": min(Decimal(str(v["price"])) for v in variants).quantize(Decimal("0.01")),
        "in_stock_qty": int(quantity),
    }
    return MenuRecord(external_id, values, raw=product)
