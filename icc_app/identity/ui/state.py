"""Sign-in and sign-out state: validate, call the identity service, set or clear the session cookie."""

from __future__ import annotations

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.ui import routes
from icc_app.ui.state import SessionState


class LoginState(SessionState):
    email_error: str = ""
    password_error: str = ""
    form_error: str = ""
    submitting: bool = False

    @rx.event
    def on_load_login(self):
        self._apply(self.principal())
        if self.signed_in:
            return rx.redirect(routes.safe_next(self.router.url.query_parameters.get("next")))

    @rx.event
    def sign_in(self, form: dict):
        self.email_error = self.password_error = self.form_error = ""
        email = (form.get("email") or "").strip()
        password = form.get("password") or ""
        if not email:
            self.email_error = "Enter your email address."
        if not password:
            self.password_error = "Enter your password."
        if self.email_error or self.password_error:
            return
        self.submitting = True
        yield
        try:
            with unit_of_work() as session:
                outcome = identity.sign_in(
                    session, email=email, password=password, ip=self.client_ip(), user_agent=self._user_agent()
                )
        finally:
            self.submitting = False
        if not outcome.ok:
            self.form_error = outcome.error or "Sign-in failed."
            return
        self.session_token = outcome.token
        self._apply(outcome.principal)
        yield rx.toast.success(f"Welcome back, {outcome.principal.display_name}.")
        yield rx.redirect(routes.safe_next(self.router.url.query_parameters.get("next")))

    def _user_agent(self) -> str | None:
        headers = getattr(self.router, "headers", None)
        return getattr(headers, "user_agent", None) if headers else None


class LogoutState(SessionState):
    @rx.event
    def sign_out(self):
        if self.session_token:
            with unit_of_work() as session:
                identity.sign_out(session, token=self.session_token, ip=self.client_ip())
        self.session_token = ""
        self._apply(None)
        return [rx.remove_cookie("icc_session"), rx.redirect(routes.LOGIN)]
