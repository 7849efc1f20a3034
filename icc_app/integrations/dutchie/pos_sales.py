"""Dutchie POS transactions and customers (GET /reporting/transactions, /customer/customers-paginated) mapped to our
sale and customer records. Pure functions, no I/O."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from icc_app.integrations import normalize
from icc_app.integrations.base import CustomerRecord, MalformedPayload, SaleLineRecord, SaleRecord
from icc_app.integrations.dutchie.pos_mapping import squash
from icc_app.integrations.http import parse_time

RETAIL_TYPES = {"", "retail"}  # transfers and wholesale orders are not sales to consumers
_CENT = Decimal("0.01")


def _amount(value: Any, *, negative: bool = False) -> Decimal:
    """A transaction amount to the cent; a return's amounts are negative whatever sign Dutchie sent."""
    amount = normalize.number(value)
    if amount is None:
        return Decimal("0")
    try:
        result = Decimal(str(abs(amount))).quantize(_CENT, ROUND_HALF_UP)
    except InvalidOperation:  # pragma: no cover - number() returns finite floats only
        return Decimal("0")
    return -result if negative else result


def _line_unit(product: dict | None) -> str:
    unit = squash((product or {}).get("defaultUnit") or (product or {}).get("unitType"))
    return "g" if unit in ("g", "gram", "grams", "weight") else "each"


def sale_record(transaction: dict, products: dict[str, dict] | None = None) -> SaleRecord | None:
    """One retail transaction (None for transfers and wholesale orders). Returns are negative; voids are flagged;
    coupon lines are left out of the lines (their discount is in the totals)."""
    if not isinstance(transaction, dict) or transaction.get("transactionId") is None:
        raise MalformedPayload("A Dutchie transaction has no transactionId.")
    external_id = str(transaction["transactionId"])
    if squash(transaction.get("transactionType")) not in RETAIL_TYPES:
        return None
    occurred_at = parse_time(transaction.get("transactionDate"))
    if occurred_at is None:
        raise MalformedPayload(f"Dutchie transaction {external_id} has no transactionDate.")
    is_return = bool(transaction.get("isReturn"))
    products = products or {}
    lines = []
    for item in transaction.get("items") or []:
        if not isinstance(item, dict) or item.get("isCoupon") or item.get("productId") is None:
            continue
        product_id = str(item["productId"])
        product = products.get(product_id)
        discount = _amount(item.get("totalDiscount"), negative=is_return)
        if not discount and item.get("discounts"):
            discount = _amount(sum(normalize.number(d.get("amount")) or 0 for d in item["discounts"]
                                   if isinstance(d, dict)), negative=is_return)
        quantity = normalize.number(item.get("quantity")) or 0.0
        lines.append(SaleLineRecord(
            product_external_id=product_id,
            name=normalize.text((product or {}).get("onlineTitle") or (product or {}).get("productName"), 300) or "",
            category=normalize.category((product or {}).get("category"), (product or {}).get("masterCategory"))
            if product else None,
            quantity=Decimal(str(round(-abs(quantity) if is_return else abs(quantity), 3))),
            unit=_line_unit(product), unit_price=_amount(item.get("unitPrice")), discount=discount,
            total=_amount(item.get("totalPrice"), negative=is_return),
            unit_cost=_amount(item["unitCost"]) if item.get("unitCost") is not None else None))
    customer = transaction.get("customerId")
    tax = _amount(transaction.get("tax"), negative=is_return)
    if not tax and transaction.get("taxSummary"):
        tax = _amount(sum(normalize.number(t.get("amount")) or 0 for t in transaction["taxSummary"]
                          if isinstance(t, dict)), negative=is_return)
    return SaleRecord(
        external_id=external_id, occurred_at=occurred_at,
        customer_external_id=str(customer) if customer not in (None, "", 0, "0") and (
            normalize.number(customer) or 0) > 0 else None,
        subtotal=_amount(transaction.get("subtotal"), negative=is_return),
        discount=_amount(transaction.get("totalDiscount"), negative=is_return), tax=tax,
        total=_amount(transaction.get("total"), negative=is_return), is_return=is_return,
        is_void=bool(transaction.get("isVoid")), lines=lines, raw=transaction)


# ----------------------------------------------------------------------------------------------- customers


def _customer_type(value: Any) -> str | None:
    text = squash(value)
    if not text:
        return None
    if "med" in text or "patient" in text:
        return "medical"
    if "rec" in text or "adult" in text or "retail" in text:
        return "recreational"
    return None


def customer_record(customer: dict) -> CustomerRecord | None:
    """One POS customer (None for a record merged into another: the survivor carries the history)."""
    if not isinstance(customer, dict) or customer.get("customerId") is None:
        raise MalformedPayload("A Dutchie customer has no customerId.")
    if customer.get("mergedIntoCustomerId"):
        return None
    full = " ".join(part for part in (customer.get("firstName"), customer.get("lastName")) if part)
    state = normalize.text(customer.get("state"), 20)
    return CustomerRecord(
        external_id=str(customer["customerId"]), name=normalize.text(full or customer.get("name"), 200),
        email=normalize.text(customer.get("emailAddress"), 254),
        phone=normalize.text(customer.get("cellPhone") or customer.get("phone"), 40),
        birth_date=normalize.day(customer.get("dateOfBirth")), customer_type=_customer_type(customer.get("customerType")),
        email_opt_in=customer.get("optedIntoMarketing") if isinstance(customer.get("optedIntoMarketing"), bool) else None,
        sms_opt_in=None, state=state.upper() if state and len(state) == 2 else None,
        postal_code=normalize.text(customer.get("postalCode"), 10),
        created_at=_time_or_none(customer.get("creationDate")), raw=customer)


def _time_or_none(value: Any):
    try:
        return parse_time(value)
    except MalformedPayload:  # an unreadable creation date is not worth failing the customer sync for
        return None
