"""The application shell: sidebar navigation (filtered per role and product access), top bar, theme."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from icc_app.ui import routes
from icc_app.ui.state import SessionState

SIDEBAR_WIDTH = "15em"


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.box(rx.icon("leaf", size=20), padding="0.35em", border_radius="8px", background=rx.color("accent", 9),
                   color="white"),
            rx.text("ICC", size="5", weight="bold"),
            align="center",
            spacing="2",
        ),
        href=routes.HOME,
        underline="none",
        color="inherit",
    )


def nav_link(item: rx.Var) -> rx.Component:
    active = SessionState.router.url.path == item["route"]
    return rx.link(
        rx.hstack(
            rx.icon(item["icon"].to(str), size=18),
            rx.text(item["label"], size="3"),
            rx.cond(
                (item["route"] == routes.NOTIFICATIONS) & (SessionState.unread_count > 0),
                rx.badge(SessionState.unread_count, color_scheme="red", variant="solid", radius="full"),
            ),
            align="center",
            spacing="3",
            width="100%",
            padding_x="0.75em",
            padding_y="0.5em",
            border_radius="8px",
            background=rx.cond(active, rx.color("accent", 4), "transparent"),
            color=rx.cond(active, rx.color("accent", 12), rx.color("gray", 11)),
            _hover={"background": rx.color("accent", 3)},
        ),
        href=item["route"],
        underline="none",
        width="100%",
        aria_current=rx.cond(active, "page", ""),
    )


def sidebar() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            brand(),
            rx.divider(margin_y="0.5em"),
            rx.foreach(SessionState.nav, nav_link),
            rx.spacer(),
            spacing="1",
            height="100%",
            align="start",
            width="100%",
        ),
        aria_label="Main navigation",
        width=SIDEBAR_WIDTH,
        min_width=SIDEBAR_WIDTH,
        height="100vh",
        position="sticky",
        top="0",
        padding="1em",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        display=["none", "none", "block"],
    )


def theme_toggle() -> rx.Component:
    return rx.icon_button(
        rx.color_mode_cond(light=rx.icon("moon", size=18), dark=rx.icon("sun", size=18)),
        on_click=rx.toggle_color_mode,
        variant="ghost",
        aria_label="Toggle dark mode",
        id="theme-toggle",
    )


def user_menu() -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.menu.root(
            rx.menu.trigger(
                rx.button(rx.icon("circle-user", size=18), SessionState.display_name, variant="soft", id="user-menu")
            ),
            rx.menu.content(
                rx.menu.item(SessionState.email, disabled=True),
                rx.menu.separator(),
                rx.menu.item("Security", on_click=rx.redirect(routes.SECURITY)),
                rx.menu.item("Sign out", on_click=rx.redirect(routes.LOGOUT), color_scheme="red"),
            ),
        ),
        rx.link(rx.button("Sign in", id="sign-in"), href=routes.LOGIN),
    )


def topbar() -> rx.Component:
    return rx.hstack(
        rx.box(brand(), display=["block", "block", "none"]),
        rx.spacer(),
        rx.link(
            rx.icon_button(rx.icon("bell", size=18), variant="ghost", aria_label="Notifications"),
            href=routes.NOTIFICATIONS,
        ),
        theme_toggle(),
        user_menu(),
        align="center",
        spacing="3",
        width="100%",
        padding_x="1.5em",
        padding_y="0.75em",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        position="sticky",
        top="0",
        z_index="10",
        background=rx.color("gray", 1),
    )


def app_page(content: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    """Wrap a page body in the shell."""

    def wrapped() -> rx.Component:
        return rx.flex(
            rx.cond(SessionState.signed_in, sidebar()),
            rx.box(
                topbar(),
                rx.box(content(), as_="main", padding="2em", max_width="1200px", margin_x="auto", width="100%"),
                flex="1",
                min_width="0",
            ),
            width="100%",
            min_height="100vh",
        )

    wrapped.__name__ = content.__name__
    return wrapped
