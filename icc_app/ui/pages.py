"""Platform pages: home (an operator's work queue, a consumer's reviews, the public welcome), notifications, the platform admin's audit log, and the 404 page."""

from __future__ import annotations

import reflex as rx

from icc_app.console import service as console
from icc_app.core import audit, notifications
from icc_app.core.db import unit_of_work
from icc_app.core.health import check_health
from icc_app.identity.permissions import require_platform_admin
from icc_app.ui import routes
from icc_app.ui.components import card, empty_state, link_button, page_header
from icc_app.ui.format import label, local_time, plural
from icc_app.ui.layout import app_page, configure_document
from icc_app.ui.state import SessionState

PRODUCTS = [
    ("CCX exchange", "arrow-left-right", "Wholesale lots with lab results, offers, orders and dual payment confirmation."),
    ("CQI", "gauge", "An explainable 0-100 quality score for every lot."),
    ("Operator console", "layout-dashboard", "Licenses, listings, orders, menus, integrations and your team."),
    ("ICC Maps", "map-pin", "Find dispensaries near you with live menus and reviews."),
    ("Virtual budtender", "sparkles", "Recommendations from the effects you want, only from products in stock."),
]


class HomeState(SessionState):
    """The signed-in home: an operator's work queue and businesses, or a consumer's reviews."""

    queue: list[dict[str, str]] = []
    business_rows: list[dict[str, str]] = []
    review_total_text: str = ""
    reviews: list[dict[str, str]] = []
    platform_degraded: bool = False
    loaded: bool = False

    @rx.event
    def load(self):
        principal = self.principal()
        self._apply(principal)
        self.loaded = False
        if principal is None:
            return
        with unit_of_work(tenant=principal) as session:  # row-level security as the second line on PostgreSQL
            self.queue = [{"key": i.key, "count": str(i.count), "title": i.title, "hint": i.hint, "route": i.route,
                           "icon": i.icon} for i in console.work_queue(session, principal=principal)]
            total, lines = console.my_reviews(session, principal=principal) if self.is_consumer else (0, [])
        self.review_total_text = plural(total, "review")
        self.reviews = [{"place": r.place, "stars": "★" * r.rating + "☆" * (5 - r.rating),
                         "rating": f"{r.rating} out of 5", "text": r.text, "path": r.path,
                         "hidden": "" if r.status == "published" else "Hidden by a moderator"} for r in lines]
        self.business_rows = [
            {"name": m.business_name, "verified": "yes" if m.verified else "", "type": label(m.business_type),
             "role": label(m.role),
             "products": "All products" if m.role.value == "admin" else (", ".join(label(p) for p in m.products)
                                                                          or "None yet")}
            for m in principal.memberships
        ]
        self.platform_degraded = principal.is_platform_admin and check_health()["status"] != "ok"
        self.loaded = True


def _product_tile(name: str, icon: str, blurb: str) -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(rx.icon(icon, size=20, color=rx.color("accent", 10), aria_hidden="true"),
                      rx.heading(name, size="4", as_="h3"), align="center"),
            rx.text(blurb, size="2", color_scheme="gray"),
            spacing="2",
            align="start",
        )
    )


def _work_item(item: rx.Var) -> rx.Component:
    return rx.link(
        card(
            rx.hstack(
                rx.box(rx.icon(item["icon"].to(str), size=20), padding="0.6em", border_radius="8px",
                       background=rx.color("accent", 3), color=rx.color("accent", 11), aria_hidden="true"),
                rx.vstack(
                    rx.text(item["title"], size="4", weight="bold"),
                    rx.text(item["hint"], size="2", color_scheme="gray"),
                    spacing="1",
                    align="start",
                ),
                rx.spacer(),
                rx.icon("chevron-right", size=18, color=rx.color("gray", 9), aria_hidden="true"),
                align="center",
                spacing="3",
                width="100%",
            ),
        ),
        href=item["route"],
        underline="none",
        color="inherit",
        class_name="work-item",
        data_key=item["key"],
    )


def _work_queue() -> rx.Component:
    return rx.vstack(
        rx.heading("Waiting on you", size="5", as_="h2"),
        rx.cond(
            HomeState.queue.length() > 0,
            rx.grid(rx.foreach(HomeState.queue, _work_item), columns=rx.breakpoints(initial="1", md="2"),
                    spacing="3", width="100%", id="work-queue"),
            empty_state("circle-check", "Nothing waits on you",
                        "Offers to answer, orders to confirm, ship or receive, payments to mark, COAs to check and "
                        "licenses to renew appear here as they come in."),
        ),
        spacing="3",
        width="100%",
        align="start",
    )


def _business_card(business: rx.Var) -> rx.Component:
    return card(
        rx.flex(
            rx.vstack(
                rx.text(business["name"], weight="bold", size="3"),
                rx.text(business["type"], " · your role: ", business["role"], " · ", business["products"], size="2",
                        color_scheme="gray"),
                spacing="1",
                align="start",
                min_width="0",
            ),
            rx.spacer(),
            rx.cond(business["verified"] != "",
                    rx.badge(rx.icon("badge-check", size=14), "Verified", color_scheme="green", high_contrast=True),
                    rx.link(rx.badge("Not verified: finish onboarding", color_scheme="amber", high_contrast=True),
                            href=routes.ONBOARDING)),
            align="center",
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        class_name="business-card",
    )


def _businesses() -> rx.Component:
    return rx.cond(
        HomeState.business_rows.length() > 0,
        rx.vstack(
            rx.heading("Your businesses", size="5", as_="h2"),
            rx.vstack(rx.foreach(HomeState.business_rows, _business_card), spacing="2", width="100%"),
            spacing="3",
            width="100%",
            align="start",
        ),
        rx.cond(
            ~SessionState.is_platform_admin,
            empty_state("building-2", "No business yet",
                        "Onboard your licensed business to trade on the exchange, or ask your business's Admin "
                        "to invite you by email.",
                        link_button("Onboard your business", href=routes.ONBOARDING)),
        ),
    )


def _operator_home() -> rx.Component:
    return rx.vstack(
        page_header(f"Welcome, {SessionState.display_name}", "What waits on you across ICC."),
        rx.cond(HomeState.platform_degraded,
                rx.callout("A platform component is down: see /health.", icon="triangle-alert", color_scheme="red",
                           width="100%")),
        _work_queue(),
        _businesses(),
        width="100%",
        spacing="5",
        align="start",
    )


def _review_line(review: rx.Var) -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(
                rx.link(review["place"], href=review["path"], weight="bold"),
                rx.spacer(),
                rx.text(review["stars"], color=rx.color("amber", 10), aria_label=review["rating"], role="img"),
                width="100%",
                align="center",
            ),
            rx.cond(review["text"] != "", rx.text(review["text"], size="2", color_scheme="gray")),
            rx.cond(review["hidden"] != "", rx.badge(review["hidden"], color_scheme="amber")),
            spacing="1",
            align="start",
            width="100%",
        ),
        class_name="my-review",
    )


def _consumer_home() -> rx.Component:
    return rx.vstack(
        page_header(f"Welcome, {SessionState.display_name}", "Find dispensaries near you and keep your reviews.",
                    link_button(rx.icon("map-pin", size=16), "Find a dispensary", href=routes.DISPENSARIES)),
        rx.hstack(rx.heading("Your reviews", size="5", as_="h2"),
                  rx.cond(HomeState.reviews.length() > 0,
                          rx.badge(HomeState.review_total_text, color_scheme="gray", high_contrast=True)),
                  align="center"),
        rx.cond(
            HomeState.reviews.length() > 0,
            rx.vstack(rx.foreach(HomeState.reviews, _review_line), spacing="2", width="100%"),
            empty_state("star", "No reviews yet",
                        "Rate the stores and products you try, with the effects you felt: your reviews help others "
                        "and appear here.",
                        link_button("Find a dispensary", href=routes.DISPENSARIES, variant="soft")),
        ),
        width="100%",
        spacing="4",
        align="start",
    )


def _signed_in_home() -> rx.Component:
    return rx.cond(
        HomeState.loaded,
        rx.cond(SessionState.is_consumer, _consumer_home(), _operator_home()),
        rx.center(rx.spinner(size="3"), padding="4em", width="100%"),
    )


def _public_home() -> rx.Component:
    return rx.vstack(
        rx.heading("The platform of the licensed cannabis industry", size=rx.breakpoints(initial="7", sm="8"),
                   as_="h1"),
        rx.text("One identity for licensed businesses and their customers: trade wholesale lots with verified lab "
                "results, score quality, run your store, and help people find the right product.",
                size="4", color_scheme="gray", max_width="40em"),
        rx.flex(link_button("Sign in", href=routes.LOGIN, size="3"),
                link_button(rx.icon("map-pin", size=16), "Find a dispensary", href=routes.DISPENSARIES, size="3",
                            variant="outline"),
                link_button("Create an account", href=routes.SIGNUP, size="3", variant="soft"),
                spacing="3", wrap="wrap"),
        rx.heading("ICC products", size="5", as_="h2", margin_top="2em"),
        rx.grid(*[_product_tile(*p) for p in PRODUCTS], columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="4", width="100%"),
        spacing="4",
        align="start",
        padding_y=["0.5em", "1em", "2em"],
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
                    "when": local_time(n.created_at),
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
        return rx.toast.info(f"Marked {plural(count, 'notification')} as read.")


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
    total_text: str = ""
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
            names = console.name_objects(session, [(r.object_type, r.object_id) for r in rows]
                                         + [("user", r.actor_id) for r in rows if r.actor_id])
        self.total_text = plural(self.total, "entry")
        self.rows = [
            {
                "id": str(r.id),
                "when": local_time(r.occurred_at, seconds=True),
                "action": r.action,
                "object": names[(r.object_type, str(r.object_id) if r.object_id is not None else "")].text,
                "object_path": names[(r.object_type, str(r.object_id) if r.object_id is not None else "")].path,
                "actor": names[("user", str(r.actor_id))].text if r.actor_id else "System",
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
            self.verify_result = f"Chain intact: {plural(report.rows_checked, 'row')} verified."
        else:
            self.verify_result = f"Chain broken at row {report.first_bad_id}: {report.problem}."


def _audit_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["id"]),
        rx.table.cell(row["when"]),
        rx.table.cell(rx.code(row["action"])),
        rx.table.cell(rx.cond(row["object_path"] != "", rx.link(row["object"], href=row["object_path"]),
                              row["object"])),
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
            rx.text(f"Page {AuditState.page + 1} · {AuditState.total_text}", size="2"),
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
    configure_document(app)
    app.add_page(home_page, route=routes.HOME, title="ICC", on_load=HomeState.load)
    app.add_page(notifications_page, route=routes.NOTIFICATIONS, title="Notifications | ICC",
                 on_load=NotificationsState.load)
    app.add_page(audit_page, route=routes.ADMIN_AUDIT, title="Audit log | ICC", on_load=AuditState.load)
    app.add_page(not_found_page, route="404", title="Page not found | ICC", on_load=SessionState.load_session)
