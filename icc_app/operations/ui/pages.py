"""Pages of operations: forecasts (chart with intervals and how far to trust it, CSV import), reorder and purchase
orders (review, edit, approve, send as CCX offers or email), expirations (with markdowns), pricing (approve)."""

import reflex as rx

from icc_app.operations.ui.rules import RulesState, rules_card
from icc_app.operations.ui.state import IMPORT_UPLOAD, TRUST_COLORS, OperationsState
from icc_app.ui import routes
from icc_app.ui.components import card, empty_state, field_error, page_header
from icc_app.ui.layout import app_page

FORECASTS, REORDER, EXPIRATIONS, PRICING = routes.FORECASTS, routes.REORDER, routes.EXPIRATIONS, routes.PRICING

S = OperationsState


def _tabs(current: str) -> rx.Component:
    items = [("Forecasts", FORECASTS), ("Reorder", REORDER), ("Expirations", EXPIRATIONS), ("Pricing", PRICING)]
    return rx.hstack(*[rx.link(rx.button(text, variant="solid" if route == current else "soft", size="2"),
                               href=route) for text, route in items], spacing="2", wrap="wrap",
                     margin_bottom="1em", aria_label="Operations sections")


def _shell(title: str, subtitle: str, route: str, body: rx.Component, *actions: rx.Component) -> rx.Component:
    return rx.vstack(
        page_header(title, subtitle, *actions),
        _tabs(route),
        rx.cond(~S.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"), rx.cond(
            S.business_id == "",
            empty_state("boxes", "No business with Operations access",
                        "Ask your business Admin for access to Operations."),
            body)),
        width="100%", align="start")


def _trust_badge(trust: rx.Var, text: rx.Var) -> rx.Component:
    return rx.match(trust, *[(k, rx.badge(text, color_scheme=v, variant="soft", high_contrast=True)) for k, v in TRUST_COLORS.items()],
                    rx.badge(text, variant="soft", high_contrast=True))


def _table(headers: list[str], rows: rx.Var, cells, **props) -> rx.Component:
    return rx.box(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, lambda r: rx.table.row(*cells(r), **props))),
        variant="surface", size="1", width="100%"), overflow_x="auto", width="100%")


# ---- forecasts -----------------------------------------------------------------------------------------------

def _chart() -> rx.Component:
    c = S.chosen
    return card(rx.vstack(
        rx.hstack(rx.heading(c["name"], size="4", as_="h2"), _trust_badge(c["trust"], c["trust_text"]),
                  rx.spacer(), rx.button("Close", variant="ghost", size="1", on_click=S.close_chart),
                  width="100%", align="center", wrap="wrap"),
        rx.text("Model: ", c["model"], " · backtest error (MASE) ", c["mase"], size="2", color_scheme="gray"),
        rx.recharts.composed_chart(
            # The bands' stroke is invisible (width 0) but dark: the legend writes their names in it, readable.
            rx.recharts.area(data_key="band95", stroke=rx.color("accent", 11), stroke_width=0,
                             fill=rx.color("accent", 4), fill_opacity=1, name="95% interval",
                             is_animation_active=False),
            rx.recharts.area(data_key="band80", stroke=rx.color("accent", 11), stroke_width=0,
                             fill=rx.color("accent", 6), fill_opacity=1, name="80% interval",
                             is_animation_active=False),
            rx.recharts.line(data_key="actual", stroke=rx.color("gray", 11), dot=False, name="Sold",
                             is_animation_active=False),
            rx.recharts.line(data_key="forecast", stroke=rx.color("accent", 10), dot=False, name="Forecast",
                             stroke_width=2, is_animation_active=False),
            rx.recharts.x_axis(data_key="date", min_tick_gap=24), rx.recharts.y_axis(width=40),
            rx.recharts.legend(), rx.recharts.graphing_tooltip(),
            data=S.chart, height=300, width="100%"),
        rx.text("Notes: ", c["notes"], size="1", color_scheme="gray"),
        spacing="2", width="100%", align="start"), id="forecast-chart")


def _named_file_input(upload: rx.Component, name: str) -> rx.Component:
    """rx.upload's hidden file input has no name of its own; screen readers need one (axe rule `label`)."""
    upload.children[0].children[0].custom_attrs["aria-label"] = name
    return upload


def _import_card() -> rx.Component:
    return card(rx.vstack(
        rx.heading("Import sales or stock (no POS connected)", size="3", as_="h2"),
        rx.text("Sales: date, sku, quantity (location, category, revenue optional). Stock: sku, quantity (name, "
                "category, strain, size, unit_cost, price, expires_on, batch optional). Good rows are saved; bad rows "
                "are listed with their line.", size="2", color_scheme="gray"),
        rx.hstack(rx.el.label("File holds", html_for="import-kind", style={"font-size": "14px"}),
                  rx.select.root(rx.select.trigger(id="import-kind", aria_label="File holds"), rx.select.content(
                      rx.select.item("Sales", value="sales"), rx.select.item("Stock", value="inventory")),
                      value=S.import_kind, on_change=S.set_import_kind), align="center"),
        _named_file_input(rx.upload(
            rx.vstack(rx.icon("file-up", size=20), rx.text("Drop a CSV here or click to choose", size="2"),
                      align="center"),
            id=IMPORT_UPLOAD, max_files=1, accept={"text/csv": [".csv"]},
            on_drop=S.import_file(rx.upload_files(upload_id=IMPORT_UPLOAD)),
            border=f"2px dashed {rx.color('accent', 7)}", border_radius="12px", padding="1em", width="100%",
            cursor="pointer"), "CSV file to import"),
        rx.cond(S.busy, rx.hstack(rx.spinner(), rx.text("Importing…"))),
        rx.cond(S.import_summary != "", rx.text(S.import_summary, size="2", weight="medium", id="import-summary")),
        rx.foreach(S.import_errors, lambda e: rx.text(e, size="1", color_scheme="red")),
        spacing="2", width="100%", align="start"))


def _forecasts_body() -> rx.Component:
    return rx.vstack(
        rx.cond(S.chosen.contains("name"), _chart()),
        rx.cond(S.forecasts.length() == 0,
                empty_state("chart-line", "No forecasts yet",
                            "Forecasts appear once sales arrive from your POS or a CSV import; they refresh daily."),
                _table(["Product or group", "Level", "Next 7 days", "Trust", "Model", "Updated"], S.forecasts,
                       lambda r: [rx.table.row_header_cell(rx.link(r["name"], href="#forecast-chart",
                                                                   on_click=S.choose_forecast(r["id"]))),
                                  rx.table.cell(r["level"]), rx.table.cell(r["next_week"]),
                                  rx.table.cell(_trust_badge(r["trust"], r["trust_text"])),
                                  rx.table.cell(rx.text(r["model"], size="1")), rx.table.cell(r["refreshed"])])),
        _import_card(), spacing="4", width="100%")


@app_page
def forecasts_page() -> rx.Component:
    return _shell("Demand forecasts", "What each product, category and store will sell, and how far to trust it.",
                  FORECASTS, _forecasts_body(),
                  rx.button("Refresh forecasts", on_click=S.refresh_forecasts, variant="soft", id="refresh-forecasts"))


# ---- reorder and purchase orders -----------------------------------------------------------------------------

def _order_detail() -> rx.Component:
    o = S.order
    draft, approved = o["status"] == "draft", o["status"] == "approved"
    return card(rx.vstack(
        rx.hstack(rx.heading(o["number"], " · ", o["supplier"], size="4", as_="h2"),
                  rx.badge(o["status_text"], id="order-status", high_contrast=True), rx.spacer(),
                  rx.button("Close", variant="ghost", size="1", on_click=S.close_order), width="100%", wrap="wrap"),
        _table(["Product", "Quantity", "Unit cost", "On hand", "Reorder point", ""], S.lines, lambda x: [
            rx.table.row_header_cell(x["name"]),
            rx.table.cell(rx.cond(draft, rx.hstack(
                rx.input(value=S.line_qty[x["id"]], on_change=lambda v: S.set_line_qty(x["id"], v), type="number",
                         width="6em", aria_label="Quantity"),
                rx.button("Save", size="1", variant="soft", on_click=S.save_line(x["id"]))), x["quantity"])),
            rx.table.cell(x["cost"]), rx.table.cell(x["on_hand"]), rx.table.cell(x["reorder_point"]),
            rx.table.cell(rx.cond(approved & (o["ccx"] == "yes"), rx.select.root(
                rx.select.trigger(placeholder="Choose a CCX lot", aria_label="CCX lot"),
                rx.select.content(rx.foreach(S.lot_options[x["id"]],
                                             lambda lot: rx.select.item(lot["label"], value=lot["id"]))),
                value=S.lot_choice[x["id"]], on_change=lambda v: S.set_lot_choice(x["id"], v)), x["offer"]))]),
        rx.text("Total ", o["total"], weight="medium"),
        rx.hstack(
            rx.cond(draft, rx.button("Approve", on_click=S.order_status("approved"), id="approve-order")),
            rx.cond(approved, rx.button(rx.cond(o["ccx"] == "yes", "Send offers on CCX", "Send by email"),
                                        on_click=S.send_order, id="send-order")),
            rx.cond(approved, rx.button("Back to draft", variant="soft", on_click=S.order_status("draft"))),
            rx.cond(o["status"] == "sent", rx.button("Mark received", on_click=S.order_status("received"))),
            rx.cond(draft | approved | (o["status"] == "sent"),
                    rx.button("Cancel order", color_scheme="red", variant="soft", on_click=S.order_status("cancelled"))),
            rx.link(rx.button("Download CSV", variant="ghost"),
                    href="/api/v1/operations/" + S.business_id + "/purchase-orders/" + o["id"] + "/csv",
                    is_external=True),
            spacing="2", wrap="wrap"),
        rx.foreach(S.events, lambda e: rx.text(e["at"], " · ", e["text"], " ", e["reason"], size="1",
                                               color_scheme="gray")),
        spacing="3", width="100%", align="start"), id="order-detail")


def _policy_input(text: str, name: str, **props) -> rx.Component:
    return rx.vstack(rx.el.label(text, html_for=f"policy-{name}", style={"font-size": "12px", "font-weight": 500}),
                     rx.input(value=S.policy[name], on_change=lambda v: S.set_policy_field(name, v),
                              id=f"policy-{name}", **props),
                     field_error(S.errors.get(name, "")), spacing="1")


def _policy_form() -> rx.Component:
    return card(rx.vstack(
        rx.heading("Reorder policy", size="3", as_="h2"),
        rx.text("Who supplies a product, how long delivery takes, the smallest order and how rarely it may run out.",
                size="2", color_scheme="gray"),
        rx.grid(
            rx.vstack(rx.el.label("Product", html_for="policy-product", style={"font-size": "12px",
                                                                             "font-weight": 500}),
                      rx.select.root(rx.select.trigger(placeholder="Choose a product", id="policy-product",
                                                       aria_label="Product"),
                                     rx.select.content(rx.foreach(S.products, lambda p: rx.select.item(
                                         p["label"], value=p["value"]))),
                                     value=S.policy["product"], on_change=lambda v: S.set_policy_field("product", v)),
                      field_error(S.errors.get("product", "")), spacing="1"),
            _policy_input("Supplier", "supplier_name"), _policy_input("Supplier email", "supplier_email",
                                                                      type="email"),
            _policy_input("Lead time (days)", "lead_time_days", type="number"),
            _policy_input("Minimum order", "min_order_qty", type="number"),
            _policy_input("Service level (%)", "service_level", type="number"),
            columns=rx.breakpoints(initial="1", sm="2", md="3"), spacing="3", width="100%"),
        rx.button("Save policy", on_click=S.save_policy, id="save-policy"),
        spacing="3", width="100%", align="start"))


def _reorder_body() -> rx.Component:
    return rx.vstack(
        rx.cond(S.order.contains("number"), _order_detail()),
        rx.heading("Purchase orders", size="4", as_="h2"),
        rx.cond(S.orders.length() == 0,
                rx.text("No purchase orders yet. They are drafted when stock reaches its reorder point.",
                        color_scheme="gray", size="2"),
                _table(["Number", "Supplier", "Status", "Total", "Created"], S.orders, lambda r: [
                    rx.table.row_header_cell(rx.link(r["number"], href="#order-detail",
                                                     on_click=S.open_order(r["id"]))),
                    rx.table.cell(r["supplier"], rx.cond(r["ccx"] == "yes", rx.badge("CCX", margin_left="0.4em", high_contrast=True))),
                    rx.table.cell(r["status"]), rx.table.cell(r["total"]), rx.table.cell(r["created"])])),
        rx.heading("Reorder points", size="4", as_="h2"),
        rx.cond(S.plan_rows.length() == 0,
                empty_state("package", "No reorder policies yet",
                            "Set a supplier, lead time and service level per product below (or with the API)."),
                _table(["Product", "Supplier", "On hand", "On order", "Reorder point", "Order up to", "To order",
                        "Lead time", "Covers", "Forecast trust"], S.plan_rows, lambda r: [
                    rx.table.row_header_cell(r["product"]), rx.table.cell(r["supplier"]),
                    rx.table.cell(r["on_hand"]), rx.table.cell(r["on_order"]), rx.table.cell(r["reorder_point"]),
                    rx.table.cell(r["order_up_to"]),
                    rx.table.cell(rx.cond(r["due"] == "yes", rx.badge(r["order"], color_scheme="amber", high_contrast=True), "—")),
                    rx.table.cell(r["lead"]), rx.table.cell(r["cover"]), rx.table.cell(r["trust"])])),
        rx.cond(S.products.length() > 0, _policy_form()),
        spacing="4", width="100%", align="start")


@app_page
def reorder_page() -> rx.Component:
    return _shell("Reorder", "Reorder points from each product's forecast and its error; purchase orders to review.",
                  REORDER, _reorder_body(),
                  rx.button("Draft purchase orders", on_click=S.draft_orders, id="draft-orders"))


# ---- expirations and pricing ---------------------------------------------------------------------------------

def _expirations_body() -> rx.Component:
    return rx.cond(
        S.alerts.length() == 0,
        empty_state("calendar-check", "Nothing close to its expiry",
                    "Batches show here once they are within their category's alert window (30 days unless set "
                    "under Pricing, rules per category)."),
        _table(["Product", "Batch", "Quantity", "Expires", "In", "Price", "Markdown", "Why"], S.alerts, lambda a: [
            rx.table.row_header_cell(a["name"]), rx.table.cell(a["batch"]), rx.table.cell(a["quantity"]),
            rx.table.cell(a["expires"]),
            rx.table.cell(rx.badge(a["days"], color_scheme=rx.cond(a["urgent"] == "yes", "red", "amber"),
                                     high_contrast=True)),
            rx.table.cell(a["price"]), rx.table.cell(rx.text(a["markdown"], weight="bold")),
            rx.table.cell(rx.text(a["reason"], size="1"))]))


@app_page
def expirations_page() -> rx.Component:
    return _shell("Expirations", "Stock close to its expiry date, with the markdown pricing suggests.", EXPIRATIONS,
                  _expirations_body())


def _pricing_body() -> rx.Component:
    return rx.vstack(
        rx.cond(S.suggestions.length() == 0,
                empty_state("tags", "No price suggestions waiting",
                            "Suggestions come from nearby menus, days of supply and the forecast, within your "
                            "category rules; the margin floor is never crossed."),
                rx.vstack(rx.foreach(S.suggestions, lambda r: card(rx.flex(
                    rx.vstack(rx.hstack(rx.text(r["name"], weight="bold"), rx.badge(r["kind"], high_contrast=True),
                                        rx.badge(r["category"], variant="outline", high_contrast=True), wrap="wrap"),
                              rx.text(r["reason"], size="2"),
                              rx.text(r["details"], size="1", color_scheme="gray"), spacing="1", align="start",
                              flex="1"),
                    rx.vstack(rx.hstack(rx.text(r["current"], color_scheme="gray", text_decoration="line-through"),
                                        rx.text(r["suggested"], size="5", weight="bold"), rx.badge(r["change"], high_contrast=True),
                                        align="center"),
                              rx.hstack(rx.button("Approve", on_click=S.decide(r["id"], True), disabled=S.busy,
                                                  class_name="approve-price"),
                                        rx.button("Dismiss", variant="soft", on_click=S.decide(r["id"], False),
                                                  disabled=S.busy)), align="end"),
                    spacing="3", width="100%", direction=rx.breakpoints(initial="column", sm="row")))),
                    width="100%")),
        rx.link("Approved prices not sent to a POS (CSV)", href=S.csv_href, is_external=True, size="2"),
        rules_card(),
        spacing="3", width="100%", align="start")


@app_page
def pricing_page() -> rx.Component:
    return _shell("Pricing", "Suggested prices with their reasons; approved prices go to your POS, or a CSV.",
                  PRICING, _pricing_body(),
                  rx.button("Refresh suggestions", variant="soft", on_click=S.refresh_prices, id="refresh-prices"))


def register(app: rx.App) -> None:
    """Adds this product's pages to the app."""
    for page, route, title in ((forecasts_page, FORECASTS, "Forecasts"), (reorder_page, REORDER, "Reorder"),
                               (expirations_page, EXPIRATIONS, "Expirations"), (pricing_page, PRICING, "Pricing")):
        app.add_page(page, route=route, title=f"{title} | Operations | ICC",
                     on_load=[OperationsState.load, RulesState.load_rules] if page is pricing_page
                     else OperationsState.load)
