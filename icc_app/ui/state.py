"""Shared session state: who is signed in, their navigation, the unread-notification count.

Page states inherit from SessionState and call `self.require_principal()` in their on_load handlers, so
every page re-checks access on the server. The session cookie is HttpOnly and set by the server
(identity/web_session.py); the state never holds the token: it reads the token's keyed hash, which
core/web_security.py puts in the websocket handshake's Cookie header in place of the token.
"""

from __future__ import annotations

import reflex as rx

from icc_app.core import notifications
from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.core.web_security import session_ref_from_cookie_header
from icc_app.identity.schemas import Principal
from icc_app.ui import routes


class SessionState(rx.State):
    signed_in: bool = False
    display_name: str = ""
    email: str = ""
    is_platform_admin: bool = False
    is_consumer: bool = False
    unread_count: int = 0
    nav: list[dict[str, str]] = []
    businesses: list[dict[str, str]] = []
    session_checked: bool = False

    def client_ip(self) -> str | None:
        session = getattr(self.router, "session", None)
        return getattr(session, "client_ip", None) or None

    def current_path(self) -> str:
        url = getattr(self.router, "url", None)
        path = str(getattr(url, "path", "") or routes.HOME)
        return path.rstrip("/") or routes.HOME

    def session_ref(self) -> str:
        """The keyed hash of this browser's session token (from the websocket handshake), or ""."""
        headers = getattr(self.router, "headers", None)
        return session_ref_from_cookie_header(getattr(headers, "cookie", "") or "")

    def principal(self) -> Principal | None:
        ref = self.session_ref()
        if not ref:
            return None
        with unit_of_work() as session:
            return identity.resolve_session_hash(session, token_hash=ref)

    def _apply(self, principal: Principal | None) -> None:
        self.session_checked = True
        self.signed_in = principal is not None
        if principal is None:
            self.display_name = self.email = ""
            self.is_platform_admin = self.is_consumer = False
            self.nav, self.businesses, self.unread_count = [], [], 0
            return
        self.display_name = principal.display_name
        self.email = principal.email
        self.is_platform_admin = principal.is_platform_admin
        self.is_consumer = principal.kind.value == "consumer"
        self.nav = [
            {"label": i.label, "route": i.route, "icon": i.icon, "section": i.section}
            for i in routes.nav_for(principal)
        ]
        self.businesses = [
            {
                "id": str(m.business_id),
                "name": m.business_name,
                "type": m.business_type.value.replace("_", " ").title(),
                "role": m.role.value.title(),
                "products": ", ".join(m.products) if m.role.value != "admin" else "all products",
                "verified": "yes" if m.verified else "",
            }
            for m in principal.memberships
        ]
        with unit_of_work() as session:
            self.unread_count = notifications.unread_count(session, user_id=principal.user_id)

    def current_path_and_query(self) -> str:
        """The page with its query string: signing in returns the person to exactly this (e.g. a consent screen)."""
        query = str(getattr(getattr(self.router, "url", None), "query", "") or "")
        return self.current_path() + (f"?{query}" if query else "")

    def require_principal(self) -> tuple[Principal | None, rx.event.EventSpec | None]:
        """Resolve the signed-in principal, or the redirect to the login page."""
        principal = self.principal()
        self._apply(principal)
        if principal is None:
            return None, rx.redirect(routes.login_url(self.current_path_and_query()))
        return principal, None

    @rx.event
    def load_session(self):
        """on_load of public pages: show who is signed in, never redirect."""
        self._apply(self.principal())

    @rx.event
    def require_login(self):
        _, redirect = self.require_principal()
        return redirect


def toggled(values: list[str], item: str, checked: bool, order: list[str] | None = None) -> list[str]:
    """A checkbox group's new selection: `item` added or removed, in `order` (else alphabetical)."""
    chosen = set(values)
    chosen.add(item) if checked else chosen.discard(item)
    return sorted(chosen, key=order.index) if order else sorted(chosen)
