"""Platform pages: home dashboard, notifications, the platform admin's audit log, and the 404 page."""

from __future__ import annotations

import reflex as rx

from icc_app.core import audit, notifications
from icc_app.core.db import unit_of_work
from icc_app.core.health import check_health
from icc_app.identity.permissions import require_platform_admin
from icc_app.ui import routes
from icc_app.ui.components import card, empty_state, page_header, stat
from icc_app.ui.layout import app_page
from icc_app.ui.state import SessionState

PRODUCTS = [
    ("CCX exchange", "arrow-left-right", "Wholesale lots with lab results, offers, orders and dual payment confirmation."),
    ("CQI", "gauge", "An explainable 0-100 quality score for every lot."),
    ("Operator console", "layout-dashboard", "Licenses, listings, orders, menus, integrations and your team."),
    ("ICC Maps", "map-pin", "Find dispensaries near you with live menus and reviews."),
    ("Virtual budtender", "sparkles", "Recommendations from the effects you want, only from products in stock."),
]


class HomeState(SessionState):
    health: dict[str, bool] = {}

    @rx.event
    def load(self):
        self._apply(self.principal())
        report = check_health()
        self.health = {name: check["ok"] for name, check in report["checks"].items()}


def _product_tile(name: str, icon: str, blurb: str) -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(rx.icon(icon, size=20, color=rx.color("accent", 10)), rx.heading(name, size="4"), align="center"),
            rx.text(blurb, size="2", color_scheme="gray"),
            spacing="2",
            align="start",
        )
    )


def _business_row(business: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(business["name"]),
        rx.table.cell(rx.cond(business["verified"] != "", rx.badge(rx.icon("badge-check", size=14), "Verified",
                                                                  color_scheme="green"),
                              rx.link(rx.badge("Not verified", color_scheme="amber"), href=routes.ONBOARDING))),
        rx.table.cell(business["type"]),
        rx.table.cell(rx.badge(business["role"])),
        rx.table.cell(business["products"]),
    )


def _signed_in_home() -> rx.Component:
    return rx.vstack(
        page_header(f"Welcome, {SessionState.display_name}", "Your ICC workspace."),
        rx.grid(
            stat("Businesses", SessionState.businesses.length(), "building-2"),
            stat("Unread notifications", SessionState.unread_count, "bell"),
            stat("Platform", rx.cond(HomeState.health.values().contains(False), "Degraded", "Operational"), "activity"),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="4",
            width="100%",
        ),
        rx.heading("Your businesses", size="5", as_="h2", margin_top="1em"),
        rx.cond(
            SessionState.businesses.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Business"),
                        rx.table.column_header_cell("Verification"),
                        rx.table.column_header_cell("Type"),
                        rx.table.column_header_cell("Your role"),
                        rx.table.column_header_cell("Product access"),
                    )
                ),
                rx.table.body(rx.foreach(SessionState.businesses, _business_row)),
                width="100%",
                variant="surface",
            ),
            rx.cond(
                SessionState.is_consumer,
                empty_state("map-pin", "Find your next dispensary",
                            "Your consumer account works across ICC Maps, the budtender and reviews, under your "
                            "handle. Businesses use separate business accounts."),
                empty_state("building-2", "No business yet",
                            "Onboard your licensed business to trade on the exchange, or ask your business's Admin "
                            "to invite you by email.",
                            rx.link(rx.button("Onboard your business"), href=routes.ONBOARDING)),
            ),
        ),
        rx.heading("ICC products", size="5", as_="h2", margin_top="1em"),
        rx.grid(*[_product_tile(*p) for p in PRODUCTS], columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="4", width="100%"),
        width="100%",
        spacing="3",
        align="start",
    )


def _public_home() -> rx.Component:
    return rx.vstack(
        rx.heading("The platform of the licensed cannabis industry", size="8", as_="h1"),
        rx.text("One identity for licensed businesses and their customers: trade wholesale lots with verified lab "
                "results, score quality, run your store, and help people find the right product.",
                size="4", color_scheme="gray", max_width="40em"),
        rx.hstack(rx.link(rx.button("Sign in", size="3"), href=routes.LOGIN),
                  rx.link(rx.button(rx.icon("map-pin", size=16), "Find a dispensary", size="3", variant="outline"),
                          href=routes.DISPENSARIES),
                  rx.link(rx.button("Create an account", size="3", variant="soft"), href=routes.SIGNUP)),
        rx.grid(*[_product_tile(*p) for p in PRODUCTS], columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="4", width="100%", margin_top="2em"),
        spacing="4",
        align="start",
        padding_y="2em",
    )


@app_page
def home_page() -> rx.Component:
    return rx.cond(
        SessionState.session_checked,
        rx.cond(SessionState.signed_in, _signed_in_home(), _public_home()),
        rx.center(rx.spinner(size="3"), padding="4em"),
    )


class NotificationsState(SessionState):
    items: list[dict[str, str]] = []
    loaded: bool = False

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        with unit_of_work() as session:
            rows = notifications.list_for_user(session, user_id=principal.user_id)
            self.items = [
                {
                    "id": str(n.id),
                    "title": n.title,
                    "body": n.body,
                    "link": n.link or "",
                    "when": n.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                    "unread": "yes" if n.read_at is None else "",
                }
                for n in rows
            ]
        self.loaded = True

    @rx.event
    def mark_all_read(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        with unit_of_work() as session:
            count = notifications.mark_all_read(session, user_id=principal.user_id)
        self.unread_count = 0
        self.items = [{**item, "unread": ""} for item in self.items]
        return rx.toast.info(f"Marked {count} notification(s) as read.")


def _notification_row(item: rx.Var) -> rx.Component:
    return card(
        rx.hstack(
            rx.cond(item["unread"] != "", rx.box(width="8px", height="8px", border_radius="full",
                                                background=rx.color("accent", 9), aria_label="unread")),
            rx.vstack(
                rx.text(item["title"], weight="bold"),
                rx.text(item["body"], size="2", color_scheme="gray"),
                spacing="1",
                align="start",
            ),
            rx.spacer(),
            rx.text(item["when"], size="1", color_scheme="gray"),
            align="center",
            width="100%",
        ),
        class_name="notification",
    )


@app_page
def notifications_page() -> rx.Component:
    return rx.vstack(
        page_header("Notifications", "Offers, orders, license alerts and platform news.",
                    rx.button("Mark all read", variant="soft", on_click=NotificationsState.mark_all_read,
                              disabled=SessionState.unread_count == 0)),
        rx.cond(
            ~NotificationsState.loaded,
            rx.center(rx.spinner(size="3"), width="100%", padding="3em"),
            rx.cond(
                NotificationsState.items.length() > 0,
                rx.vstack(rx.foreach(NotificationsState.items, _notification_row), width="100%", spacing="2"),
                empty_state("bell-off", "You're all caught up", "New offers, order updates and license alerts will appear here."),
            ),
        ),
        width="100%",
    )


PAGE_SIZE = 25


class AuditState(SessionState):
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 0
    action_filter: str = ""
    verifying: bool = False
    verify_result: str = ""
    verify_ok: bool = True

    def _admin(self):
        principal, redirect = self.require_principal()
        if redirect:
            return None, redirect
        if not principal.is_platform_admin:
            return None, [rx.toast.error("Platform administrators only."), rx.redirect(routes.HOME)]
        require_platform_admin(principal)
        return principal, None

    def _query(self):
        with unit_of_work() as session:
            rows, self.total = audit.list_entries(
                session, action_contains=self.action_filter, limit=PAGE_SIZE, offset=self.page * PAGE_SIZE
            )
            self.rows = [
                {
                    "id": str(r.id),
                    "when": r.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
                    "action": r.action,
                    "object": f"{r.object_type} {r.object_id or ''}".strip(),
                    "actor": str(r.actor_id or "system")[:8],
                    "ip": r.ip or "",
                    "hash": r.hash[:12],
                }
                for r in rows
            ]

    @rx.event
    def load(self):
        _, redirect = self._admin()
        if redirect:
            return redirect
        self.page = 0
        self._query()

    @rx.event
    def set_action_filter(self, value: str):
        _, redirect = self._admin()
        if redirect:
            return redirect
        self.action_filter = value
        self.page = 0
        self._query()

    @rx.event
    def next_page(self):
        if (self.page + 1) * PAGE_SIZE < self.total:
            self.page += 1
            self._query()

    @rx.event
    def prev_page(self):
        if self.page > 0:
            self.page -= 1
            self._query()

    @rx.event
    def verify(self):
        _, redirect = self._admin()
        if redirect:
            return redirect
        self.verifying = True
        yield
        with unit_of_work() as session:
            report = audit.verify_chain(session)
        self.verifying = False
        self.verify_ok = report.ok
        if report.ok:
            self.verify_result = f"Chain intact: {report.rows_checked} rows verified."
        else:
            self.verify_result = f"Chain broken at row {report.first_bad_id}: {report.problem}."


def _audit_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["id"]),
        rx.table.cell(row["when"]),
        rx.table.cell(rx.code(row["action"])),
        rx.table.cell(row["object"]),
        rx.table.cell(row["actor"]),
        rx.table.cell(row["ip"]),
        rx.table.cell(rx.code(row["hash"], color_scheme="gray")),
    )


@app_page
def audit_page() -> rx.Component:
    return rx.vstack(
        page_header("Audit log", "Every state change on the platform, hash-chained and append-only.",
                    rx.button(rx.icon("shield-check", size=16), "Verify chain", on_click=AuditState.verify,
                              loading=AuditState.verifying, id="verify-chain")),
        rx.cond(
            AuditState.verify_result != "",
            rx.callout(AuditState.verify_result, icon=rx.cond(AuditState.verify_ok, "circle-check", "triangle-alert"),
                       color_scheme=rx.cond(AuditState.verify_ok, "green", "red"), width="100%", id="verify-result"),
        ),
        rx.input(placeholder="Filter by action, e.g. sign_in", value=AuditState.action_filter,
                 on_change=AuditState.set_action_filter.debounce(300), width="20em", aria_label="Filter by action"),
        rx.cond(
            AuditState.rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("#", "When (UTC)", "Action", "Object", "Actor", "IP", "Hash")])),
                rx.table.body(rx.foreach(AuditState.rows, _audit_row)),
                width="100%",
                variant="surface",
                size="1",
            ),
            empty_state("scroll-text", "No audit entries", "Nothing matches this filter yet."),
        ),
        rx.hstack(
            rx.button("Previous", variant="soft", on_click=AuditState.prev_page, disabled=AuditState.page == 0),
            rx.text(f"Page {AuditState.page + 1} · {AuditState.total} entries", size="2"),
            rx.button("Next", variant="soft", on_click=AuditState.next_page,
                      disabled=(AuditState.page + 1) * PAGE_SIZE >= AuditState.total),
            align="center",
        ),
        width="100%",
        spacing="4",
    )


@app_page
def not_found_page() -> rx.Component:
    return empty_state("map-pin-off", "Page not found", "The page you asked for does not exist or has moved.",
                       rx.link(rx.button("Go home"), href=routes.HOME))


def register(app: rx.App) -> None:
    app.add_page(home_page, route=routes.HOME, title="ICC", on_load=HomeState.load)
    app.add_page(notifications_page, route=routes.NOTIFICATIONS, title="Notifications | ICC",
                 on_load=NotificationsState.load)
    app.add_page(audit_page, route=routes.ADMIN_AUDIT, title="Audit log | ICC", on_load=AuditState.load)
    app.add_page(not_found_page, route="404", title="Page not found | ICC", on_load=SessionState.load_session)
