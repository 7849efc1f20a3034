"""Words for people: counts with the right plural, US phone numbers, enum values as labels.

Pure functions (no reflex, no database) so every product's state module can format what it stores for display.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from zoneinfo import ZoneInfo

# Acronyms stay upper-case when an enum value is turned into words ("cbd" -> "CBD", "net_30" -> "Net 30").
ACRONYMS = frozenset({"ach", "cbd", "coa", "coas", "cod", "cqi", "id", "kyb", "mfa", "pos", "thc", "thca", "uuid",
                      "us", "usd", "sso", "api", "oidc", "ims"})
# Values whose plain reading is not "first word capitalised, underscores as spaces".
SPECIAL_LABELS = {
    "pre_roll": "Pre-roll",
    "adult_use": "Adult use",
    "cash_on_delivery": "Cash on delivery",
    "sold_out": "Sold out",
}
_IRREGULAR_PLURALS = {"person": "people", "child": "children", "analysis": "analyses"}
_DIGITS = re.compile(r"\D")
_PHONE = re.compile(r"^(.*?)(?:\s*(?:ext\.?|x|#)\s*(\d+))?\s*$", re.IGNORECASE)


def plural_word(count: int | float, singular: str, plural: str | None = None) -> str:
    """The word that goes with `count`: one dispensary, two dispensaries, zero dispensaries."""
    if count == 1:
        return singular
    if plural is not None:
        return plural
    lower = singular.lower()
    if lower in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[lower]
    if len(lower) > 1 and lower.endswith("y") and lower[-2] not in "aeiou":
        return singular[:-1] + "ies"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return singular + "es"
    return singular + "s"


def plural(count: int | float, singular: str, plural: str | None = None) -> str:
    """A count with its noun: "1 dispensary", "3 dispensaries", "1,204 offers"."""
    number = f"{count:,}" if isinstance(count, int) else f"{count:,.1f}".rstrip("0").rstrip(".")
    return f"{number} {plural_word(count, singular, plural)}"


def phone(raw: str | None) -> str:
    """A US number as people write it, "(206) 555-0123"; an extension is kept ("... ext. 12"). Anything that is
    not a US number comes back as typed (trimmed), never mangled; nothing gives ""."""
    if not raw:
        return ""
    text = raw.strip()
    main, extension = _PHONE.match(text).groups()
    digits = _DIGITS.sub("", main)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or text.startswith("+") and not text.startswith("+1"):
        return text
    formatted = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return f"{formatted} ext. {extension}" if extension else formatted


def phone_href(raw: str | None) -> str:
    """A tel: link for a US number ("tel:+12065550123"), or "" when it is not one we can dial for sure."""
    digits = _DIGITS.sub("", _PHONE.match((raw or "").strip()).group(1))
    if len(digits) == 10:
        return f"tel:+1{digits}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"tel:+{digits}"
    return ""


def label(value: str | enum.Enum | None) -> str:
    """An enum value as words: "partial_refund" -> "Partial refund", "testing_lab" -> "Testing lab",
    "net_30" -> "Net 30", "cbd" -> "CBD"; None -> ""."""
    if value is None:
        return ""
    raw = str(value.value if isinstance(value, enum.Enum) else value).strip()
    if raw in SPECIAL_LABELS:
        return SPECIAL_LABELS[raw]
    words = [w for w in re.split(r"[_\s]+", raw) if w]
    if not words:
        return ""
    shown = [w.upper() if w.lower() in ACRONYMS else w.lower() for w in words]
    first = shown[0]
    shown[0] = first if first.isupper() else first[:1].upper() + first[1:]
    return " ".join(shown)


def local_time(moment: datetime | None, *, zone: str | None = None, seconds: bool = False) -> str:
    """A stored UTC time as people read it, in the business's zone (TIMEZONE, default America/Denver) with the
    zone named: "2026-12-02 20:28 MST". Naive values are taken as UTC; None gives "—"."""
    if moment is None:
        return "—"
    from icc_app.settings import get_settings

    tz = ZoneInfo(zone or get_settings().timezone)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")
