"""The KYB onboarding wizard (business details, licenses with documents, review) and, once submitted, the
business's verification status page."""

from __future__ import annotations

import reflex as rx

from icc_app.identity.licenses import US_STATES
from icc_app.identity.ui.onboarding_state import BUSINESS_TYPE_BY_LABEL, OnboardingState
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
BUSINESS_TYPES = list(BUSINESS_TYPE_BY_LABEL)
STATES = sorted(US_STATES)


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
                labelled_input("Street", "street", "", hint="The licensed premises, as on your license"),
                labelled_input("City", "city", ""),
                labelled_input("State", "state", err.get("state", ""), placeholder="WA", max_length=2),
                labelled_input("ZIP", "postal_code", ""),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
            ),
            rx.button("Continue", type="submit", size="3", id="business-continue", loading=OnboardingState.busy,
                      disabled=OnboardingState.busy),
            spacing="4", width="100%", align="start",
        ),
        on_submit=OnboardingState.create_business, reset_on_submit=False,
    ))


def _state_badge(lic: rx.Var) -> rx.Component:
    return rx.cond(lic["verification"] == "code_sent",
                   rx.badge(rx.icon("mail", size=14), "Code sent", color_scheme="blue"),
                   rx.cond(lic["verification"] == "revoked", rx.badge("Revoked", color_scheme="red"),
                           verification_badge(lic["verification"])))


def _license_error(lic: rx.Var) -> rx.Component:
    key = "lic-" + lic["id"].to(str)
    return rx.cond(OnboardingState.errors.contains(key),
                   rx.callout(OnboardingState.errors.get(key, ""), icon="triangle-alert", color_scheme="red",
                              role="alert", width="100%", class_name="license-error"))


def _code_form(lic: rx.Var) -> rx.Component:
    """Pending on the code that went to the regulator's contact for this license."""
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.el.input(type="hidden", name="license_id", value=lic["id"]),
                rx.input(name="code", placeholder="6-digit code", max_length=6, input_mode="numeric",
                         auto_complete="one-time-code", aria_label="Verification code", class_name="license-code"),
                rx.button("Verify", type="submit", loading=OnboardingState.busy, disabled=OnboardingState.busy,
                          class_name="verify-code"),
                rx.button("Send a new code", type="button", variant="soft", disabled=OnboardingState.busy,
                          on_click=OnboardingState.resend_code(lic["id"]), class_name="resend-code"),
                spacing="2", align="center", wrap="wrap",
            ),
            rx.text("Nobody reads that mailbox any more? Prove it with documents instead: ",
                    rx.link("upload your license certificate", href="#license-documents",
                            on_click=OnboardingState.choose_document_license(lic["id"])), ".", size="2",
                    color_scheme="gray"),
            spacing="2", width="100%", align="start",
        ),
        on_submit=OnboardingState.enter_code, reset_on_submit=False,
    )


def _address_form(lic: rx.Var) -> rx.Component:
    """A pending claim: correct the premises address, or confirm the email, then check again."""
    return rx.form(
        rx.vstack(
            rx.el.input(type="hidden", name="license_id", value=lic["id"]),
            rx.grid(
                rx.input(name="premise_street", default_value=lic["premise_street"], aria_label="Premises street",
                         placeholder="Street"),
                rx.input(name="premise_city", default_value=lic["premise_city"], aria_label="Premises city",
                         placeholder="City"),
                rx.input(name="premise_postal_code", default_value=lic["premise_postal_code"],
                         aria_label="Premises ZIP", placeholder="ZIP"),
                columns=rx.breakpoints(initial="1", sm="3"), spacing="2", width="100%",
            ),
            rx.hstack(
                rx.button("Check again", type="submit", variant="soft", loading=OnboardingState.busy,
                          disabled=OnboardingState.busy, class_name="recheck"),
                rx.button("Use documents instead", type="button", variant="ghost",
                          on_click=OnboardingState.choose_document_license(lic["id"])),
                spacing="2", wrap="wrap",
            ),
            spacing="2", width="100%", align="start",
        ),
        on_submit=OnboardingState.recheck, reset_on_submit=False,
    )


def _license_card(lic: rx.Var) -> rx.Component:
    return card(rx.vstack(
        rx.hstack(rx.heading(lic["state"] + " " + lic["number"], size="4"), _state_badge(lic),
                  rx.cond(lic["status"] == "expired", rx.badge("Expired", color_scheme="red")), rx.spacer(),
                  rx.text("expires " + lic["expires_on"], size="2", color_scheme="gray"), width="100%", align="center",
                  wrap="wrap"),
        rx.text(lic["license_type"], size="2"),
        rx.text(lic["reasons"], size="2", color_scheme=rx.cond(lic["verification"] == "verified", "green", "gray"),
                class_name="verification-reasons"),
        rx.cond(lic["review_note"] != "", rx.text("Reviewer: " + lic["review_note"], size="2", color_scheme="red")),
        rx.cond(lic["document"] != "", rx.hstack(rx.icon("paperclip", size=14), rx.text(lic["document"], size="2"))),
        _license_error(lic),
        rx.cond(OnboardingState.is_admin, rx.fragment(
            rx.cond(lic["verification"] == "code_sent", _code_form(lic)),
            rx.cond(lic["verification"] == "pending", _address_form(lic)),
        )),
        rx.cond((lic["renewable"] != "") & OnboardingState.is_admin, rx.form(
            rx.hstack(
                rx.el.input(type="hidden", name="license_id", value=lic["id"]),
                rx.vstack(rx.text("Renewed until", as_="label", size="2"),
                          rx.input(type="date", name="renewed_until", aria_label="Renewed until"), spacing="1"),
                rx.button("Renew", type="submit", variant="soft", disabled=OnboardingState.busy),
                align="end", spacing="3",
            ),
            on_submit=OnboardingState.renew, reset_on_submit=False,
        )),
        spacing="2", align="start", width="100%",
    ), class_name="license-card")


def _email_banner() -> rx.Component:
    return rx.cond(~OnboardingState.email_confirmed, rx.callout(
        rx.vstack(
            rx.text("Confirm your email address first: we sent you a link when you signed up. A license is only "
                    "verified for people whose email is confirmed."),
            rx.button("Send the link again", variant="soft", size="1", on_click=OnboardingState.send_confirmation,
                      disabled=OnboardingState.busy),
            rx.cond(OnboardingState.errors.contains("lic-email"),
                    rx.text(OnboardingState.errors.get("lic-email", ""), color_scheme="red", size="2", role="alert")),
            spacing="2", align="start",
        ),
        icon="mail-warning", color_scheme="amber", width="100%", id="confirm-email",
    ))


def _documents_card() -> rx.Component:
    doc = OnboardingState.doc_license
    return rx.cond(OnboardingState.doc_license_id != "", card(rx.vstack(
        rx.heading(rx.cond(doc["open"] != "", "Or: documents reviewed by an administrator", "Documents for the reviewer"),
                   size="4", as_="h2"),
        rx.text("Attach the license certificate (PDF or image) for ", rx.text.strong(doc["state"], " ", doc["number"]),
                ". A platform administrator compares it with the regulator's records, usually within a business day, "
                "and emails you the decision.", size="2", color_scheme="gray"),
        rx.upload(rx.vstack(rx.icon("file-up", size=24), rx.text("Drop the document here or click to choose"),
                            align="center"),
                  id=UPLOAD_ID, max_files=1,
                  accept={"application/pdf": [".pdf"], "image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]},
                  on_drop=OnboardingState.attach_document(rx.upload_files(upload_id=UPLOAD_ID)),
                  border=f"2px dashed {rx.color('accent', 7)}", border_radius="12px", padding="1.5em",
                  width="100%", cursor="pointer", disabled=OnboardingState.uploading),
        rx.cond(OnboardingState.uploading, rx.hstack(rx.spinner(), rx.text("Uploading…"))),
        rx.cond(doc["document"] != "", rx.hstack(rx.icon("paperclip", size=14), rx.text(doc["document"], size="2"))),
        field_error(OnboardingState.errors.get("document", "")),
        rx.cond(doc["open"] != "",
                 rx.button("Ask for a review", on_click=OnboardingState.request_review(OnboardingState.doc_license_id),
                           disabled=(doc["document"] == "") | OnboardingState.busy, loading=OnboardingState.busy,
                           id="request-review"),
                 rx.text("This license is with a reviewer: what you attach here is added to the review.", size="2",
                         color_scheme="gray")),
        spacing="3", width="100%", align="start",
    ), id="license-documents"))


def _add_license_form() -> rx.Component:
    err = OnboardingState.errors
    biz = OnboardingState.business
    return card(rx.form(
        rx.vstack(
            rx.heading("Add a license", size="4", as_="h2"),
            rx.text("The license number, state and name are public, so they only show that the license exists. To "
                    "verify it we also need your confirmed email, the premises address as the regulator lists it, and "
                    "proof that you control the license: a code we email to the contact the regulator lists, or your "
                    "license documents reviewed by an administrator.", size="2", color_scheme="gray"),
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
            rx.grid(
                labelled_input("Premises street", "premise_street", err.get("premise_street", ""),
                               default_value=biz.get("street", "")),
                labelled_input("Premises city", "premise_city", err.get("premise_city", ""),
                               default_value=biz.get("city", "")),
                labelled_input("Premises ZIP", "premise_postal_code", err.get("premise_postal_code", ""),
                               default_value=biz.get("postal_code", "")),
                columns=rx.breakpoints(initial="1", sm="3"), spacing="4", width="100%",
            ),
            rx.button("Add license", type="submit", size="3", id="add-license", loading=OnboardingState.busy,
                      disabled=OnboardingState.busy),
            spacing="3", width="100%", align="start",
        ),
        on_submit=OnboardingState.add_license, reset_on_submit=False,
        key=OnboardingState.add_form_version.to(str),
    ))


def _licenses_step() -> rx.Component:
    return rx.vstack(
        _email_banner(),
        rx.foreach(OnboardingState.licenses, _license_card),
        _add_license_form(),
        _documents_card(),
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
                rx.callout(OnboardingState.next_step, icon="clock", color_scheme="amber", id="business-not-verified")),
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
                    rx.button("Submit for verification", on_click=OnboardingState.submit, id="submit-onboarding",
                              loading=OnboardingState.busy, disabled=OnboardingState.busy)),
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
