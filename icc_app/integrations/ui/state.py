"""The state of the Point of sale page (operator console): the business's POS connections, the connect form, the
per-connection buttons (test, sync now, pause/resume, rotate credentials, disconnect) and the sync runs log.

Thin: each handler re-checks the session, calls an integrations service in one unit of work and keeps Read cards
(icc_app.integrations.ui.cards), never rows or credentials. The services decide who may do what; the page only
hides what the person's role cannot do. A queued or running sync is followed by a background loop that re-reads
the runs every second until none is active."""

from __future__ import annotations

import asyncio
import time
import uuid

import reflex as rx
from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError, ValidationFailed
from icc_app.identity.models import Product, Role
from icc_app.identity.permissions import has_product
from icc_app.identity.schemas import Principal
from icc_app.identity.ui.state import AuthFormState
from icc_app.integrations import service, sync
from icc_app.integrations.ui import reads
from icc_app.integrations.ui.cards import (ConnectionCard, CredentialField, RunCard, VendorOption, credential_fields,
                                           vendor_options)

EMPTY_DRAFT = {"vendor": "", "name": "", "base_url": "", "location_id": "", "dispensary_id": "none",
               "webhook_secret": "", "interval": "15"}
RUN_FILTER_STATUSES = ["all", "queued", "running", "succeeded", "failed"]
WATCH_SECONDS = 900  # a poll loop gives up after this long (a run that long shows its progress on reload)
WATCH_STALE_SECONDS = 5
MANAGE_REASON = "Changing connections needs the Manager or Admin role; ask your business Admin."
ADMIN_REASON = "Only an Admin can disconnect a point of sale."


def _test(principal: Principal, connection_id: str) -> tuple[bool, str]:
    """Ask the vendor with the stored credentials (runs off the event loop: it waits on the network)."""
    try:
        with unit_of_work(tenant=principal) as session:
            connection = service.get(session, principal, uuid.UUID(connection_id), manage=True)
            return service.test_connection(session, principal=principal, connection=connection)
    except DomainError as exc:
        return False, exc.message


class PointOfSaleState(AuthFormState):
    loaded: bool = False
    business_id: str = ""
    business_name: str = ""
    can_manage: bool = False
    is_admin: bool = False
    vendors: list[VendorOption] = []
    connections: list[ConnectionCard] = []
    dispensaries: list[dict[str, str]] = []  # the business's claimed stores: {"id", "name"}
    runs: list[RunCard] = []
    run_connection: str = "all"
    run_status: str = "all"
    # the connect form
    form_open: bool = False
    draft: dict[str, str] = EMPTY_DRAFT
    creds: dict[str, str] = {}
    cred_fields: list[CredentialField] = []
    # per connection
    testing: list[str] = []  # connection ids whose test is waiting for the vendor
    test_answers: dict[str, str] = {}
    test_ok: dict[str, bool] = {}
    syncing: list[str] = []  # connection ids whose "Sync now" is being queued
    # dialogs
    rotate_id: str = ""
    rotate_name: str = ""
    rotate_fields: list[CredentialField] = []
    rotate_creds: dict[str, str] = {}
    rotate_secret: str = ""
    rotate_error: str = ""
    disconnect_id: str = ""
    disconnect_name: str = ""
    edit_id: str = ""
    edit: dict[str, str] = {}
    edit_errors: dict[str, str] = {}
    _watch_beat: float = 0.0  # when the poll loop last ran (a loop whose worker died goes stale, not stuck)

    # ------------------------------------------------------------------------------------------- reading

    def _membership(self, principal: Principal):
        return next((m for m in principal.memberships if has_product(m, Product.integrations)), None)

    def _refresh(self, principal: Principal) -> None:
        membership = self._membership(principal)
        if membership is None:
            self.business_id, self.connections, self.runs, self.can_manage, self.is_admin = "", [], [], False, False
            return
        self.business_id, self.business_name = str(membership.business_id), membership.business_name
        self.can_manage = membership.role in (Role.admin, Role.manager)
        self.is_admin = membership.role == Role.admin
        with unit_of_work(tenant=principal) as session:
            data = reads.page_data(session, principal, membership.business_id, run_connection=self.run_connection,
                                   run_status=self.run_status)
        self.dispensaries, self.connections, self.runs = data.dispensaries, data.connections, data.runs

    @rx.var
    def has_active(self) -> bool:
        return any(c.active for c in self.connections) or any(not r.finished for r in self.runs)

    @rx.var
    def run_connection_options(self) -> list[dict[str, str]]:
        return [{"value": "all", "label": "All connections"}] + [{"value": c.id, "label": c.name}
                                                                  for c in self.connections]

    @rx.var
    def needs_location(self) -> bool:
        """Vendors that take the location among their credentials (Flowhub) do not get a second box for it."""
        return bool(self.draft.get("vendor")) and not any(f.key == "location_id" for f in self.cred_fields)

    @rx.var
    def vendor_hint(self) -> str:
        return next((v.url_hint for v in self.vendors if v.value == self.draft.get("vendor")), "")

    @rx.var
    def location_hint(self) -> str:
        return next((v.location_hint for v in self.vendors if v.value == self.draft.get("vendor")), "")

    @rx.var
    def vendor_capabilities(self) -> str:
        return next((v.capabilities for v in self.vendors if v.value == self.draft.get("vendor")), "")

    @rx.var
    def testing_any(self) -> bool:
        return len(self.testing) > 0

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self.vendors = vendor_options()
        self.test_answers, self.test_ok, self.testing, self.syncing = {}, {}, [], []
        self.rotate_id = self.disconnect_id = self.edit_id = ""
        self._refresh(principal)
        self.loaded = True
        if self.has_active:
            return PointOfSaleState.watch_runs

    @rx.event(background=True)
    async def watch_runs(self):
        """Re-read the connections and runs every second while a sync is queued or running."""
        async with self:
            if time.time() - self._watch_beat < WATCH_STALE_SECONDS:
                return  # a loop is already following the runs
            self._watch_beat = time.time()
        try:
            for _ in range(WATCH_SECONDS):
                await asyncio.sleep(1)
                async with self:
                    self._watch_beat = time.time()
                    principal = self.principal()
                    if principal is None:
                        return
                    self._refresh(principal)
                    if not self.has_active:
                        return
        finally:
            async with self:
                self._watch_beat = 0.0

    # ------------------------------------------------------------------------------------------- the connect form

    @rx.event
    def open_form(self):
        self.form_open = True
        self.draft = dict(EMPTY_DRAFT)
        if len(self.dispensaries) == 1:
            self.draft["dispensary_id"] = self.dispensaries[0]["id"]
        self.creds, self.cred_fields = {}, []
        self._reset_errors()

    @rx.event
    def close_form(self):
        self.form_open = False
        self.creds = {}
        self._reset_errors()

    @rx.event
    def set_vendor(self, vendor: str):
        if vendor not in [v.value for v in self.vendors]:
            return
        self.draft = {**self.draft, "vendor": vendor}
        self.cred_fields = credential_fields(vendor)
        self.creds = {}
        self.errors = {k: v for k, v in self.errors.items() if k not in ("vendor", "credentials")}

    @rx.event
    def set_draft(self, field: str, value: str):
        if field in EMPTY_DRAFT:
            self.draft = {**self.draft, field: value}

    @rx.event
    def set_cred(self, key: str, value: str):
        self.creds = {**self.creds, key: value}

    def _connect_input(self) -> service.ConnectInput:
        draft = self.draft
        interval_text = (draft.get("interval") or "").strip()
        if not interval_text.isdigit():
            raise ValidationFailed("Sync every 15 to 60 minutes: write a whole number.", field="interval_minutes")
        credentials = {k: v.strip() for k, v in self.creds.items() if v and v.strip()}
        location = (draft.get("location_id") or "").strip() or credentials.get("location_id") or None
        dispensary = draft.get("dispensary_id") or "none"
        return service.ConnectInput(
            vendor=draft.get("vendor") or "", name=draft.get("name") or "", base_url=draft.get("base_url") or "",
            credentials=credentials, location_id=location,
            dispensary_id=None if dispensary == "none" else uuid.UUID(dispensary),
            webhook_secret=(draft.get("webhook_secret") or "").strip() or None, interval_minutes=int(interval_text))

    @rx.event
    def connect(self):
        if not self.form_open or self.submitting:
            return  # a second click on a form being saved or already saved
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        self._reset_errors()
        if not self.draft.get("vendor"):
            self.errors = {"vendor": "Choose your point of sale."}
            return
        self.submitting = True
        yield
        try:
            data = self._connect_input()
            with unit_of_work(tenant=principal) as session:
                connection = service.connect(session, principal=principal,
                                             business_id=uuid.UUID(self.business_id), data=data)
                name = connection.name
        except DomainError as exc:
            self._fail(exc)
            return
        finally:
            self.submitting = False
        self.form_open, self.creds, self.draft = False, {}, dict(EMPTY_DRAFT)
        self._refresh(principal)
        yield rx.toast.success(f"Connected {name}. Test the connection, then sync now.")

    # ------------------------------------------------------------------------------------------- per connection

    @rx.event(background=True)
    async def test_connection(self, connection_id: str):
        async with self:
            if connection_id in self.testing:
                return
            principal, redirect = self.require_principal()
            if redirect:
                return redirect
            self.testing = [*self.testing, connection_id]
            self.test_answers = {**self.test_answers, connection_id: ""}
        ok, message = await asyncio.to_thread(_test, principal, connection_id)
        async with self:
            self.testing = [i for i in self.testing if i != connection_id]
            self.test_answers = {**self.test_answers, connection_id: message}
            self.test_ok = {**self.test_ok, connection_id: ok}
            self._refresh(principal)

    @rx.event
    def sync_now(self, connection_id: str):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        try:
            with unit_of_work(tenant=principal) as session:
                _, created = sync.request_manual(session, principal=principal, connection_id=uuid.UUID(connection_id))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._refresh(principal)
        message = "Sync queued: the log below follows it." if created else "A sync of this connection is already " \
                                                                           "under way."
        return [rx.toast.success(message) if created else rx.toast.info(message), PointOfSaleState.watch_runs]

    @rx.event
    def set_paused(self, connection_id: str, paused: bool):
        return self._perform(lambda s, p: service.set_paused(s, principal=p, connection_id=uuid.UUID(connection_id),
                                                             paused=paused),
                             "Paused: scheduled syncs stop until you resume." if paused else
                             "Resumed: the next sync starts shortly.")

    @rx.event
    def open_rotate(self, connection_id: str):
        card = next((c for c in self.connections if c.id == connection_id), None)
        if card is None:
            return
        self.rotate_id, self.rotate_name = card.id, card.name
        self.rotate_fields = credential_fields(card.vendor)
        self.rotate_creds, self.rotate_secret, self.rotate_error = {}, "", ""

    @rx.event
    def close_rotate(self):
        self.rotate_id, self.rotate_creds, self.rotate_secret, self.rotate_error = "", {}, "", ""

    @rx.event
    def set_rotate_open(self, is_open: bool):
        if not is_open:
            self.rotate_id, self.rotate_creds, self.rotate_secret, self.rotate_error = "", {}, "", ""

    @rx.event
    def set_rotate_cred(self, key: str, value: str):
        self.rotate_creds = {**self.rotate_creds, key: value}

    @rx.event
    def set_rotate_secret(self, value: str):
        self.rotate_secret = value

    @rx.event
    def rotate(self):
        if not self.rotate_id:
            return
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        credentials = {k: v.strip() for k, v in self.rotate_creds.items() if v and v.strip()}
        try:
            with unit_of_work(tenant=principal) as session:
                service.rotate_credentials(session, principal=principal, connection_id=uuid.UUID(self.rotate_id),
                                           credentials=credentials, webhook_secret=self.rotate_secret.strip() or None)
        except DomainError as exc:
            self.rotate_error = exc.message
            return
        name = self.rotate_name
        self.rotate_id, self.rotate_creds, self.rotate_secret, self.rotate_error = "", {}, "", ""
        self._refresh(principal)
        return rx.toast.success(f"New credentials saved for {name}; the old ones are gone. Test the connection.")

    @rx.event
    def open_edit(self, connection_id: str):
        card = next((c for c in self.connections if c.id == connection_id), None)
        if card is None:
            return
        self.edit_id, self.edit_errors = card.id, {}
        self.edit = {"name": card.name, "interval": str(card.interval_minutes), "base_url": card.base_url,
                     "location_id": card.location, "dispensary_id": card.dispensary_id or "none"}

    @rx.event
    def set_edit(self, field: str, value: str):
        if field in self.edit:
            self.edit = {**self.edit, field: value}

    @rx.event
    def set_edit_open(self, is_open: bool):
        if not is_open:
            self.edit_id, self.edit_errors = "", {}

    @rx.event
    def save_edit(self):
        if not self.edit_id:
            return
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        edit, self.edit_errors = self.edit, {}
        interval = (edit.get("interval") or "").strip()
        if not interval.isdigit():
            self.edit_errors = {"interval_minutes": "Sync every 15 to 60 minutes: write a whole number."}
            return
        dispensary = edit.get("dispensary_id") or "none"
        try:
            with unit_of_work(tenant=principal) as session:
                service.update_settings(session, principal=principal, connection_id=uuid.UUID(self.edit_id),
                                        name=edit.get("name") or "", interval_minutes=int(interval),
                                        base_url=edit.get("base_url") or "", location_id=edit.get("location_id") or "",
                                        dispensary_id=None if dispensary == "none" else uuid.UUID(dispensary))
        except DomainError as exc:
            self.edit_errors = {exc.field or "form": exc.message}
            return
        self.edit_id = ""
        self._refresh(principal)
        return rx.toast.success("Settings saved.")

    @rx.event
    def ask_disconnect(self, connection_id: str):
        card = next((c for c in self.connections if c.id == connection_id), None)
        if card is not None:
            self.disconnect_id, self.disconnect_name = card.id, card.name

    @rx.event
    def set_disconnect_open(self, is_open: bool):
        if not is_open:
            self.disconnect_id = ""

    @rx.event
    def disconnect(self):
        connection_id, self.disconnect_id = self.disconnect_id, ""
        if not connection_id:
            return
        return self._perform(lambda s, p: service.disconnect(s, principal=p, connection_id=uuid.UUID(connection_id)),
                             "Disconnected: syncing stopped and the credentials were erased. The history stays.")

    # ------------------------------------------------------------------------------------------- the runs log

    @rx.event
    def set_run_connection(self, value: str):
        self.run_connection = value if value == "all" or any(c.id == value for c in self.connections) else "all"
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._refresh(principal)

    @rx.event
    def set_run_status(self, value: str):
        self.run_status = value if value in RUN_FILTER_STATUSES else "all"
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._refresh(principal)

    @rx.event
    def retry(self, run_id: str):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        try:
            with unit_of_work(tenant=principal) as session:
                _, created = sync.retry(session, principal=principal, run_id=uuid.UUID(run_id))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._refresh(principal)
        return [rx.toast.success("Retry queued." if created else "A sync of this connection is already under way."),
                PointOfSaleState.watch_runs]

