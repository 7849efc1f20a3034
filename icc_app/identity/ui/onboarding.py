"""The KYB onboarding wizard (business details, licenses with documents, review) and, once submitted, the
business's verification status page."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity import onboarding
from icc_app.identity import service as identity
from icc_app.identity.licenses import US_STATES
from icc_app.identity.models import BusinessType, Role, User
from icc_app.identity.ui.state import AuthFormState
from icc_app.ui import routes
from icc_app.ui.components import (
    card,
    empty_state,
    field_error,
    form_alert,
    labelled_input,
    labelled_select,
    page_header,
    verification_badge,
)
from icc_app.ui.layout import app_page

UPLOAD_ID = "license-document"
BUSINESS_TYPES = [t.value for t in BusinessType]
STATES = sorted(US_STATES)


class OnboardingState(AuthFormState):
    loaded: bool = False
    step: int = 1
    business: dict[str, str] = {}
    licenses: list[dict[str, str]] = []
    submitted: bool = False
    verified: bool = False
    is_admin: bool = False
    license_state: str = "WA"
    business_type: str = "cultivator"
    uploading: bool = False

    def _business_id(self, principal) -> uuid.UUID | None:
        admin = next((m for m in principal.memberships if m.role == Role.admin), None)
        first = admin or (principal.memberships[0] if principal.memberships else None)
        return first.business_id if first else None

    def _refresh(self, principal) -> None:
        business_id = self._business_id(principal)
        self.is_admin = any(m.role == Role.admin for m in principal.memberships)
        if business_id is None:
            self.business, self.licenses, self.step = {}, [], 1
            return
        with unit_of_work() as session:
            status = onboarding.business_status(session, principal=principal, business_id=business_id)
        self.business = {k: str(v) for k, v in dataclasses.asdict(status).items() if k != "licenses"}
        self.licenses = [{k: ("yes" if v else "") if isinstance(v, bool) else str(v) for k, v in
                          dataclasses.asdict(r).items()} for r in status.licenses]
        self.submitted, self.verified = status.submitted, status.verified
        if self.step == 1:
            self.step = 3 if status.submitted else 2

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        if principal.kind.value != "operator":
            return rx.redirect(routes.HOME)
        self._reset_errors()
        self.step = 1
        self._refresh(principal)
        self.loaded = True

    @rx.event
    def set_license_state(self, value: str):
        self.license_state = value

    @rx.event
    def set_business_type(self, value: str):
        self.business_type = value

    @rx.event
    def go(self, step: int):
        if (step >= 2 and not self.business) or (step == 1 and self.business):
            return  # the business exists once created: its licenses and review are what is left
        self._reset_errors()
        self.step = step

    @rx.event
    def create_business(self, form: dict):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        try:
            with unit_of_work() as session:
                owner = session.get(User, principal.user_id)
                identity.create_business(session, legal_name=form.get("legal_name", ""), dba=form.get("dba"),
                                         business_type=BusinessType(self.business_type), owner=owner,
                                         street=form.get("street"), city=form.get("city"),
                                         state=form.get("state") or None, postal_code=form.get("postal_code"),
                                         phone=form.get("phone"))
        except DomainError as exc:
            self._fail(exc)
            return
        principal = self.principal()
        self._apply(principal)
        self.step = 2
        self._refresh(principal)

    @rx.event
    def add_license(self, form: dict):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        expires = (form.get("expires_on") or "").strip()
        try:
            expires_on = date.fromisoformat(expires) if expires else None
        except ValueError:
            self.errors["expires_on"] = "Enter a date like 2027-06-30."
            return
        try:
            with unit_of_work() as session:
                lic = onboarding.add_license(session, principal=principal, business_id=uuid.UUID(self.business["id"]),
                                             state=self.license_state, license_number=form.get("license_number", ""),
                                             expires_on=expires_on)
                verdict = lic.verification
        except DomainError as exc:
            self._fail(exc)
            return
        self._refresh(self.principal())
        if verdict == "verified":
            return rx.toast.success("License verified against the state registry.")
        return rx.toast.info("License added: a platform administrator will review it.")

    @rx.event
    async def attach_document(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        if not files or not self.licenses:
            return
        self.uploading = True
        yield
        try:
            data = await files[0].read()
            with unit_of_work() as session:
                onboarding.attach_document(session, principal=principal, business_id=uuid.UUID(self.business["id"]),
                                           license_id=uuid.UUID(self.licenses[-1]["id"]), data=data,
                                           filename=files[0].name or "license")
        except DomainError as exc:
            self.errors["document"] = exc.message
            return
        finally:
            self.uploading = False
        self._refresh(principal)
        yield rx.toast.success("Document attached.")

    @rx.event
    def renew(self, form: dict):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        license_id = form.get("license_id", "")
        try:
            expires_on = date.fromisoformat((form.get("renewed_until") or "").strip())
        except ValueError:
            self.errors = {f"renew-{license_id}": "Enter the new expiry date."}
            return
        try:
            with unit_of_work() as session:
                onboarding.renew(session, principal=principal, business_id=uuid.UUID(self.business["id"]),
                                 license_id=uuid.UUID(license_id), expires_on=expires_on)
        except DomainError as exc:
            self.errors = {f"renew-{license_id}": exc.message}
            return
        self._refresh(principal)
        return rx.toast.success("License renewed: what rested on it works again.")

    @rx.event
    def submit(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        try:
            with unit_of_work() as session:
                onboarding.submit(session, principal=principal, business_id=uuid.UUID(self.business["id"]))
        except DomainError as exc:
            self._fail(exc)
            return
        self._refresh(principal)
        self.step = 3
        return rx.toast.success("Submitted. Your verification status is below.")


def _steps() -> rx.Component:
    def step(n: int, label: str) -> rx.Component:
        active = OnboardingState.step == n
        done = OnboardingState.step > n
        return rx.hstack(
            rx.box(rx.cond(done, rx.icon("check", size=14), rx.text(str(n), size="1")), width="1.6em", height="1.6em",
                   border_radius="full", display="flex", align_items="center", justify_content="center",
                   background=rx.cond(active | done, rx.color("accent", 9), rx.color("gray", 5)), color="white"),
            rx.text(label, weight=rx.cond(active, "bold", "regular"), size="2"),
            align="center", spacing="2", on_click=OnboardingState.go(n), cursor="pointer",
            aria_current=rx.cond(active, "step", ""),
        )

    return rx.hstack(step(1, "Business details"), rx.separator(size="2"), step(2, "Licenses"),
                     rx.separator(size="2"), step(3, "Review"), align="center", spacing="3", wrap="wrap",
                     margin_bottom="1em")


def _details_form() -> rx.Component:
    err = OnboardingState.errors
    return card(rx.form(
        rx.vstack(
            rx.heading("Your business", size="4", as_="h2"),
            form_alert(OnboardingState.form_error),
            rx.grid(
                labelled_input("Legal name", "legal_name", err.get("legal_name", ""),
                               hint="As on your state license, e.g. Evergreen Farms LLC"),
                labelled_input("DBA (trade name)", "dba", "", hint="Optional"),
                labelled_select("Business type", "business_type", BUSINESS_TYPES, "", value=OnboardingState.business_type,
                                on_change=OnboardingState.set_business_type),
                labelled_input("Phone", "phone", "", type="tel"),
                labelled_input("Street", "street", ""),
                labelled_input("City", "city", ""),
                labelled_input("State", "state", err.get("state", ""), placeholder="WA", max_length=2),
                labelled_input("ZIP", "postal_code", ""),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
            ),
            rx.button("Continue", type="submit", size="3", id="business-continue"),
            spacing="4", width="100%", align="start",
        ),
        on_submit=OnboardingState.create_business, reset_on_submit=False,
    ))


def _license_card(lic: rx.Var) -> rx.Component:
    return card(rx.vstack(
        rx.hstack(rx.heading(lic["state"] + " " + lic["number"], size="4"), verification_badge(lic["verification"]),
                  rx.cond(lic["status"] == "expired", rx.badge("Expired", color_scheme="red")), rx.spacer(),
                  rx.text("expires " + lic["expires_on"], size="2", color_scheme="gray"), width="100%", align="center"),
        rx.text(lic["license_type"], size="2"),
        rx.text(lic["reasons"], size="2", color_scheme="gray", class_name="verification-reasons"),
        rx.cond(lic["review_note"] != "", rx.text("Reviewer: " + lic["review_note"], size="2", color_scheme="red")),
        rx.cond(lic["document"] != "", rx.hstack(rx.icon("paperclip", size=14), rx.text(lic["document"], size="2"))),
        rx.cond((lic["renewable"] != "") & OnboardingState.is_admin, rx.form(
            rx.hstack(
                rx.el.input(type="hidden", name="license_id", value=lic["id"]),
                rx.vstack(rx.text("Renewed until", as_="label", size="2"),
                          rx.input(type="date", name="renewed_until", aria_label="Renewed until"), spacing="1"),
                rx.button("Renew", type="submit", variant="soft"),
                align="end", spacing="3",
            ),
            rx.text(OnboardingState.errors.get("renew-" + lic["id"].to(str), ""), color_scheme="red", size="2",
                    role="alert"),
            on_submit=OnboardingState.renew, reset_on_submit=True,
        )),
        spacing="2", align="start", width="100%",
    ), class_name="license-card")


def _licenses_step() -> rx.Component:
    err = OnboardingState.errors
    return rx.vstack(
        rx.foreach(OnboardingState.licenses, _license_card),
        card(rx.form(
            rx.vstack(
                rx.heading("Add a license", size="4", as_="h2"),
                rx.text("We check it against the state regulator's licensee registry. A match on number, state and "
                        "business name verifies it at once; otherwise a platform administrator reviews it.",
                        size="2", color_scheme="gray"),
                form_alert(OnboardingState.form_error),
                rx.grid(
                    labelled_select("State", "license_state", STATES, err.get("state", ""),
                                    value=OnboardingState.license_state, on_change=OnboardingState.set_license_state),
                    labelled_input("License number", "license_number", err.get("license_number", ""),
                                   placeholder="e.g. 430562"),
                    labelled_input("Expiry date", "expires_on", err.get("expires_on", ""), type="date",
                                   hint="Optional when the registry lists it"),
                    columns=rx.breakpoints(initial="1", sm="3"), spacing="4", width="100%",
                ),
                rx.button("Add license", type="submit", size="3", id="add-license"),
                spacing="3", width="100%", align="start",
            ),
            on_submit=OnboardingState.add_license, reset_on_submit=True,
        )),
        rx.cond(OnboardingState.licenses.length() > 0, card(rx.vstack(
            rx.heading("License document", size="4", as_="h2"),
            rx.text("Attach the license certificate (PDF or image) for ", OnboardingState.licenses[-1]["number"],
                    ". Reviewers use it when the registry cannot confirm the license.", size="2", color_scheme="gray"),
            rx.upload(rx.vstack(rx.icon("file-up", size=24), rx.text("Drop the document here or click to choose"),
                                align="center"),
                      id=UPLOAD_ID, max_files=1,
                      accept={"application/pdf": [".pdf"], "image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]},
                      on_drop=OnboardingState.attach_document(rx.upload_files(upload_id=UPLOAD_ID)),
                      border=f"2px dashed {rx.color('accent', 7)}", border_radius="12px", padding="1.5em",
                      width="100%", cursor="pointer"),
            rx.cond(OnboardingState.uploading, rx.hstack(rx.spinner(), rx.text("Uploading…"))),
            field_error(err.get("document", "")),
            spacing="3", width="100%",
        ))),
        rx.hstack(rx.button("Review", on_click=OnboardingState.go(3), disabled=OnboardingState.licenses.length() == 0,
                            id="to-review")),
        spacing="4", width="100%",
    )


def _review_step() -> rx.Component:
    biz = OnboardingState.business
    return rx.vstack(
        rx.cond(OnboardingState.verified,
                rx.callout("Your business is verified: you can trade on the exchange.", icon="badge-check",
                           color_scheme="green", id="business-verified"),
                rx.callout("Not verified yet: licenses in review are checked by a platform administrator, usually "
                           "within a business day. You will get an email.", icon="clock", color_scheme="amber")),
        card(rx.vstack(
            rx.heading(biz.get("legal_name", ""), size="5", as_="h2"),
            rx.text(biz.get("dba", ""), color_scheme="gray"),
            rx.hstack(rx.badge(biz.get("business_type", "")), rx.text(biz.get("address", ""), size="2")),
            spacing="2", align="start",
        )),
        rx.heading("Licenses", size="4", as_="h2"),
        rx.foreach(OnboardingState.licenses, _license_card),
        form_alert(OnboardingState.form_error),
        rx.hstack(
            rx.button("Add another license", variant="soft", on_click=OnboardingState.go(2)),
            rx.cond(~OnboardingState.submitted,
                    rx.button("Submit for verification", on_click=OnboardingState.submit, id="submit-onboarding")),
        ),
        spacing="4", width="100%", align="start",
    )


@app_page
def onboarding_page() -> rx.Component:
    return rx.vstack(
        page_header("Business & licenses", "Verify your business once; every ICC product trusts it."),
        rx.cond(
            ~OnboardingState.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
            rx.cond(
                (OnboardingState.business.length() > 0) & ~OnboardingState.is_admin,
                rx.vstack(_review_step(), empty_state("lock", "Only Admins edit licenses",
                                                      "Ask an Admin of your business to add or renew licenses."),
                          width="100%"),
                rx.vstack(
                    _steps(),
                    rx.match(OnboardingState.step, (1, _details_form()), (2, _licenses_step()), _review_step()),
                    width="100%",
                ),
            ),
        ),
        width="100%", align="start",
    )


def register(app: rx.App) -> None:
    app.add_page(onboarding_page, route=routes.ONBOARDING, title="Business & licenses | ICC",
                 on_load=OnboardingState.load)
