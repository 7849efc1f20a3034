"""The order page's Metrc panel (shown only when the order has a Metrc transfer): the transfer template, the
manifest number and where the transfer stands, each package with its state, and the order's Metrc events, to both
sides. The buyer of an in-transit order receives here, package by package: accept whole (full receipt only) or
reject with a reason; accepted packages reach the buyer's retail menu (integrations.metrc.workflows.receive_order).
The panel loads itself when it mounts, so the order page needs no other change."""

from __future__ import annotations


import reflex as rx
from pydantic import BaseModel

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.exchange import orders
from icc_app.exchange.read_models import EventRead, order_event
from icc_app.exchange.ui.common import id_in_path
from icc_app.identity.ui.state import AuthFormState
from icc_app.integrations.base import IntegrationError
from icc_app.integrations.metrc import preflight, workflows
from icc_app.ui.components import card, loading_button

TRANSFER_WORDS = {
    "pending": "Preparing the transfer template",
    "blocked": "Template blocked: see the messages below",
    "template_created": "Template created: the seller registers it in Metrc to get the manifest",
    "manifested": "Manifest registered: waiting for the transfer to depart",
    "in_transit": "In transit",
    "received": "Received",
    "closed": "Closed",
}
PACKAGE_WORDS = {"accepted": "Accepted", "rejected": "Rejected", "shipped": "Shipped", "planned": "On the template"}


def _about_metrc(note: str) -> bool:
    """The order's events the Metrc panel repeats: the transfer's steps and what the receipt did to the menu."""
    return "metrc" in note.lower() or note.startswith(("Retail menu:", "Menu not updated:"))


class TransferPackage(BaseModel):
    label: str
    short: str
    quantity: str
    state: str
    state_label: str
    reason: str


def transfer_packages(found: dict) -> list[TransferPackage]:
    """The transfer's packages in words (pure)."""
    rows = []
    for p in found.get("packages") or []:
        state = p.get("state") or "shipped"
        rows.append(TransferPackage(label=p.get("label") or "", short=preflight.short(p.get("label") or ""),
                                    quantity=f"{p.get('quantity', '')} {p.get('unit', '')}".strip(), state=state,
                                    state_label=PACKAGE_WORDS.get(state, state.replace("_", " ").capitalize()),
                                    reason=p.get("reason") or ""))
    return rows


class MetrcOrderState(AuthFormState):
    loaded: bool = False
    has_transfer: bool = False
    template_name: str = ""
    manifest: str = ""
    recipient_license: str = ""
    transfer_status: str = ""
    transfer_words: str = ""
    last_error: str = ""
    packages: list[TransferPackage] = []
    events: list[EventRead] = []
    can_receive: bool = False
    choices: dict[str, str] = {}  # tag -> "accept" / "reject"
    reasons: dict[str, str] = {}  # tag -> why it is rejected
    receiving: bool = False

    def _refresh(self, principal) -> None:
        order_id = id_in_path(self)
        self.has_transfer, self.packages, self.events, self.can_receive = False, [], [], False
        if order_id is None:
            return
        try:
            with unit_of_work(tenant=principal) as session:
                order, party = orders.load(session, principal, order_id)
                found = workflows.transfer_for(session, principal, order_id)
                events = orders.events(session, principal=principal, order_id=order_id)
                status = str(getattr(order.status, "value", order.status))
                buyer_on_metrc = party == "buyer" and workflows.metrc_connection(session, order.buyer_business_id) \
                    is not None
        except DomainError:
            return
        self.events = [order_event(e) for e in events if _about_metrc(e.note or "")]
        if found is None:
            self.has_transfer = bool(self.events)
            self.template_name = self.manifest = self.recipient_license = self.transfer_status = ""
            self.transfer_words = TRANSFER_WORDS["pending"] if self.events else ""
            self.last_error = ""
            return
        self.has_transfer = True
        self.template_name = found.get("template_name") or ""
        self.manifest = found.get("manifest_number") or ""
        self.recipient_license = found.get("recipient_license") or ""
        self.transfer_status = found.get("transfer_status") or ""
        self.transfer_words = TRANSFER_WORDS.get(self.transfer_status, self.transfer_status)
        self.last_error = found.get("last_error") or ""
        self.packages = transfer_packages(found)
        # only where a Metrc receipt can go through: the buyer's own Metrc connection, a registered manifest, and a
        # transfer still on the Metrc path (a closed one left it: the order is received by hand)
        self.can_receive = (buyer_on_metrc and status == "in_transit" and self.manifest != ""
                            and workflows.LINK_LIFECYCLE.allowed(self.transfer_status, "received"))

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self.choices, self.reasons, self.receiving = {}, {}, False
        self._refresh(principal)
        self.loaded = True

    @rx.event
    def choose(self, label: str, choice: str):
        if choice in ("accept", "reject"):
            self.choices = {**self.choices, label: choice}
            self.errors = {k: v for k, v in self.errors.items() if k != label}

    @rx.event
    def set_reason(self, label: str, reason: str):
        self.reasons = {**self.reasons, label: reason[:300]}

    @rx.event
    def receive(self):
        """Every package decided (a rejection says why), then one receipt; the order page reloads."""
        from icc_app.exchange.ui.order_pages import OrderState  # late: the order page imports this module

        if self.receiving or not self.can_receive:
            return
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        errors = {}
        for p in self.packages:
            choice = self.choices.get(p.label, "")
            if choice == "":
                errors[p.label] = "Accept or reject this package."
            elif choice == "reject" and not self.reasons.get(p.label, "").strip():
                errors[p.label] = "Say why it is rejected."
        if errors:
            self.errors = errors
            return
        order_id = id_in_path(self)
        self.receiving = True
        yield
        try:
            workflows.receive_order(principal, order_id, [
                workflows.Decision(p.label, self.choices[p.label] == "accept", self.reasons.get(p.label, ""))
                for p in self.packages])
        except (DomainError, IntegrationError) as exc:
            self.form_error = exc.message
            yield rx.toast.error(exc.message)
            return
        finally:
            self.receiving = False
        self._refresh(principal)
        yield [rx.toast.success("Received through Metrc: confirm the receipt in Metrc's receiving screen too."),
               OrderState.load]


def _package_row(p) -> rx.Component:
    S = MetrcOrderState
    reason_id = "reject-reason-" + p.label
    decide = rx.vstack(
        rx.radio_group.root(
            rx.flex(
                rx.text(rx.flex(rx.radio_group.item(value="accept"), "Accept the whole package", spacing="2"),
                        as_="label", size="2"),
                rx.text(rx.flex(rx.radio_group.item(value="reject"), "Reject it", spacing="2"),
                        as_="label", size="2"),
                spacing="4", wrap="wrap"),
            value=S.choices.get(p.label, ""), on_change=lambda v: S.choose(p.label, v),
            custom_attrs={"aria-label": "Decision for package " + p.short}, class_name="package-decision"),
        rx.cond(S.choices.get(p.label, "") == "reject", rx.vstack(
            rx.text("Why it is rejected", as_="label", size="1", color_scheme="gray",
                    custom_attrs={"htmlFor": reason_id}),
            rx.input(id=reason_id, value=S.reasons.get(p.label, ""), on_change=lambda v: S.set_reason(p.label, v),
                     placeholder="e.g. seal broken, weight short", size="2", width="100%", max_length=300),
            spacing="1", width="100%", align="start")),
        rx.cond(S.errors.get(p.label, "") != "", rx.text(S.errors.get(p.label, ""), size="2", color_scheme="red",
                                                         role="alert")),
        spacing="2", width="100%", align="start")
    return rx.box(
        rx.flex(rx.text("Package ", rx.code(p.label), size="2", word_break="break-all"), rx.spacer(),
                rx.text(p.quantity, size="2"),
                rx.badge(p.state_label, color_scheme=rx.match(p.state, ("accepted", "green"), ("rejected", "red"),
                                                              "gray")),
                width="100%", align="center", spacing="2", wrap="wrap"),
        rx.cond(p.reason != "", rx.text("Reason: ", p.reason, size="2")),
        rx.cond(S.can_receive, decide),
        padding="0.6em", border=f"1px solid {rx.color('gray', 5)}", border_radius="8px", width="100%",
        class_name="metrc-package", data_state=p.state)


def metrc_panel() -> rx.Component:
    """The order page's Metrc card (nothing when the order has no Metrc side)."""
    S = MetrcOrderState
    body = rx.vstack(
        rx.flex(rx.heading("Metrc transfer", size="4", as_="h2"), rx.spacer(),
                rx.badge(S.transfer_words, color_scheme=rx.match(S.transfer_status, ("received", "green"),
                                                                 ("blocked", "red"), ("in_transit", "iris"), "blue"),
                         id="metrc-transfer-status"),
                width="100%", align="center", spacing="2", wrap="wrap"),
        rx.cond(S.template_name != "", rx.text("Template ", rx.text.strong(S.template_name),
                                               rx.cond(S.recipient_license != "", " for license "
                                                       + S.recipient_license, ""),
                                               size="2", id="metrc-template")),
        rx.text("Manifest ", rx.cond(S.manifest != "", rx.text.strong(S.manifest), "not registered yet"),
                size="2", id="metrc-manifest"),
        rx.cond(S.last_error != "", rx.callout(S.last_error, icon="triangle-alert", color_scheme="red",
                                               width="100%")),
        rx.cond(S.packages.length() > 0, rx.vstack(rx.foreach(S.packages, _package_row), spacing="2",
                                                     width="100%", id="metrc-packages")),
        rx.cond(S.can_receive, rx.vstack(
            rx.text("Decide on every package of the delivery: Metrc takes whole packages only. Accepted packages go "
                    "on your retail menu; confirm the receipt in Metrc's receiving screen too.", size="2",
                    color_scheme="gray"),
            rx.cond(S.form_error != "", rx.callout(S.form_error, icon="triangle-alert", color_scheme="red",
                                                   width="100%")),
            loading_button("Receive through Metrc", S.receiving, on_click=S.receive, disabled=S.receiving,
                           id="metrc-receive"),
            spacing="2", width="100%", align="start")),
        rx.cond(S.events.length() > 0, rx.el.details(
            rx.el.summary(rx.text("Metrc events (", S.events.length(), ")", as_="span", size="2"),
                          cursor="pointer"),
            rx.vstack(rx.foreach(S.events, lambda e: rx.flex(
                rx.text(e.when, size="1", color_scheme="gray", min_width="9em"), rx.badge(e.party),
                rx.text(e.note, size="2", word_break="break-word"), spacing="2", wrap="wrap", align="center",
                class_name="metrc-event")), spacing="1", width="100%", align="start", margin_top="0.4em"),
            open=True, width="100%", id="metrc-events")),
        spacing="3", width="100%", align="start")
    return rx.box(rx.cond(S.has_transfer, card(body, id="metrc-panel")), on_mount=S.load, width="100%")
