"""The rules every message and enrollment passes: age by state, health claims, required disclaimers, quiet hours in
the customer's time zone, and hashing of contacts. Pure functions (no database), so they are tested exhaustively.

Age: nobody under 21 is enrolled or messaged; medical patients from 18 only in states whose medical programme
admits adults of 18 (MEDICAL_18_STATES). No birth date on file means not enrolled: the age cannot be proved.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icc_app.core.errors import ValidationFailed
from icc_app.core.security import normalize_email
from icc_app.settings import get_settings

ADULT_AGE = 21
MEDICAL_AGE = 18
# States whose medical programmes register adult patients from 18 (younger patients only through caregivers, whom
# a dispensary must not market to). A state not listed keeps the 21 rule for everyone.
MEDICAL_18_STATES = frozenset({"AZ", "CA", "CO", "FL", "MA", "MD", "MI", "MO", "MT", "NJ", "NM", "NV", "NY", "OH",
                               "OK", "OR", "PA", "WA"})

DEFAULT_DISCLAIMER = "For use only by adults 21+. Keep out of reach of children."
# Disclaimers the state requires on cannabis marketing (appended when the text does not already carry them).
STATE_DISCLAIMERS: dict[str, str] = {
    "WA": "This product has intoxicating effects and may be habit forming. For use only by adults 21 and older.",
    "CO": "For use only by adults 21 and older. Keep out of reach of children.",
    "CA": "For use only by adults 21 and older. Keep out of reach of children.",
    "MI": "For use only by adults 21 and older. Keep out of reach of children.",
    "OR": "For use only by adults 21 and older. Keep out of reach of children.",
    "NV": "Keep out of reach of children. For use only by adults 21 years of age and older.",
    "MA": "This product has not been analyzed or approved by the FDA. For use only by adults 21+.",
}
SMS_OPT_OUT_FOOTER = "Reply STOP to opt out."

_CLAIMS = re.compile(
    r"\b(cures?|cured|curing|treats?|treated|treating|treatment\s+for|heals?|healing|prevents?|preventing|remed(?:y|ies)"
    r"|therap(?:y|eutic)|relieves?\s+(?:pain|anxiety|depression|insomnia|symptoms)|fights?\s+cancer"
    r"|medicinal\s+benefits?|clinically\s+proven|doctor\s+recommended|FDA[- ]approved|diagnos\w*)\b", re.IGNORECASE)


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def minimum_age(state: str | None, customer_type: str) -> int:
    if customer_type == "medical" and (state or "").upper() in MEDICAL_18_STATES:
        return MEDICAL_AGE
    return ADULT_AGE


def enrollment_for(birth_date: str | date | None, *, state: str | None, customer_type: str,
                   today: date | None = None) -> str:
    """enrolled / under_age / age_unknown (values of models.Enrollment)."""
    if not birth_date:
        return "age_unknown"
    try:
        birth = birth_date if isinstance(birth_date, date) else date.fromisoformat(str(birth_date)[:10])
    except ValueError:
        return "age_unknown"
    today = today or date.today()
    if birth > today or age_on(birth, today) > 120:
        return "age_unknown"
    return "enrolled" if age_on(birth, today) >= minimum_age(state, customer_type) else "under_age"


def health_claims(text: str) -> list[str]:
    """The health claims in a text ("cures", "treats", ...): cannabis marketing may not make any."""
    return sorted({m.group(0).lower() for m in _CLAIMS.finditer(text or "")})


def check_content(text: str, *, field: str = "body") -> None:
    claims = health_claims(text)
    if claims:
        raise ValidationFailed("Remove health claims (" + ", ".join(f"\u201c{c}\u201d" for c in claims)
                               + "): cannabis marketing may not say a product cures, treats or prevents anything.",
                               field=field)


def disclaimer_for(state: str | None) -> str:
    return STATE_DISCLAIMERS.get((state or "").upper(), DEFAULT_DISCLAIMER)


def with_required_text(text: str, *, state: str | None, channel: str) -> str:
    """The text as sent: the state's disclaimer and, for SMS, the opt-out footer, appended unless already present."""
    out = text.rstrip()
    disclaimer = disclaimer_for(state)
    if disclaimer.lower() not in out.lower():
        out = f"{out}\n{disclaimer}" if channel == "email" else f"{out} {disclaimer}"
    if channel == "sms" and "stop" not in out.lower():
        out = f"{out} {SMS_OPT_OUT_FOOTER}"
    return out


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "America/Denver")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("America/Denver")


def next_allowed(at: datetime, *, tz: str | None, quiet_start: int, quiet_end: int) -> datetime:
    """`at` if it falls outside quiet hours in the customer's zone, else the end of the quiet period (UTC).
    Quiet hours wrap midnight when start > end (21 -> 9); start == end means no quiet hours."""
    if quiet_start == quiet_end:
        return at
    local = at.astimezone(zone(tz))
    hour = local.hour + local.minute / 60
    quiet = (hour >= quiet_start or hour < quiet_end) if quiet_start > quiet_end else quiet_start <= hour < quiet_end
    if not quiet:
        return at
    day = local.date() if (quiet_start < quiet_end or hour < quiet_end) else local.date() + timedelta(days=1)
    resume = datetime.combine(day, time(quiet_end), tzinfo=local.tzinfo)
    # a wall-clock time that does not exist (DST gap) or is ambiguous resolves through UTC
    return resume.astimezone(at.tzinfo)


def contact_hash(kind: str, value: str) -> str:
    """Keyed hash of an email or phone (normalised), for dedup and suppression without storing the address."""
    norm = normalize_email(value) if kind == "email" else normalize_phone(value)
    return hmac.new(get_settings().secret_key.encode(), f"{kind}:{norm}".encode(), hashlib.sha256).hexdigest()


def normalize_phone(phone: str) -> str:
    """E.164 for US numbers typed any way ("(303) 555-0100" -> "+13035550100"); other + numbers kept as digits."""
    raw = (phone or "").strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        return "+" + digits
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return "+" + digits if digits else ""


def valid_phone(phone: str) -> bool:
    return bool(re.fullmatch(r"\+\d{10,15}", normalize_phone(phone)))


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


_FIELD = re.compile(r"\{(first_name|points|business|tier)\}")


def render(template: str, values: dict[str, str]) -> str:
    """Fills {first_name}, {points}, {business}, {tier}; other braces are left as typed."""
    return _FIELD.sub(lambda m: str(values.get(m.group(1), "")), template or "")


def check_placeholders(template: str, *, field: str = "body") -> None:
    unknown = set(re.findall(r"\{(\w+)\}", template or "")) - {"first_name", "points", "business", "tier"}
    if unknown:
        raise ValidationFailed("Unknown field " + ", ".join("{" + u + "}" for u in sorted(unknown))
                               + ": use {first_name}, {points}, {business} or {tier}.", field=field)
