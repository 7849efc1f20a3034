"""Dutchie POS products and inventory packages (GET /products, /reporting/inventory) mapped to our menu records; sales
and customers are in pos_sales.py. Pure functions, no I/O. (mapping.py beside it maps Dutchie's e-commerce menu
shape, which the demo seed reads.)

A menu item is a Dutchie *product*; its stock is the sum of its sellable *packages* (inventory rows: one per batch).
Potency comes from the packages' lab results (total THC = THC + 0.877 x THCA when the lab reports the acid), so two
batches of one product give a range; edibles, tinctures and topicals are shown in mg when any source has mg. The
next package to sell (earliest expiry) gives the batch, the state tag and the terpenes; cost is the quantity-weighted
average of the sellable packages.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from icc_app.integrations import normalize
from icc_app.integrations.base import InventoryRecord, MalformedPayload, MenuRecord

SELLABLE_STATUSES = {"", "active"}  # Testing / Quarantine / Inactive packages are not for sale
MG_CATEGORIES = {"edible", "tincture", "topical"}  # dosed products: mg per package reads better than %
STRAIN_CATEGORIES = {"flower", "pre_roll", "vape", "concentrate"}

_TERPENE_STEMS = ("pinene", "myrcene", "limonene", "caryophyllene", "linalool", "humulene", "terpinolene", "ocimene",
                  "bisabolol", "nerolidol", "eucalyptol", "cineole", "geraniol", "camphene", "borneol", "fenchol",
                  "guaiol", "valencene", "terpineol", "terpinene", "cymene", "phytol", "farnesene", "isopulegol",
                  "sabinene", "carene", "pulegone", "menthol", "citral", "cedrene", "camphor", "nerol", "bergamotene",
                  "selinene", "isoborneol", "fenchone")
_LAB_KINDS = {
    "totalthc": "total_thc", "thctotal": "total_thc", "totalactivethc": "total_thc",
    "thca": "thca", "thcacid": "thca", "d9thca": "thca", "delta9thca": "thca", "thcad9": "thca", "δ9thca": "thca",
    "thc": "thc", "d9thc": "thc", "delta9thc": "thc", "thcd9": "thc", "δ9thc": "thc", "delta9": "thc",
    "totalcbd": "total_cbd", "cbdtotal": "total_cbd", "cbda": "cbda", "cbdacid": "cbda", "cbd": "cbd",
}
_ZERO_UNITS = {"nd", "<loq", "loq", "<lod", "lod", "bql", "notdetected", "nr"}
_NAME_MG = re.compile(r"(\d+(?:\.\d+)?)\s*mg\b(?!\s*/)\s*(thc|cbd|cbn|cbg)?", re.I)
_CENT = Decimal("0.01")


_NOT_ALNUM = re.compile(r"[\W_]+")


def squash(value: Any) -> str:
    """Lower case, letters and digits only: "Delta-9 THC" -> "delta9thc"."""
    return _NOT_ALNUM.sub("", str(value or "").lower())


@functools.lru_cache(maxsize=4096)
def _category(*candidates: Any) -> str:
    """normalize.category, remembered: a catalog repeats the same few category words thousands of times."""
    return normalize.category(*candidates)


@functools.lru_cache(maxsize=4096)
def _lab_kind(name: Any) -> str | None:
    """What a lab line measures: total_thc / thc / thca / total_cbd / cbd / cbda / terpene, or None (others)."""
    head = squash(str(name or "").split("(")[0])
    if not head:
        return None
    if head in _LAB_KINDS:
        return _LAB_KINDS[head]
    if "terpene" in head:  # "Total Terpenes"
        return None
    return "terpene" if any(stem in head for stem in _TERPENE_STEMS) else None


@functools.lru_cache(maxsize=1024)
def _unit_key(unit: Any) -> str:
    key = squash(unit) if unit not in (None, "") else "%"
    return key or ("%" if "%" in str(unit) else key)


def _as_percent(value: Any, unit: Any) -> float | None:
    """A lab value as % by weight: % as is, mg/g / 10, ppm / 10,000; "ND" / "<LOQ" are 0; mg (per unit) is None."""
    key = _unit_key(unit)
    if key in _ZERO_UNITS:
        return 0.0
    amount = normalize.number(value)
    if amount is None:
        return None
    if key in ("%", "percent", "percentage", "pct"):
        return amount
    if key in ("mgg", "mgpergram"):
        return amount / 10
    if key == "ppm":
        return amount / 10_000
    return None


def _as_mg(value: Any, unit: Any) -> float | None:
    return normalize.number(value) if _unit_key(unit) in ("mg", "milligrams", "milligram") else None


def lab_values(results: Any) -> dict[str, Any]:
    """{"pct": {kind: %}, "mg": {kind: mg}, "terpenes": [{name, value}]} from one package's lab results; the first
    line of each kind wins."""
    pct: dict[str, float] = {}
    mg: dict[str, float] = {}
    terpenes: list[dict] = []
    for line in results if isinstance(results, list) else []:
        if not isinstance(line, dict):
            continue
        kind = _lab_kind(line.get("labTest"))
        if kind is None:
            continue
        value, unit = line.get("value"), line.get("labResultUnit")
        percent = _as_percent(value, unit)
        if kind == "terpene":
            if percent:
                terpenes.append({"name": line.get("labTest"), "value": percent})
        elif percent is not None:
            pct.setdefault(kind, percent)
        elif (amount := _as_mg(value, unit)) is not None:
            mg.setdefault(kind, amount)
    return {"pct": pct, "mg": mg, "terpenes": terpenes}


def _total(values: dict[str, float], cannabinoid: str) -> float | None:
    """Total THC (or CBD) from one unit's lab values: the lab's own total, else neutral + 0.877 x acid."""
    if f"total_{cannabinoid}" in values:
        return values[f"total_{cannabinoid}"]
    neutral, acid = values.get(cannabinoid), values.get(f"{cannabinoid}a")
    if neutral is None and acid is None:
        return None
    # The acid -> neutral mass ratio is the same for THCA and CBDA (0.877), so normalize.potency serves both.
    return normalize.potency(neutral if neutral is not None else 0.0, thca=acid).low


def _name_mg(name: str, cannabinoid: str) -> float | None:
    """mg printed in a dosed product's name: "100mg THC Shot", "[10pk] 100mg", "100mg CBD/100mg THC". An unlabeled
    amount counts as THC."""
    for match in _NAME_MG.finditer(name or ""):
        label = (match.group(2) or "thc").lower()
        if label == cannabinoid:
            return float(match.group(1))
    return None


def _content(value: Any, unit: Any) -> tuple[float, str] | None:
    """A product's own thcContent / cbdContent with its unit."""
    amount = normalize.number(value)
    if amount is None:
        return None
    key = squash(unit) or "%"
    if key in ("mg", "milligrams"):
        return amount, "mg"
    percent = _as_percent(amount, unit if key != "%" else "%")
    return (percent, "%") if percent is not None else None


def _potency(cannabinoid: str, *, category: str, name: str, detail: dict, labs: list[dict],
             packages: list[dict]) -> normalize.Potency:
    """One cannabinoid's (low, high, unit) across the sellable packages, from the best source that has it."""
    lab_pct = [v for lab in labs if (v := _total(lab["pct"], cannabinoid)) is not None]
    lab_mg = [v for lab in labs if (v := _total(lab["mg"], cannabinoid)) is not None]
    content = _content(detail.get(f"{cannabinoid}Content"), detail.get(f"{cannabinoid}ContentUnit"))
    content_pct = [content[0]] if content and content[1] == "%" else []
    content_mg = [content[0]] if content and content[1] == "mg" else []
    effective_mg = ([v for p in packages if (v := normalize.number(p.get("effectivePotencyMg"))) is not None and v > 0]
                    if cannabinoid == "thc" else [])
    name_mg = [v] if (v := _name_mg(name, cannabinoid)) is not None else []
    if category in MG_CATEGORIES:
        # Dutchie's effective potency (mg per unit, from the package's own results) first; a typed content value
        # next; the name ("100mg Gummies") before falling back to %.
        sources = [(effective_mg, "mg"), (lab_mg, "mg"), (content_mg, "mg"), (name_mg, "mg"), (lab_pct, "%"),
                   (content_pct, "%")]
    else:
        sources = [(lab_pct, "%"), (content_pct, "%"), (lab_mg, "mg"), (content_mg, "mg"), (effective_mg, "mg")]
    for values, unit in sources:
        if values:
            return normalize.potency(low=min(values), high=max(values), unit=unit)
    return normalize.Potency(None, None, "%")


_UNITS = {"ea": "each", "each": "each", "unit": "each", "units": "each", "qty": "each", "": "each", "g": "g",
          "gram": "g", "grams": "g", "gr": "g", "mg": "mg", "milligrams": "mg", "ml": "ml", "milliliters": "ml"}


def _quantity(package: dict) -> tuple[Decimal, str]:
    """A package's available quantity in our units (each / g / mg / ml; ounces become grams)."""
    amount = normalize.quantity(package.get("quantityAvailable"))
    unit = str(package.get("quantityUnits") or "").strip().lower()
    if unit in ("oz", "ounce", "ounces"):
        return (amount * Decimal("28.3495")).quantize(Decimal("0.001")), "g"
    return amount, _UNITS.get(unit, "each")


def _sellable(package: dict) -> bool:
    status = str(package.get("packageStatus") or "").strip().lower()
    return status in SELLABLE_STATUSES and normalize.quantity(package.get("quantityAvailable")) > 0


def _package_price(package: dict) -> Decimal | None:
    if package.get("medicalOnly"):
        value = package.get("medUnitPrice") if package.get("medUnitPrice") is not None else package.get("unitPrice")
    else:
        value = package.get("recUnitPrice") if package.get("recUnitPrice") is not None else package.get("unitPrice")
    return normalize.money(value, field="unit price")


def _weight(category: str, name: str, detail: dict, package: dict | None) -> float | None:
    """The package weight in grams: the unit weight Dutchie keeps per package, the product's net weight, else the size
    or name label (not for dosed products, whose names carry mg of THC, not weight)."""
    if package is not None and str(package.get("unitWeightUnit") or "g").strip().lower() in ("g", "gram", "grams"):
        weight = normalize.number(package.get("unitWeight"))
        if weight and weight > 0:
            return round(weight, 3)
    net = normalize.number(detail.get("netWeight"))
    if net and net > 0:
        found = normalize.grams(f"{net:g}{(detail.get('netWeightUnit') or 'g').strip()}")
        if found:
            return found
    if category in MG_CATEGORIES:
        return None
    return normalize.grams(detail.get("size") or (package or {}).get("size")) or normalize.grams(name)


def _next_to_sell(packages: list[dict]) -> list[dict]:
    """Packages in the order a store sells them: earliest expiry first, then oldest inventory row."""
    return sorted(packages, key=lambda p: (normalize.day(p.get("expirationDate")) or date.max,
                                           normalize.number(p.get("inventoryId")) or 0))


def _inventory(sellable: list[dict], detail: dict) -> InventoryRecord:
    total = Decimal("0")
    unit = "each"
    cost_weight = Decimal("0")
    cost_sum = Decimal("0")
    for index, package in enumerate(sellable):
        amount, package_unit = _quantity(package)
        if index == 0:
            unit = package_unit
        total += amount
        cost = normalize.money(package.get("unitCost"), field="unit cost")
        if cost is not None and amount > 0:
            cost_sum += cost * amount
            cost_weight += amount
    unit_cost = ((cost_sum / cost_weight).quantize(_CENT, ROUND_HALF_UP) if cost_weight
                 else normalize.money(detail.get("unitCost"), field="unit cost"))
    first = sellable[0] if sellable else {}
    expiries = [d for p in sellable if (d := normalize.day(p.get("expirationDate")))]
    return InventoryRecord(quantity=total, unit=unit, unit_cost=unit_cost, expires_on=min(expiries, default=None),
                           batch=normalize.text(first.get("batchName"), 120),
                           package_label=normalize.text(first.get("externalPackageId") or first.get("packageId"), 60))


def _skip(external_id: str, reason: str, raw: dict) -> MenuRecord:
    return MenuRecord(external_id=external_id, values={"_skip": reason}, raw=raw)


def product_record(external_id: str, detail: dict, packages: list[dict]) -> MenuRecord:
    """One menu item from a product (its /products entry, {} when only the inventory lists it) and its packages."""
    raw = {"product": detail or None, "packages": packages}
    ordered = _next_to_sell(packages)
    sellable = [p for p in ordered if _sellable(p)]
    lead = sellable[0] if sellable else (ordered[0] if ordered else None)
    source = detail or lead or {}
    if detail.get("isCoupon"):
        return _skip(external_id, "a coupon, not a product", raw)
    name = normalize.text(detail.get("onlineTitle") or detail.get("productName") or (lead or {}).get("productName"), 300)
    if not name:
        return _skip(external_id, "no name", raw)
    try:
        prices = [price for p in sellable if (price := _package_price(p))]
        price = min(prices) if prices else normalize.money(
            detail.get("recPrice") if detail.get("recPrice") is not None else detail.get("price"))
        if not price:
            return _skip(external_id, "no price", raw)
        inventory = _inventory(sellable, detail)
    except MalformedPayload as exc:
        return _skip(external_id, exc.message, raw)
    category = _category(detail.get("category"), (lead or {}).get("category"), detail.get("ecomCategory"),
                         detail.get("masterCategory"), (lead or {}).get("masterCategory"))
    if category == "other":  # no category word: the name may say it ("... Gummies")
        category = normalize.category(name)
    lab_packages = sellable or ordered
    labs = [lab_values(p.get("labResults")) for p in lab_packages]
    thc = _potency("thc", category=category, name=name, detail=detail, labs=labs, packages=lab_packages)
    cbd = _potency("cbd", category=category, name=name, detail=detail, labs=labs, packages=lab_packages)
    terpenes = next((normalize.terpenes(lab["terpenes"]) for lab in labs if lab["terpenes"]), [])
    weight = _weight(category, name, detail, lead)
    label = normalize.text(source.get("size"), 40) or (f"{weight:g}g" if weight else "each")
    stock = inventory.quantity
    in_stock = int(stock) if inventory.unit == "each" else math.ceil(stock)
    strain = normalize.text(detail.get("strain") or (lead or {}).get("strain"), 120)
    values = {
        "name": name, "brand": normalize.text(source.get("brandName"), 200), "category": category,
        "strain_name": strain if category in STRAIN_CATEGORIES else None,
        "strain_type": normalize.strain_type(source.get("strainType")),
        "thc_min": thc.low, "thc_max": thc.high, "thc_unit": thc.unit,
        "cbd_min": cbd.low, "cbd_max": cbd.high, "cbd_unit": cbd.unit,
        "terpenes": terpenes, "variants": [{"label": label, "weight_g": weight, "price": float(price)}],
        "price": price, "in_stock_qty": in_stock,
    }
    return MenuRecord(external_id=external_id, values=values, raw=raw, inventory=inventory)


def menu_records(products: list[dict], packages: list[dict]) -> list[MenuRecord]:
    """The whole menu: every active product of /products (in stock or not) and every product the inventory lists
    that /products does not (Dutchie lists only online-enabled products there). Skipped items carry values["_skip"]."""
    by_product: dict[str, list[dict]] = {}
    for package in packages:
        if isinstance(package, dict) and package.get("productId") is not None:
            by_product.setdefault(str(package["productId"]), []).append(package)
    details: dict[str, dict] = {}
    inactive: set[str] = set()
    for product in products:
        if not isinstance(product, dict) or product.get("productId") is None:
            continue
        key = str(product["productId"])
        if product.get("isActive") is False:
            inactive.add(key)
        else:
            details.setdefault(key, product)
    order = list(details) + [key for key in by_product if key not in details and key not in inactive]
    return [product_record(key, details.get(key, {}), by_product.get(key, [])) for key in order]
