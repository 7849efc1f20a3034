"""Dutchie menu products (their public menu payload) mapped to our menu item values. Pure functions: the POS sync
(integrations issue) and the demo seed both use them."""

from __future__ import annotations

CATEGORIES = {"FLOWER": "flower", "PRE_ROLLS": "pre_roll", "VAPORIZERS": "vape", "CONCENTRATES": "concentrate",
              "EDIBLES": "edible", "TINCTURES": "tincture", "TOPICALS": "topical", "ACCESSORIES": "accessory"}
STRAIN_TYPES = {"INDICA": "indica", "INDICA_HYBRID": "hybrid", "HYBRID": "hybrid", "SATIVA_HYBRID": "hybrid",
                "SATIVA": "sativa", "HIGH_CBD": "cbd", "ONE_TO_ONE": "cbd"}


def _float(value) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def menu_item_values(product: dict) -> tuple[str, dict]:
    """(external id, MenuItem values) of one Dutchie product."""
    name = (product.get("name") or "").split(" | ")[0].strip() or product.get("name", "")
    variants = []
    stock = 0
    for variant in product.get("variants") or []:
        price = _float(variant.get("specialPrice")) or _float(variant.get("price"))
        if price is not None:
            variants.append({"label": variant.get("option") or "each", "weight_g": None, "price": price})
        stock += int(_float(variant.get("quantity")) or 0)
    prices = [v["price"] for v in variants]
    terpenes = sorted(({"name": t["name"].lower().replace("beta ", "β-").replace("alpha ", "α-"), "pct": t["value"]}
                       for t in product.get("terpenes") or [] if _float(t.get("value"))), key=lambda t: -t["pct"])
    unit = "mg" if (product.get("potencyThcUnit") or "%").upper().startswith("MG") else "%"
    return str(product.get("jointId") or product.get("posId")), {
        "name": name[:300], "brand": (product.get("brandName") or "")[:200] or None,
        "category": CATEGORIES.get(product.get("category") or "", "other"),
        "strain_name": name[:120] if product.get("category") in ("FLOWER", "PRE_ROLLS", "VAPORIZERS") else None,
        "strain_type": STRAIN_TYPES.get(product.get("strainType") or ""),
        "thc_min": _float(product.get("potencyThcRangeLow")), "thc_max": _float(product.get("potencyThcRangeHigh")),
        "thc_unit": unit, "cbd_min": _float(product.get("potencyCbdRangeLow")),
        "cbd_max": _float(product.get("potencyCbdRangeHigh")), "terpenes": terpenes[:8], "variants": variants,
        "price": min(prices) if prices else _float(product.get("lowestPrice")), "in_stock_qty": stock,
    }
