"""Profile and security: password, two-factor methods (authenticator app with QR code, email codes, recovery
codes shown once), and the sessions signed in to this account, each revocable."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity import mfa
from icc_app.identity import service as identity
from icc_app.identity.models import User
from icc_app.identity.oidc import service as oidc
from icc_app.identity.permissions import MFA_REQUIRED_MESSAGE, mfa_blocked
from icc_app.identity.ui.state import AuthFormState
from icc_app.ui import routes
from icc_app.ui.components import card, form_alert, labelled_input, page_header
from icc_app.ui.layout import app_page
from icc_app.ui.format import local_time


class SecurityState(AuthFormState):
    loaded: bool = False
    totp_on: bool = False
    email_on: bool = False
    email_verified: bool = False
    recovery_left: int = 0
    totp_qr: str = ""
    totp_secret: str = ""
    email_code_sent: bool = False
    recovery_codes: list[str] = []
    sessions: list[dict[str, str]] = []
    apps: list[dict[str, str]] = []
    mfa_required_notice: str = ""

    def _refresh(self, principal) -> None:
        with unit_of_work() as session:
            user = session.get(User, principal.user_id)
            self.totp_on, self.email_on = user.totp_enabled_at is not None, user.email_otp_enabled
            self.email_verified = user.email_verified_at is not None
            self.recovery_left = mfa.remaining_recovery_codes(session, user_id=user.id)
            rows = identity.list_sessions(session, user_id=user.id, current_session_id=principal.session_id)
            apps = oidc.connected_apps(session, user_id=user.id)
        self.sessions = [{"id": str(r.id), "device": (r.user_agent or "Unknown device")[:80], "ip": r.ip or "—",
                          "last_seen": local_time(r.last_seen_at),
                          "current": "yes" if r.current else ""} for r in rows]
        self.apps = [{"client_id": a.client_id, "name": a.name, "scope": a.scope, "since": a.since} for a in apps]
        blocked = any(mfa_blocked(principal, m) for m in principal.memberships)
        self.mfa_required_notice = MFA_REQUIRED_MESSAGE if blocked else ""

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self.totp_qr = self.totp_secret = ""
        self.recovery_codes, self.email_code_sent = [], False
        self._refresh(principal)
        self.loaded = True

    def _run(self, action, success: str | None = None):
        principal, redirect = self.require_principal()
        if redirect:
            return None, redirect
        self._reset_errors()
        try:
            with unit_of_work() as session:
                result = action(session, principal)
        except DomainError as exc:
            self._fail(exc)
            return None, None
        fresh = self.principal()
        self._apply(fresh)
        self._refresh(fresh)
        return result, rx.toast.success(success) if success else None

    @rx.event
    def start_totp(self):
        result, event = self._run(lambda s, p: mfa.start_totp_enrollment(s, user_id=p.user_id))
        if result:
            self.totp_qr, self.totp_secret = result["qr"], result["secret"]
        return event

    @rx.event
    def confirm_totp(self, form: dict):
        codes, event = self._run(lambda s, p: mfa.confirm_totp(s, user_id=p.user_id, code=form.get("code", ""),
                                                               ip=self.client_ip()),
                                 "Authenticator app turned on.")
        if codes:
            self.recovery_codes, self.totp_qr, self.totp_secret = codes, "", ""
        return event

    @rx.event
    def start_email(self):
        _, event = self._run(lambda s, p: mfa.start_email_otp(s, user_id=p.user_id), "We emailed you a code.")
        if not self.form_error:
            self.email_code_sent = True
        return event

    @rx.event
    def confirm_email(self, form: dict):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        # A wrong code is counted: the attempt is committed and the error shown (no exception rolls it back).
        with unit_of_work() as session:
            try:
                codes = mfa.confirm_email_otp(session, user_id=principal.user_id, code=form.get("email_code", ""),
                                              ip=self.client_ip())
            except DomainError as exc:
                self.errors = {"email_code": exc.message}
                return
        self.email_code_sent = False
        self.recovery_codes = codes
        fresh = self.principal()
        self._apply(fresh)
        self._refresh(fresh)
        return rx.toast.success("Email codes turned on.")

    @rx.event
    def new_recovery_codes(self):
        codes, event = self._run(lambda s, p: mfa.regenerate_recovery_codes(s, user_id=p.user_id, ip=self.client_ip()),
                                 "New recovery codes made; the old ones no longer work.")
        if codes:
            self.recovery_codes = codes
        return event

    @rx.event
    def disable(self, form: dict):
        _, event = self._run(lambda s, p: mfa.disable_mfa(s, user_id=p.user_id, password=form.get("password", ""),
                                                          ip=self.client_ip()), "Two-factor authentication is off.")
        return event

    @rx.event
    def change_password(self, form: dict):
        if (form.get("new_password") or "") != (form.get("new_password_confirm") or ""):
            self.errors = {"new_password_confirm": "The passwords do not match."}
            return

        def action(s, p):
            try:
                identity.change_password(s, user_id=p.user_id, current=form.get("current_password", ""),
                                         new_password=form.get("new_password", ""), keep_session_id=p.session_id,
                                         ip=self.client_ip())
            except DomainError as exc:
                if exc.field == "password":
                    exc.field = "new_password"
                raise

        _, event = self._run(action, "Password changed; your other sessions were signed out.")
        return event

    @rx.event
    def revoke(self, session_id: str):
        _, event = self._run(lambda s, p: identity.revoke_session(s, user_id=p.user_id, session_id=uuid.UUID(session_id),
                                                                  ip=self.client_ip()), "Session signed out.")
        return event

    @rx.event
    def disconnect(self, client_id: str):
        _, event = self._run(lambda s, p: oidc.revoke_app(s, user_id=p.user_id, client_id=client_id,
                                                          ip=self.client_ip()), "Application disconnected.")
        return event

    @rx.event
    def resend_verification(self):
        def action(s, p):
            identity.send_verification_email(s, user=s.get(User, p.user_id))

        _, event = self._run(action, "Verification email sent.")
        return event


def _mfa_card() -> rx.Component:
    err = SecurityState.errors
    totp_setup = rx.vstack(
        rx.text("Scan this code with an authenticator app (1Password, Google Authenticator, Authy...), then enter "
                "the 6-digit code it shows.", size="2"),
        rx.image(src=SecurityState.totp_qr, width="200px", height="200px", alt="QR code for your authenticator app",
                 id="totp-qr"),
        rx.text("Or type this key: ", rx.code(SecurityState.totp_secret, id="totp-secret"), size="2"),
        rx.form(rx.hstack(rx.box(labelled_input("Code", "code", err.get("code", ""), auto_complete="one-time-code",
                                                input_mode="numeric"), width="12em"),
                          rx.button("Turn on", type="submit", id="confirm-totp"), align="end"),
                on_submit=SecurityState.confirm_totp, reset_on_submit=True),
        spacing="3", align="start",
    )
    return card(rx.vstack(
        rx.heading("Two-factor authentication", size="4", as_="h2"),
        rx.cond(SecurityState.mfa_required_notice != "",
                form_alert(SecurityState.mfa_required_notice, color="amber", id="mfa-required")),
        rx.hstack(rx.icon("smartphone", size=18), rx.text("Authenticator app", weight="medium"), rx.spacer(),
                  rx.cond(SecurityState.totp_on, rx.badge("On", color_scheme="green"),
                          rx.cond(SecurityState.totp_qr == "", rx.button("Set up", size="1", on_click=SecurityState.start_totp,
                                                                         id="setup-totp"))),
                  width="100%", align="center"),
        rx.cond((SecurityState.totp_qr != "") & ~SecurityState.totp_on, totp_setup),
        rx.separator(size="4"),
        rx.hstack(rx.icon("mail", size=18), rx.text("Email codes", weight="medium"), rx.spacer(),
                  rx.cond(SecurityState.email_on, rx.badge("On", color_scheme="green"),
                          rx.button("Set up", size="1", on_click=SecurityState.start_email,
                                    disabled=~SecurityState.email_verified)),
                  width="100%", align="center"),
        rx.cond(~SecurityState.email_verified & ~SecurityState.email_on,
                rx.hstack(rx.text("Confirm your email address first.", size="2", color_scheme="gray"),
                          rx.button("Resend confirmation", size="1", variant="soft",
                                    on_click=SecurityState.resend_verification))),
        rx.cond(SecurityState.email_code_sent & ~SecurityState.email_on,
                rx.form(rx.hstack(rx.box(labelled_input("Emailed code", "email_code", err.get("email_code", "")),
                                         width="12em"), rx.button("Confirm", type="submit"), align="end"),
                        on_submit=SecurityState.confirm_email, reset_on_submit=True)),
        rx.cond(SecurityState.recovery_codes.length() > 0, rx.callout(rx.vstack(
            rx.text("Save these recovery codes somewhere safe. Each works once; they are not shown again.",
                    weight="medium"),
            rx.grid(rx.foreach(SecurityState.recovery_codes, lambda c: rx.code(c)), columns="2", spacing="2",
                    id="recovery-codes"),
        ), icon="key-round", color_scheme="amber", width="100%")),
        rx.cond(SecurityState.totp_on | SecurityState.email_on, rx.vstack(
            rx.separator(size="4"),
            rx.hstack(rx.text(SecurityState.recovery_left, " recovery codes left", size="2"),
                      rx.button("Make new recovery codes", size="1", variant="soft",
                                on_click=SecurityState.new_recovery_codes)),
            rx.form(rx.hstack(rx.box(labelled_input("Password to turn off", "password", err.get("password", ""),
                                                    type="password"), width="16em"),
                              rx.button("Turn off two-factor", type="submit", color_scheme="red", variant="soft"),
                              align="end"),
                    on_submit=SecurityState.disable, reset_on_submit=True),
            width="100%", spacing="3",
        )),
        spacing="3", width="100%", align="start",
    ))


def _password_card() -> rx.Component:
    err = SecurityState.errors
    return card(rx.form(rx.vstack(
        rx.heading("Password", size="4", as_="h2"),
        rx.grid(
            labelled_input("Current password", "current_password", err.get("current_password", ""), type="password",
                           auto_complete="current-password"),
            labelled_input("New password", "new_password", err.get("new_password", ""), type="password",
                           auto_complete="new-password"),
            labelled_input("Confirm new password", "new_password_confirm", err.get("new_password_confirm", ""),
                           type="password", auto_complete="new-password"),
            columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
        ),
        rx.button("Change password", type="submit"),
        spacing="3", align="start", width="100%",
    ), on_submit=SecurityState.change_password, reset_on_submit=True))


def _session_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["device"], rx.cond(row["current"] != "", rx.badge("This browser", margin_left="0.5em"))),
        rx.table.cell(row["ip"]), rx.table.cell(row["last_seen"]),
        rx.table.cell(rx.cond(row["current"] == "",
                              rx.button("Sign out", size="1", variant="soft", on_click=SecurityState.revoke(row["id"])))),
    )


def _app_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"]), rx.table.cell(rx.text(row["scope"], size="1")),
        rx.table.cell(row["since"]),
        rx.table.cell(rx.button("Disconnect", size="1", variant="soft", color_scheme="red",
                                on_click=SecurityState.disconnect(row["client_id"]))),
    )


@app_page
def security_page() -> rx.Component:
    return rx.vstack(
        page_header("Security", "Your password, two-factor authentication and signed-in sessions."),
        rx.cond(~SecurityState.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"), rx.vstack(
            form_alert(SecurityState.form_error),
            _mfa_card(),
            _password_card(),
            card(rx.vstack(
                rx.heading("Sessions", size="4", as_="h2"),
                rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                             ("Device", "IP", "Last seen", "")])),
                              rx.table.body(rx.foreach(SecurityState.sessions, _session_row)), width="100%"),
                spacing="3", width="100%", align="start",
            )),
            card(rx.vstack(
                rx.heading("Connected applications", size="4", as_="h2"),
                rx.cond(SecurityState.apps.length() > 0,
                        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                                     ("Application", "Access", "Since", "")])),
                                      rx.table.body(rx.foreach(SecurityState.apps, _app_row)), width="100%"),
                        rx.text("No application signs in with your ICC account.", size="2", color_scheme="gray")),
                spacing="3", width="100%", align="start",
            )),
            spacing="4", width="100%",
        )),
        width="100%", align="start",
    )


def register(app: rx.App) -> None:
    app.add_page(security_page, route=routes.SECURITY, title="Security | ICC", on_load=SecurityState.load)
