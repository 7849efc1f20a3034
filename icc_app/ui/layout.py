"""The application shell: header, sidebar navigation (filtered per role and product access), the phone's
navigation drawer, theme, and the document-wide settings every page shares (language, favicon)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from icc_app.ui import routes
from icc_app.ui.components import link_button
from icc_app.ui.state import SessionState

SIDEBAR_WIDTH = "15em"
DESKTOP_ONLY = ["none", "none", "block"]  # Radix breakpoints: initial, sm (>=520px), md (>=768px)
PHONE_ONLY = ["flex", "flex", "none"]
FAVICON_SVG = "/favicon.svg"
FAVICON_ICO = "/favicon.ico"
SHELL_CSS = "/shell.css"


def document_head() -> list[rx.Component]:
    """Head elements of every page: the icon browsers ask for on each page load."""
    return [
        rx.el.link(rel="icon", href=FAVICON_SVG, type="image/svg+xml"),
        rx.el.link(rel="alternate icon", href=FAVICON_ICO, sizes="48x48"),
    ]


def configure_document(app: rx.App) -> None:
    """Shell-wide document settings, applied when the platform pages register: the page language (screen
    readers pick their voice from it), the favicon links in every page's head, and the shell's stylesheet."""
    app.html_lang = app.html_lang or "en"
    app.head_components = [*app.head_components, *document_head()]
    if SHELL_CSS not in app.stylesheets:
        app.stylesheets = [*app.stylesheets, SHELL_CSS]


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.box(rx.icon("leaf", size=20), padding="0.35em", border_radius="8px", background=rx.color("accent", 9),
                   color="white", aria_hidden="true"),
            rx.text("ICC", size="5", weight="bold"),
            align="center",
            spacing="2",
        ),
        href=routes.HOME,
        underline="none",
        color="inherit",
        aria_label="ICC home",
        class_name="brand",
    )


def nav_link(item: rx.Var) -> rx.Component:
    active = SessionState.router.url.path == item["route"]
    return rx.link(
        rx.hstack(
            rx.icon(item["icon"].to(str), size=18, aria_hidden="true"),
            rx.text(item["label"], size="3"),
            rx.cond(
                (item["route"] == routes.NOTIFICATIONS) & (SessionState.unread_count > 0),
                rx.badge(SessionState.unread_count, color_scheme="red", variant="solid", radius="full",
                         high_contrast=True),  # white on red solid is 3.9:1 in dark mode
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
        aria_current=rx.cond(active, "page", "false"),
    )


def nav_links(wrap: Callable[[rx.Component], rx.Component] | None = None) -> rx.Component:
    """The person's navigation (SessionState.nav, built by routes.nav_for), each entry optionally wrapped."""
    return rx.foreach(SessionState.nav, (lambda item: wrap(nav_link(item))) if wrap else nav_link)


def sidebar() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            brand(),
            rx.divider(margin_y="0.5em"),
            nav_links(),
            spacing="1",
            height="100%",
            align="start",
            width="100%",
        ),
        aria_label="Main navigation",
        width=SIDEBAR_WIDTH,
        min_width=SIDEBAR_WIDTH,
        height="100vh",
        overflow_y="auto",
        position="sticky",
        top="0",
        padding="1em",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        display=DESKTOP_ONLY,
    )


def nav_drawer() -> rx.Component:
    """The phone's navigation: a menu button in the header opens a drawer with the sidebar's links; following a
    link closes it (each link is the drawer's close control)."""
    return rx.drawer.root(
        rx.drawer.trigger(
            rx.icon_button(rx.icon("menu", size=20), variant="ghost", size="3", aria_label="Open navigation",
                           id="nav-menu-button"),
        ),
        rx.drawer.portal(
            rx.drawer.overlay(),
            rx.drawer.content(
                rx.el.nav(
                    rx.vstack(
                        rx.hstack(
                            rx.drawer.title("Menu", font_size="1.15em", font_weight="bold", margin="0"),
                            rx.spacer(),
                            rx.drawer.close(rx.icon_button(rx.icon("x", size=18), variant="ghost",
                                                           aria_label="Close navigation")),
                            width="100%",
                            align="center",
                        ),
                        rx.drawer.description(SessionState.display_name, font_size="0.9em", color=rx.color("gray", 11),
                                              margin="0", overflow="hidden", text_overflow="ellipsis",
                                              white_space="nowrap", max_width="100%"),
                        rx.divider(margin_y="0.5em"),
                        nav_links(rx.drawer.close),
                        spacing="1",
                        align="start",
                        width="100%",
                    ),
                    aria_label="Main navigation",
                    id="nav-drawer",
                    width="100%",
                ),
                width="min(20em, 85vw)",
                right="auto",
                height="100%",
                padding="1em",
                overflow_y="auto",
                background=rx.color("gray", 2),
                border_right=f"1px solid {rx.color('gray', 5)}",
            ),
        ),
        direction="left",
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
    """Signed in: the account menu (a long name is cut with an ellipsis; the full name is its tooltip)."""
    return rx.cond(
        SessionState.signed_in,
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.icon("circle-user", size=18, aria_hidden="true"),
                    rx.text(SessionState.display_name, as_="span", overflow="hidden", text_overflow="ellipsis",
                            white_space="nowrap", max_width=["7em", "12em", "16em"], class_name="user-name"),
                    variant="soft",
                    id="user-menu",
                    title=SessionState.display_name,
                    max_width="100%",
                )
            ),
            rx.menu.content(
                rx.menu.item(SessionState.email, disabled=True),
                rx.menu.separator(),
                rx.menu.item("Security", on_click=rx.redirect(routes.SECURITY)),
                rx.menu.item("Sign out", on_click=rx.redirect(routes.LOGOUT), color_scheme="red"),
            ),
        ),
        rx.hstack(
            rx.link("Create an account", href=routes.SIGNUP, size="2", display=DESKTOP_ONLY, white_space="nowrap"),
            link_button("Sign in", href=routes.LOGIN, id="sign-in"),
            align="center",
            spacing="4",
        ),
    )


def notifications_link() -> rx.Component:
    unread = SessionState.unread_count
    return rx.link(
        rx.icon("bell", size=18, aria_hidden="true"),
        rx.cond(unread > 0, rx.badge(unread, color_scheme="red", variant="solid", radius="full", size="1",
                                     high_contrast=True, position="absolute", top="-4px", right="-8px", aria_hidden="true")),
        href=routes.NOTIFICATIONS,
        aria_label=rx.cond(unread > 0, f"Notifications ({unread} unread)", "Notifications"),
        position="relative",
        display="inline-flex",
        padding="0.4em",
        color=rx.color("gray", 12),
    )


def topbar() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.cond(SessionState.signed_in, rx.box(nav_drawer(), display=PHONE_ONLY)),
            # The sidebar carries the brand on a signed-in desktop; everywhere else the header does.
            rx.cond(SessionState.signed_in, rx.box(brand(), display=PHONE_ONLY, flex_shrink="0"), brand()),
            rx.spacer(),
            rx.cond(SessionState.signed_in, notifications_link()),
            theme_toggle(),
            user_menu(),
            align="center",
            spacing=rx.breakpoints(initial="2", sm="3"),
            width="100%",
            min_width="0",
        ),
        padding_x=["0.75em", "1em", "1.5em"],
        padding_y="0.75em",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        position="sticky",
        top="0",
        z_index="10",
        background=rx.color("gray", 1),
    )


def skip_link() -> rx.Component:
    """The first stop of the keyboard: straight to the page's content, past the navigation."""
    return rx.el.a("Skip to content", href="#main", class_name="skip-link", position="absolute", left="-999px",
                   top="0.5em", z_index="100", padding="0.5em 1em", background=rx.color("accent", 9), color="white",
                   border_radius="6px", _focus={"left": "0.5em"})


def app_page(content: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    """Wrap a page body in the shell."""

    def wrapped() -> rx.Component:
        return rx.flex(
            skip_link(),
            rx.cond(SessionState.signed_in, sidebar()),
            rx.box(
                topbar(),
                rx.el.main(content(), id="main", padding=["1em", "1.5em", "2em"], max_width="1200px",
                           margin_x="auto", width="100%", tab_index=-1),
                flex="1",
                min_width="0",
            ),
            width="100%",
            min_height="100vh",
        )

    wrapped.__name__ = content.__name__
    return wrapped
