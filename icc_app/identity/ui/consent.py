"""The OAuth consent screen: which application asks, for what, acting for which business; allow or deny."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.models import User
from icc_app.identity.oidc import service as oidc
from icc_app.ui import routes
from icc_app.ui.components import centered_card, field_label, form_alert
from icc_app.ui.state import SessionState


class ConsentState(SessionState):
    loaded: bool = False
    error: str = ""
    client_name: str = ""
    redirect_host: str = ""
    scopes: list[list[str]] = []
    business_options: list[dict[str, str]] = []
    business_id: str = ""

    def _query(self) -> dict:
        return dict(self.router.url.query_parameters)

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self.error = ""
        try:
            with unit_of_work() as session:
                request = oidc.consent_request(session, query=self._query(), user=session.get(User, principal.user_id))
        except oidc.AuthorizationError as exc:
            self.error, self.loaded = exc.message, True
            return
        self.client_name, self.redirect_host = request.client_name, request.redirect_host
        self.scopes = [[s, text] for s, text in request.scopes]
        self.business_options = [{"id": str(m.business_id), "name": m.business_name} for m in principal.memberships]
        self.business_id = self.business_options[0]["id"] if self.business_options else ""
        self.loaded = True

    @rx.event
    def set_business(self, value: str):
        self.business_id = value

    @rx.event
    def decide(self, allow: bool):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        try:
            with unit_of_work() as session:
                location = oidc.decide(session, query=self._query(), user=session.get(User, principal.user_id),
                                       allow=allow, business_id=uuid.UUID(self.business_id) if self.business_id else None,
                                       ip=self.client_ip())
        except (oidc.AuthorizationError, DomainError) as exc:
            self.error = getattr(exc, "message", str(exc))
            return
        return rx.redirect(location)  # another host: the browser leaves ICC for the client (location.assign)


def consent_page() -> rx.Component:
    return centered_card(
        rx.cond(~ConsentState.loaded, rx.center(rx.spinner(size="3")), rx.cond(
            ConsentState.error != "",
            rx.vstack(rx.heading("This sign-in request cannot continue", size="5", as_="h1"),
                      form_alert(ConsentState.error), rx.link("Go to ICC", href=routes.HOME), width="100%"),
            rx.vstack(
                rx.heading(ConsentState.client_name, " wants to use your ICC account", size="5", as_="h1"),
                rx.text("Signed in as ", rx.text.strong(ConsentState.display_name), ". It will be able to:", size="2"),
                rx.vstack(rx.foreach(ConsentState.scopes, lambda s: rx.hstack(
                    rx.icon("check", size=16, color=rx.color("accent", 10), flex_shrink="0"), rx.text(s[1], size="2"),
                    align="start")), spacing="2", class_name="consent-scopes"),
                rx.cond(ConsentState.business_options.length() > 1, rx.vstack(
                    field_label("Act for", "consent-business"),
                    rx.select.root(rx.select.trigger(id="consent-business"), rx.select.content(rx.foreach(
                        ConsentState.business_options, lambda b: rx.select.item(b["name"], value=b["id"]))),
                        value=ConsentState.business_id, on_change=ConsentState.set_business),
                    width="100%")),
                rx.text("You will be sent back to ", rx.code(ConsentState.redirect_host), ". You can revoke access "
                        "at any time.", size="1", color_scheme="gray"),
                rx.hstack(rx.button("Deny", variant="soft", color_scheme="gray", on_click=ConsentState.decide(False),
                                    id="consent-deny"),
                          rx.button("Allow", on_click=ConsentState.decide(True), id="consent-allow"),
                          justify="end", width="100%"),
                spacing="4", width="100%",
            ),
        )),
    )


def register(app: rx.App) -> None:
    app.add_page(consent_page, route=routes.CONSENT, title="Authorize an application | ICC", on_load=ConsentState.load)
