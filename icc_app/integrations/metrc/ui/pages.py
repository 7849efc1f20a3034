"""Metrc compliance (operator console, integrations access): the discrepancies between the business's inventory
and Metrc, most severe first, each with its evidence, a suggested fix and its history; resolve, dismiss or reopen
with a note; the latest check per license and "Check now". Cards stack on a phone."""

from __future__ import annotations

import reflex as rx

from icc_app.integrations.metrc.ui.packages import MetrcPackagesState, packages_section
from icc_app.integrations.metrc.ui.state import MANAGE_REASON, MetrcAlertsState
from icc_app.ui.components import card, empty_state, loading_button, page_header
from icc_app.ui.layout import app_page

ROUTE = "/console/integrations/metrc/alerts"
S = MetrcAlertsState

WHAT_IT_DOES = ("Every hour ICC compares your point of sale, your CCX lots and your menu with your Metrc packages: "
                "packages missing on either side, quantities that differ, lab results and holds Metrc records, and "
                "sales not reported. Each difference is listed here and emailed to Admins and Managers.")


def _severity(a) -> rx.Component:
    def colored(color: str) -> rx.Component:
        return rx.badge(a.severity_label, color_scheme=color, high_contrast=True, size="2", class_name="severity")

    return rx.match(a.severity, ("high", colored("red")), ("medium", colored("amber")), colored("gray"))


def _actions(a) -> rx.Component:
    busy = S.acting.contains(a.id)
    note_id = "note-" + a.id
    return rx.vstack(
        rx.text("Note (optional)", as_="label", size="1", color_scheme="gray", html_for=note_id),
        rx.input(id=note_id, value=S.notes.get(a.id, ""), on_change=lambda v: S.set_note(a.id, v),
                 placeholder="What you did, or why it is fine", size="2", width="100%", max_length=500),
        rx.flex(
            rx.cond(a.status == "open", rx.fragment(
                loading_button("Mark resolved", busy, on_click=S.act(a.id, "resolve"), size="2",
                               class_name="resolve"),
                rx.button("Dismiss", variant="soft", color_scheme="gray", size="2", disabled=busy,
                          on_click=S.act(a.id, "dismiss"), class_name="dismiss")),
                    loading_button("Reopen", busy, on_click=S.act(a.id, "reopen"), size="2", variant="soft",
                                   class_name="reopen")),
            spacing="2", wrap="wrap"),
        spacing="1", width="100%", align="start")


def alert_card(a) -> rx.Component:
    return card(rx.vstack(
        rx.flex(
            _severity(a),
            rx.text(a.kind_label, weight="bold", size="2"),
            rx.spacer(),
            rx.text(a.status_label, size="2", color_scheme="gray"),
            width="100%", align="center", spacing="2", wrap="wrap"),
        rx.heading(a.title, size="3", as_="h3", word_break="break-word"),
        rx.text("Package ", rx.code(a.tag), size="2", word_break="break-all"),
        rx.el.ul(rx.foreach(a.evidence, lambda line: rx.el.li(rx.text(line, size="2", word_break="break-word"))),
                 padding_left="1.2em", class_name="evidence"),
        rx.callout(rx.text(rx.text("Suggested fix: ", as_="span", weight="bold"), a.fix), icon="lightbulb",
                   color_scheme="blue", size="1", width="100%", class_name="fix"),
        rx.text(a.seen, size="1", color_scheme="gray"),
        rx.el.details(
            rx.el.summary(rx.text("History (", a.history.length(), ")", as_="span", size="2"), cursor="pointer"),
            rx.el.ul(rx.foreach(a.history, lambda h: rx.el.li(rx.text(h, size="2", word_break="break-word"))),
                     padding_left="1.2em", margin_top="0.4em"),
            class_name="history", width="100%"),
        rx.cond(S.can_manage, _actions(a)),
        spacing="2", width="100%", align="start"), class_name="metrc-alert", data_severity=a.severity)


def _checks() -> rx.Component:
    return rx.vstack(
        rx.heading("Latest checks", size="4", as_="h2"),
        rx.foreach(S.connections, lambda c: rx.flex(
            rx.text(c["name"], weight="bold", size="2"),
            rx.foreach(S.checks, lambda k: rx.cond(k.connection_id == c["id"], rx.text(
                k.when, " · ", k.summary, rx.cond(k.error != "", " · " + k.error, ""), size="2",
                color_scheme=rx.cond(k.status == "failed", "red", "gray")))),
            rx.spacer(),
            rx.cond(S.can_manage, rx.button(
                rx.icon("refresh-cw", size=16), rx.cond(S.queued.contains(c["id"]), "Check queued", "Check now"),
                size="2", variant="soft", disabled=S.queued.contains(c["id"]), on_click=S.check_now(c["id"]),
                class_name="check-now")),
            width="100%", align="center", spacing="2", wrap="wrap")),
        width="100%", spacing="2", align="start", id="checks")


def _tabs() -> rx.Component:
    return rx.segmented_control.root(
        rx.segmented_control.item("Open", value="open"),
        rx.segmented_control.item("Resolved", value="resolved"),
        rx.segmented_control.item("Dismissed", value="dismissed"),
        value=S.status, on_change=S.set_status, custom_attrs={"aria-label": "Which alerts"}, id="alert-status")


@app_page
def metrc_alerts_page() -> rx.Component:
    return rx.vstack(
        page_header("Metrc compliance", "Where your inventory and Metrc disagree, and what to do about it."),
        rx.cond(~S.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"), rx.cond(
            S.business_id == "",
            empty_state("shield-check", "No business with integrations access",
                        "Ask your business Admin for access to integrations."),
            rx.cond(S.no_connection,
                    empty_state("shield-check", "No Metrc license connected", WHAT_IT_DOES,
                                rx.link("Connect Metrc in Point of sale", href="/console/integrations")),
                    rx.vstack(
                        rx.text(WHAT_IT_DOES, size="2", color_scheme="gray"),
                        rx.cond(~S.can_manage, rx.callout(f"You can see the alerts. {MANAGE_REASON}", icon="info",
                                                          color_scheme="blue", width="100%", id="view-only")),
                        _checks(),
                        _tabs(),
                        rx.cond(S.alerts.length() == 0,
                                empty_state("circle-check", "Nothing here",
                                            "No alerts with this status. Open alerts appear after a check finds a "
                                            "difference."),
                                rx.vstack(rx.foreach(S.alerts, alert_card), width="100%", spacing="3",
                                          id="alerts")),
                        packages_section(),
                        width="100%", spacing="4", align="start")))),
        width="100%", align="start", min_width="0")


def register(app: rx.App) -> None:
    """Adds the Metrc compliance page to the app (the lead calls it from icc_app.py)."""
    app.add_page(metrc_alerts_page, route=ROUTE, title="Metrc compliance | ICC", on_load=[MetrcAlertsState.load, MetrcPackagesState.load])
