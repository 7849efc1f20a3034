"""Orders: the list (buying and selling) and the order page with its timeline, the two payment marks, the
actions the person's side may take, and the dispute thread."""

from __future__ import annotations

import uuid
from datetime import date

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.exchange import disputes, orders
from icc_app.exchange.common import business_name
from icc_app.exchange.disputes import REASONS
from icc_app.exchange.models import Lot, Offer, OrderStatus
from icc_app.exchange.read_models import (
    DisputeRead,
    EventRead,
    MessageRead,
    OrderDetail,
    OrderRow,
    dispute_read,
    message_read,
    order_detail,
    order_event,
    order_row,
)
from icc_app.exchange.ui.metrc_panel import MetrcOrderState, metrc_panel
from icc_app.exchange.ui.common import (
    id_in_path,
    ORDER_COLORS,
    PagedListState,
    choice,
    list_controls,
    options,
    status_badge,
    submit_button,
    trading_business,
)
from icc_app.identity.ui.state import AuthFormState
from icc_app.ui.components import card, empty_state, field_error, form_alert, labelled_input, page_header
from icc_app.ui.layout import app_page

ORDERS = "/exchange/orders"
EVIDENCE_UPLOAD = "dispute-evidence"


class OrderListState(PagedListState, AuthFormState):
    loaded: bool = False
    rows: list[OrderRow] = []

    @rx.event
    def load(self):
        self.page = 1
        return self._reload()

    def _reload(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        business_id = trading_business(principal)
        self.rows = []
        if business_id is not None:
            side, status = self._filters()
            limit, offset = self._window()
            with unit_of_work(tenant=principal) as session:
                found = self._paged(orders.list_orders(session, principal=principal, business_id=business_id,
                                                       side=side, status=status, limit=limit, offset=offset))
                self.rows = [order_row(order, lot, business_id, business_name(
                    session, order.seller_business_id if order.buyer_business_id == business_id
                    else order.buyer_business_id)) for order, lot in found]
        self.loaded = True


def _order_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row.reference, href=ORDERS + "/" + row.id)),
        rx.table.cell(row.lot), rx.table.cell(rx.badge(row.side_label, variant="outline")),
        rx.table.cell(row.counterpart), rx.table.cell(row.quantity), rx.table.cell(row.total),
        rx.table.cell(status_badge(row.status, row.status_label, ORDER_COLORS)),
        rx.table.cell(status_badge(row.payment, row.payment_label, {"paid": "green", "mismatch": "red"})),
        rx.table.cell(row.created),
    )


@app_page
def orders_page() -> rx.Component:
    return rx.vstack(
        page_header("Orders", "Everything you bought and sold, with payment status."),
        list_controls(OrderListState, list(OrderStatus), "orders"),
        rx.cond(~OrderListState.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
                rx.cond(OrderListState.rows.length() > 0,
                        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                            "Order", "Lot", "Side", "With", "Quantity", "Total", "Status", "Payment", "Created")])),
                            rx.table.body(rx.foreach(OrderListState.rows, _order_row)), width="100%", variant="surface"),
                        empty_state("receipt", "No orders yet", "An accepted offer becomes an order here."))),
        width="100%", align="start",
    )


class OrderState(AuthFormState):
    loaded: bool = False
    found: bool = False
    order: OrderDetail = OrderDetail()
    party: str = ""
    events: list[EventRead] = []
    dispute: DisputeRead = DisputeRead()
    messages: list[MessageRead] = []
    reason: str = ""  # no default: the person picks what went wrong (an in-transit order may well arrive)
    pending: bool = False  # an action is running: its buttons are disabled
    dialog: str = ""  # "ship" / "receive" while its confirmation dialog is open
    dispute_key: str = ""

    def _order_id(self) -> uuid.UUID | None:
        return id_in_path(self)

    def _refresh(self, principal) -> None:
        order_id = self._order_id()
        try:
            with unit_of_work(tenant=principal) as session:
                if order_id is None:
                    raise DomainError("Order not found.")
                order, party = orders.load(session, principal, order_id)
                lot = session.get(Lot, order.lot_id)
                offer = session.get(Offer, order.offer_id)
                self.party = party
                self.order = order_detail(order, lot, offer, buyer=business_name(session, order.buyer_business_id),
                                          seller=business_name(session, order.seller_business_id))
                self.events = [order_event(e) for e in orders.events(session, principal=principal, order_id=order.id)]
                found = disputes.for_order(session, principal=principal, order_id=order.id)
                self.dispute, self.messages = DisputeRead(), []
                if found is not None:
                    _, thread = disputes.thread(session, principal=principal, dispute_id=found.id)
                    self.dispute, self.messages = dispute_read(found), [message_read(m) for m in thread]
            self.found = True
        except DomainError as exc:
            self.found, self.form_error = False, exc.message

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self.pending, self.dialog, self.dispute_key, self.reason = False, "", uuid.uuid4().hex, ""
        self._refresh(principal)
        self.loaded = True

    @rx.var
    def snapshot(self) -> str:
        """What the page showed when a button was pressed: status and payment marks."""
        return f"{self.order.status}|{bool(self.order.sent)}|{bool(self.order.received)}"

    def _run(self, action, success: str, *, seen: str | None = None):
        """Run one button's action: its buttons are disabled while it runs (the first yield sends that), and a
        click made on a page that showed another status (a double click, a stale tab) does nothing."""
        if self.pending or (seen is not None and seen != self.snapshot):
            return
        order_id = uuid.UUID(self.order.id)
        self.pending = True
        yield
        try:
            outcome = self._perform(lambda session, principal: action(session, principal, order_id), success)
            if not self.errors and not self.form_error:
                self.dialog = ""
        finally:
            self.pending = False
        yield outcome

    @rx.event
    def open_dialog(self, verb: str):
        self._reset_errors()
        self.dialog = verb

    @rx.event
    def set_dialog_open(self, is_open: bool):
        if not is_open:
            self.dialog = ""

    @rx.event
    def act(self, verb: str, seen: str):
        return self._run(lambda s, p, i: orders.act(s, principal=p, order_id=i, verb=verb),
                         {"confirm": "Order confirmed.", "cancel": "Order cancelled."}.get(verb, "Done."), seen=seen)

    @rx.event
    def ship(self, form: dict):
        return self._run(lambda s, p, i: orders.act(s, principal=p, order_id=i, verb="ship",
                                                    manifest_number=form.get("manifest_number"),
                                                    carrier=form.get("carrier"),
                                                    tracking_number=form.get("tracking_number")),
                         "Marked as shipped.", seen=form.get("seen", ""))

    @rx.event
    def receive(self, form: dict):
        return self._run(lambda s, p, i: orders.act(s, principal=p, order_id=i, verb="receive",
                                                    received_qty=form.get("received_qty"), note=form.get("note", "")),
                         "Marked as received.", seen=form.get("seen", ""))

    @rx.event
    def payment_sent(self, form: dict):
        try:
            sent_on = date.fromisoformat(form["sent_on"]) if form.get("sent_on") else None
        except ValueError:
            self.errors = {"sent_on": "Enter a date."}
            return
        return self._run(lambda s, p, i: orders.mark_payment_sent(s, principal=p, order_id=i, reference=form.get("reference", ""),
                                                                  amount=form.get("amount"), sent_on=sent_on),
                         "Payment marked as sent.", seen=form.get("seen", ""))

    @rx.event
    def payment_received(self, form: dict):
        return self._run(lambda s, p, i: orders.mark_payment_received(s, principal=p, order_id=i, amount=form.get("amount")),
                         "Payment marked as received.", seen=form.get("seen", ""))

    @rx.event
    def set_reason(self, value: str):
        self.reason = value

    @rx.event
    def open_dispute(self, form: dict):
        return self._run(lambda s, p, i: disputes.open_dispute(s, principal=p, order_id=i, reason=self.reason,
                                                               description=form.get("description", ""),
                                                               idempotency_key=self.dispute_key),
                         "Dispute opened: platform administrators will step in.", seen=form.get("seen", ""))

    @rx.event
    def post(self, form: dict):
        return self._run(lambda s, p, i: disputes.post_message(s, principal=p, dispute_id=uuid.UUID(self.dispute.id),
                                                               body=form.get("body", "")), "Message sent.")

    @rx.event
    async def upload_evidence(self, files: list[rx.UploadFile]):
        if not files or not self.dispute.id:
            return
        evidence = [(await f.read(), f.name or "evidence") for f in files[:5]]
        yield self._run(lambda s, p, i: disputes.post_message(
            s, principal=p, dispute_id=uuid.UUID(self.dispute.id),
            body="Evidence: " + ", ".join(name for _, name in evidence), evidence=evidence), "Evidence attached.")


def _seen() -> rx.Component:
    """Every form says which state of the order it was shown for (see OrderState._run)."""
    return rx.el.input(type="hidden", name="seen", value=OrderState.snapshot)


def _payment_card() -> rx.Component:
    o, err = OrderState.order, OrderState.errors
    return card(rx.vstack(
        rx.hstack(rx.heading("Payment", size="4", as_="h2"),
                  rx.cond(o.paid, rx.badge("Paid: both sides confirmed", color_scheme="green"),
                          rx.badge("Not settled", color_scheme="amber")),
                  rx.cond(o.mismatch, rx.badge("Amounts do not match", color_scheme="red")),
                  align="center", spacing="2"),
        rx.text(o.method, " · ", o.terms, " · total ", rx.text.strong(o.total), size="2"),
        rx.text("Buyer: ", rx.cond(o.sent != "", "sent " + o.sent, "not marked yet"), size="2",
                id="payment-sent-status"),
        rx.text("Seller: ", rx.cond(o.received != "", "received " + o.received, "not marked yet"),
                size="2", id="payment-received-status"),
        rx.cond((OrderState.party == "buyer") & (o.sent == ""), rx.form(rx.hstack(
            _seen(),
            rx.box(labelled_input("Reference", "reference", err.get("reference", "")), width="12em"),
            rx.box(labelled_input("Amount ($)", "amount", err.get("amount", ""), default_value=o.total_value),
                   width="9em"),
            rx.box(labelled_input("Sent on", "sent_on", err.get("sent_on", ""), type="date"), width="10em"),
            submit_button("I sent the payment", OrderState.pending, id="mark-sent"), align="end", wrap="wrap"),
            on_submit=OrderState.payment_sent, reset_on_submit=False)),
        rx.cond((OrderState.party == "seller") & (o.received == ""), rx.form(rx.hstack(
            _seen(),
            rx.box(labelled_input("Amount received ($)", "amount", err.get("amount", ""),
                                  default_value=o.total_value), width="12em"),
            submit_button("I received the payment", OrderState.pending, id="mark-received"), align="end"),
            on_submit=OrderState.payment_received, reset_on_submit=False)),
        rx.cond(o.pof != "", rx.link("Buyer's proof of funds: " + o.pof,
                                     href="/api/v1/offers/" + o.offer_id + "/proof-of-funds",
                                     is_external=True, size="2")),
        spacing="3", align="start", width="100%",
    ))


def _confirm_dialog(verb: str, title: str, description: str, fields: list[rx.Component], confirm: str,
                    on_submit) -> rx.Component:
    """Ship and receive cannot be undone: a dialog asks for their details and a second, deliberate click."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(description, size="2", margin_bottom="1em"),
            rx.form(rx.vstack(
                _seen(), form_alert(OrderState.form_error), *fields,
                rx.hstack(rx.dialog.close(rx.button("Not yet", variant="soft", color_scheme="gray", type="button")),
                          submit_button(confirm, OrderState.pending, id=f"confirm-{verb}"),
                          justify="end", width="100%", spacing="3"),
                spacing="3", width="100%"), on_submit=on_submit, reset_on_submit=False),
            id=f"{verb}-dialog", max_width="28em"),
        open=OrderState.dialog == verb, on_open_change=OrderState.set_dialog_open)


def _actions() -> rx.Component:
    o, party, err = OrderState.order, OrderState.party, OrderState.errors
    status = o.status
    return rx.hstack(
        rx.cond((party == "seller") & (status == "pending"),
                rx.button("Confirm order", on_click=OrderState.act("confirm", OrderState.snapshot),
                          loading=OrderState.pending, disabled=OrderState.pending, id="confirm-order")),
        rx.cond((party == "seller") & (status == "confirmed"),
                rx.hstack(rx.button("Mark shipped…", on_click=OrderState.open_dialog("ship"),
                                    disabled=OrderState.pending | (o.ship_blocked != ""), id="ship-order",
                                    aria_describedby=rx.cond(o.ship_blocked != "", "ship-blocked", "")),
                          rx.cond(o.ship_blocked != "", rx.text(o.ship_blocked, size="2", color_scheme="gray",
                                                                id="ship-blocked")),
                          align="center", wrap="wrap")),
        # an order travelling on a Metrc manifest is received through Metrc (the panel below), package by package
        rx.cond((party == "buyer") & (status == "in_transit") & ~MetrcOrderState.can_receive,
                rx.button("Mark received…", on_click=OrderState.open_dialog("receive"), disabled=OrderState.pending,
                          id="receive-order")),
        rx.cond(((status == "pending") | (status == "confirmed")) & (party != "admin"),
                rx.button("Cancel order", variant="soft", color_scheme="red", loading=OrderState.pending,
                          disabled=OrderState.pending, on_click=OrderState.act("cancel", OrderState.snapshot))),
        _confirm_dialog("ship", "Ship order " + o.reference,
                        "The buyer is told it is on its way; this cannot be undone.",
                        [labelled_input("Transfer manifest number", "manifest_number", err.get("manifest_number", ""),
                                        hint="The Metrc manifest of this transfer, when there is one."),
                         labelled_input("Carrier", "carrier", err.get("carrier", ""),
                                        placeholder="Your own vehicle, or the licensed transporter"),
                         labelled_input("Tracking number", "tracking_number", err.get("tracking_number", ""))],
                        "Ship it", OrderState.ship),
        _confirm_dialog("receive", "Receive order " + o.reference,
                        "Count what arrived: less than ordered is recorded, and you can still open a dispute.",
                        [labelled_input("Quantity received (" + o.unit + ")", "received_qty",
                                        err.get("received_qty", ""), default_value=o.quantity_value,
                                        input_mode="decimal"),
                         labelled_input("Note (optional)", "note", err.get("note", ""))],
                        "It arrived", OrderState.receive),
        spacing="2", wrap="wrap",
    )


def _dispute_card() -> rx.Component:
    d = OrderState.dispute
    open_form = rx.form(rx.vstack(
        rx.heading("Something wrong?", size="3", as_="h2"),
        _seen(),
        rx.box(choice("Reason", options(REASONS), OrderState.reason, OrderState.set_reason, "dispute-reason",
                      placeholder="Choose a reason"),
               width="18em"),
        field_error(OrderState.errors.get("reason", "")),
        labelled_input("What happened", "description", OrderState.errors.get("description", ""),
                       placeholder="At least 20 characters: what you expected, what you got"),
        submit_button("Open a dispute", OrderState.pending, variant="soft", color_scheme="red", id="open-dispute"),
        align="start", width="100%"), on_submit=OrderState.open_dispute, reset_on_submit=False)
    thread = rx.vstack(
        rx.hstack(rx.heading("Dispute", size="4", as_="h2"), rx.badge(d.status_label),
                  rx.text(d.reason, size="2"), align="center"),
        rx.foreach(OrderState.messages, lambda m: rx.box(
            rx.hstack(rx.badge(m.party), rx.text(m.when, size="1", color_scheme="gray")),
            rx.text(m.body, size="2", white_space="pre-wrap"),
            rx.cond(m.evidence != "", rx.text("Attached: " + m.evidence, size="1")),
            padding="0.5em", border_left=f"3px solid {rx.color('accent', 6)}", width="100%", class_name="dispute-message")),
        rx.cond(d.status == "open", rx.vstack(
            rx.form(rx.hstack(rx.box(labelled_input("Message", "body", OrderState.errors.get("body", "")), flex="1"),
                              submit_button("Send", OrderState.pending), align="end", width="100%"),
                    on_submit=OrderState.post, reset_on_submit=True, width="100%"),
            rx.upload(rx.text("Attach evidence (photos, PDFs)", size="2"), id=EVIDENCE_UPLOAD, max_files=5,
                      on_drop=OrderState.upload_evidence(rx.upload_files(upload_id=EVIDENCE_UPLOAD)),
                      border=f"1px dashed {rx.color('gray', 7)}", border_radius="10px", padding="0.6em", width="100%"),
            width="100%"),
            rx.callout("Decision (" + d.resolution + "): " + d.decision, icon="gavel",
                       color_scheme="blue", width="100%", id="dispute-decision")),
        spacing="3", width="100%", align="start",
    )
    return card(rx.cond(d.id != "", thread, rx.cond(OrderState.party != "admin", open_form)))


@app_page
def order_page() -> rx.Component:
    o = OrderState.order
    return rx.cond(~OrderState.loaded, rx.center(rx.spinner(size="3"), padding="3em"), rx.cond(
        ~OrderState.found, empty_state("receipt", "Order not found", OrderState.form_error),
        rx.vstack(
            rx.link("← Orders", href=ORDERS, size="2"),
            page_header("Order " + o.reference, o.lot),
            rx.hstack(status_badge(o.status, o.status_label, ORDER_COLORS),
                      rx.text(o.seller, " → ", o.buyer, size="2"),
                      rx.text(o.quantity, " at ", o.price, size="2"), spacing="3", align="center",
                      id="order-status", wrap="wrap"),
            rx.cond(o.shipment != "", rx.text("Shipped: ", o.shipment, size="2", id="order-shipment")),
            rx.cond(o.received_qty != "", rx.text("Received: ", o.received_qty, size="2", id="order-received")),
            form_alert(OrderState.form_error),
            _actions(),
            metrc_panel(),
            _payment_card(),
            card(rx.vstack(rx.heading("History", size="4", as_="h2"),
                           rx.foreach(OrderState.events, lambda e: rx.hstack(
                               rx.text(e.when, size="1", color_scheme="gray", width="11em"), rx.badge(e.party),
                               rx.text(e.change, weight="medium", size="2"), rx.text(e.note, size="2"),
                               align="center", class_name="order-event", wrap="wrap")),
                           spacing="2", align="start")),
            _dispute_card(),
            spacing="4", width="100%", align="start",
        ),
    ))


def register(app: rx.App) -> None:
    app.add_page(orders_page, route=ORDERS, title="Orders | ICC", on_load=OrderListState.load)
    app.add_page(order_page, route=ORDERS + "/[order_id]", title="Order | ICC", on_load=OrderState.load)
