"""Account pages: sign in (with the second-factor step), sign up (business or consumer), email verification,
forgotten and reset password, sign out."""

from __future__ import annotations

import reflex as rx

from icc_app.identity.ui.state import LoginState, LogoutState, PasswordResetState, SignupState, VerifyEmailState
from icc_app.ui import routes
from icc_app.ui.components import centered_card, form_alert, labelled_input

def _password_step() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Sign in to ICC", size="6", as_="h1"),
            rx.text("One account for the exchange, the console, Maps and the budtender.", color_scheme="gray", size="2"),
            form_alert(LoginState.form_error, id="login-error"),
            labelled_input("Email", "email", LoginState.errors.get("email", ""), type="email",
                           placeholder="you@business.com", auto_complete="username"),
            labelled_input("Password", "password", LoginState.errors.get("password", ""), type="password",
                           auto_complete="current-password"),
            rx.button("Sign in", type="submit", size="3", width="100%", loading=LoginState.submitting,
                      id="sign-in-submit"),
            rx.hstack(
                rx.link("Forgot password?", href=routes.FORGOT_PASSWORD, size="2"),
                rx.spacer(),
                rx.link("Create an account", href=routes.SIGNUP, size="2", id="signup-link"),
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.sign_in,
        reset_on_submit=False,
    )


def _mfa_step() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Two-factor check", size="6", as_="h1"),
            rx.text("Your password was right. Confirm it is you with a second factor.", color_scheme="gray", size="2"),
            form_alert(LoginState.form_error),
            rx.segmented_control.root(
                rx.foreach(LoginState.mfa_methods,
                           lambda m: rx.segmented_control.item(
                               rx.match(m, ("totp", "Authenticator app"), ("email", "Email code"), "Recovery code"),
                               value=m)),
                value=LoginState.mfa_method,
                on_change=LoginState.set_mfa_method,
                width="100%",
            ),
            rx.cond(LoginState.mfa_method == "email",
                    rx.button("Email me a code", type="button", variant="soft", on_click=LoginState.send_email_code)),
            labelled_input(rx.cond(LoginState.mfa_method == "recovery", "Recovery code", "6-digit code"), "code",
                           LoginState.errors.get("code", ""), auto_complete="one-time-code", input_mode="text",
                           auto_focus=True),
            rx.button("Verify", type="submit", size="3", width="100%", id="mfa-submit"),
            rx.button("Use another account", on_click=LoginState.back_to_password, size="2", variant="ghost", type="button"),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.verify_code,
        reset_on_submit=True,
    )


def login_page() -> rx.Component:
    return centered_card(rx.cond(LoginState.step == "mfa", _mfa_step(), _password_step()),
                         rx.text("Demo workspace: see the logins printed by `make run`.", size="1", color_scheme="gray"))


def _error(name: str) -> rx.Var:
    return SignupState.errors.get(name, "")


def signup_page() -> rx.Component:
    business_fields = rx.vstack(
        labelled_input("Your name", "display_name", _error("display_name"), auto_complete="name"),
        spacing="4", width="100%",
    )
    consumer_fields = rx.vstack(
        labelled_input("Public handle", "handle", _error("handle"), placeholder="e.g. hazy_hiker",
                       hint="Shown on reviews and posts instead of your name. Letters, digits, underscores."),
        labelled_input("Birth date", "birth_date", _error("birth_date"), type="date",
                       hint="You must be 21 or older. Kept encrypted and never shown to anyone."),
        spacing="4", width="100%",
    )
    return centered_card(
        rx.heading("Create your ICC account", size="6", as_="h1"),
        rx.segmented_control.root(
            rx.segmented_control.item("Licensed business", value="business"),
            rx.segmented_control.item("Consumer", value="consumer"),
            value=SignupState.kind,
            on_change=SignupState.set_kind,
            width="100%",
            id="signup-kind",
        ),
        rx.text(rx.cond(SignupState.kind == "business",
                        "Trade on the exchange and run your business. You will add your license next.",
                        "Find dispensaries, review products and get recommendations, under a pseudonym."),
                size="2", color_scheme="gray"),
        rx.cond(SignupState.sent_to != "", rx.callout(
            rx.text("We sent an email to ", rx.text.strong(SignupState.sent_to), ". Open the link in it to confirm "
                    "your address, then sign in. Nothing arrived? Check your spam folder, or ",
                    rx.link("reset your password", href=routes.FORGOT_PASSWORD), " if you already had an account."),
            icon="mail-check", color_scheme="green", id="signup-sent"), rx.form(
            rx.vstack(
                form_alert(SignupState.form_error),
                rx.cond(SignupState.kind == "business", business_fields, consumer_fields),
                labelled_input("Email", "email", _error("email"), type="email", auto_complete="email"),
                labelled_input("Password", "password", _error("password"), type="password",
                               auto_complete="new-password",
                               hint="At least 10 characters. Several unrelated words are easy to remember and "
                                    "hard to guess."),
                labelled_input("Confirm password", "password_confirm", _error("password_confirm"), type="password",
                               auto_complete="new-password"),
                rx.button("Create account", type="submit", size="3", width="100%", id="signup-submit"),
                rx.text("Already have an account? ", rx.link("Sign in", href=routes.LOGIN), size="2"),
                spacing="4",
                width="100%",
            ),
            on_submit=SignupState.sign_up,
            reset_on_submit=False,
        )),
    )


def verify_email_page() -> rx.Component:
    return centered_card(
        rx.heading("Email confirmation", size="6", as_="h1"),
        rx.cond(VerifyEmailState.message == "", rx.spinner(size="3"),
                rx.cond(VerifyEmailState.ok,
                        form_alert(VerifyEmailState.message, color="green", icon="circle-check", id="verify-result"),
                        form_alert(VerifyEmailState.message, id="verify-result"))),
        rx.link(rx.button("Continue", width="100%"), href=rx.cond(VerifyEmailState.signed_in, routes.HOME, routes.LOGIN)),
    )


def forgot_password_page() -> rx.Component:
    return centered_card(
        rx.heading("Forgot your password?", size="6", as_="h1"),
        rx.cond(
            PasswordResetState.sent,
            rx.callout("If an account uses that address, we have emailed it a reset link (valid for an hour).",
                       icon="mail-check", color_scheme="green", id="reset-sent"),
            rx.form(
                rx.vstack(
                    rx.text("Enter your email and we will send you a link to choose a new password.", size="2",
                            color_scheme="gray"),
                    labelled_input("Email", "email", PasswordResetState.errors.get("email", ""), type="email"),
                    rx.button("Send reset link", type="submit", size="3", width="100%"),
                    spacing="4", width="100%",
                ),
                on_submit=PasswordResetState.request_reset,
            ),
        ),
        rx.link("Back to sign in", href=routes.LOGIN, size="2"),
    )


def reset_password_page() -> rx.Component:
    return centered_card(
        rx.heading("Choose a new password", size="6", as_="h1"),
        rx.cond(
            PasswordResetState.done,
            rx.vstack(rx.callout("Your password was changed and your other sessions were signed out.",
                                 icon="circle-check", color_scheme="green"),
                      rx.link(rx.button("Sign in", width="100%"), href=routes.LOGIN, width="100%"), width="100%"),
            rx.form(
                rx.vstack(
                    form_alert(PasswordResetState.form_error),
                    rx.box(rx.text(PasswordResetState.errors.get("token", ""), color_scheme="red", size="2")),
                    labelled_input("New password", "password", PasswordResetState.errors.get("password", ""),
                                   type="password", auto_complete="new-password"),
                    labelled_input("Confirm password", "password_confirm",
                                   PasswordResetState.errors.get("password_confirm", ""), type="password"),
                    rx.button("Change password", type="submit", size="3", width="100%"),
                    spacing="4", width="100%",
                ),
                on_submit=PasswordResetState.reset_password,
                reset_on_submit=False,
            ),
        ),
    )


def logout_page() -> rx.Component:
    return rx.center(rx.vstack(rx.spinner(size="3"), rx.text("Signing out..."), align="center"), min_height="100vh")


def register(app: rx.App) -> None:
    app.add_page(login_page, route=routes.LOGIN, title="Sign in | ICC", on_load=LoginState.on_load_login)
    app.add_page(signup_page, route=routes.SIGNUP, title="Create an account | ICC", on_load=SignupState.on_load_signup)
    app.add_page(verify_email_page, route=routes.VERIFY_EMAIL, title="Confirm email | ICC",
                 on_load=VerifyEmailState.verify)
    app.add_page(forgot_password_page, route=routes.FORGOT_PASSWORD, title="Forgot password | ICC",
                 on_load=PasswordResetState.on_load_reset)
    app.add_page(reset_password_page, route=routes.RESET_PASSWORD, title="Reset password | ICC",
                 on_load=PasswordResetState.on_load_reset)
    app.add_page(logout_page, route=routes.LOGOUT, title="Signing out | ICC", on_load=LogoutState.sign_out)
