"""State of the Metrc compliance page: the business's alerts (open, resolved or dismissed), each with its evidence,
suggested fix and history; resolve / dismiss / reopen with a note (Admins and Managers); the latest checks per
Metrc connection and "Check now". Thin: every handler re-checks the session and calls metrc.compliance."""

from __future__ import annotations

import uuid

import reflex as rx
from sqlmodel import col, select

from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.models import Product, Role
from icc_app.identity.permissions import has_product
from icc_app.identity.schemas import Principal
from icc_app.identity.ui.state import AuthFormState
from icc_app.integrations import service
from icc_app.integrations.metrc import compliance
from icc_app.integrations.metrc.models import AlertEvent, ComplianceCheck
from icc_app.integrations.metrc.ui.cards import AlertCard, CheckCard, alert_card, check_card

STATUSES = ["open", "resolved", "dismissed"]
SHOWN = 200
MANAGE_REASON = "Resolving alerts needs the Manager or Admin role; ask your business Admin."


class MetrcAlertsState(AuthFormState):
    loaded: bool = False
    business_id: str = ""
    can_manage: bool = False
    status: str = "open"
    alerts: list[AlertCard] = []
    checks: list[CheckCard] = []
    connections: list[dict[str, str]] = []  # the business's Metrc connections: {"id", "name"}
    notes: dict[str, str] = {}  # alert id -> the note being typed
    acting: list[str] = []  # alert ids whose action is being saved
    queued: list[str] = []  # connection ids whose check was just queued

    def _refresh(self, principal: Principal) -> None:
        membership = next((m for m in principal.memberships if has_product(m, Product.integrations)), None)
        if membership is None:
            self.business_id, self.alerts, self.checks, self.connections = "", [], [], []
            return
        self.business_id = str(membership.business_id)
        self.can_manage = membership.role in (Role.admin, Role.manager)
        with unit_of_work(tenant=principal) as session:
            rows = [c for c in service.list_for_business(session, principal, membership.business_id)
                    if c.vendor == "metrc" and c.status != "disconnected"]
            names = {c.id: c.name for c in rows}
            self.connections = [{"id": str(c.id), "name": c.name} for c in rows]
            alerts = compliance.list_alerts(session, principal=principal, business_id=membership.business_id,
                                            status=self.status, limit=SHOWN)
            events: dict = {}
            if alerts:
                for event in session.exec(select(AlertEvent).where(col(AlertEvent.alert_id).in_(
                        [a.id for a in alerts])).order_by(col(AlertEvent.id))):
                    events.setdefault(event.alert_id, []).append(event)
            self.alerts = [alert_card(a, events.get(a.id, [])) for a in alerts]
            checks = []
            for connection in rows:
                latest = session.exec(select(ComplianceCheck).where(ComplianceCheck.connection_id == connection.id)
                                      .order_by(col(ComplianceCheck.created_at).desc())).first()
                if latest is not None:
                    checks.append(check_card(latest, names[connection.id]))
            self.checks = checks

    @rx.var
    def no_connection(self) -> bool:
        return self.loaded and self.business_id != "" and len(self.connections) == 0

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        wanted = self.router.url.query_parameters.get("status", "open")
        self.status = wanted if wanted in STATUSES else "open"
        self.notes, self.acting, self.queued = {}, [], []
        self._refresh(principal)
        self.loaded = True

    @rx.event
    def set_status(self, status: str | list[str]):
        status = status[0] if isinstance(status, list) and status else status
        if status not in STATUSES:
            return
        self.status = status
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._refresh(principal)

    @rx.event
    def set_note(self, alert_id: str, note: str):
        self.notes = {**self.notes, alert_id: note[:500]}

    @rx.event
    def act(self, alert_id: str, verb: str):
        if verb not in ("resolve", "dismiss", "reopen") or alert_id in self.acting:
            return
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self.acting = [*self.acting, alert_id]
        try:
            with unit_of_work(tenant=principal) as session:
                compliance.act(session, principal=principal, alert_id=uuid.UUID(alert_id), verb=verb,
                               note=self.notes.get(alert_id, ""))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        finally:
            self.acting = [a for a in self.acting if a != alert_id]
        self.notes = {k: v for k, v in self.notes.items() if k != alert_id}
        self._refresh(principal)
        return rx.toast.success({"resolve": "Marked as resolved.", "dismiss": "Dismissed: later checks keep it so.",
                                 "reopen": "Reopened."}[verb])

    @rx.event
    def check_now(self, connection_id: str):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        try:
            with unit_of_work(tenant=principal) as session:
                connection = service.get(session, principal, uuid.UUID(connection_id), manage=True)
                enqueue(session, "metrc.compliance_check", str(connection.id), "manual")
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.queued = [*self.queued, connection_id]
        return rx.toast.success("Check queued: reload in a minute to see what it found.")
