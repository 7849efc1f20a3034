"""Normalization shared by every vendor mapping: categories, strain types, potency (THC vs THCA, ranges, % vs mg),
weights and package sizes, money. Pure functions; a value we cannot read becomes None (never a guess), and the
mapping records why an item was skipped when a required value is missing."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from icc_app.integrations.base import MalformedPayload

THCA_TO_THC = 0.877  # decarboxylation: THC mass per unit of THCA mass (314.46 / 358.47)
MAX_PRICE = Decimal("100000")

OUR_CATEGORIES = ("flower", "pre_roll", "vape", "concentrate", "edible", "tincture", "topical", "accessory", "other")
# Words in a vendor's category (or product type) -> ours. Checked in this order, so "pre-roll" wins over "flower".
_CATEGORY_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("pre_roll", ("preroll", "pre roll", "pre-roll", "pre_roll", "joint", "blunt", "infused pre")),
    ("vape", ("vape", "vaporizer", "cartridge", "cart", "pod", "disposable", "pen")),
    ("concentrate", ("concentrate", "extract", "wax", "shatter", "rosin", "resin", "badder", "budder", "crumble",
                     "dab", "hash", "kief", "diamond", "sauce", "distillate", "rso")),
    ("edible", ("edible", "gummy", "gummies", "chocolate", "beverage", "drink", "candy", "baked", "chew", "mint",
                "capsule", "pill", "tablet", "food")),
    ("tincture", ("tincture", "sublingual", "oral spray", "drops")),
    ("topical", ("topical", "lotion", "balm", "salve", "cream", "transdermal", "patch", "bath")),
    ("accessory", ("accessor", "gear", "merch", "apparel", "battery", "paraphernalia", "grinder", "paper", "lighter",
                   "glass", "pipe", "bong")),
    ("flower", ("flower", "bud", "shake", "smalls", "popcorn", "ground", "plant")),
]
_STRAIN_TYPES = {"indica": "indica", "sativa": "sativa", "hybrid": "hybrid", "cbd": "cbd", "high cbd": "cbd",
                 "high_cbd": "cbd", "1:1": "cbd", "one_to_one": "cbd", "balanced": "cbd", "indica_hybrid": "hybrid",
                 "sativa_hybrid": "hybrid", "indica-dominant": "hybrid", "sativa-dominant": "hybrid",
                 "indica dominant hybrid": "hybrid", "sativa dominant hybrid": "hybrid"}


_CATEGORY_PATTERNS = [(ours, re.compile("|".join(rf"(?<![a-z]){re.escape(w)}" for w in words)))
                      for ours, words in _CATEGORY_WORDS]


def category(*candidates: Any) -> str:
    """Our category from the vendor's category / type / subtype strings, first match wins; else "other"."""
    for candidate in candidates:
        found = _category_of(str(candidate or ""))
        if found is not None:
            return found
    return "other"


@functools.lru_cache(maxsize=4096)
def _category_of(value: str) -> str | None:
    text = re.sub(r"[_\s]+", " ", value).strip().lower()
    if not text:
        return None
    if text.replace(" ", "_") in OUR_CATEGORIES:
        return text.replace(" ", "_")
    for ours, pattern in _CATEGORY_PATTERNS:
        if pattern.search(text):
            return ours
    return None


def strain_type(value: Any) -> str | None:
    text = str(value or "").strip().lower().replace("-", " ") if value else ""
    if not text:
        return None
    return _STRAIN_TYPES.get(text) or _STRAIN_TYPES.get(text.replace(" ", "_")) or next(
        (ours for word, ours in (("indica", "indica"), ("sativa", "sativa"), ("hybrid", "hybrid"), ("cbd", "cbd"))
         if word in text), None)


def number(value: Any) -> float | None:
    """A finite float from a number or a numeric string ("21.5", "21.5%", "1,204"); None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        result = float(value)
    else:
        text = str(value).strip().replace(",", "").rstrip("%").strip()
        if not text:
            return None
        try:
            result = float(text)
        except ValueError:
            return None
    return result if result == result and abs(result) != float("inf") else None


def money(value: Any, *, field: str = "price") -> Decimal | None:
    """A price as a Decimal to the cent; None when absent. Negative or absurd amounts are refused."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace("$", "").replace(",", "").strip())
    except InvalidOperation:
        raise MalformedPayload(f"{field} is not an amount: {str(value)[:20]!r}.") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE:
        raise MalformedPayload(f"{field} is out of range: {str(value)[:20]!r}.")
    return amount.quantize(Decimal("0.01"))


def quantity(value: Any) -> Decimal:
    """A stock quantity; missing or negative counts as 0 (a POS reports oversold stock as negative)."""
    amount = number(value)
    if amount is None or amount < 0:
        return Decimal("0")
    return Decimal(str(round(amount, 3)))


@dataclass(frozen=True)
class Potency:
    low: float | None
    high: float | None
    unit: str  # "%" or "mg"


_RANGE = re.compile(r"^\s*([\d.]+)\s*(%|mg)?\s*(?:-|–|to)\s*([\d.]+)\s*(%|mg)?\s*$", re.I)


def potency(value: Any = None, *, low: Any = None, high: Any = None, unit: Any = None, thca: Any = None) -> Potency:
    """THC (or CBD) as a (low, high, unit) range from the many shapes vendors send: a number, "21.4%", "20-25%",
    "10mg", separate low/high, and THCA reported instead of (or beside) THC, counted as total THC
    (THC + 0.877 x THCA). Percentages outside 0..100 are dropped (a value in mg mislabelled as %)."""
    text_unit = str(unit or "").strip().lower()
    unit_out = "mg" if text_unit.startswith("mg") or text_unit in ("milligrams",) else "%"
    lo = hi = None
    if isinstance(value, str) and _RANGE.match(value):
        match = _RANGE.match(value)
        lo, hi = float(match.group(1)), float(match.group(3))
        if (match.group(2) or match.group(4) or "").lower() == "mg":
            unit_out = "mg"
    elif value is not None:
        if isinstance(value, str) and value.strip().lower().endswith("mg"):
            unit_out = "mg"
            value = value.strip()[:-2]
        lo = hi = number(value)
    if low is not None or high is not None:
        lo, hi = number(low), number(high)
        if lo is None:
            lo = hi
        if hi is None:
            hi = lo
    thca_value = number(thca)
    if thca_value is not None and thca_value > 0:
        lo = (lo or 0.0) + THCA_TO_THC * thca_value
        hi = (hi or 0.0) + THCA_TO_THC * thca_value
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    if unit_out == "%" and ((lo is not None and not 0 <= lo <= 100) or (hi is not None and not 0 <= hi <= 100)):
        return Potency(None, None, "%")
    if (lo is not None and lo < 0) or (hi is not None and hi < 0):
        return Potency(None, None, unit_out)
    return Potency(_round(lo), _round(hi), unit_out)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


_GRAMS_PER = {"g": 1.0, "gram": 1.0, "grams": 1.0, "gr": 1.0, "mg": 0.001, "kg": 1000.0, "oz": 28.3495,
              "ounce": 28.3495, "ounces": 28.3495, "lb": 453.592, "lbs": 453.592, "pound": 453.592}
_FRACTIONS = {"eighth": 3.5, "quarter": 7.0, "half": 14.0, "ounce": 28.0, "zip": 28.0}
_WEIGHT = re.compile(r"(?P<num>\d+(?:\.\d+)?|\d+/\d+)\s*(?P<unit>kg|mg|g|gram|grams|gr|oz|ounces?|lbs?|pound)\b", re.I)


def grams(text: Any) -> float | None:
    """A package weight in grams from a label: "3.5g", "1/8 oz" (3.5), "1 oz" (28), "eighth", "28 G", "500mg".
    Retail fractions of an ounce use the industry's rounded grams (1/8 oz = 3.5 g)."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text) if text > 0 else None
    value = str(text).strip().lower()
    if not value:
        return None
    match = _WEIGHT.search(value)
    if match:
        raw, unit = match.group("num"), match.group("unit").lower()
        if "/" in raw:
            top, bottom = raw.split("/")
            amount = float(top) / float(bottom) if float(bottom) else 0
        else:
            amount = float(raw)
        if unit.startswith("oz") or unit.startswith("ounce"):
            return round(amount * 28.0, 3) if amount < 1 or amount == int(amount) else round(amount * 28.3495, 3)
        return round(amount * _GRAMS_PER.get(unit, _GRAMS_PER.get(unit.rstrip("s"), 1.0)), 3) or None
    for word, weight in _FRACTIONS.items():
        if re.search(rf"\b{word}\b", value):
            return weight
    return None


def day(value: Any) -> date | None:
    """A date from "2026-03-01", "2026-03-01T00:00:00Z" or "03/01/2026"; None when unreadable."""
    if not value:
        return None
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", text)
    if match:
        try:
            return date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
        except ValueError:
            return None
    return None


def text(value: Any, limit: int) -> str | None:
    """A display string: NUL and control characters removed, whitespace collapsed, cut to `limit`."""
    if value is None:
        return None
    cleaned = value if isinstance(value, str) else str(value)
    if not cleaned.isprintable():
        cleaned = cleaned.translate(_CONTROL)
    if "  " in cleaned or cleaned[:1].isspace() or cleaned[-1:].isspace() or not cleaned.isprintable():
        cleaned = " ".join(cleaned.split())
    return cleaned[:limit] or None


# Control characters (C0, DEL, C1) become spaces (then collapsed) or vanish (NUL): a menu name is one line of text.
_CONTROL = {code: " " for code in (*range(1, 32), *range(127, 160))} | {0: None}


def terpenes(entries: Any, *, name_key: str = "name", value_key: str = "value") -> list[dict]:
    """[{name, pct}] sorted by share, top 8, from a list of {name, value} dicts or a {name: value} mapping;
    values must be percentages 0..100."""
    pairs: list[tuple[str, float]] = []
    if isinstance(entries, dict):
        pairs = [(str(k), n) for k, raw in entries.items() if (n := number(raw)) is not None]
    elif isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict):
                name, value = entry.get(name_key), number(entry.get(value_key))
                if name and value is not None:
                    pairs.append((str(name), value))
    clean = [{"name": text(name, 60).lower(), "pct": round(value, 3)} for name, value in pairs
             if 0 < value <= 100 and text(name, 60)]
    return sorted(clean, key=lambda t: -t["pct"])[:8]


def content_hash(*parts: Any) -> str:
    """A stable hash of mapped values: equal data, equal hash (keys sorted; Decimals and dates as text)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def storable(value: Any, *, depth: int = 0) -> Any:
    """A vendor payload as the database can keep it (PostgreSQL JSONB refuses NUL characters): NULs removed from
    every string and key, nesting capped at 40 levels."""
    if depth == 0:
        try:  # the common case, checked at C speed: nothing to clean
            blob = json.dumps(value, allow_nan=False, default=str)
        except (ValueError, RecursionError):
            blob = "\\u0000"
        if "\\u0000" not in blob and blob.count("[") + blob.count("{") < 5000:
            return value
    if depth > 40:
        return None
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): storable(v, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v, depth=depth + 1) for v in value]
    if isinstance(value, float) and (value != value or abs(value) == float("inf")):
        return None
    return value
