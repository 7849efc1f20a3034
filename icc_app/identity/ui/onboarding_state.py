"""The onboarding page's state: thin handlers that run the KYB services in one unit of work, with the page's
buttons disabled while one runs, errors beside the form they belong to (input kept) and cleared on success."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity import licenses, onboarding
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType, Role, User
from icc_app.identity.ui.state import AuthFormState
from icc_app.ui import routes
from icc_app.ui.format import label



# The select shows business types as words ("Testing lab"); the state maps the chosen words back to the enum.
BUSINESS_TYPE_BY_LABEL = {label(t): t for t in BusinessType}

class OnboardingState(AuthFormState):
    loaded: bool = False
    step: int = 1
    business: dict[str, str] = {}
    licenses: list[dict[str, str]] = []
    submitted: bool = False
    verified: bool = False
    next_step: str = ""
    is_admin: bool = False
    email_confirmed: bool = False
    license_state: str = "WA"
    business_type: str = label(BusinessType.cultivator)  # shown as words; BUSINESS_TYPE_BY_LABEL maps back
    uploading: bool = False
    busy: bool = False  # an action is running: its buttons are disabled
    doc_license_id: str = ""  # the license the document card uploads for
    add_form_version: int = 0  # bumped after a license is added: the form remounts empty

    def _business_id(self, principal) -> uuid.UUID | None:
        admin = next((m for m in principal.memberships if m.role == Role.admin), None)
        first = admin or (principal.memberships[0] if principal.memberships else None)
        return first.business_id if first else None

    def _refresh(self, principal) -> None:
        business_id = self._business_id(principal)
        self.is_admin = any(m.role == Role.admin for m in principal.memberships)
        self.email_confirmed = principal.email_verified
        if business_id is None:
            self.business, self.licenses, self.step = {}, [], 1
            return
        with unit_of_work() as session:
            status = onboarding.business_status(session, principal=principal, business_id=business_id)
        self.business = {k: str(v) for k, v in dataclasses.asdict(status).items() if k != "licenses"}
        self.licenses = [{k: ("yes" if v else "") if isinstance(v, bool) else str(v) for k, v in
                          dataclasses.asdict(r).items()} for r in status.licenses]
        self.submitted, self.verified, self.next_step = status.submitted, status.verified, status.next_step
        with_documents = [lic["id"] for lic in self.licenses if lic["takes_documents"]]
        if self.doc_license_id not in with_documents:
            self.doc_license_id = with_documents[-1] if with_documents else ""
        if self.step == 1:
            self.step = 3 if status.submitted else 2

    @rx.var
    def doc_license(self) -> dict[str, str]:
        return next((lic for lic in self.licenses if lic["id"] == self.doc_license_id), {})

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        if principal.kind.value != "operator":
            return rx.redirect(routes.HOME)
        self._reset_errors()
        self.step, self.busy = 1, False
        self._recheck_stale(principal)
        self._refresh(principal)
        self.loaded = True

    def _recheck_stale(self, principal) -> None:
        """The email was confirmed (in another tab, by the emailed link) since a claim was held for it: check those
        claims again now, so the page does not ask for what is done. A check that fails still shows its reasons."""
        business_id = self._business_id(principal)
        if business_id is None or not principal.email_verified:
            return
        with unit_of_work() as session:
            stale = [lic.id for lic in licenses.list_licenses(session, business_id=business_id)
                     if licenses.waits_for_email(lic)]
        for license_id in stale:
            try:
                with unit_of_work() as session:
                    onboarding.recheck(session, principal=principal, business_id=business_id, license_id=license_id)
            except DomainError:
                pass  # e.g. not an admin of the business, or too many codes today: "Check again" stays offered

    @rx.event
    def set_license_state(self, value: str):
        self.license_state = value

    @rx.event
    def set_business_type(self, value: str):
        if value in BUSINESS_TYPE_BY_LABEL:
            self.business_type = value

    @rx.event
    def choose_document_license(self, license_id: str):
        self.doc_license_id = license_id

    @rx.event
    def go(self, step: int):
        if (step >= 2 and not self.business) or (step == 1 and self.business):
            return  # the business exists once created: its licenses and review are what is left
        self._reset_errors()
        self.step = step

    def _act(self, action, *, error_key: str = ""):
        """Run `action(session, principal)` in one unit of work with the buttons disabled; a domain error is shown
        beside the form (under `error_key`, else by field) and changes nothing; success clears stale errors.
        Returns (ok, result) and the events to send."""
        principal, redirect = self.require_principal()
        if redirect:
            return False, None, redirect
        self._reset_errors()
        try:
            with unit_of_work() as session:
                result = action(session, principal)
        except DomainError as exc:
            if error_key:
                self.errors = {error_key: exc.message}
            else:
                self._fail(exc)
            return False, None, None
        self._refresh(self.principal() or principal)
        return True, result, None

    def _business_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.business["id"])

    @rx.event
    def create_business(self, form: dict):
        if self.busy:
            return
        self.busy = True
        yield
        try:
            business_type = BUSINESS_TYPE_BY_LABEL.get(self.business_type, BusinessType.cultivator)
            ok, _, redirect = self._act(lambda session, principal: identity.create_business(
                session, legal_name=form.get("legal_name", ""), dba=form.get("dba"),
                business_type=business_type, owner=session.get(User, principal.user_id),
                street=form.get("street"), city=form.get("city"), state=form.get("state") or None,
                postal_code=form.get("postal_code"), phone=form.get("phone")))
        finally:
            self.busy = False
        if redirect:
            yield redirect
        elif ok:
            self._apply(self.principal())
            self.step = 2

    @rx.event
    def add_license(self, form: dict):
        if self.busy:
            return
        expires = (form.get("expires_on") or "").strip()
        try:
            expires_on = date.fromisoformat(expires) if expires else None
        except ValueError:
            self.errors = {"expires_on": "Enter a date like 2027-06-30."}
            return
        self.busy = True
        yield
        try:
            ok, lic, redirect = self._act(lambda session, principal: onboarding.add_license(
                session, principal=principal, business_id=self._business_uuid(), state=self.license_state,
                license_number=form.get("license_number", ""), street=form.get("premise_street"),
                city=form.get("premise_city"), postal_code=form.get("premise_postal_code"),
                expires_on=expires_on).verification)
        finally:
            self.busy = False
        if redirect:
            yield redirect
            return
        if not ok:
            return
        self.add_form_version += 1
        yield rx.toast.info({"code_sent": "License added: enter the code we sent to the licensee contact.",
                             "needs_review": "License added: a platform administrator will review the claim."}
                            .get(str(lic), "License added: see what is still needed below."))

    @rx.event
    def recheck(self, form: dict):
        yield from self._on_license(form.get("license_id", ""), "Checked again: see the result on the license.",
                                    onboarding.recheck, street=form.get("premise_street"),
                                    city=form.get("premise_city"), postal_code=form.get("premise_postal_code"))

    @rx.event
    def resend_code(self, license_id: str):
        yield from self._on_license(license_id, "A new code is on its way to the licensee contact.",
                                    onboarding.resend_code)

    @rx.event
    def request_review(self, license_id: str):
        yield from self._on_license(license_id, "Sent for review: we will email you the decision.",
                                    onboarding.request_review)

    @rx.event
    def enter_code(self, form: dict):
        license_id = form.get("license_id", "")
        outcome: list[str | None] = []
        yield from self._on_license(license_id, "", lambda session, **kw: outcome.append(
            onboarding.enter_code(session, code=form.get("code", ""), **kw)))
        if outcome and outcome[0]:
            self.errors = {f"lic-{license_id}": outcome[0]}  # the attempt was counted (committed)
        elif outcome:
            yield rx.toast.success("License verified: you can trade on the exchange.")

    def _on_license(self, license_id: str, success: str, service, **kwargs):
        """One of a license's buttons: `service(session, principal=, business_id=, license_id=, **kwargs)`."""
        try:
            parsed = uuid.UUID(license_id)
        except ValueError:
            self.errors = {f"lic-{license_id}": "License not found."}
            return
        yield from self._license_action(license_id, success, lambda session, principal: service(
            session, principal=principal, business_id=self._business_uuid(), license_id=parsed, **kwargs))

    def _license_action(self, license_id: str, success: str, action):
        if self.busy or not license_id:
            return
        self.busy = True
        yield
        try:
            ok, _, redirect = self._act(action, error_key=f"lic-{license_id}")
        finally:
            self.busy = False
        if redirect:
            yield redirect
        elif ok and success:
            yield rx.toast.success(success)

    @rx.event
    def send_confirmation(self):
        yield from self._license_action("email", "Confirmation link sent: open it, then choose Check again.",
                                        lambda session, principal: identity.send_verification_email(
                                            session, user=session.get(User, principal.user_id)))

    @rx.event
    async def attach_document(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        if not files or not self.doc_license_id:
            return
        self.uploading = True
        yield
        try:
            data = await files[0].read()
            with unit_of_work() as session:
                onboarding.attach_document(session, principal=principal, business_id=self._business_uuid(),
                                           license_id=uuid.UUID(self.doc_license_id), data=data,
                                           filename=files[0].name or "license")
        except DomainError as exc:
            self.errors = {"document": exc.message}
            return
        finally:
            self.uploading = False
        self._reset_errors()
        self._refresh(principal)
        yield rx.toast.success("Document attached.")

    @rx.event
    def renew(self, form: dict):
        license_id = form.get("license_id", "")
        try:
            expires_on = date.fromisoformat((form.get("renewed_until") or "").strip())
        except ValueError:
            self.errors = {f"lic-{license_id}": "Enter the new expiry date."}
            return
        yield from self._on_license(license_id, "License renewed: what rested on it works again.", onboarding.renew,
                                    expires_on=expires_on)

    @rx.event
    def submit(self):
        if self.busy:
            return
        self.busy = True
        yield
        try:
            ok, _, redirect = self._act(lambda session, principal: onboarding.submit(
                session, principal=principal, business_id=self._business_uuid()))
        finally:
            self.busy = False
        if redirect:
            yield redirect
        elif ok:
            self.step = 3
            yield rx.toast.success("Submitted. Your verification status is below.")
