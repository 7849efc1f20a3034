"""Shared by the exchange pages: the business a person trades for, and how money, quantities and statuses read."""

from __future__ import annotations

import uuid
from decimal import Decimal

import reflex as rx

from icc_app.exchange.lots import qty_text
from icc_app.identity.models import Product
from icc_app.identity.permissions import has_product
from icc_app.identity.schemas import Principal

ORDER_COLORS = {"pending": "amber", "confirmed": "blue", "in_transit": "iris", "received": "green",
                "cancelled": "gray", "disputed": "red"}
OFFER_COLORS = {"open": "amber", "accepted": "green", "rejected": "red", "withdrawn": "gray", "expired": "gray",
                "closed": "gray"}
LOT_COLORS = {"draft": "gray", "active": "green", "paused": "amber", "sold_out": "blue", "expired": "gray",
              "withdrawn": "red"}


def trading_business(principal: Principal) -> uuid.UUID | None:
    """The business the person trades for: the first one that gave them the exchange."""
    membership = next((m for m in principal.memberships if has_product(m, Product.exchange)), None)
    return membership.business_id if membership else None


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def qty(value: Decimal | None, unit: str = "") -> str:
    return "—" if value is None else f"{qty_text(value)} {unit}".strip()


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def status_badge(status: rx.Var, colors: dict[str, str]) -> rx.Component:
    return rx.badge(status.to(str).replace("_", " "),
                    color_scheme=rx.match(status, *[(k, v) for k, v in colors.items()], "gray"))
