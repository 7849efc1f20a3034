"""One set of input types for every boundary (API schemas, UI handlers, services), so a price, a quantity or a
piece of text is checked the same way wherever it comes in.

Why: a number like 1e30 overflowed the NUMERIC column at flush (HTTP 500), "0.004" was rounded into a $0.00
price, and a NUL character in any text reached PostgreSQL (which refuses it in text columns). Ranges are
checked on the value as given, before anything is rounded, and out-of-range input is refused with the field
named rather than clamped.

Use the Annotated types in Pydantic models and FastAPI parameters; services that take raw values from a form call
`money()`, `quantity()` or `safe_text()`, which raise ValidationFailed(field=...).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError

from icc_app.core.errors import ValidationFailed

# Column types: MONEY is NUMERIC(14, 2) and QUANTITY NUMERIC(14, 3); the bounds leave room for totals.
MAX_MONEY = Decimal("999999999.99")  # a price, a payment amount: under one billion dollars
MAX_QUANTITY = Decimal("99999999.999")  # under one hundred million units (g, lb or units)
MAX_PAGE = 10_000
MAX_OFFSET = 1_000_000


NO_NUL = {"pattern": "^[^\\u0000]*$"}  # documents the NUL rule in the OpenAPI schema


def reject_nul(value: str) -> str:
    """PostgreSQL cannot store NUL in text; no legitimate text contains it."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _no_nul_items(values: list[str]) -> list[str]:
    for value in values:
        reject_nul(value)
    return values


def SafeText(max_length: int, *, min_length: int = 0) -> type[str]:  # noqa: N802 - used like a type
    """Text up to `max_length` characters (the column's size) without NUL characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length, json_schema_extra=NO_NUL),  # type: ignore[return-value]
                     AfterValidator(reject_nul)]


SafeTextList = Annotated[list[Annotated[str, Field(max_length=100, json_schema_extra=NO_NUL)]], Field(max_length=20),
                         AfterValidator(_no_nul_items)]

def _places(places: int):
    """Write 1E+2 as 100.00 once the value is known to have at most `places` decimals (so nothing is rounded)."""
    return AfterValidator(lambda number: number.quantize(Decimal(1).scaleb(-places)))


Money = Annotated[Decimal, Field(ge=Decimal("0.01"), le=MAX_MONEY, decimal_places=2, allow_inf_nan=False,
                                 description="US dollars, at most 2 decimals, 0.01 to 999,999,999.99"), _places(2)]
MoneyFilter = Annotated[Decimal, Field(ge=0, le=MAX_MONEY, decimal_places=2, allow_inf_nan=False), _places(2)]
Quantity = Annotated[Decimal, Field(gt=0, le=MAX_QUANTITY, decimal_places=3, allow_inf_nan=False,
                                    description="more than 0, at most 3 decimals, up to 99,999,999.999"), _places(3)]
QuantityFilter = Annotated[Decimal, Field(ge=0, le=MAX_QUANTITY, decimal_places=3, allow_inf_nan=False), _places(3)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Score = Percent
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]

_money = TypeAdapter(Money)
_quantity = TypeAdapter(Quantity)


def _number(adapter: TypeAdapter, value, field: str) -> Decimal:
    """Parse a form value ("1,200.50", 12, Decimal) through `adapter`; ValidationFailed names the field."""
    text = str(value).strip().replace(",", "") if value is not None else ""
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Enter a number.", field=field) from None
    try:
        return adapter.validate_python(number)
    except ValidationError as exc:
        raise ValidationFailed(_number_message(exc), field=field) from None


def _number_message(exc: ValidationError) -> str:
    """What a person reads next to the input, instead of pydantic's wording."""
    error = exc.errors()[0]
    context = error.get("ctx") or {}
    if error["type"] == "finite_number":
        return "Enter a number."
    if error["type"] in ("greater_than", "greater_than_equal"):
        return "Must be more than zero."
    if error["type"] == "less_than_equal":
        return f"At most {context['le']:,}."
    if error["type"] == "decimal_max_places":
        places = context["decimal_places"]
        return f"At most {places} decimal place{'s' if places != 1 else ''}: nothing is rounded."
    return _first_message(exc)


def money(value, field: str = "price_per_unit") -> Decimal:
    """A price or an amount from untyped input: 0.01 to MAX_MONEY, at most 2 decimals (never rounded)."""
    return _number(_money, value, field)


def quantity(value, field: str = "quantity") -> Decimal:
    """A quantity from untyped input: more than 0, up to MAX_QUANTITY, at most 3 decimals (never rounded)."""
    return _number(_quantity, value, field)


def safe_text(value: str | None, field: str, *, max_length: int) -> str:
    """Text from untyped input, stripped; refused (not cut) when too long or when it contains NUL."""
    text = (value or "").strip()
    if "\x00" in text:
        raise ValidationFailed("This text contains a NUL character.", field=field)
    if len(text) > max_length:
        raise ValidationFailed(f"At most {max_length} characters.", field=field)
    return text


def form_number(text: str | None, *, label: str, field: str, low: float, high: float,
                whole: bool = False) -> Decimal:
    """A number typed into a form: finite, within low..high, a whole number where `whole`; refused in words that
    name the field ("Margin floor (%): a number from 0 to 95.")."""
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        raise ValidationFailed(f"{label}: enter a number.", field=field) from None
    if not value.is_finite() or not low <= value <= high or (whole and value != value.to_integral_value()):
        raise ValidationFailed(f"{label}: a {'whole ' if whole else ''}number from {_plain(low)} to {_plain(high)}.",
                               field=field)
    return value


def _plain(n: float) -> str:
    """1000000 -> "1,000,000", 0.5 -> "0.5"."""
    return f"{int(n):,}" if float(n).is_integer() else f"{n:g}"


def _first_message(exc: ValidationError) -> str:
    error = exc.errors()[0]
    message = error["msg"]
    return message[0].upper() + message[1:] + "."
