"""Sign-in and sign-out pages."""

from __future__ import annotations

import reflex as rx

from icc_app.identity.ui.state import LoginState, LogoutState
from icc_app.ui import routes
from icc_app.ui.components import field_error
from icc_app.ui.layout import brand, theme_toggle


def _labelled_input(label: str, name: str, error: rx.Var, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(id=name, name=name, size="3", width="100%", aria_invalid=rx.cond(error != "", "true", "false"), **props),
        field_error(error),
        spacing="1",
        width="100%",
        align="start",
    )


def login_page() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.hstack(brand(), rx.spacer(), theme_toggle(), width="100%"),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Sign in to ICC", size="6", as_="h1"),
                        rx.text("One account for the exchange, the console, Maps and the budtender.",
                                color_scheme="gray", size="2"),
                        rx.cond(
                            LoginState.form_error != "",
                            rx.callout(LoginState.form_error, icon="triangle-alert", color_scheme="red",
                                       role="alert", width="100%", id="login-error"),
                        ),
                        _labelled_input("Email", "email", LoginState.email_error, type="email",
                                        placeholder="you@business.com", auto_complete="username"),
                        _labelled_input("Password", "password", LoginState.password_error, type="password",
                                        auto_complete="current-password"),
                        rx.button("Sign in", type="submit", size="3", width="100%", loading=LoginState.submitting,
                                  id="sign-in-submit"),
                        spacing="4",
                        width="100%",
                    ),
                    on_submit=LoginState.sign_in,
                    reset_on_submit=False,
                ),
                size="4",
                width="100%",
            ),
            rx.text("Demo workspace: see the logins printed by `make run`.", size="1", color_scheme="gray"),
            spacing="4",
            width="100%",
            max_width="26em",
        ),
        min_height="100vh",
        padding="1em",
        background=rx.color("gray", 2),
    )


def logout_page() -> rx.Component:
    return rx.center(rx.vstack(rx.spinner(size="3"), rx.text("Signing out..."), align="center"), min_height="100vh")


def register(app: rx.App) -> None:
    app.add_page(login_page, route=routes.LOGIN, title="Sign in | ICC", on_load=LoginState.on_load_login)
    app.add_page(logout_page, route=routes.LOGOUT, title="Signing out | ICC", on_load=LogoutState.sign_out)
