"""Sign-in (with the second-factor step), sign-up, email verification and password reset state.

The MFA challenge is a backend-only var (leading underscore): it never reaches the browser."""

from __future__ import annotations

import json
from datetime import date

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity import login_tickets, web_session
from icc_app.identity import service as identity
from icc_app.identity.permissions import mfa_blocked
from icc_app.identity.schemas import Principal
from icc_app.ui import routes
from icc_app.ui.state import SessionState


def landing_for(principal: Principal, next_path: str | None) -> str:
    """Where a person goes after signing in: onboarding for a new operator, security when their business
    requires MFA they have not set up, else where they were going."""
    if any(mfa_blocked(principal, m) for m in principal.memberships):
        return routes.SECURITY
    if principal.kind.value == "operator" and not principal.memberships and not principal.is_platform_admin:
        return routes.ONBOARDING
    return routes.safe_next(next_path)


class AuthFormState(SessionState):
    """Shared by the account forms: per-field errors and a form-level error."""

    errors: dict[str, str] = {}
    form_error: str = ""
    submitting: bool = False

    def _fail(self, exc: DomainError) -> None:
        if exc.field:
            self.errors = {**self.errors, exc.field: exc.message}
        else:
            self.form_error = exc.message

    def _reset_errors(self) -> None:
        self.errors, self.form_error = {}, ""

    def _user_agent(self) -> str | None:
        headers = getattr(self.router, "headers", None)
        return getattr(headers, "user_agent", None) if headers else None

    def _refresh(self, principal: Principal) -> None:
        """Reload what the page shows; pages that use _perform define it."""

    def _perform(self, action, success: str, *, then=None):
        """The prologue and epilogue of a page's buttons: re-check the session, run `action(session, principal)`
        in one unit of work, show a domain error inline (nothing changed), else reload the page and confirm.
        `then(result)` may add events (e.g. a redirect to what was created)."""
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        try:
            with unit_of_work(tenant=principal) as session:
                result = action(session, principal)
        except DomainError as exc:
            self._fail(exc)
            return rx.toast.error(exc.message)
        self._refresh(principal)
        return [rx.toast.success(success), *((then(result) or []) if then else [])]

    def _signed_in(self, outcome: identity.SignInOutcome, greeting: str, next_path: str | None = None):
        """The session is open; the browser gets its HttpOnly cookie from the server: a full navigation to
        /auth/session with a one-time ticket, which then sends it where it was going. The state keeps no token."""
        self._apply(outcome.principal)
        target = next_path or self.router.url.query_parameters.get("next")
        ticket = login_tickets.issue(session_id=outcome.principal.session_id)
        url = web_session.session_url(ticket, landing_for(outcome.principal, target))
        return [rx.toast.success(greeting), rx.call_script(f"window.location.assign({json.dumps(url)})")]


class LoginState(AuthFormState):
    step: str = "password"  # password -> mfa
    mfa_methods: list[str] = []
    mfa_method: str = "totp"
    _mfa_challenge: str = ""

    @rx.event
    def on_load_login(self):
        self.step, self._mfa_challenge = "password", ""
        self._reset_errors()
        self._apply(self.principal())
        if self.signed_in:
            return rx.redirect(routes.safe_next(self.router.url.query_parameters.get("next")))

    @rx.event
    def sign_in(self, form: dict):
        self._reset_errors()
        email = (form.get("email") or "").strip()
        password = form.get("password") or ""
        if not email:
            self.errors["email"] = "Enter your email address."
        if not password:
            self.errors["password"] = "Enter your password."
        if self.errors:
            return
        self.submitting = True
        yield
        try:
            with unit_of_work() as session:
                outcome = identity.sign_in(session, email=email, password=password, ip=self.client_ip(),
                                           user_agent=self._user_agent())
        finally:
            self.submitting = False
        if outcome.mfa_challenge:
            self._mfa_challenge, self.mfa_methods = outcome.mfa_challenge, outcome.mfa_methods
            self.mfa_method, self.step = outcome.mfa_methods[0], "mfa"
            return
        if not outcome.ok:
            self.form_error = outcome.error or "Sign-in failed."
            return
        for event in self._signed_in(outcome, f"Welcome back, {outcome.principal.display_name}."):
            yield event

    @rx.event
    def set_mfa_method(self, method: str | list[str]):
        self.mfa_method = method if isinstance(method, str) else method[0]
        self._reset_errors()

    @rx.event
    def send_email_code(self):
        with unit_of_work() as session:
            sent = identity.send_challenge_email_code(session, challenge=self._mfa_challenge)
        if not sent:
            self.step, self.form_error = "password", "This sign-in has expired. Enter your password again."
            return
        return rx.toast.info("We emailed you a 6-digit code.")

    @rx.event
    def verify_code(self, form: dict):
        self._reset_errors()
        code = (form.get("code") or "").strip()
        if not code:
            self.errors["code"] = "Enter the code."
            return
        with unit_of_work() as session:
            outcome = identity.complete_mfa(session, challenge=self._mfa_challenge, code=code,
                                            method=self.mfa_method, ip=self.client_ip())
        if not outcome.ok:
            if outcome.mfa_challenge is None:
                self.step = "password"
                self.form_error = outcome.error or "Sign in again."
            else:
                self.errors["code"] = outcome.error or "That code is not right."
            return
        self._mfa_challenge = ""
        return self._signed_in(outcome, f"Welcome back, {outcome.principal.display_name}.")

    @rx.event
    def back_to_password(self):
        self.step, self._mfa_challenge = "password", ""
        self._reset_errors()


class SignupState(AuthFormState):
    kind: str = "business"  # business | consumer
    sent_to: str = ""  # the address told to check its email (the same answer whether or not it had an account)

    @rx.event
    def on_load_signup(self):
        self._reset_errors()
        self.sent_to = ""
        self.kind = "consumer" if self.router.url.query_parameters.get("kind") == "consumer" else "business"
        self._apply(self.principal())
        if self.signed_in:
            return rx.redirect(routes.HOME)

    @rx.event
    def set_kind(self, kind: str | list[str]):
        kind = kind if isinstance(kind, str) else kind[0]
        self.kind = kind if kind in ("business", "consumer") else "business"
        self._reset_errors()

    @rx.event
    def sign_up(self, form: dict):
        self._reset_errors()
        if (form.get("password") or "") != (form.get("password_confirm") or ""):
            self.errors["password_confirm"] = "The passwords do not match."
            return
        if self.kind == "consumer":
            birth = (form.get("birth_date") or "").strip()
            try:
                birth_date = date.fromisoformat(birth) if birth else None
            except ValueError:
                self.errors["birth_date"] = "Enter a date like 1990-05-17."
                return
        ip = self.client_ip() or "unknown"  # always rate limited, also when the IP is unknown
        try:
            with unit_of_work() as session:
                if self.kind == "consumer":
                    identity.sign_up_consumer(session, email=form.get("email", ""), handle=form.get("handle", ""),
                                              password=form.get("password", ""), birth_date=birth_date, ip=ip)
                else:
                    identity.sign_up_operator(session, email=form.get("email", ""), password=form.get("password", ""),
                                              display_name=form.get("display_name", ""), ip=ip)
        except DomainError as exc:
            self._fail(exc)
            return
        # No session yet, and the same answer for a taken address (its owner got an email instead).
        self.sent_to = identity.normalize_email(form.get("email", ""))


class VerifyEmailState(SessionState):
    message: str = ""
    ok: bool = False

    @rx.event
    def verify(self):
        self._apply(self.principal())
        token = self.router.url.query_parameters.get("token", "")
        try:
            with unit_of_work() as session:
                identity.verify_email(session, token=token)
        except DomainError as exc:
            self.ok, self.message = False, exc.message
            return
        self.ok, self.message = True, "Your email address is confirmed."


class PasswordResetState(AuthFormState):
    sent: bool = False
    done: bool = False

    @rx.event
    def on_load_reset(self):
        self._reset_errors()
        self.sent = self.done = False

    @rx.event
    def request_reset(self, form: dict):
        self._reset_errors()
        email = (form.get("email") or "").strip()
        if not email:
            self.errors["email"] = "Enter your email address."
            return
        with unit_of_work() as session:
            identity.request_password_reset(session, email=email, ip=self.client_ip())
        self.sent = True

    @rx.event
    def reset_password(self, form: dict):
        self._reset_errors()
        if (form.get("password") or "") != (form.get("password_confirm") or ""):
            self.errors["password_confirm"] = "The passwords do not match."
            return
        try:
            with unit_of_work() as session:
                identity.reset_password(session, token=self.router.url.query_parameters.get("token", ""),
                                        new_password=form.get("password", ""), ip=self.client_ip())
        except DomainError as exc:
            self._fail(exc)
            return
        self.done = True  # every session of the account was revoked; a stale cookie now signs nobody in
        self._apply(None)


class LogoutState(SessionState):
    @rx.event
    def sign_out(self):
        """The server revokes the session and clears the HttpOnly cookie (a page script cannot)."""
        self._apply(None)
        return rx.call_script(f"window.location.replace({json.dumps(web_session.SIGN_OUT_ROUTE)})")
