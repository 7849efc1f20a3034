"""API keys & webhooks (/console/api-keys): a business Admin creates partner API keys (the key is shown once, with
a copy button), rotates and revokes them, and manages webhook endpoints with their delivery log."""

from __future__ import annotations

import reflex as rx

from icc_app.integrations.partners.ui.state import EXPIRY_CHOICES, ApiKeysState
from icc_app.ui.components import card, empty_state, field_error, page_header
from icc_app.ui.layout import app_page

ROUTE = "/console/api-keys"
STATUS_COLORS = {"active": "green", "expiring": "amber", "expired": "gray", "revoked": "red"}


def _badge(status: rx.Var, text: rx.Var, colors: dict[str, str]) -> rx.Component:
    return rx.match(status, *[(k, rx.badge(text, color_scheme=c, high_contrast=True)) for k, c in colors.items()],
                    rx.badge(text, color_scheme="gray", high_contrast=True))


def _shown_once() -> rx.Component:
    s = ApiKeysState
    secret = rx.cond(s.new_key != "", s.new_key, s.new_secret)
    return rx.cond((s.new_key != "") | (s.new_secret != ""), rx.callout.root(
        rx.callout.icon(rx.icon("key-round")),
        rx.vstack(
            rx.text(rx.cond(s.new_key != "", s.new_key_note, s.new_secret_note), weight="bold"),
            rx.text(rx.cond(s.new_key != "", "Copy this key now and store it in the partner's secret store. It is "
                            "shown only once: we keep only a fingerprint of it.",
                            "Copy this signing secret now: the partner verifies every delivery with it. It is shown "
                            "only once."), size="2"),
            rx.flex(rx.code(secret, id="shown-once", word_break="break-all", size="3", color_scheme="gray",
                            high_contrast=True),
                    rx.button(rx.icon("copy", size=16), "Copy", size="2", variant="surface", color_scheme="gray",
                              high_contrast=True, id="copy-secret",
                              on_click=[rx.set_clipboard(secret), rx.toast.success("Copied.")]),
                    spacing="2", align="center", wrap="wrap", width="100%"),
            rx.button("I have stored it", size="2", color_scheme="gray", high_contrast=True,
                      on_click=s.dismiss_secret, id="dismiss-secret"),
            spacing="2", align="start", width="100%"),
        color_scheme="amber", high_contrast=True, width="100%", role="status"))


def _create_key_form() -> rx.Component:
    s = ApiKeysState
    return card(rx.vstack(
        rx.heading("Create an API key", size="4", as_="h2"),
        rx.flex(
            rx.vstack(rx.text("Name", as_="label", size="2", weight="medium", custom_attrs={"htmlFor": "key-name"}),
                      rx.input(id="key-name", value=s.name, on_change=s.set_name, placeholder="Acme POS bridge",
                               width="100%"),
                      field_error(s.errors.get("name", "")), spacing="1", flex="2", min_width="14em"),
            rx.vstack(rx.text("Expires in", as_="label", size="2", weight="medium",
                              custom_attrs={"htmlFor": "key-expiry"}),
                      rx.select(list(EXPIRY_CHOICES), value=s.expiry, on_change=s.set_expiry, id="key-expiry",
                                custom_attrs={"aria-label": "Expires in"}),
                      spacing="1", flex="1", min_width="10em"),
            spacing="3", wrap="wrap", width="100%"),
        rx.text("Scopes: what the key may read or do", size="2", weight="medium"),
        rx.grid(rx.foreach(s.scope_options, lambda o: rx.checkbox(
            rx.text(rx.code(o["scope"]), " ", o["description"], size="2"), checked=s.scopes.contains(o["scope"]),
            on_change=lambda checked: s.toggle_scope(o["scope"], checked), class_name="scope-choice")),
            columns=rx.breakpoints(initial="1", md="2"), spacing="2", width="100%"),
        field_error(s.errors.get("scopes", "")),
        rx.button("Create key", on_click=s.create_key, loading=s.busy, disabled=s.busy, id="create-key"),
        spacing="3", align="start", width="100%"))


def _revoke_button(row: dict) -> rx.Component:
    s = ApiKeysState
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Revoke", size="1", variant="soft", color_scheme="red", disabled=s.busy,
                                          aria_label="Revoke " + row["name"], class_name="revoke-key")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Revoke ", row["name"], "?"),
            rx.alert_dialog.description("Every request with this key is refused from now on. This cannot be undone."),
            rx.flex(rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                    rx.alert_dialog.action(rx.button("Revoke key", color_scheme="red", id="confirm-revoke",
                                                     on_click=s.revoke_key(row["id"]))),
                    spacing="3", justify="end", margin_top="1em")))


def _keys_list() -> rx.Component:
    s = ApiKeysState
    return rx.cond(s.keys.length() == 0, empty_state(
        "key-round", "No API keys yet", "Create a key for each partner system that reads your menu, sales, lots or "
        "orders. Each key acts for this business only."),
        rx.vstack(rx.foreach(s.keys, lambda k: card(rx.flex(
            rx.vstack(
                rx.hstack(rx.text(k["name"], weight="bold"), _badge(k["status"], k["status_label"], STATUS_COLORS),
                          wrap="wrap", align="center"),
                rx.code(k["prefix"], size="2"),
                rx.text("Scopes: ", k["scopes"], size="2"),
                rx.text("Last used: ", k["last_used"], " · Expires: ", k["expires"], size="2", color_scheme="gray"),
                rx.cond(k["grace"] != "", rx.text("Works until ", k["grace"], ", then refused", size="2",
                                                  color_scheme="amber")),
                spacing="1", align="start", flex="1", min_width="16em"),
            rx.cond(k["status"] == "active", rx.hstack(
                rx.button("Rotate", size="1", variant="soft", on_click=s.rotate_key(k["id"]), disabled=s.busy,
                          aria_label="Rotate " + k["name"]),
                _revoke_button(k), spacing="2")),
            rx.cond(k["status"] == "expiring", _revoke_button(k)),
            spacing="3", wrap="wrap", align="start", width="100%"), class_name="api-key-row")),
            width="100%", spacing="2"))


def _endpoint_form() -> rx.Component:
    s = ApiKeysState
    return card(rx.vstack(
        rx.heading("Add a webhook endpoint", size="4", as_="h2"),
        rx.text("We POST each event as JSON, signed with HMAC-SHA256 (header ICC-Signature), and retry failures with "
                "growing delays. See docs/partner-api.md for how to verify.", size="2", color_scheme="gray"),
        rx.text("Address (https)", as_="label", size="2", weight="medium", custom_attrs={"htmlFor": "endpoint-url"}),
        rx.input(id="endpoint-url", value=s.url, on_change=s.set_url, placeholder="https://partner.example.com/hooks",
                 width="100%"),
        field_error(s.errors.get("url", "")),
        rx.text("Events", size="2", weight="medium"),
        rx.grid(rx.foreach(s.event_options, lambda o: rx.checkbox(
            rx.text(rx.code(o["type"]), " ", o["description"], size="2"), checked=s.events.contains(o["type"]),
            on_change=lambda checked: s.toggle_event(o["type"], checked))),
            columns=rx.breakpoints(initial="1", md="2"), spacing="2", width="100%"),
        field_error(s.errors.get("events", "")),
        rx.button("Add endpoint", on_click=s.create_endpoint, loading=s.busy, disabled=s.busy, id="add-endpoint"),
        spacing="2", align="start", width="100%"))


def _delivery_log() -> rx.Component:
    s = ApiKeysState
    return rx.cond(s.log_endpoint != "", card(rx.vstack(
        rx.heading(s.log_title, size="3", as_="h3", word_break="break-all"),
        rx.cond(s.deliveries.length() == 0, rx.text("Nothing sent yet.", color_scheme="gray"),
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Event", "Status", "Attempts", "Last answer", "Time", "When", "")])),
                    rx.table.body(rx.foreach(s.deliveries, lambda d: rx.table.row(
                        rx.table.cell(rx.code(d["event"])),
                        rx.table.cell(_badge(d["status"], d["status_label"], {
                            "delivered": "green", "retrying": "amber", "failed": "red", "pending": "gray"}),
                            rx.cond(d["next"] != "", rx.text("next ", d["next"], size="1", color_scheme="gray"))),
                        rx.table.cell(d["attempts"]), rx.table.cell(d["answer"]), rx.table.cell(d["timing"]),
                        rx.table.cell(d["when"]),
                        rx.table.cell(rx.button("Redeliver", size="1", variant="soft", disabled=s.busy,
                                                on_click=s.redeliver(d["id"]))),
                        class_name="delivery-row"))), width="100%"), overflow_x="auto", width="100%")),
        spacing="2", align="start", width="100%")))


def _endpoints_list() -> rx.Component:
    s = ApiKeysState
    return rx.cond(s.endpoints.length() == 0, empty_state(
        "webhook", "No webhook endpoints", "Add one to have listings, orders and menu changes pushed to a partner."),
        rx.vstack(rx.foreach(s.endpoints, lambda e: card(rx.flex(
            rx.vstack(rx.text(e["url"], weight="bold", word_break="break-all"),
                      rx.text(e["events"], size="2"),
                      rx.text("Secret ", rx.code(e["secret_hint"]), size="2", color_scheme="gray"),
                      rx.cond(e["enabled"] == "", rx.badge("Paused", color_scheme="gray", high_contrast=True)),
                      spacing="1", align="start", flex="1", min_width="16em"),
            rx.flex(rx.button("Send test event", size="1", variant="soft", on_click=s.send_test(e["id"]),
                              disabled=s.busy),
                    rx.button(rx.cond(s.log_endpoint == e["id"], "Hide deliveries", "Deliveries"), size="1",
                              variant="soft", on_click=s.show_log(e["id"])),
                    rx.cond(e["enabled"] != "",
                            rx.button("Pause", size="1", variant="soft", color_scheme="gray", disabled=s.busy,
                                      on_click=s.set_enabled(e["id"], False)),
                            rx.button("Resume", size="1", variant="soft", disabled=s.busy,
                                      on_click=s.set_enabled(e["id"], True))),
                    rx.button("New secret", size="1", variant="soft", color_scheme="gray", disabled=s.busy,
                              on_click=s.rotate_secret(e["id"])),
                    rx.button("Remove", size="1", variant="ghost", color_scheme="red", disabled=s.busy,
                              on_click=s.delete_endpoint(e["id"])),
                    spacing="2", wrap="wrap"),
            spacing="3", wrap="wrap", width="100%"))), _delivery_log(), width="100%", spacing="2"))


@app_page
def api_keys_page() -> rx.Component:
    s = ApiKeysState
    return rx.vstack(
        page_header("API keys & webhooks", rx.cond(s.business_name != "", "Partner access to " + s.business_name,
                                                   "Partner access to your business")),
        rx.cond(~s.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"), rx.cond(
            s.business_id == "", empty_state("shield", "Only Admins manage API keys",
                                             "Ask an Admin of your business to create a key or add an endpoint."),
            rx.vstack(
                _shown_once(),
                rx.heading("API keys", size="5", as_="h2"),
                _create_key_form(), _keys_list(),
                rx.divider(margin_y="1em"),
                rx.heading("Webhooks", size="5", as_="h2"),
                _endpoint_form(), _endpoints_list(),
                spacing="4", width="100%", align="start"))),
        width="100%", align="start")


def register(app: rx.App) -> None:
    app.add_page(api_keys_page, route=ROUTE, title="API keys & webhooks | ICC", on_load=ApiKeysState.load)
