"""Shared by the exchange pages: the business a person trades for, and how money, quantities and statuses read."""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import reflex as rx

from icc_app.core.models import utcnow
from icc_app.exchange.read_models import money, pct, qty  # noqa: F401 - the pages' formatting, in one place
from icc_app.identity.models import Product
from icc_app.identity.permissions import has_product
from icc_app.identity.schemas import Principal
from icc_app.ui.components import field_label
from icc_app.ui.format import label

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


def id_in_path(state: rx.State) -> uuid.UUID | None:
    """The id a detail page's URL ends with (/exchange/lots/<id>, /exchange/orders/<id>); None when malformed."""
    try:
        return uuid.UUID(state.router.url.path.rstrip("/").rsplit("/", 1)[-1])
    except ValueError:
        return None


def hours_from_now(value: str | None, default: str) -> datetime | None:
    """An offer's "open for (hours)" as an expiry; None when it is not a number. A huge or NaN/infinite entry
    (1E+400) would overflow timedelta, so it is capped at a year and the offer service says what the limit is."""
    try:
        hours = float((value or "").strip() or default)
    except ValueError:
        return None
    if math.isnan(hours):
        return None
    hours = max(-24 * 366, min(24 * 366, hours))
    return utcnow() + timedelta(hours=hours)


def options(values: Iterable[enum.Enum | str]) -> list[tuple[str, str]]:
    """(value, label) pairs of an enum or list of values, in people's words (pre_roll -> Pre-roll)."""
    return [(str(getattr(v, "value", v)), label(v)) for v in values]


def choice(title: str, items: list[tuple[str, str]], value: rx.Var, on_change, name: str,
           placeholder: str | None = None) -> rx.Component:
    """A labelled select whose options show labels and send values; with a placeholder it starts unchosen."""
    return rx.vstack(
        field_label(title, name),
        rx.select.root(rx.select.trigger(id=name, aria_label=title, width="100%", placeholder=placeholder),
                       rx.select.content(*[rx.select.item(text, value=key) for key, text in items]),
                       value=value, on_change=on_change),
        spacing="1", width="100%", align="start")


def status_badge(status: rx.Var, text: rx.Var, colors: dict[str, str]) -> rx.Component:
    """A status in words, coloured by its value."""
    return rx.badge(text, color_scheme=rx.match(status, *[(k, v) for k, v in colors.items()], "gray"))


def submit_button(text: str, pending: rx.Var, **props) -> rx.Component:
    """A form's submit: disabled and spinning while its handler runs, so a double click submits once."""
    return rx.button(text, type="submit", loading=pending, disabled=pending, **props)


PAGE_SIZE = 20
SIDES = [("all", "Buying and selling"), ("buying", "Buying"), ("selling", "Selling")]


class PagedListState(rx.State, mixin=True):
    """What every exchange list page shares: side and status filters and the page number; a change of either
    filter goes back to page 1. The page defines `_reload()` and reads its window with `_window()`."""

    status: str = "all"
    side: str = "all"
    page: int = 1
    has_more: bool = False

    def _reload(self):
        raise NotImplementedError

    def _window(self) -> tuple[int, int]:
        """(limit, offset): one row more than a page, to know whether there is a next one."""
        return PAGE_SIZE + 1, (self.page - 1) * PAGE_SIZE

    def _paged(self, rows: list) -> list:
        self.has_more = len(rows) > PAGE_SIZE
        return rows[:PAGE_SIZE]

    def _filters(self) -> tuple[str, str | None]:
        return self.side, None if self.status == "all" else self.status

    @rx.event
    def set_status(self, value: str):
        self.status, self.page = value, 1
        return self._reload()

    @rx.event
    def set_side(self, value: str):
        self.side, self.page = value, 1
        return self._reload()

    @rx.event
    def go_page(self, page: int):
        self.page = max(1, page)
        return self._reload()


def list_controls(state, statuses: Iterable[str], noun: str) -> rx.Component:
    """The filter and paging bar above a PagedListState's table."""
    return rx.hstack(
        rx.box(choice("Side", SIDES, state.side, state.set_side, f"{noun}-side"), width="13em"),
        rx.box(choice("Status", [("all", "All")] + options(statuses), state.status, state.set_status,
                      f"{noun}-status"), width="11em"),
        rx.spacer(),
        rx.button("Previous", variant="soft", disabled=state.page <= 1, on_click=state.go_page(state.page - 1)),
        rx.text("Page ", state.page, size="2"),
        rx.button("Next", variant="soft", disabled=~state.has_more, on_click=state.go_page(state.page + 1)),
        width="100%", align="end", spacing="2", wrap="wrap")
