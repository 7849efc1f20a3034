"""Pages of loyalty: customers & segments (counts, trends, the segment builder), campaigns (editor with preview,
schedule, delivery stats and lift), and who may not come back (churn list with reasons, next to the recency rule
and RFM)."""

import reflex as rx

from icc_app.loyalty import segments
from icc_app.loyalty.ui.state import CHANNELS, LoyaltyState
from icc_app.ui.components import card, empty_state, field_error, form_alert, page_header
from icc_app.ui.layout import app_page

SEGMENTS_ROUTE = "/loyalty"
CAMPAIGNS_ROUTE = "/loyalty/campaigns"
CHURN_ROUTE = "/loyalty/churn"
PROGRAM_ROUTE = "/loyalty/program"


def _tabs(current: str) -> rx.Component:
    return rx.hstack(*[rx.link(rx.button(label, variant="solid" if route == current else "soft", size="2"), href=route)
                       for label, route in (("Customers & segments", SEGMENTS_ROUTE), ("Campaigns", CAMPAIGNS_ROUTE),
                                            ("Who may not come back", CHURN_ROUTE),
                                            ("Programme settings", PROGRAM_ROUTE))],
                     spacing="2", wrap="wrap", margin_bottom="1em")


def _guard(body: rx.Component) -> rx.Component:
    s = LoyaltyState
    return rx.cond(~s.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"), rx.cond(
        s.business_id == "", empty_state("users", "No business with the operations suite",
                                         "Ask your business Admin for access to Operations (loyalty is part of it)."),
        body))


def _label(text: str, target: str) -> rx.Component:
    return rx.text(text, as_="label", size="2", weight="medium", custom_attrs={"htmlFor": target})


def _select(options: dict[str, str], value, on_change, id: str, label: str) -> rx.Component:
    return rx.select.root(rx.select.trigger(id=id, custom_attrs={"aria-label": label}),
                          rx.select.content(*[rx.select.item(v, value=k) for k, v in options.items()]),
                          value=value, on_change=on_change)


def _segment_builder() -> rx.Component:
    s = LoyaltyState
    fields = {k: v[0] for k, v in segments.FILTER_FIELDS.items()}
    return card(rx.vstack(
        rx.heading("Build a segment", size="4", as_="h2"),
        rx.text("Combine rules; every rule must hold. Only enrolled customers (of age) are ever counted.", size="2",
                color_scheme="gray"),
        rx.flex(
            rx.vstack(_label("Field", "rule-field"), _select(fields, s.rule_draft["field"],
                                                             lambda v: s.set_rule_field("field", v), "rule-field",
                                                             "Field"), spacing="1"),
            rx.vstack(_label("Compare", "rule-op"), _select(segments.OPERATORS, s.rule_draft["op"],
                                                            lambda v: s.set_rule_field("op", v), "rule-op", "Compare"),
                      spacing="1"),
            rx.vstack(_label("Value", "rule-value"),
                      rx.input(id="rule-value", value=s.rule_draft["value"], placeholder="e.g. 60, true, lapsing",
                               on_change=lambda v: s.set_rule_field("value", v)), spacing="1"),
            rx.button("Add rule", on_click=s.add_rule, id="add-rule", variant="soft"),
            spacing="3", wrap="wrap", align="end"),
        field_error(s.errors.get("rules", "")),
        rx.foreach(s.rules, lambda r, i: rx.hstack(rx.badge(r["words"], size="2", class_name="segment-rule"),
                                                    rx.button("Remove", size="1", variant="ghost", color_scheme="gray",
                                                              on_click=s.remove_rule(i)), align="center")),
        rx.cond(s.preview_count != "", rx.text(s.preview_count, weight="bold", id="segment-count")),
        rx.flex(rx.vstack(_label("Segment name", "segment-name"),
                          rx.input(id="segment-name", value=s.segment_name, on_change=s.set_segment_name,
                                   placeholder="Texters with points"),
                          field_error(s.errors.get("name", "")), spacing="1"),
                rx.button("Save segment", on_click=s.save_segment, id="save-segment",
                          disabled=s.rules.length() == 0),
                spacing="3", wrap="wrap", align="end"),
        spacing="3", align="start", width="100%"))


@app_page
def segments_page() -> rx.Component:
    s = LoyaltyState
    return rx.vstack(
        page_header("Loyalty", "Your customers by behaviour, recomputed every night from your POS sales.",
                    rx.button("Recompute now", on_click=s.recompute, variant="soft", id="recompute")),
        _tabs(SEGMENTS_ROUTE),
        _guard(rx.vstack(
            rx.grid(rx.foreach(s.segment_cards, lambda c: card(rx.vstack(
                rx.text(c["name"], size="2", color_scheme="gray"), rx.text(c["count"], size="6", weight="bold"),
                rx.text(c["trend"], size="1", color_scheme="gray"), spacing="0", align="start"),
                class_name="segment-card")), columns=rx.breakpoints(initial="2", md="3", lg="6"), spacing="3",
                width="100%"),
            _segment_builder(),
            rx.heading("Your segments", size="4", as_="h2"),
            rx.cond(s.custom_segments.length() == 0,
                    empty_state("filter", "No segments yet", "Build one above: it is counted again every night."),
                    rx.vstack(rx.foreach(s.custom_segments, lambda g: card(rx.hstack(
                        rx.vstack(rx.text(g["name"], weight="bold"), rx.text(g["rules"], size="2", color_scheme="gray"),
                                  spacing="1", align="start"),
                        rx.spacer(), rx.badge(g["count"], " customers", size="2"), width="100%", align="center"),
                        class_name="custom-segment")), width="100%")),
            spacing="4", width="100%", align="start")),
        width="100%", align="start")


def _draft_input(label: str, key: str, **props) -> rx.Component:
    s = LoyaltyState
    return rx.vstack(_label(label, f"campaign-{key}"),
                     rx.input(id=f"campaign-{key}", value=s.draft[key], on_change=lambda v: s.set_draft(key, v),
                              width="100%", **props),
                     field_error(s.errors.get(key, "")), spacing="1", width="100%")


def _draft_area(label: str, key: str, **props) -> rx.Component:
    s = LoyaltyState
    return rx.vstack(_label(label, f"campaign-{key}"),
                     rx.text_area(id=f"campaign-{key}", value=s.draft[key], on_change=lambda v: s.set_draft(key, v),
                                  width="100%", rows="4", **props),
                     field_error(s.errors.get(key, "")), spacing="1", width="100%")


def _editor() -> rx.Component:
    s = LoyaltyState
    return card(rx.vstack(
        rx.flex(rx.heading("New campaign", size="4", as_="h2"), rx.spacer(),
                rx.cond(s.template_options.length() > 0, rx.select.root(
                    rx.select.trigger(placeholder="Start from a template", id="campaign-template",
                                      custom_attrs={"aria-label": "Start from a template"}),
                    rx.select.content(rx.foreach(s.template_options, lambda t: rx.select.item(t["name"],
                                                                                              value=t["id"]))),
                    value="", on_change=s.use_template)),
                width="100%", align="center", wrap="wrap", spacing="2"),
        rx.grid(
            _draft_input("Name", "name", placeholder="Come back this week"),
            rx.vstack(_label("Channel", "campaign-channel"),
                      _select(CHANNELS, s.draft["channel"], lambda v: s.set_draft("channel", v), "campaign-channel",
                              "Channel"), spacing="1"),
            rx.vstack(_label("Send to", "campaign-segment"),
                      rx.select.root(rx.select.trigger(id="campaign-segment", custom_attrs={"aria-label": "Send to"}),
                                     rx.select.content(rx.foreach(s.segment_options, lambda o: rx.select.item(
                                         o["name"], value=o["key"]))),
                                     value=s.draft["segment_key"], on_change=lambda v: s.set_draft("segment_key", v)),
                      field_error(s.errors.get("segment_key", "")), spacing="1"),
            _draft_input("Holdout group %", "holdout_percent", type="number", min="0", max="50"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="3", width="100%"),
        rx.cond(s.draft["channel"] == "email", _draft_input("Subject", "subject", placeholder="{first_name}, we miss you")),
        _draft_area("Message", "body_a", placeholder="Hi {first_name}, you have {points} points at {business}."),
        _draft_area("Version B (optional: an A/B test)", "body_b"),
        rx.text("Fields: {first_name}, {points}, {business}, {tier}. The state's disclaimer (and for texts \"Reply STOP "
                "to opt out\") is added to every message. Health claims are refused.", size="1", color_scheme="gray"),
        rx.flex(
            rx.button("Preview", on_click=s.preview, variant="soft", id="preview-campaign"),
            rx.vstack(_label("Send at (your time; empty: now)", "campaign-send_at"),
                      rx.input(id="campaign-send_at", type="datetime-local", value=s.draft["send_at"],
                               on_change=lambda v: s.set_draft("send_at", v)),
                      field_error(s.errors.get("send_at", "")), spacing="1"),
            rx.button("Schedule", on_click=s.save_and_schedule, id="schedule-campaign", loading=s.pending),
            rx.button("Save as template", on_click=s.save_template, variant="soft", color_scheme="gray",
                      id="save-template", disabled=s.pending),
            spacing="3", wrap="wrap", align="end"),
        form_alert(s.form_error),
        rx.cond(s.preview_rows.length() > 0, rx.vstack(
            rx.text(s.preview_audience, size="2", id="preview-audience"),
            rx.foreach(s.preview_rows, lambda p: rx.box(
                rx.text(p["variant"], size="1", weight="bold"),
                rx.cond(p["subject"] != "", rx.text(p["subject"], weight="bold")),
                rx.text(p["body"], white_space="pre-wrap", size="2"),
                padding="0.8em", border_radius="8px", background=rx.color("gray", 3), width="100%",
                class_name="campaign-preview")), spacing="2", width="100%")),
        spacing="3", align="start", width="100%"))


def _stats() -> rx.Component:
    s = LoyaltyState
    return rx.cond(s.selected != "", card(rx.vstack(
        rx.heading("Delivery and results", size="4", as_="h2"),
        rx.text("Status: ", s.stats_summary["status"], size="2"),
        rx.cond(s.stats_rows.length() == 0, rx.text("Nothing sent yet: messages are drawn at the send time.", size="2",
                                                    color_scheme="gray"),
                rx.table.root(rx.table.body(rx.foreach(s.stats_rows, lambda r: rx.table.row(
                    rx.table.cell(r["status"]), rx.table.cell(r["count"]), class_name="delivery-row"))))),
        rx.text("Bought within the window: ", s.stats_summary["treated"], " of those messaged, ",
                s.stats_summary["holdout"], " of the holdout group. Lift: ", s.stats_summary["lift"], ". Rewards "
                "redeemed: ", s.stats_summary["redemptions"], ".", size="2", id="campaign-lift"),
        spacing="2", align="start", width="100%"), id="campaign-stats"))


@app_page
def campaigns_page() -> rx.Component:
    s = LoyaltyState
    return rx.vstack(
        page_header("Campaigns", "Email and texts to a segment, with consent, quiet hours and a holdout group."),
        _tabs(CAMPAIGNS_ROUTE),
        _guard(rx.vstack(
            _editor(),
            rx.heading("Your campaigns", size="4", as_="h2"),
            rx.cond(s.campaign_rows.length() == 0,
                    empty_state("send", "No campaigns yet", "Write one above, preview it, and schedule it."),
                    rx.vstack(rx.foreach(s.campaign_rows, lambda c: card(rx.flex(
                        rx.vstack(rx.text(c["name"], weight="bold"),
                                  rx.text(c["channel"], " · ", c["segment"], " · ", c["when"], size="2",
                                          color_scheme="gray"), spacing="1", align="start"),
                        rx.spacer(),
                        rx.badge(c["status_words"], size="2"),
                        rx.button("Delivery stats", size="1", variant="soft", on_click=s.select_campaign(c["id"])),
                        rx.cond((c["status"] == "draft") | (c["status"] == "scheduled"),
                                rx.button("Cancel", size="1", variant="ghost", color_scheme="red",
                                          on_click=s.cancel_campaign(c["id"]))),
                        spacing="2", align="center", wrap="wrap", width="100%"), class_name="campaign-row")),
                        width="100%")),
            _stats(),
            spacing="4", width="100%", align="start")),
        width="100%", align="start")


@app_page
def churn_page() -> rx.Component:
    s = LoyaltyState
    return rx.vstack(
        page_header("Who may not come back", "The chance each customer buys again in the next 90 days, and why."),
        _tabs(CHURN_ROUTE),
        _guard(rx.vstack(
            rx.cond(s.model_summary.contains("trained_on"), card(rx.vstack(
                rx.text("Model: ", s.model_summary["trained_on"], " · scored ", s.model_summary["when"], size="2"),
                rx.text("How well each method ranked customers it had not seen (share of buyer/non-buyer pairs put in "
                        "the right order; 50% is chance): model ", s.model_summary["auc_model"], ", days since last "
                        "purchase ", s.model_summary["auc_recency"], ", RFM score ", s.model_summary["auc_rfm"], ".",
                        size="2", id="model-comparison"), spacing="1", align="start"))),
            rx.cond(s.churn_rows.length() == 0,
                    empty_state("trending-down", "No scores yet", "Scores appear after the nightly run once your POS "
                                "has sales; or press Recompute now on the Loyalty page."),
                    rx.box(rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                            "Customer", "Chance of buying again", "Recency rule says", "RFM (3-15)", "Segment",
                            "Why")])),
                        rx.table.body(rx.foreach(s.churn_rows, lambda r: rx.table.row(
                            rx.table.cell(r["name"]), rx.table.cell(r["probability"]), rx.table.cell(r["recency"]),
                            rx.table.cell(r["rfm"]), rx.table.cell(r["segment"]),
                            rx.table.cell(rx.text(r["reasons"], size="1")), class_name="churn-row"))),
                        width="100%"), overflow_x="auto", width="100%")),
            spacing="4", width="100%", align="start")),
        width="100%", align="start")


def register(app: rx.App) -> None:
    """Adds this product's pages to the app."""
    app.add_page(segments_page, route=SEGMENTS_ROUTE, title="Loyalty | ICC", on_load=LoyaltyState.load)
    app.add_page(campaigns_page, route=CAMPAIGNS_ROUTE, title="Campaigns | ICC", on_load=LoyaltyState.load)
    app.add_page(churn_page, route=CHURN_ROUTE, title="Who may not come back | ICC", on_load=LoyaltyState.load)
    from icc_app.loyalty.ui.program import ProgramState, program_page

    app.add_page(program_page, route=PROGRAM_ROUTE, title="Loyalty programme | ICC", on_load=ProgramState.load_program)
