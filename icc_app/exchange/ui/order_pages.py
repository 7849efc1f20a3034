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
from icc_app.exchange.models import Lot, Offer
from icc_app.exchange.ui.common import ORDER_COLORS, money, qty, status_badge, trading_business
from icc_app.identity.ui.state import AuthFormState
from icc_app.ui.components import card, empty_state, field_error, form_alert, labelled_input, page_header
from icc_app.ui.layout import app_page

ORDERS = "/exchange/orders"
EVIDENCE_UPLOAD = "dispute-evidence"


PAGE_SIZE = 20


class OrderListState(AuthFormState):
    loaded: bool = False
    rows: list[dict[str, str]] = []
    status: str = "all"
    side: str = "all"
    page: int = 1
    has_more: bool = False

    @rx.event
    def load(self):
        self.page = 1
        return self._load()

    @rx.event
    def set_status(self, value: str):
        self.status, self.page = value, 1
        return self._load()

    @rx.event
    def set_side(self, value: str):
        self.side, self.page = value, 1
        return self._load()

    @rx.event
    def go_page(self, page: int):
        self.page = max(1, page)
        return self._load()

    def _load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        business_id = trading_business(principal)
        self.rows = []
        if business_id is not None:
            with unit_of_work() as session:
                found = orders.list_orders(session, principal=principal, business_id=business_id, side=self.side,
                                           status=None if self.status == "all" else self.status,
                                           limit=PAGE_SIZE + 1, offset=(self.page - 1) * PAGE_SIZE)
                self.has_more = len(found) > PAGE_SIZE
                for order, lot in found[:PAGE_SIZE]:
                    buying = order.buyer_business_id == business_id
                    other = order.seller_business_id if buying else order.buyer_business_id
                    self.rows.append({"id": str(order.id), "reference": order.reference, "lot": lot.title,
                                      "side": "buying" if buying else "selling", "with": business_name(session, other),
                                      "quantity": qty(order.quantity, str(order.unit)), "total": money(order.total),
                                      "status": str(order.status),
                                      "payment": "paid" if order.paid else ("mismatch" if order.payment_mismatch
                                                                            else "awaiting"),
                                      "created": order.created_at.strftime("%Y-%m-%d")})
        self.loaded = True


def _order_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row["reference"], href=ORDERS + "/" + row["id"])),
        rx.table.cell(row["lot"]), rx.table.cell(rx.badge(row["side"], variant="outline")), rx.table.cell(row["with"]),
        rx.table.cell(row["quantity"]), rx.table.cell(row["total"]),
        rx.table.cell(status_badge(row["status"], ORDER_COLORS)),
        rx.table.cell(rx.match(row["payment"], ("paid", rx.badge("paid", color_scheme="green")),
                               ("mismatch", rx.badge("amount mismatch", color_scheme="red")), rx.badge("awaiting"))),
        rx.table.cell(row["created"]),
    )


@app_page
def orders_page() -> rx.Component:
    return rx.vstack(
        page_header("Orders", "Everything you bought and sold, with payment status."),
        rx.hstack(
            rx.select(["all", "buying", "selling"], value=OrderListState.side, on_change=OrderListState.set_side,
                      aria_label="Side"),
            rx.select(["all"] + list(ORDER_COLORS), value=OrderListState.status, on_change=OrderListState.set_status,
                      aria_label="Status"),
            rx.spacer(),
            rx.button("Previous", variant="soft", disabled=OrderListState.page <= 1,
                      on_click=OrderListState.go_page(OrderListState.page - 1)),
            rx.text("Page ", OrderListState.page, size="2"),
            rx.button("Next", variant="soft", disabled=~OrderListState.has_more,
                      on_click=OrderListState.go_page(OrderListState.page + 1)),
            width="100%", align="center", spacing="2"),
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
    order: dict[str, str] = {}
    party: str = ""
    events: list[dict[str, str]] = []
    dispute: dict[str, str] = {}
    messages: list[dict[str, str]] = []
    reason: str = "not_received"

    def _order_id(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])
        except ValueError:
            return None

    def _refresh(self, principal) -> None:
        order_id = self._order_id()
        try:
            with unit_of_work() as session:
                if order_id is None:
                    raise DomainError("Order not found.")
                order, party = orders.load(session, principal, order_id)
                lot = session.get(Lot, order.lot_id)
                offer = session.get(Offer, order.offer_id)
                self.party = party
                self.order = {
                    "id": str(order.id), "reference": order.reference, "status": str(order.status), "lot": lot.title,
                    "lot_id": str(lot.id), "buyer": business_name(session, order.buyer_business_id),
                    "seller": business_name(session, order.seller_business_id),
                    "quantity": qty(order.quantity, str(order.unit)), "price": money(order.price_per_unit),
                    "total": money(order.total), "total_value": str(order.total), "method": str(order.payment_method),
                    "terms": str(order.payment_terms).replace("_", " "), "paid": "yes" if order.paid else "",
                    "sent": (f"{money(order.payment_sent_amount)} ref {order.payment_reference} on "
                             f"{order.payment_sent_on.isoformat()}") if order.payment_sent_at else "",
                    "received": money(order.payment_received_amount) if order.payment_received_at else "",
                    "mismatch": "yes" if order.payment_mismatch else "",
                    "pof": offer.proof_of_funds_filename or "", "offer_id": str(offer.id),
                }
                self.events = [{"when": e.created_at.strftime("%Y-%m-%d %H:%M UTC"), "party": e.actor_party,
                                "change": e.to_status if e.from_status in ("", e.to_status) else
                                f"{e.from_status} → {e.to_status}", "note": e.note}
                               for e in orders.events(session, principal=principal, order_id=order.id)]
                found = disputes.for_order(session, principal=principal, order_id=order.id)
                self.dispute, self.messages = {}, []
                if found is not None:
                    _, thread = disputes.thread(session, principal=principal, dispute_id=found.id)
                    self.dispute = {"id": str(found.id), "status": str(found.status),
                                    "reason": found.reason.replace("_", " "),
                                    "resolution": str(found.resolution or "").replace("_", " "),
                                    "decision": found.decision or ""}
                    self.messages = [{"party": m.author_party, "body": m.body,
                                      "evidence": ", ".join(e["filename"] for e in m.evidence),
                                      "when": m.created_at.strftime("%Y-%m-%d %H:%M")} for m in thread]
        except DomainError as exc:
            self.order, self.form_error = {}, exc.message

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self._refresh(principal)
        self.loaded = True

    def _run(self, action, success: str):
        order_id = uuid.UUID(self.order["id"])
        return self._perform(lambda session, principal: action(session, principal, order_id), success)

    @rx.event
    def act(self, verb: str):
        return self._run(lambda s, p, i: orders.act(s, principal=p, order_id=i, verb=verb),
                         {"confirm": "Order confirmed.", "ship": "Marked as shipped.", "receive": "Marked as received.",
                          "cancel": "Order cancelled."}.get(verb, "Done."))

    @rx.event
    def payment_sent(self, form: dict):
        try:
            sent_on = date.fromisoformat(form["sent_on"]) if form.get("sent_on") else None
        except ValueError:
            self.errors = {"sent_on": "Enter a date."}
            return
        return self._run(lambda s, p, i: orders.mark_payment_sent(s, principal=p, order_id=i, reference=form.get("reference", ""),
                                                                  amount=form.get("amount"), sent_on=sent_on),
                         "Payment marked as sent.")

    @rx.event
    def payment_received(self, form: dict):
        return self._run(lambda s, p, i: orders.mark_payment_received(s, principal=p, order_id=i, amount=form.get("amount")),
                         "Payment marked as received.")

    @rx.event
    def set_reason(self, value: str):
        self.reason = value

    @rx.event
    def open_dispute(self, form: dict):
        return self._run(lambda s, p, i: disputes.open_dispute(s, principal=p, order_id=i, reason=self.reason,
                                                               description=form.get("description", "")),
                         "Dispute opened: platform administrators will step in.")

    @rx.event
    def post(self, form: dict):
        return self._run(lambda s, p, i: disputes.post_message(s, principal=p, dispute_id=uuid.UUID(self.dispute["id"]),
                                                               body=form.get("body", "")), "Message sent.")

    @rx.event
    async def upload_evidence(self, files: list[rx.UploadFile]):
        if not files or not self.dispute:
            return
        evidence = [(await f.read(), f.name or "evidence") for f in files[:5]]
        yield self._run(lambda s, p, i: disputes.post_message(
            s, principal=p, dispute_id=uuid.UUID(self.dispute["id"]),
            body="Evidence: " + ", ".join(name for _, name in evidence), evidence=evidence), "Evidence attached.")


def _payment_card() -> rx.Component:
    o, err = OrderState.order, OrderState.errors
    return card(rx.vstack(
        rx.hstack(rx.heading("Payment", size="4", as_="h2"),
                  rx.cond(o.get("paid", "") != "", rx.badge("Paid: both sides confirmed", color_scheme="green"),
                          rx.badge("Not settled", color_scheme="amber")),
                  rx.cond(o.get("mismatch", "") != "", rx.badge("Amounts do not match", color_scheme="red")),
                  align="center", spacing="2"),
        rx.text(o.get("method", ""), " · ", o.get("terms", ""), " · total ", rx.text.strong(o.get("total", "")), size="2"),
        rx.text("Buyer: ", rx.cond(o.get("sent", "") != "", "sent " + o.get("sent", ""), "not marked yet"), size="2",
                id="payment-sent-status"),
        rx.text("Seller: ", rx.cond(o.get("received", "") != "", "received " + o.get("received", ""), "not marked yet"),
                size="2", id="payment-received-status"),
        rx.cond((OrderState.party == "buyer") & (o.get("sent", "") == ""), rx.form(rx.hstack(
            rx.box(labelled_input("Reference", "reference", err.get("reference", "")), width="12em"),
            rx.box(labelled_input("Amount ($)", "amount", err.get("amount", ""), default_value=o.get("total_value", "")),
                   width="9em"),
            rx.box(labelled_input("Sent on", "sent_on", err.get("sent_on", ""), type="date"), width="10em"),
            rx.button("I sent the payment", type="submit", id="mark-sent"), align="end", wrap="wrap"),
            on_submit=OrderState.payment_sent, reset_on_submit=False)),
        rx.cond((OrderState.party == "seller") & (o.get("received", "") == ""), rx.form(rx.hstack(
            rx.box(labelled_input("Amount received ($)", "amount", err.get("amount", ""),
                                  default_value=o.get("total_value", "")), width="12em"),
            rx.button("I received the payment", type="submit", id="mark-received"), align="end"),
            on_submit=OrderState.payment_received, reset_on_submit=False)),
        rx.cond(o.get("pof", "") != "", rx.link("Buyer's proof of funds: " + o.get("pof", ""),
                                                href="/api/v1/offers/" + o.get("offer_id", "") + "/proof-of-funds",
                                                is_external=True, size="2")),
        spacing="3", align="start", width="100%",
    ))


def _actions() -> rx.Component:
    status, party = OrderState.order.get("status", ""), OrderState.party
    return rx.hstack(
        rx.cond((party == "seller") & (status == "pending"), rx.button("Confirm order", on_click=OrderState.act("confirm"),
                                                                       id="confirm-order")),
        rx.cond((party == "seller") & (status == "confirmed"), rx.button("Mark shipped", on_click=OrderState.act("ship"),
                                                                         id="ship-order")),
        rx.cond((party == "buyer") & (status == "in_transit"), rx.button("Mark received", on_click=OrderState.act("receive"),
                                                                         id="receive-order")),
        rx.cond(((status == "pending") | (status == "confirmed")) & (party != "admin"),
                rx.button("Cancel order", variant="soft", color_scheme="red", on_click=OrderState.act("cancel"))),
        spacing="2", wrap="wrap",
    )


def _dispute_card() -> rx.Component:
    d = OrderState.dispute
    open_form = rx.form(rx.vstack(
        rx.heading("Something wrong?", size="3", as_="h2"),
        rx.select(REASONS, value=OrderState.reason, on_change=OrderState.set_reason, aria_label="Reason"),
        labelled_input("What happened", "description", OrderState.errors.get("description", ""),
                       placeholder="At least 20 characters: what you expected, what you got"),
        rx.button("Open a dispute", type="submit", variant="soft", color_scheme="red", id="open-dispute"),
        align="start", width="100%"), on_submit=OrderState.open_dispute, reset_on_submit=False)
    thread = rx.vstack(
        rx.hstack(rx.heading("Dispute", size="4", as_="h2"), rx.badge(d.get("status", "")),
                  rx.text(d.get("reason", ""), size="2"), align="center"),
        rx.foreach(OrderState.messages, lambda m: rx.box(
            rx.hstack(rx.badge(m["party"]), rx.text(m["when"], size="1", color_scheme="gray")),
            rx.text(m["body"], size="2", white_space="pre-wrap"),
            rx.cond(m["evidence"] != "", rx.text("Attached: " + m["evidence"], size="1")),
            padding="0.5em", border_left=f"3px solid {rx.color('accent', 6)}", width="100%", class_name="dispute-message")),
        rx.cond(d.get("status", "") == "open", rx.vstack(
            rx.form(rx.hstack(rx.box(labelled_input("Message", "body", OrderState.errors.get("body", "")), flex="1"),
                              rx.button("Send", type="submit"), align="end", width="100%"),
                    on_submit=OrderState.post, reset_on_submit=True, width="100%"),
            rx.upload(rx.text("Attach evidence (photos, PDFs)", size="2"), id=EVIDENCE_UPLOAD, max_files=5,
                      on_drop=OrderState.upload_evidence(rx.upload_files(upload_id=EVIDENCE_UPLOAD)),
                      border=f"1px dashed {rx.color('gray', 7)}", border_radius="10px", padding="0.6em", width="100%"),
            width="100%"),
            rx.callout("Decision (" + d.get("resolution", "") + "): " + d.get("decision", ""), icon="gavel",
                       color_scheme="blue", width="100%", id="dispute-decision")),
        spacing="3", width="100%", align="start",
    )
    return card(rx.cond(d.length() > 0, thread, rx.cond(OrderState.party != "admin", open_form)))


@app_page
def order_page() -> rx.Component:
    o = OrderState.order
    return rx.cond(~OrderState.loaded, rx.center(rx.spinner(size="3"), padding="3em"), rx.cond(
        o.length() == 0, empty_state("receipt", "Order not found", OrderState.form_error),
        rx.vstack(
            rx.link("← Orders", href=ORDERS, size="2"),
            page_header("Order " + o.get("reference", ""), o.get("lot", "")),
            rx.hstack(status_badge(o.get("status", ""), ORDER_COLORS),
                      rx.text(o.get("seller", ""), " → ", o.get("buyer", ""), size="2"),
                      rx.text(o.get("quantity", ""), " at ", o.get("price", ""), size="2"), spacing="3", align="center",
                      id="order-status"),
            form_alert(OrderState.form_error),
            _actions(),
            _payment_card(),
            card(rx.vstack(rx.heading("History", size="4", as_="h2"),
                           rx.foreach(OrderState.events, lambda e: rx.hstack(
                               rx.text(e["when"], size="1", color_scheme="gray", width="11em"), rx.badge(e["party"]),
                               rx.text(e["change"], weight="medium", size="2"), rx.text(e["note"], size="2"),
                               align="center", class_name="order-event")),
                           spacing="2", align="start")),
            _dispute_card(),
            field_error(OrderState.errors.get("reason", "")),
            spacing="4", width="100%", align="start",
        ),
    ))


def register(app: rx.App) -> None:
    app.add_page(orders_page, route=ORDERS, title="Orders | ICC", on_load=OrderListState.load)
    app.add_page(order_page, route=ORDERS + "/[order_id]", title="Order | ICC", on_load=OrderState.load)
