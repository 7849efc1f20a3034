"""The marketplace (buyers browse, filter, sort and page through active lots) and the lot page (photos, lab
values, the COA, the seller's record, and the offer form)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

import reflex as rx
from pydantic import Field, TypeAdapter, ValidationError

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.core.validation import MAX_MONEY, MoneyFilter, Percent
from icc_app.exchange import lots, offers
from icc_app.exchange.common import business_name
from icc_app.exchange.models import LotStatus, ProductType, StrainType
from icc_app.exchange.search import LotFilters, buyer_origin, search
from icc_app.exchange.read_models import LotCard, LotDetail, lot_card, lot_detail
from icc_app.exchange.ui.common import (
    LOT_COLORS,
    choice,
    hours_from_now,
    id_in_path,
    options,
    status_badge,
    trading_business,
)
from icc_app.identity.ui.state import AuthFormState
from icc_app.quality import service as quality
from icc_app.quality.schemas import ScoreRead, score_read
from icc_app.quality.ui.components import badge, breakdown_panel
from icc_app.ui.components import card, empty_state, field_error, form_alert, labelled_input, page_header
from icc_app.ui.format import plural
from icc_app.ui.layout import app_page

MARKET = "/exchange"
SORT_LABELS = {"newest": "Newest", "price_asc": "Price: low to high", "price_desc": "Price: high to low",
               "thc": "THC", "cqi": "CQI", "distance": "Distance"}


# The filters' numbers go through the API's bounded, finite types (no NaN, inf or 1e400 reaches the search).
Miles = Annotated[float, Field(gt=0, le=3000, allow_inf_nan=False)]
FILTER_NUMBERS: dict[str, tuple[TypeAdapter, str]] = {
    "thc_min": (TypeAdapter(Percent), "Enter a percentage from 0 to 100."),
    "terpenes_min": (TypeAdapter(Percent), "Enter a percentage from 0 to 100."),
    "price_max": (TypeAdapter(MoneyFilter), f"Enter dollars and cents, at most {MAX_MONEY:,}."),
    "max_distance": (TypeAdapter(Miles), "Enter miles, more than 0 and at most 3,000."),
}


def _number(value: str, field: str, errors: dict):
    """The filter's value, None when left empty; a wrong one is a field error (never a failed search)."""
    text = (value or "").strip().replace(",", "")
    if not text:
        return None
    adapter, message = FILTER_NUMBERS[field]
    try:
        return adapter.validate_python(Decimal(text) if field == "price_max" else float(text))
    except (ValueError, ArithmeticError, ValidationError):
        errors[field] = message
        return None


class MarketState(AuthFormState):
    loaded: bool = False
    searching: bool = False
    lots: list[LotCard] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    sort: str = "newest"
    product_type: str = "any"
    strain_type: str = "any"
    safety_only: bool = False
    has_origin: bool = False
    last_form: dict[str, str] = {}

    def _run(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        errors: dict[str, str] = {}
        form = self.last_form
        filters = LotFilters(q=form.get("q", ""), product_type="" if self.product_type == "any" else self.product_type,
                             strain_type="" if self.strain_type == "any" else self.strain_type,
                             thc_min=_number(form.get("thc_min", ""), "thc_min", errors),
                             terpenes_min=_number(form.get("terpenes_min", ""), "terpenes_min", errors),
                             price_max=_number(form.get("price_max", ""), "price_max", errors),
                             max_distance_miles=_number(form.get("max_distance", ""), "max_distance", errors),
                             safety_passed=self.safety_only, sort=self.sort, page=self.page, per_page=12)
        self.errors = errors
        if errors:
            return
        with unit_of_work() as session:
            filters.origin = buyer_origin(session, trading_business(principal))
            self.has_origin = filters.origin is not None
            try:
                result = search(session, filters)
            except DomainError as exc:
                self._fail(exc)
                return
        self.lots = [lot_card(*row) for row in result.rows]
        self.total, self.pages = result.total, result.pages
        self.loaded = True

    @rx.event
    def load(self):
        self._reset_errors()
        self.page = 1
        return self._run()

    @rx.event
    def apply(self, form: dict):
        self._reset_errors()
        self.last_form = {k: str(v) for k, v in form.items()}
        self.page = 1
        return self._run()

    @rx.event
    def set_sort(self, value: str):
        self.sort, self.page = value, 1
        return self._run()

    @rx.event
    def set_product_type(self, value: str):
        self.product_type = value

    @rx.event
    def set_strain_type(self, value: str):
        self.strain_type = value

    @rx.event
    def set_safety_only(self, value: bool):
        self.safety_only = value

    @rx.event
    def go_page(self, page: int):
        self.page = max(1, min(page, self.pages))
        return self._run()


def _filters() -> rx.Component:
    err = MarketState.errors
    return rx.box(card(rx.form(rx.vstack(
        rx.heading("Filters", size="3", as_="h2"),
        labelled_input("Search", "q", "", placeholder="Strain, title, description"),
        choice("Product type", [("any", "Any")] + options(ProductType), MarketState.product_type,
               MarketState.set_product_type, "filter-product-type"),
        choice("Strain type", [("any", "Any")] + options(StrainType), MarketState.strain_type,
               MarketState.set_strain_type, "filter-strain-type"),
        labelled_input("Minimum THC %", "thc_min", err.get("thc_min", ""), input_mode="decimal"),
        labelled_input("Minimum terpenes %", "terpenes_min", err.get("terpenes_min", ""), input_mode="decimal"),
        labelled_input("Maximum price per unit ($)", "price_max", err.get("price_max", ""), input_mode="decimal"),
        labelled_input("Within miles of my premises", "max_distance", err.get("max_distance", ""), input_mode="numeric",
                       disabled=~MarketState.has_origin),
        rx.checkbox("All safety panels passed", checked=MarketState.safety_only, on_change=MarketState.set_safety_only),
        rx.button("Apply", type="submit", width="100%", id="apply-filters"),
        spacing="3", width="100%", align="start",
    ), on_submit=MarketState.apply, reset_on_submit=False)), width=rx.breakpoints(initial="100%", md="16em"),
        flex_shrink="0")


def _lot_card(lot: rx.Var) -> rx.Component:
    return rx.link(card(rx.vstack(
        rx.hstack(rx.badge(lot.type), rx.spacer(),
                  rx.cond(lot.cqi != "", badge(lot.cqi, lot.cqi_color)),
                  width="100%"),
        rx.heading(lot.title, size="4"),
        rx.text(lot.strain, size="2", color_scheme="gray"),
        rx.hstack(rx.text("THC ", rx.text.strong(lot.thc), size="2"),
                  rx.text("Terpenes ", rx.text.strong(lot.terpenes), size="2"), spacing="4"),
        rx.hstack(rx.match(lot.safety, ("passed", rx.badge("Safety passed", color_scheme="green")),
                           ("failed", rx.badge("Safety failed", color_scheme="red")),
                           rx.badge("Panels incomplete", color_scheme="amber")),
                  rx.cond(lot.distance != "", rx.badge(lot.distance, color_scheme="gray"))),
        rx.separator(size="4"),
        rx.hstack(rx.text(lot.price, weight="bold", size="4"), rx.spacer(),
                  rx.text(lot.available, " available", size="2", color_scheme="gray"), width="100%", align="center"),
        rx.text(lot.seller, size="1", color_scheme="gray"),
        spacing="2", align="start", width="100%",
    ), class_name="lot-card", height="100%"), href=MARKET + "/lots/" + lot.id, underline="none", color="inherit")


@app_page
def marketplace_page() -> rx.Component:
    return rx.vstack(
        page_header("Marketplace", "Wholesale lots from verified sellers, each with its lab results."),
        rx.flex(
            _filters(),
            rx.vstack(
                rx.hstack(rx.text(MarketState.total, " lots", weight="medium"), rx.spacer(),
                          rx.select.root(rx.select.trigger(aria_label="Sort"), rx.select.content(
                              *[rx.select.item(label, value=key) for key, label in SORT_LABELS.items()]),
                              value=MarketState.sort, on_change=MarketState.set_sort),
                          width="100%", align="center"),
                form_alert(MarketState.form_error),
                rx.cond(~MarketState.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
                        rx.cond(MarketState.lots.length() > 0,
                                rx.grid(rx.foreach(MarketState.lots, _lot_card),
                                        columns=rx.breakpoints(initial="1", md="2", lg="3"), spacing="4", width="100%"),
                                empty_state("search-x", "No lots match", "Loosen the filters, or check back: sellers "
                                            "list new lots every day."))),
                rx.hstack(rx.button("Previous", variant="soft", on_click=MarketState.go_page(MarketState.page - 1),
                                    disabled=MarketState.page <= 1),
                          rx.text("Page ", MarketState.page, " of ", MarketState.pages, size="2"),
                          rx.button("Next", variant="soft", on_click=MarketState.go_page(MarketState.page + 1),
                                    disabled=MarketState.page >= MarketState.pages),
                          align="center", spacing="3"),
                spacing="4", width="100%", min_width="0",
            ),
            gap="1.5em", width="100%", direction=rx.breakpoints(initial="column", md="row"),
        ),
        width="100%", align="start",
    )


class LotState(AuthFormState):
    loaded: bool = False
    found: bool = False
    lot: LotDetail = LotDetail()
    cqi: ScoreRead = ScoreRead()
    photos: list[str] = []  # photo ids
    is_seller: bool = False
    can_offer: bool = False
    reputation: str = ""
    offer_sent: bool = False
    offer_key: str = ""  # one per render of the offer form: a double click sends one offer
    sending: bool = False

    def _lot_id(self) -> uuid.UUID | None:
        return id_in_path(self)

    def _refresh(self, principal) -> bool:
        lot_id = self._lot_id()
        try:
            # Not tenant-scoped: the seller's public record counts orders of other businesses. The lot itself
            # comes from the scoped statement (lots.visible_lot).
            with unit_of_work() as session:
                lot = lots.visible_lot(session, principal, lot_id) if lot_id else None
                if lot is None:
                    raise DomainError("Lot not found.")
                seller = business_name(session, lot.business_id)
                record = lots.reputation(session, lot.business_id)
                scored = quality.current_score(session, lot.id)
                shadow = quality.model_score(session, lot.id)
                check = lots.strain_check(lot, lots.parsed_coa(session, lot))
                self.photos = [str(p.id) for p in lots.photos(session, lot.id)]
        except DomainError as exc:
            self.form_error, self.found = exc.message, False
            return False
        self.lot, self.found = lot_detail(lot, seller, check), True
        # The price model's view: to platform admins while in shadow mode, to everyone once promoted.
        show_model = shadow is not None and (principal.is_platform_admin or "promoted" in shadow.reason)
        self.cqi = score_read(scored, model_note=(f"{shadow.reason}: {shadow.components[0]['inputs']} "
                                                  f"(score {shadow.total:.0f})") if show_model else "")
        self.is_seller = principal.membership(lot.business_id) is not None
        self.can_offer = not self.is_seller and trading_business(principal) is not None and \
            LotStatus(lot.status) == LotStatus.active
        self.reputation = record.label + (f" · {plural(record.disputes, 'dispute')}" if record.disputes else "")
        return True

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self.offer_sent, self.sending, self.offer_key = False, False, uuid.uuid4().hex
        self._refresh(principal)
        self.loaded = True

    @rx.event
    def make_offer(self, form: dict):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        if self.offer_sent or self.sending or form.get("form_key") != self.offer_key:
            return  # a second click of a submission already handled
        self._reset_errors()
        expires_at = hours_from_now(form.get("expires_hours"), "72")
        if expires_at is None:
            self.errors = {"expires_at": "Enter a number of hours."}
            return
        self.sending = True
        yield
        try:
            with unit_of_work(tenant=principal) as session:
                offers.make_offer(session, principal=principal, buyer_business_id=trading_business(principal),
                                  lot_id=self._lot_id(), quantity=form.get("quantity"),
                                  price_per_unit=form.get("price_per_unit"), expires_at=expires_at,
                                  message=form.get("message", ""), idempotency_key=f"offer-{self.offer_key}")
        except DomainError as exc:
            self._fail(exc)
            return
        finally:
            self.sending = False
        self.offer_sent = True
        yield rx.toast.success("Offer sent. You will be notified when the seller answers.")


def _fact(label: str, value: rx.Var) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, weight="medium"), spacing="0",
                     align="start")


def _offer_form() -> rx.Component:
    err = LotState.errors
    return card(rx.cond(LotState.offer_sent, rx.vstack(
        rx.callout("Offer sent.", icon="circle-check", color_scheme="green", id="offer-sent"),
        rx.link("See your offers", href="/exchange/offers"), width="100%"),
        rx.form(rx.vstack(
            rx.heading("Make an offer", size="4", as_="h2"),
            form_alert(LotState.form_error),
            rx.grid(labelled_input("Quantity (" + LotState.lot.unit + ")", "quantity",
                                   err.get("quantity", ""), input_mode="decimal",
                                   placeholder="min " + LotState.lot.min_order),
                    labelled_input("Price per unit ($)", "price_per_unit", err.get("price_per_unit", ""),
                                   input_mode="decimal", placeholder=LotState.lot.price_value),
                    labelled_input("Open for (hours)", "expires_hours", err.get("expires_at", ""), default_value="72"),
                    columns="3", spacing="3", width="100%"),
            labelled_input("Message to the seller", "message", err.get("message", "")),
            rx.cond(LotState.lot.proof_required,
                    rx.text("This seller requires proof of funds before accepting: upload it on the offer.",
                            size="2", color_scheme="amber")),
            rx.el.input(type="hidden", name="form_key", value=LotState.offer_key),
            rx.button("Send offer", type="submit", id="send-offer", loading=LotState.sending,
                      disabled=LotState.sending),
            spacing="3", width="100%", align="start",
        ), on_submit=LotState.make_offer, reset_on_submit=False)))


@app_page
def lot_page() -> rx.Component:
    lot = LotState.lot
    return rx.cond(~LotState.loaded, rx.center(rx.spinner(size="3"), padding="3em"), rx.cond(
        ~LotState.found,
        empty_state("package-x", "Lot not found", LotState.form_error, rx.link(rx.button("Marketplace"), href=MARKET)),
        rx.vstack(
            rx.link("← Marketplace", href=MARKET, size="2"),
            page_header(lot.title, lot.strain),
            rx.hstack(status_badge(lot.status, lot.status_label, LOT_COLORS), rx.badge(lot.type),
                      rx.text("Sold by ", rx.text.strong(lot.seller), " · ", LotState.reputation, size="2"),
                      spacing="3", align="center"),
            rx.cond(LotState.photos.length() > 0, rx.hstack(rx.foreach(LotState.photos, lambda photo_id: rx.image(
                src="/api/v1/lot-photos/" + photo_id + "?thumbnail=true", height="120px", border_radius="8px",
                alt="Lot photo")), wrap="wrap", spacing="2")),
            rx.grid(
                card(rx.vstack(rx.heading("Offer terms", size="3", as_="h2"),
                               rx.grid(_fact("Price", lot.price), _fact("Available", lot.available),
                                       _fact("Minimum order", lot.min_order),
                                       _fact("Delivery", lot.delivery), columns="2", spacing="4"),
                               align="start")),
                card(rx.vstack(rx.heading("Lab results", size="3", as_="h2"),
                               rx.grid(_fact("Total THC", lot.thc), _fact("Total CBD", lot.cbd),
                                       _fact("Terpenes", lot.terpenes), _fact("Tested", lot.tested),
                                       _fact("Safety panels", lot.safety),
                                       _fact("Metrc tag", lot.metrc), columns="2", spacing="4"),
                               rx.cond(lot.coa_sample != "", rx.text(
                                   "COA sample: ", rx.text.strong(lot.coa_sample), size="2", id="coa-sample")),
                               rx.cond(lot.strain_mismatch, rx.callout(
                                   "The COA's sample name does not match this lot's strain (" + lot.strain_name
                                   + "). Ask the seller before you buy.", icon="triangle-alert", color_scheme="red",
                                   size="1", id="strain-mismatch")),
                               rx.cond(lot.coa != "",
                                       rx.link(rx.button(rx.icon("file-text", size=16), "Open the COA (PDF)",
                                                         variant="soft"),
                                               href="/api/v1/lots/" + lot.id + "/coa", is_external=True)),
                               align="start", spacing="3")),
                columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
            ),
            breakdown_panel(LotState.cqi),
            rx.cond(LotState.cqi.model != "", rx.callout(LotState.cqi.model, icon="brain", color_scheme="gray",
                                                         width="100%", id="cqi-model")),
            rx.cond(lot.description != "", card(rx.text(lot.description, white_space="pre-wrap"))),
            rx.cond(LotState.can_offer, _offer_form()),
            rx.cond(LotState.is_seller, rx.link(rx.button("Manage this lot"), href="/exchange/sell?lot=" + lot.id)),
            field_error(LotState.errors.get("coa", "")),
            spacing="4", width="100%", align="start",
        ),
    ))


def register(app: rx.App) -> None:
    app.add_page(marketplace_page, route=MARKET, title="Marketplace | ICC", on_load=MarketState.load)
    app.add_page(lot_page, route=MARKET + "/lots/[lot_id]", title="Lot | ICC", on_load=LotState.load)
