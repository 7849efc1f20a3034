"""Point of sale (operator console, integrations access): the business's POS connections with their status in
words, the connect form, per-connection actions (test, sync now, pause/resume, rotate credentials, disconnect) and
the sync runs log with filters, counts, per-item errors and retry. Cards stack on a phone; nothing scrolls sideways."""

from __future__ import annotations

import reflex as rx

from icc_app.integrations.service import MAX_INTERVAL, MIN_INTERVAL
from icc_app.integrations.ui.state import ADMIN_REASON, MANAGE_REASON, PointOfSaleState
from icc_app.ui import routes
from icc_app.ui.components import card, empty_state, field_error, field_label, form_alert, loading_button, page_header
from icc_app.ui.layout import app_page

ROUTE = routes.POINT_OF_SALE  # /console/integrations, the navigation's "Point of sale"

S = PointOfSaleState

WHAT_CONNECTING_DOES = (
    "Connect your point of sale (Dutchie, Treez, Flowhub or Jane) and your dispensary's menu on ICC Maps follows it "
    "without typing: new products, prices and stock arrive every 15 to 60 minutes or when you press Sync now, and "
    "sales feed forecasts and loyalty. Credentials are stored encrypted and never shown again.")


def _badge(status: rx.Var, text: rx.Var) -> rx.Component:
    def colored(color: str) -> rx.Component:
        return rx.badge(text, color_scheme=color, high_contrast=True, size="2", class_name="status-badge")

    return rx.match(status, ("healthy", colored("green")), ("succeeded", colored("green")),
                    ("failing", colored("red")), ("failed", colored("red")), ("paused", colored("amber")),
                    ("running", colored("blue")), colored("gray"))


def _fact(label: str, value: rx.Var, class_name: str = "") -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"),
                     rx.text(value, size="2", word_break="break-word", class_name=class_name),
                     spacing="0", align="start", min_width="0")


def _field(label: str, field: str, *, error_key: str = "", hint: rx.Var | str = "", **props) -> rx.Component:
    error = S.errors.get(error_key or field, "")
    return rx.vstack(
        field_label(label, f"pos-{field}"),
        rx.input(id=f"pos-{field}", value=S.draft[field], on_change=lambda v: S.set_draft(field, v), size="3",
                 width="100%", aria_invalid=rx.cond(error != "", "true", "false"),
                 aria_describedby=f"pos-{field}-error", **props),
        rx.text(hint, size="1", color_scheme="gray") if isinstance(hint, rx.Var) or hint else rx.fragment(),
        rx.box(field_error(error), id=f"pos-{field}-error"),
        spacing="1", width="100%", align="start", min_width="0")


def _select(label: str, field: str, trigger_id: str, options: rx.Component, on_change, value: rx.Var,
            placeholder: str, error_key: str) -> rx.Component:
    return rx.vstack(
        field_label(label, trigger_id),
        rx.select.root(rx.select.trigger(placeholder=placeholder, id=trigger_id, width="100%",
                                         custom_attrs={"aria-label": label}),
                       rx.select.content(options), value=value, on_change=on_change, size="3"),
        rx.box(field_error(S.errors.get(error_key, "")), id=f"{trigger_id}-error"),
        spacing="1", width="100%", align="start", min_width="0")


def _credential_input(f, values: rx.Var, on_change, prefix: str) -> rx.Component:
    return rx.vstack(
        rx.text(f.label, as_="label", size="2", weight="medium", custom_attrs={"htmlFor": f"{prefix}-{f.key}"}),
        rx.input(id=f"{prefix}-{f.key}", type="password", auto_complete="new-password", size="3", width="100%",
                 value=values.get(f.key, ""), on_change=lambda v: on_change(f.key, v), class_name="credential"),
        spacing="1", width="100%", align="start", min_width="0")


def connect_form() -> rx.Component:
    return card(rx.vstack(
        rx.heading("Connect a point of sale", size="4", as_="h2"),
        rx.text(WHAT_CONNECTING_DOES, size="2", color_scheme="gray"),
        rx.grid(
            _select("Point of sale", "vendor", "pos-vendor",
                    rx.foreach(S.vendors, lambda v: rx.select.item(v.label, value=v.value)),
                    S.set_vendor, S.draft["vendor"], "Choose your POS", "vendor"),
            _field("Name (how this page calls it)", "name", placeholder="Main street store"),
            _field("API address", "base_url", hint=S.vendor_hint, placeholder="https://"),
            rx.cond(S.needs_location, _field("Location ID", "location_id", hint=S.location_hint)),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
        rx.cond(S.vendor_capabilities != "", rx.text("This POS can share: ", S.vendor_capabilities, size="2")),
        rx.cond(S.cred_fields.length() > 0, rx.vstack(
            rx.text("Credentials (stored encrypted; never shown again)", size="2", weight="bold"),
            rx.grid(rx.foreach(S.cred_fields, lambda f: _credential_input(f, S.creds, S.set_cred, "cred")),
                    columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
            rx.box(field_error(S.errors.get("credentials", "")), id="pos-credentials-error"),
            spacing="2", width="100%", align="start")),
        rx.grid(
            _select("Dispensary whose menu it feeds", "dispensary_id", "pos-dispensary",
                    rx.fragment(rx.select.item("None for now (sales and customers only)", value="none"),
                                rx.foreach(S.dispensaries, lambda d: rx.select.item(d["name"], value=d["id"]))),
                    lambda v: S.set_draft("dispensary_id", v), S.draft["dispensary_id"], "Choose a dispensary",
                    "dispensary_id"),
            _field(f"Sync every ({MIN_INTERVAL} to {MAX_INTERVAL} minutes)", "interval", error_key="interval_minutes",
                   type="number", min=MIN_INTERVAL, max=MAX_INTERVAL),
            _field("Webhook secret (optional, for live updates)", "webhook_secret", type="password",
                   auto_complete="new-password"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
        rx.cond(S.dispensaries.length() == 0, rx.text(
            "No claimed dispensary yet: claim your store in ",
            rx.link("My dispensary", href=routes.MY_DISPENSARY), " so its menu can follow this point of sale.",
            size="2", color_scheme="gray")),
        form_alert(S.form_error, id="pos-form-error"),
        rx.hstack(loading_button("Connect", S.submitting, on_click=S.connect, id="pos-connect"),
                  rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.close_form), spacing="3"),
        spacing="4", width="100%", align="start"), id="connect-form")


def _actions(c) -> rx.Component:
    testing = S.testing.contains(c.id)
    return rx.flex(
        loading_button("Test connection", testing, on_click=S.test_connection(c.id), variant="soft",
                       disabled=testing, class_name="test-connection"),
        rx.button(rx.icon("refresh-cw", size=16), "Sync now", on_click=S.sync_now(c.id), disabled=~c.can_sync,
                  class_name="sync-now",
                  title=rx.cond(c.paused, "Paused: resume it to sync.", rx.cond(c.active != "", "A sync is under way.",
                                                                               ""))),
        rx.cond(c.paused,
                rx.button("Resume", variant="soft", color_scheme="green", on_click=S.set_paused(c.id, False),
                          class_name="resume"),
                rx.button("Pause", variant="soft", color_scheme="gray", on_click=S.set_paused(c.id, True),
                          class_name="pause")),
        rx.button("Edit settings", variant="soft", color_scheme="gray", on_click=S.open_edit(c.id),
                  class_name="edit"),
        rx.button("Rotate credentials", variant="soft", color_scheme="gray", on_click=S.open_rotate(c.id),
                  class_name="rotate"),
        rx.cond(S.is_admin,
                rx.button("Disconnect", variant="soft", color_scheme="red", on_click=S.ask_disconnect(c.id),
                          class_name="disconnect"),
                rx.button("Disconnect", variant="soft", color_scheme="red", disabled=True, title=ADMIN_REASON,
                          aria_label=f"Disconnect ({ADMIN_REASON})", class_name="disconnect")),
        spacing="2", wrap="wrap", width="100%")


def connection_card(c) -> rx.Component:
    answer = S.test_answers.get(c.id, "")
    return card(rx.vstack(
        rx.flex(
            rx.vstack(rx.heading(c.name, size="4", as_="h3", word_break="break-word"),
                      rx.text(c.vendor_label, rx.cond(c.location != "", " · location " + c.location, ""), size="2",
                              color_scheme="gray", word_break="break-all"),
                      spacing="1", align="start", min_width="0"),
            rx.spacer(),
            _badge(c.status, c.status_label),
            width="100%", align="start", spacing="3", wrap="wrap"),
        rx.grid(
            _fact("Last successful sync", c.last_success, "last-success"),
            _fact("Feeds the menu of", c.dispensary, "feeds"),
            _fact("Schedule", rx.cond(c.paused, "Paused", c.interval)),
            _fact("Supports", c.capabilities, "capabilities"),
            _fact("Credentials", c.credentials, "credentials-hint"),
            _fact("API address", c.base_url),
            columns=rx.breakpoints(initial="1", sm="2", md="3"), spacing="3", width="100%"),
        rx.cond(c.last_error != "", rx.callout(
            rx.text(rx.text("Last error", rx.cond(c.last_error_when != "", " (" + c.last_error_when + ")", ""), ": ",
                            as_="span", weight="bold"), c.last_error),
            icon="triangle-alert", color_scheme="red", size="1", width="100%", class_name="last-error")),
        rx.cond(c.active != "", rx.hstack(rx.spinner(size="2"), rx.text(c.active, size="2"), align="center",
                                          class_name="sync-progress", role="status")),
        rx.cond(answer != "", rx.callout(answer, icon=rx.cond(S.test_ok.get(c.id, False), "circle-check", "circle-x"),
                                         color_scheme=rx.cond(S.test_ok.get(c.id, False), "green", "red"), size="1",
                                         width="100%", class_name="test-answer", role="status")),
        rx.cond(S.can_manage & ~c.disconnected, _actions(c)),
        spacing="3", width="100%", align="start"), class_name="pos-connection", data_status=c.status)


def _count(value: rx.Var, word: str, name: str) -> rx.Component:
    return rx.text(rx.text.strong(value), " ", word, size="2", class_name=f"run-{name}")


def run_card(r) -> rx.Component:
    return card(rx.vstack(
        rx.flex(
            rx.text(r.connection, weight="bold", word_break="break-word"),
            _badge(r.status, r.status_label),
            rx.text(r.trigger, size="2", color_scheme="gray", class_name="run-trigger"),
            rx.spacer(),
            rx.text("Started ", r.started, size="2", color_scheme="gray"),
            width="100%", align="center", spacing="2", wrap="wrap"),
        rx.cond(r.progress != "", rx.hstack(rx.spinner(size="2"), rx.text(r.progress, size="2"), align="center",
                                            role="status")),
        rx.cond(r.status == "succeeded", rx.flex(
            _count(r.created, "created", "created"), _count(r.updated, "updated", "updated"),
            _count(r.unchanged, "unchanged", "unchanged"), _count(r.out_of_stock, "out of stock", "out-of-stock"),
            _count(r.skipped, "skipped", "skipped"),
            spacing="4", wrap="wrap", class_name="run-counts")),
        rx.text(rx.cond(r.streams != "", "Synced " + r.streams, ""),
                rx.cond(r.extra != "", " · " + r.extra, ""),
                rx.cond(r.finished, " · took " + r.duration, ""), size="2", color_scheme="gray"),
        rx.cond(r.error != "", rx.callout(r.error, icon="circle-x", color_scheme="red", size="1", width="100%",
                                          class_name="run-error")),
        rx.cond(r.item_errors.length() > 0, rx.el.details(
            rx.el.summary(rx.text("Why items were skipped (", r.item_errors.length(), ")", as_="span", size="2"),
                          cursor="pointer"),
            rx.el.ul(rx.foreach(r.item_errors, lambda e: rx.el.li(rx.text(e, size="2", word_break="break-word"))),
                     padding_left="1.2em", margin_top="0.4em"),
            class_name="item-errors", width="100%")),
        rx.cond(r.retryable & S.can_manage, rx.button(rx.icon("rotate-ccw", size=16), "Retry", size="2",
                                                      variant="soft", on_click=S.retry(r.id), class_name="retry")),
        spacing="2", width="100%", align="start"), class_name="sync-run", data_status=r.status)


def runs_log() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.heading("Sync runs", size="5", as_="h2"),
            rx.spacer(),
            rx.flex(
                rx.select.root(rx.select.trigger(custom_attrs={"aria-label": "Filter runs by connection"},
                                                 id="runs-connection", min_width="12em"),
                               rx.select.content(rx.foreach(S.run_connection_options,
                                                            lambda o: rx.select.item(o["label"], value=o["value"]))),
                               value=S.run_connection, on_change=S.set_run_connection),
                rx.select.root(rx.select.trigger(custom_attrs={"aria-label": "Filter runs by result"},
                                                 id="runs-status", min_width="10em"),
                               rx.select.content(rx.select.item("Any result", value="all"),
                                                 rx.select.item("Waiting to start", value="queued"),
                                                 rx.select.item("Running", value="running"),
                                                 rx.select.item("Succeeded", value="succeeded"),
                                                 rx.select.item("Failed", value="failed")),
                               value=S.run_status, on_change=S.set_run_status),
                spacing="2", wrap="wrap"),
            width="100%", align="center", spacing="3", wrap="wrap"),
        rx.text("Newest first. A run applies everything it fetched or nothing; skipped items are listed with why.",
                size="2", color_scheme="gray"),
        rx.cond(S.runs.length() == 0,
                empty_state("history", "No sync runs yet",
                            "Runs appear here when a connection syncs: on its schedule, from Sync now, or from a "
                            "live update."),
                rx.vstack(rx.foreach(S.runs, run_card), width="100%", spacing="3", id="runs")),
        width="100%", spacing="3", align="start", id="runs-log")


def rotate_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Rotate credentials"),
        rx.dialog.description("New credentials for ", S.rotate_name, " replace the stored ones, which are erased. "
                              "The next test or sync uses the new ones.", size="2"),
        rx.vstack(
            rx.foreach(S.rotate_fields, lambda f: _credential_input(f, S.rotate_creds, S.set_rotate_cred, "rotate")),
            rx.vstack(rx.text("New webhook secret (optional)", as_="label", size="2", weight="medium",
                              custom_attrs={"htmlFor": "rotate-webhook-secret"}),
                      rx.input(id="rotate-webhook-secret", type="password", auto_complete="new-password", size="3",
                               width="100%", value=S.rotate_secret, on_change=S.set_rotate_secret),
                      spacing="1", width="100%", align="start"),
            form_alert(S.rotate_error, id="rotate-error"),
            rx.hstack(rx.button("Save new credentials", on_click=S.rotate, id="rotate-save"),
                      rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")), spacing="3"),
            spacing="3", width="100%", margin_top="1em"),
        max_width="32em"), open=S.rotate_id != "", on_open_change=S.set_rotate_open)


def _edit_field(label: str, field: str, error_key: str = "", **props) -> rx.Component:
    error = S.edit_errors.get(error_key or field, "")
    return rx.vstack(
        field_label(label, f"edit-{field}"),
        rx.input(id=f"edit-{field}", value=S.edit[field], on_change=lambda v: S.set_edit(field, v), size="3",
                 width="100%", aria_invalid=rx.cond(error != "", "true", "false"), **props),
        field_error(error), spacing="1", width="100%", align="start")


def edit_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Connection settings"),
        rx.dialog.description("The credentials stay as they are (rotate them separately).", size="2"),
        rx.vstack(
            _edit_field("Name", "name"),
            _edit_field("API address", "base_url"),
            _edit_field("Location ID", "location_id"),
            rx.vstack(
                field_label("Dispensary whose menu it feeds", "edit-dispensary"),
                rx.select.root(rx.select.trigger(id="edit-dispensary", width="100%",
                                                 custom_attrs={"aria-label": "Dispensary whose menu it feeds"}),
                               rx.select.content(rx.select.item("None for now", value="none"),
                                                 rx.foreach(S.dispensaries,
                                                            lambda d: rx.select.item(d["name"], value=d["id"]))),
                               value=S.edit["dispensary_id"], on_change=lambda v: S.set_edit("dispensary_id", v),
                               size="3"),
                field_error(S.edit_errors.get("dispensary_id", "")), spacing="1", width="100%", align="start"),
            _edit_field(f"Sync every ({MIN_INTERVAL} to {MAX_INTERVAL} minutes)", "interval", "interval_minutes",
                        type="number", min=MIN_INTERVAL, max=MAX_INTERVAL),
            form_alert(S.edit_errors.get("form", ""), id="edit-error"),
            rx.hstack(rx.button("Save settings", on_click=S.save_edit, id="edit-save"),
                      rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")), spacing="3"),
            spacing="3", width="100%", margin_top="1em"),
        max_width="32em"), open=S.edit_id != "", on_open_change=S.set_edit_open)


def disconnect_dialog() -> rx.Component:
    return rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title("Disconnect ", S.disconnect_name, "?"),
        rx.alert_dialog.description("Syncing stops and the stored credentials are erased. The menu, the sales "
                                    "already synced and the runs log stay. Connecting again needs the credentials.",
                                    size="2"),
        rx.flex(rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Disconnect", color_scheme="red", on_click=S.disconnect,
                                                 id="confirm-disconnect")),
                spacing="3", justify="end", margin_top="1em"),
        max_width="30em"), open=S.disconnect_id != "", on_open_change=S.set_disconnect_open)


def _connections() -> rx.Component:
    return rx.cond(
        S.connections.length() == 0,
        rx.cond(~S.form_open, empty_state(
            "plug", "No point of sale connected yet", WHAT_CONNECTING_DOES,
            *[rx.cond(S.can_manage, rx.button("Connect a point of sale", on_click=S.open_form, id="open-connect"))])),
        rx.vstack(rx.foreach(S.connections, connection_card), width="100%", spacing="3", id="connections"))


@app_page
def point_of_sale_page() -> rx.Component:
    return rx.vstack(
        page_header("Point of sale", "Your POS connections: the menu, stock and sales they bring in, and every sync.",
                    rx.cond(S.can_manage & (S.connections.length() > 0) & ~S.form_open,
                            rx.button(rx.icon("plus", size=16), "Connect a point of sale", on_click=S.open_form,
                                      id="open-connect"))),
        rx.cond(~S.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"), rx.cond(
            S.business_id == "",
            empty_state("plug", "No business with Point of sale access",
                        "Ask your business Admin for access to integrations."),
            rx.vstack(
                rx.cond(~S.can_manage, rx.callout(f"You can see the connections and their runs. {MANAGE_REASON}",
                                                  icon="info", color_scheme="blue", width="100%", id="view-only")),
                rx.cond(S.form_open, connect_form()),
                _connections(),
                runs_log(),
                rotate_dialog(),
                edit_dialog(),
                disconnect_dialog(),
                width="100%", spacing="5", align="start"))),
        width="100%", align="start", min_width="0")


def register(app: rx.App) -> None:
    """Adds this product's pages to the app."""
    app.add_page(point_of_sale_page, route=ROUTE, title="Point of sale | ICC", on_load=PointOfSaleState.load)
