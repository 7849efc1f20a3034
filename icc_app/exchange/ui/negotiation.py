"""Offers inbox: every negotiation thread of the business (selling and buying), the rounds of the selected one,
and the answers its turn allows: accept, reject, counter, withdraw, and the buyer's proof of funds."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.exchange import offers
from icc_app.exchange.common import business_name
from icc_app.exchange.models import OfferStatus, PaymentMethod, PaymentTerms
from icc_app.exchange.read_models import OfferThread, RoundRead, offer_thread, round_read
from icc_app.exchange.ui.common import (
    OFFER_COLORS,
    PagedListState,
    choice,
    hours_from_now,
    list_controls,
    options,
    status_badge,
    submit_button,
    trading_business,
)
from icc_app.identity.ui.state import AuthFormState
from icc_app.ui.components import card, empty_state, field_error, form_alert, labelled_input, page_header
from icc_app.ui.layout import app_page

OFFERS = "/exchange/offers"
POF_UPLOAD = "proof-of-funds"


class OffersState(PagedListState, AuthFormState):
    loaded: bool = False
    threads: list[OfferThread] = []
    selected: OfferThread = OfferThread()
    rounds: list[RoundRead] = []
    payment_method: str = "wire"
    payment_terms: str = "prepay"
    pending: bool = False

    def _refresh(self, principal) -> None:
        business_id = trading_business(principal)
        if business_id is None:
            self.threads = []
            return
        wanted = self.selected.id or self.router.url.query_parameters.get("offer", "")
        side, status = self._filters()
        limit, offset = self._window()
        with unit_of_work(tenant=principal) as session:
            rows = self._paged(offers.list_offers(session, principal=principal, business_id=business_id, side=side,
                                                  status=status, limit=limit, offset=offset))
            self.threads = [offer_thread(offer, lot, business_id, business_name(
                session, offer.seller_business_id if offer.buyer_business_id == business_id
                else offer.buyer_business_id)) for offer, lot in rows]
            chosen = next((t for t in self.threads if t.id == wanted), None)
            self.selected = chosen or OfferThread()
            self.rounds = [round_read(r, chosen.unit) for r in offers.rounds(
                session, principal=principal, offer_id=uuid.UUID(chosen.id))] if chosen else []

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self.selected, self.pending = OfferThread(), False
        self._refresh(principal)
        self.loaded = True

    @rx.event
    def select(self, offer_id: str):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self.selected = OfferThread(id=offer_id)
        self._refresh(principal)

    def _reload(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._refresh(principal)

    @rx.event
    def set_payment_method(self, value: str):
        self.payment_method = value

    @rx.event
    def set_payment_terms(self, value: str):
        self.payment_terms = value

    def _act(self, action, success: str, seen: str = ""):
        """One answer to the selected thread; ignored when the page showed another round (a double click)."""
        if self.pending or not self.selected.id or (seen and seen != self.selected.expires + self.selected.status):
            return
        offer_id = uuid.UUID(self.selected.id)
        self.pending = True
        yield
        try:
            outcome = self._perform(lambda session, principal: action(session, principal, offer_id), success,
                                    then=lambda result: [rx.redirect(f"/exchange/orders/{result.id}")]
                                    if hasattr(result, "reference") else [])
        finally:
            self.pending = False
        yield outcome

    @rx.event
    def accept(self, seen: str):
        return self._act(lambda s, p, i: offers.accept(s, principal=p, offer_id=i,
                                                       payment_method=PaymentMethod(self.payment_method),
                                                       payment_terms=PaymentTerms(self.payment_terms)),
                         "Accepted: the order is created.", seen)

    @rx.event
    def reject(self, seen: str):
        return self._act(lambda s, p, i: offers.reject(s, principal=p, offer_id=i), "Offer rejected.", seen)

    @rx.event
    def withdraw(self, seen: str):
        return self._act(lambda s, p, i: offers.withdraw(s, principal=p, offer_id=i), "Offer withdrawn.", seen)

    @rx.event
    def counter(self, form: dict):
        expires_at = hours_from_now(form.get("hours"), "48")
        if expires_at is None:
            self.errors = {"expires_at": "Enter a number of hours."}
            return
        return self._act(lambda s, p, i: offers.counter(s, principal=p, offer_id=i, quantity=form.get("quantity"),
                                                        price_per_unit=form.get("price_per_unit"),
                                                        expires_at=expires_at, message=form.get("message", "")),
                         "Counter-offer sent.", form.get("seen", ""))

    @rx.event
    async def upload_pof(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        if not files or not self.selected.id:
            return
        data = await files[0].read()
        try:
            with unit_of_work(tenant=principal) as session:
                offers.attach_proof_of_funds(session, principal=principal, offer_id=uuid.UUID(self.selected.id),
                                             data=data, filename=files[0].name or "proof-of-funds")
        except DomainError as exc:
            self.errors = {"proof_of_funds": exc.message}
            return
        self._refresh(principal)
        yield rx.toast.success("Proof of funds uploaded; the seller can see it.")


def _thread_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.button(row.lot, variant="ghost", on_click=OffersState.select(row.id))),
        rx.table.cell(rx.badge(rx.cond(row.side == "buyer", "Buying", "Selling"), variant="outline")),
        rx.table.cell(row.counterpart), rx.table.cell(row.terms),
        rx.table.cell(status_badge(row.status, row.status_label, OFFER_COLORS),
                      rx.cond(row.my_turn, rx.badge("your turn", color_scheme="amber", margin_left="0.4em"))),
        rx.table.cell(row.expires, size="1"),
        class_name="offer-row",
    )


def _detail() -> rx.Component:
    sel = OffersState.selected
    err = OffersState.errors
    seen = sel.expires + sel.status  # which round the buttons were shown for
    return card(rx.vstack(
        rx.hstack(rx.heading(sel.lot, size="4", as_="h2"), status_badge(sel.status, sel.status_label, OFFER_COLORS),
                  rx.spacer(), rx.link("Lot page", href="/exchange/lots/" + sel.lot_id, size="2"),
                  width="100%", align="center"),
        rx.text("With ", rx.text.strong(sel.counterpart), " · current terms ",
                rx.text.strong(sel.terms), " (", sel.total, ")", size="2"),
        rx.vstack(rx.foreach(OffersState.rounds, lambda r: rx.hstack(
            rx.badge(r.party, variant="soft"), rx.text(r.action, weight="medium", size="2"),
            rx.text(r.terms, size="2"), rx.text(r.message, size="2", color_scheme="gray"), rx.spacer(),
            rx.text(r.when, size="1", color_scheme="gray"), width="100%", class_name="offer-round")),
            width="100%", spacing="1"),
        form_alert(OffersState.form_error),
        rx.cond(sel.pof != "",
                rx.link(rx.hstack(rx.icon("paperclip", size=14), rx.text("Proof of funds: " + sel.pof)),
                        href="/api/v1/offers/" + sel.id + "/proof-of-funds", is_external=True)),
        rx.cond((sel.side == "buyer") & sel.open, rx.vstack(
            rx.upload(rx.text("Upload proof of funds (bank letter, PDF or image)"), id=POF_UPLOAD, max_files=1,
                      accept={"application/pdf": [".pdf"], "image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]},
                      on_drop=OffersState.upload_pof(rx.upload_files(upload_id=POF_UPLOAD)),
                      border=f"1px dashed {rx.color('gray', 7)}", border_radius="10px", padding="0.8em", width="100%",
                      class_name="pof-dropzone"),
            field_error(err.get("proof_of_funds", "")), width="100%")),
        rx.cond(sel.my_turn, rx.vstack(
            rx.hstack(
                rx.box(choice("Payment method", options(PaymentMethod), OffersState.payment_method,
                              OffersState.set_payment_method, "payment-method"), width="12em"),
                rx.box(choice("Payment terms", options(PaymentTerms), OffersState.payment_terms,
                              OffersState.set_payment_terms, "payment-terms"), width="10em"),
                rx.button("Accept", color_scheme="green", on_click=OffersState.accept(seen), id="accept-offer",
                          loading=OffersState.pending, disabled=OffersState.pending),
                rx.button("Reject", variant="soft", color_scheme="red", on_click=OffersState.reject(seen),
                          disabled=OffersState.pending),
                wrap="wrap", spacing="2", align="end"),
            field_error(err.get("proof_of_funds", "")),
            rx.form(rx.vstack(
                rx.text("Or counter:", weight="medium", size="2"),
                rx.el.input(type="hidden", name="seen", value=seen),
                rx.grid(labelled_input("Quantity", "quantity", err.get("quantity", ""), default_value=sel.quantity),
                        labelled_input("Price per unit ($)", "price_per_unit", err.get("price_per_unit", "")),
                        labelled_input("Open for (hours)", "hours", err.get("expires_at", ""), default_value="48"),
                        columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%"),
                labelled_input("Message", "message", err.get("message", "")),
                submit_button("Send counter-offer", OffersState.pending, id="send-counter"),
                width="100%", align="start"), on_submit=OffersState.counter, reset_on_submit=False),
            width="100%", spacing="3")),
        rx.cond(sel.open & ~sel.my_turn, rx.hstack(
            rx.text("Waiting for their answer.", size="2", color_scheme="gray"),
            rx.button("Withdraw my offer", variant="soft", color_scheme="red", on_click=OffersState.withdraw(seen),
                      disabled=OffersState.pending))),
        spacing="3", width="100%", align="start", id="offer-detail",
    ))


@app_page
def offers_page() -> rx.Component:
    return rx.vstack(
        page_header("Offers", "Negotiations on your lots and on the lots you want."),
        rx.cond(~OffersState.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"), rx.vstack(
            rx.cond(OffersState.selected.id != "", _detail()),
            list_controls(OffersState, list(OfferStatus), "offers"),
            rx.cond(OffersState.threads.length() > 0,
                    rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                                 ("Lot", "Side", "With", "Terms", "Status", "Expires")])),
                                  rx.table.body(rx.foreach(OffersState.threads, _thread_row)), width="100%",
                                  variant="surface"),
                    empty_state("handshake", "No offers yet", "Offers you make on the marketplace, and offers buyers "
                                "make on your lots, appear here.", rx.link(rx.button("Browse lots"), href="/exchange"))),
            width="100%", spacing="4")),
        width="100%", align="start",
    )


def register(app: rx.App) -> None:
    app.add_page(offers_page, route=OFFERS, title="Offers | ICC", on_load=OffersState.load)
