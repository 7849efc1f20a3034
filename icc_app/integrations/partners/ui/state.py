"""State of the API keys page (/console/api-keys): a business Admin's partner keys and webhook endpoints. Thin:
validate, call the partner services in a tenant unit of work, keep the rows the page shows. A raw key or secret
lives in the state only until the Admin closes the "copy it now" panel."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.models import Role
from icc_app.identity.ui.state import AuthFormState
from icc_app.integrations.partners import keys, webhooks
from icc_app.integrations.partners.models import ApiKey, WebhookDelivery, WebhookEndpoint
from icc_app.ui.format import local_time, plural

EXPIRY_CHOICES = {"30 days": 30, "90 days": 90, "1 year": 365, "Never": None}
STATUS_WORDS = {"active": "Active", "expiring": "Expiring (rotated)", "expired": "Expired", "revoked": "Revoked"}
DELIVERY_WORDS = {"pending": "Waiting", "retrying": "Retrying", "delivered": "Delivered", "failed": "Failed"}


def key_row(key: ApiKey) -> dict[str, str]:
    status = keys.display_status(key)
    return {"id": str(key.id), "name": key.name, "prefix": key.prefix + "…", "scopes": ", ".join(key.scopes),
            "last_used": local_time(key.last_used_at) if key.last_used_at else "Never",
            "expires": local_time(key.expires_at) if key.expires_at else "Never", "status": status,
            "status_label": STATUS_WORDS[status],
            "grace": local_time(key.grace_until) if status == "expiring" else ""}


def endpoint_row(endpoint: WebhookEndpoint) -> dict[str, str]:
    events = "All events" if "*" in endpoint.events else ", ".join(endpoint.events)
    return {"id": str(endpoint.id), "url": endpoint.url, "events": events, "description": endpoint.description,
            "enabled": "yes" if endpoint.enabled else "", "secret_hint": endpoint.secret_hint + "…"}


def delivery_row(delivery: WebhookDelivery) -> dict[str, str]:
    answer = f"HTTP {delivery.response_status}" if delivery.response_status else (delivery.last_error or "—")
    if delivery.last_error and delivery.response_status and delivery.status == "failed":
        answer = delivery.last_error
    return {"id": str(delivery.id), "event": delivery.event_type, "event_id": delivery.event_id,
            "status": str(delivery.status), "status_label": DELIVERY_WORDS[str(delivery.status)],
            "attempts": plural(delivery.attempts, "attempt"), "answer": answer,
            "timing": f"{delivery.duration_ms} ms" if delivery.duration_ms is not None else "—",
            "when": local_time(delivery.last_attempt_at or delivery.created_at),
            "next": local_time(delivery.next_attempt_at) if str(delivery.status) == "retrying" else ""}


class ApiKeysState(AuthFormState):
    loaded: bool = False
    business_id: str = ""
    business_name: str = ""
    keys: list[dict[str, str]] = []
    endpoints: list[dict[str, str]] = []
    deliveries: list[dict[str, str]] = []
    log_endpoint: str = ""  # the endpoint whose delivery log is open
    name: str = ""
    scopes: list[str] = []
    expiry: str = "90 days"
    new_key: str = ""  # shown once, until the Admin closes the panel
    new_key_note: str = ""
    url: str = ""
    events: list[str] = []
    new_secret: str = ""
    new_secret_note: str = ""
    busy: bool = False

    @rx.var
    def scope_options(self) -> list[dict[str, str]]:
        return [{"scope": s, "description": d} for s, d in keys.KEY_SCOPES.items()]

    @rx.var
    def event_options(self) -> list[dict[str, str]]:
        return [{"type": t, "description": d} for t, d in webhooks.EVENT_TYPES.items() if t != "ping"]

    def _refresh(self, principal) -> None:
        admin_of = [m for m in principal.memberships if m.role == Role.admin]
        wanted = self.router.url.query_parameters.get("business") if self.router else None
        membership = next((m for m in admin_of if str(m.business_id) == wanted), admin_of[0] if admin_of else None)
        if membership is None:
            self.business_id, self.business_name, self.keys, self.endpoints = "", "", [], []
            return
        self.business_id, self.business_name = str(membership.business_id), membership.business_name
        with unit_of_work(tenant=principal) as session:
            self.keys = [key_row(k) for k in keys.list_keys(session, principal=principal,
                                                            business_id=membership.business_id)]
            self.endpoints = [endpoint_row(e) for e in webhooks.list_endpoints(
                session, principal=principal, business_id=membership.business_id)]
            if self.log_endpoint and any(e["id"] == self.log_endpoint for e in self.endpoints):
                self.deliveries = [delivery_row(d) for d in webhooks.deliveries(
                    session, principal=principal, endpoint_id=uuid.UUID(self.log_endpoint))]
            else:
                self.log_endpoint, self.deliveries = "", []

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self.new_key = self.new_key_note = self.new_secret = self.new_secret_note = ""
        self._refresh(principal)
        self.loaded = True

    @rx.event
    def set_name(self, value: str):
        self.name = value

    @rx.event
    def toggle_scope(self, scope: str, checked: bool):
        self.scopes = sorted({*self.scopes, scope} if checked else set(self.scopes) - {scope})

    @rx.event
    def set_expiry(self, value: str):
        self.expiry = value if value in EXPIRY_CHOICES else "90 days"

    @rx.event
    def set_url(self, value: str):
        self.url = value

    @rx.event
    def toggle_event(self, event_type: str, checked: bool):
        self.events = sorted({*self.events, event_type} if checked else set(self.events) - {event_type})

    def _busy(self, action, success: str, *, then=None):
        """One click, one write: the buttons are disabled (and a second click ignored) until it is done."""
        if self.busy:
            return
        self.busy = True
        yield
        try:
            outcome = self._perform(action, success, then=then)
        finally:
            self.busy = False
        yield outcome

    @rx.event
    def create_key(self):
        if not self.name.strip():
            self.errors = {"name": "Name the key after the partner or system that will use it."}
            return

        def shown(issued):
            self.new_key, self.new_key_note = issued.raw, f"Key “{issued.key.name}” created."
            self.name, self.scopes = "", []

        yield from self._busy(lambda s, p: keys.create_key(
            s, principal=p, business_id=uuid.UUID(self.business_id), name=self.name, scopes=self.scopes,
            expires_in_days=EXPIRY_CHOICES[self.expiry], ip=self.client_ip()), "API key created.", then=shown)

    @rx.event
    def rotate_key(self, key_id: str):
        def shown(issued):
            self.new_key = issued.raw
            self.new_key_note = (f"Key “{issued.key.name}” rotated: the old key keeps working for "
                                 f"{keys.DEFAULT_GRACE_MINUTES} minutes, then it is refused.")

        yield from self._busy(lambda s, p: keys.rotate_key(s, principal=p, key_id=uuid.UUID(key_id),
                                                       ip=self.client_ip()), "API key rotated.", then=shown)

    @rx.event
    def revoke_key(self, key_id: str):
        yield from self._busy(lambda s, p: keys.revoke_key(s, principal=p, key_id=uuid.UUID(key_id), ip=self.client_ip()),
                          "API key revoked: it is refused from now on.")

    @rx.event
    def dismiss_secret(self):
        self.new_key = self.new_key_note = self.new_secret = self.new_secret_note = ""

    @rx.event
    def create_endpoint(self):
        def shown(made):
            self.new_secret, self.url, self.events = made.secret, "", []
            self.new_secret_note = "Webhook endpoint added."

        yield from self._busy(lambda s, p: webhooks.create_endpoint(
            s, principal=p, business_id=uuid.UUID(self.business_id), url=self.url, events=self.events,
            ip=self.client_ip()), "Webhook endpoint added.", then=shown)

    @rx.event
    def rotate_secret(self, endpoint_id: str):
        def shown(made):
            self.new_secret = made.secret
            self.new_secret_note = "New signing secret: deliveries are signed with it from now on."

        yield from self._busy(lambda s, p: webhooks.rotate_secret(s, principal=p, endpoint_id=uuid.UUID(endpoint_id),
                                                                  ip=self.client_ip()),
                              "Signing secret replaced.", then=shown)

    @rx.event
    def set_enabled(self, endpoint_id: str, enabled: bool):
        yield from self._busy(lambda s, p: webhooks.update_endpoint(s, principal=p, endpoint_id=uuid.UUID(endpoint_id),
                                                                enabled=enabled, ip=self.client_ip()),
                          "Endpoint resumed." if enabled else "Endpoint paused: nothing is sent to it.")

    @rx.event
    def delete_endpoint(self, endpoint_id: str):
        yield from self._busy(lambda s, p: webhooks.delete_endpoint(s, principal=p, endpoint_id=uuid.UUID(endpoint_id),
                                                                ip=self.client_ip()), "Endpoint removed.")

    @rx.event
    def send_test(self, endpoint_id: str):
        self.log_endpoint = endpoint_id
        yield from self._busy(lambda s, p: webhooks.send_test_event(s, principal=p, endpoint_id=uuid.UUID(endpoint_id)),
                          "Test event sent: see the delivery log.")

    @rx.event
    def show_log(self, endpoint_id: str):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self.log_endpoint = "" if self.log_endpoint == endpoint_id else endpoint_id
        try:
            self._refresh(principal)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return None

    @rx.event
    def redeliver(self, delivery_id: str):
        yield from self._busy(lambda s, p: webhooks.redeliver(s, principal=p, delivery_id=uuid.UUID(delivery_id),
                                                          ip=self.client_ip()), "Sent again.")

    @rx.var
    def log_title(self) -> str:
        url = next((e["url"] for e in self.endpoints if e["id"] == self.log_endpoint), "")
        return f"Deliveries to {url}" if url else ""
