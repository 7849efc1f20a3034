"""Platform admin pages: the license review queue and the registered OAuth/OIDC clients."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.core.storage import get_storage
from icc_app.identity import licenses
from icc_app.identity.models import BusinessLicense
from icc_app.identity.oidc import service as oidc
from icc_app.identity.oidc.scopes import DEFAULT_CLIENT_SCOPE
from icc_app.identity.ui.state import AuthFormState
from icc_app.ui import routes
from icc_app.ui.components import card, empty_state, form_alert, labelled_input, page_header, verification_badge
from icc_app.ui.format import label, phone
from icc_app.ui.layout import app_page


class AdminState(AuthFormState):
    loaded: bool = False

    def _admin(self):
        principal, redirect = self.require_principal()
        if redirect:
            return None, redirect
        if not principal.is_platform_admin:
            return None, rx.redirect(routes.HOME)
        return principal, None

    def _refresh(self) -> None:
        raise NotImplementedError

    def _open(self):
        """The on_load of an admin page: re-check the platform role, then load its data."""
        _, redirect = self._admin()
        if redirect:
            return redirect
        self._reset_errors()
        self._refresh()
        self.loaded = True


def _address(*parts: str | None) -> str:
    return ", ".join(p for p in parts if p)


def review_row(case: licenses.ReviewCase) -> dict[str, str]:
    """One card of the review queue, in words: the claim beside the regulator's record and the claimant."""
    lic, biz, entry, user = case.license, case.business, case.registry, case.claimant
    return {
        "id": str(lic.id), "business": biz.legal_name, "dba": biz.dba or "", "type": label(biz.business_type),
        "license": f"{lic.state} {lic.license_number}", "verification": str(lic.verification),
        "checks": " ".join(case.checks),
        "premises": _address(lic.premise_street, lic.premise_city, lic.premise_postal_code),
        "holder": case.holder.legal_name if case.holder else "",
        "document": lic.document_filename or "", "submitted": lic.created_at.strftime("%Y-%m-%d"),
        "registry_name": " · DBA ".join(n for n in (entry.legal_name, entry.dba) if n) if entry else "",
        "registry_address": _address(entry.street, entry.city, entry.state, entry.postal_code) if entry else "",
        "registry_contact": " · ".join(c for c in (phone(entry.phone), entry.email or "") if c) if entry else "",
        "registry_status": " · ".join(p for p in (entry.license_type, entry.status or (
            "active" if entry.is_active else "inactive")) if p) if entry else "",
        "claimant": user.display_name if user else "", "claimant_email": user.email if user else "",
        "claimant_confirmed": ("Email confirmed" if user.email_verified_at else "Email not confirmed") if user else "",
    }


class LicenseReviewState(AdminState):
    queue: list[dict[str, str]] = []
    notes: dict[str, str] = {}
    deciding: str = ""  # the license a decision is running for: its buttons are disabled

    def _refresh(self) -> None:
        with unit_of_work() as session:
            self.queue = [review_row(case) for case in licenses.review_cases(session)]

    @rx.event
    def download(self, license_id: str):
        """The claimant's license document, for the reviewer's eyes only."""
        principal, redirect = self._admin()
        if redirect:
            return redirect
        with unit_of_work() as session:
            lic = session.get(BusinessLicense, uuid.UUID(license_id))
            if lic is None or not lic.document_key:
                return rx.toast.error("No document on this license.")
            data = get_storage().read(lic.document_key)
        return rx.download(data=data, filename=lic.document_filename or "license")

    @rx.event
    def load(self):
        return self._open()

    @rx.event
    def set_note(self, license_id: str, value: str):
        self.notes = {**self.notes, license_id: value}

    @rx.event
    def decide(self, license_id: str, approve: bool):
        principal, redirect = self._admin()
        if redirect:
            yield redirect
            return
        if self.deciding:
            return  # a second click while the first decision runs
        self._reset_errors()
        self.deciding = license_id
        yield
        try:
            with unit_of_work() as session:
                licenses.review_license(session, license_id=uuid.UUID(license_id), admin_id=principal.user_id,
                                        approve=approve, note=self.notes.get(license_id, ""), ip=self.client_ip())
        except DomainError as exc:
            self.errors = {license_id: exc.message}
            return
        finally:
            self.deciding = ""
        self.notes = {k: v for k, v in self.notes.items() if k != license_id}
        self._refresh()
        yield rx.toast.success("License verified." if approve else "License rejected; the business was told why.")


def _review_card(row: rx.Var) -> rx.Component:
    license_id = row["id"].to(str)
    return card(rx.vstack(
        rx.hstack(rx.heading(row["business"], size="4"), verification_badge(row["verification"]), rx.spacer(),
                  rx.text("submitted " + row["submitted"], size="2", color_scheme="gray"), width="100%"),
        rx.text(row["license"], " · ", row["type"], rx.cond(row["dba"] != "", " · DBA " + row["dba"], ""), size="2"),
        rx.grid(
            rx.vstack(rx.text("Regulator's record", weight="bold", size="2"),
                      rx.cond(row["registry_name"] != "", rx.vstack(
                          rx.text(row["registry_name"], size="2"), rx.text(row["registry_address"], size="2"),
                          rx.text(row["registry_contact"], size="2"),
                          rx.text(row["registry_status"], size="2", color_scheme="gray"), spacing="1"),
                          rx.text("Not in the regulator registry we hold.", size="2", color_scheme="gray")),
                      rx.text("Premises claimed: " + row["premises"], size="2"), spacing="1", class_name="registry"),
            rx.vstack(rx.text("Claimed by", weight="bold", size="2"),
                      rx.cond(row["claimant"] != "", rx.vstack(
                          rx.text(row["claimant"], size="2"), rx.text(row["claimant_email"], size="2"),
                          rx.text(row["claimant_confirmed"], size="2", color_scheme="gray"), spacing="1"),
                          rx.text("Unknown", size="2", color_scheme="gray")), spacing="1", class_name="claimant"),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%"),
        rx.cond(row["checks"] != "", rx.callout("Automatic checks (as told to the applicant): " + row["checks"],
                                                icon="info", color_scheme="amber", width="100%")),
        rx.cond(row["holder"] != "",
                rx.callout("Contested: " + row["holder"] + " holds this license, verified. Approving this claim "
                           "revokes theirs (they are told).", icon="triangle-alert", color_scheme="red", width="100%")),
        rx.cond(row["document"] != "",
                rx.button(rx.icon("download", size=14), "Open the document: " + row["document"], variant="soft",
                          size="1",
                          on_click=LicenseReviewState.download(license_id)),
                rx.text("No document attached.", size="2", color_scheme="gray")),
        rx.input(placeholder="Reason (required to reject, shown to the business)",
                 value=LicenseReviewState.notes.get(license_id, ""),
                 on_change=lambda v: LicenseReviewState.set_note(license_id, v), width="100%",
                 aria_label="Review note"),
        rx.cond(LicenseReviewState.errors.contains(license_id),
                rx.text(LicenseReviewState.errors.get(license_id, ""), color_scheme="red", size="2", role="alert")),
        rx.hstack(rx.button("Approve", color_scheme="green", on_click=LicenseReviewState.decide(license_id, True),
                            disabled=LicenseReviewState.deciding != "",
                            loading=LicenseReviewState.deciding == license_id),
                  rx.button("Reject", color_scheme="red", variant="soft", disabled=LicenseReviewState.deciding != "",
                            on_click=LicenseReviewState.decide(license_id, False))),
        spacing="3", width="100%", align="start",
    ))


@app_page
def license_review_page() -> rx.Component:
    return rx.vstack(
        page_header("License reviews", "Claims proved by documents, and second claims of a verified license."),
        rx.cond(~LicenseReviewState.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
                rx.cond(LicenseReviewState.queue.length() > 0,
                        rx.vstack(rx.foreach(LicenseReviewState.queue, _review_card), spacing="4", width="100%"),
                        empty_state("file-check", "Nothing to review",
                                    "Claims proved by a code sent to the regulator's contact verify on their own."))),
        width="100%", align="start",
    )


class ClientsState(AdminState):
    clients: list[dict[str, str]] = []
    public: bool = False
    client_credentials: bool = False
    new_client_id: str = ""
    new_secret: str = ""

    def _refresh(self) -> None:
        with unit_of_work() as session:
            self.clients = [{"client_id": c.client_id, "name": c.name, "type": "public" if c.public else "confidential",
                             "grants": ", ".join(c.grant_types), "redirects": " ".join(c.redirect_uris),
                             "scope": c.scope, "active": "yes" if c.is_active else ""} for c in oidc.list_clients(session)]

    @rx.event
    def load(self):
        self.new_client_id = self.new_secret = ""
        return self._open()

    @rx.event
    def set_public(self, value: bool):
        self.public = value

    @rx.event
    def set_client_credentials(self, value: bool):
        self.client_credentials = value

    @rx.event
    def register(self, form: dict):
        principal, redirect = self._admin()
        if redirect:
            return redirect
        self._reset_errors()
        grants = ["client_credentials"] if self.client_credentials else ["authorization_code", "refresh_token"]
        business = (form.get("business_id") or "").strip()
        try:
            with unit_of_work() as session:
                client, secret = oidc.register_client(
                    session, admin=principal, name=form.get("name", ""), public=self.public and not self.client_credentials,
                    redirect_uris=(form.get("redirect_uris") or "").split(), grant_types=grants,
                    scope=form.get("scope") or DEFAULT_CLIENT_SCOPE,
                    business_id=uuid.UUID(business) if business else None, ip=self.client_ip())
        except ValueError:
            self.errors = {"business_id": "Paste the business id (a UUID)."}
            return
        except DomainError as exc:
            self._fail(exc)
            return
        self.new_client_id, self.new_secret = client.client_id, secret or ""
        self._refresh()

    @rx.event
    def toggle(self, client_id: str, active: bool):
        principal, redirect = self._admin()
        if redirect:
            return redirect
        with unit_of_work() as session:
            oidc.set_client_active(session, admin=principal, client_id=client_id, active=active)
        self._refresh()


def _client_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(row["name"], weight="medium"), rx.code(row["client_id"]),
                                           spacing="1")),
        rx.table.cell(rx.badge(row["type"])), rx.table.cell(row["grants"], size="1"),
        rx.table.cell(rx.text(row["redirects"], size="1")), rx.table.cell(rx.text(row["scope"], size="1")),
        rx.table.cell(rx.cond(row["active"] != "",
                              rx.button("Disable", size="1", variant="soft", color_scheme="red",
                                        on_click=ClientsState.toggle(row["client_id"], False)),
                              rx.button("Enable", size="1", variant="soft",
                                        on_click=ClientsState.toggle(row["client_id"], True)))),
    )


@app_page
def clients_page() -> rx.Component:
    err = ClientsState.errors
    return rx.vstack(
        page_header("OAuth clients", "Relying parties that sign people in with ICC or call the API."),
        rx.cond(ClientsState.new_client_id != "", rx.callout(rx.vstack(
            rx.text("Client registered. Copy the secret now: it is not shown again.", weight="medium"),
            rx.text("client_id: ", rx.code(ClientsState.new_client_id)),
            rx.cond(ClientsState.new_secret != "", rx.text("client_secret: ", rx.code(ClientsState.new_secret)),
                    rx.text("Public client: no secret; it must use PKCE (S256).")),
        ), icon="key-round", color_scheme="green", width="100%")),
        card(rx.form(rx.vstack(
            rx.heading("Register a client", size="4", as_="h2"),
            form_alert(ClientsState.form_error),
            rx.grid(
                labelled_input("Name (shown on the consent screen)", "name", err.get("name", "")),
                labelled_input("Redirect URIs (space separated)", "redirect_uris", err.get("redirect_uris", ""),
                               placeholder="https://app.example.com/callback"),
                labelled_input("Scopes", "scope", err.get("scope", ""), default_value=DEFAULT_CLIENT_SCOPE),
                labelled_input("Business id (client credentials only)", "business_id", err.get("business_id", "")),
                columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
            ),
            rx.hstack(rx.checkbox("Public client (SPA or mobile, PKCE)", checked=ClientsState.public,
                                  on_change=ClientsState.set_public),
                      rx.checkbox("Server-to-server (client credentials)", checked=ClientsState.client_credentials,
                                  on_change=ClientsState.set_client_credentials), spacing="4"),
            rx.button("Register client", type="submit"),
            spacing="3", width="100%", align="start",
        ), on_submit=ClientsState.register, reset_on_submit=False)),
        rx.cond(ClientsState.clients.length() > 0,
                rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                             ("Client", "Type", "Grants", "Redirect URIs", "Scopes", "")])),
                              rx.table.body(rx.foreach(ClientsState.clients, _client_row)), width="100%",
                              variant="surface"),
                empty_state("key-round", "No clients yet", "Register the first application that signs in with ICC.")),
        width="100%", align="start", spacing="4",
    )


def register(app: rx.App) -> None:
    app.add_page(license_review_page, route=routes.ADMIN_LICENSES, title="License reviews | ICC",
                 on_load=LicenseReviewState.load)
    app.add_page(clients_page, route=routes.ADMIN_CLIENTS, title="OAuth clients | ICC", on_load=ClientsState.load)
