"""Platform admins' dispute queue: every open dispute with its thread, and the final, written decision."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.exchange import disputes
from icc_app.exchange.common import business_name
from icc_app.exchange.models import DisputeResolution
from icc_app.exchange.read_models import DisputeQueueItem, dispute_queue_item
from icc_app.exchange.ui.common import choice, options, submit_button
from icc_app.identity.ui.admin import AdminState
from icc_app.ui.components import card, empty_state, form_alert, labelled_input, page_header
from icc_app.ui.layout import app_page


class DisputeQueueState(AdminState):
    queue: list[DisputeQueueItem] = []
    resolution: str = "no_action"
    pending: bool = False

    def _refresh(self) -> None:
        principal = self.principal()
        with unit_of_work() as session:  # platform admins act across businesses (no tenant role)
            self.queue = []
            for dispute, order in disputes.queue(session, principal=principal):
                _, thread = disputes.thread(session, principal=principal, dispute_id=dispute.id)
                self.queue.append(dispute_queue_item(dispute, order, thread,
                                                     seller=business_name(session, order.seller_business_id),
                                                     buyer=business_name(session, order.buyer_business_id)))

    @rx.event
    def load(self):
        return self._open()

    @rx.event
    def set_resolution(self, value: str):
        self.resolution = value

    @rx.event
    def resolve(self, form: dict):
        principal, redirect = self._admin()
        if redirect:
            yield redirect
            return
        if self.pending:
            return
        self._reset_errors()
        try:
            dispute_id = uuid.UUID(form.get("dispute_id", ""))
        except ValueError:
            self.form_error = "Unknown dispute."
            return
        if all(item.id != str(dispute_id) for item in self.queue):
            return  # already decided (the second click of a double click): the card is gone
        self.pending = True
        yield
        try:
            with unit_of_work() as session:
                disputes.resolve(session, principal=principal, dispute_id=dispute_id, resolution=self.resolution,
                                 decision=form.get("decision", ""), refund_amount=form.get("refund_amount") or None)
        except DomainError as exc:
            self._fail(exc)  # the form keeps what the admin wrote
            return
        finally:
            self.pending = False
        self._refresh()
        yield rx.toast.success("Dispute resolved; both parties were told.")


def _dispute_card(row: rx.Var) -> rx.Component:
    err = DisputeQueueState.errors
    return card(rx.vstack(
        rx.hstack(rx.heading("Order " + row.order, size="4"), rx.badge(row.reason, color_scheme="red"),
                  rx.spacer(), rx.link("Open the order", href="/exchange/orders/" + row.order_id, size="2"),
                  width="100%"),
        rx.text(row.parties, " · ", row.total, " · opened ", row.opened, size="2"),
        rx.box(rx.text(row.thread, size="2", white_space="pre-wrap"), padding="0.6em",
               background=rx.color("gray", 3), border_radius="8px", width="100%"),
        rx.form(rx.vstack(
            rx.el.input(type="hidden", name="dispute_id", value=row.id),
            rx.box(choice("Resolution", options(DisputeResolution), DisputeQueueState.resolution,
                          DisputeQueueState.set_resolution, "resolution-" + row.id), width="14em"),
            labelled_input("Refund amount (partial refund only)", "refund_amount", err.get("refund_amount", "")),
            labelled_input("Decision (final, shown to both parties)", "decision", err.get("decision", "")),
            submit_button("Resolve", DisputeQueueState.pending, class_name="resolve-dispute"),
            align="start", width="100%"), on_submit=DisputeQueueState.resolve, reset_on_submit=False, width="100%"),
        spacing="3", width="100%", align="start",
    ))


@app_page
def disputes_page() -> rx.Component:
    return rx.vstack(
        page_header("Disputes", "Open disputes between trading partners; your decision is final."),
        form_alert(DisputeQueueState.form_error),
        rx.cond(~DisputeQueueState.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
                rx.cond(DisputeQueueState.queue.length() > 0,
                        rx.vstack(rx.foreach(DisputeQueueState.queue, _dispute_card), spacing="4", width="100%"),
                        empty_state("scale", "No open disputes", "Disputes opened on orders appear here."))),
        width="100%", align="start",
    )


def register(app: rx.App) -> None:
    app.add_page(disputes_page, route="/admin/disputes", title="Disputes | ICC", on_load=DisputeQueueState.load)
