"""The onboarding page's State on the real database: a claim from public data alone is refused with the reasons
beside the form and the input kept; the code sent to the regulator's contact verifies; stale errors clear."""

import json
import uuid

import pytest
from sqlmodel import col, select

from icc_app.core.db import unit_of_work
from icc_app.core.notifications import OutboundEmail
from icc_app.identity import licenses
from icc_app.identity import service as identity
from icc_app.identity.models import LicenseRegistryEntry
from icc_app.identity.ui.onboarding import OnboardingState
from tests.factories import make_business, session_token
from tests.ui.harness import make_state, run


@pytest.fixture()
def claimant(connection, redis_client, shared_data):
    path = shared_data / "licenses" / "licenses-wa-latest.csv"
    with unit_of_work() as session:
        licenses.import_registry(session, path.read_bytes(), state="WA", source=path.name)
        entry = session.exec(select(LicenseRegistryEntry).where(
            LicenseRegistryEntry.is_active, col(LicenseRegistryEntry.email).is_not(None),
            col(LicenseRegistryEntry.street).is_not(None)).order_by(LicenseRegistryEntry.license_number)).first()
        owner = identity.create_user(session, email="owner@kyb-ui.test", password="Claim-a-license-2026",
                                     display_name="Owner", email_verified=True)
        make_business(session, owner=owner, name=entry.legal_name.title() + " LLC")
        token = session_token(session, owner)
        row = {k: getattr(entry, k) for k in ("license_number", "street", "city", "postal_code", "email")}
    state = make_state(OnboardingState, token=token, path="/onboarding")
    run(OnboardingState.load, state)
    return state, row


def _form(row, **changes):
    return {"license_number": row["license_number"], "premise_street": row["street"], "premise_city": row["city"],
            "premise_postal_code": row["postal_code"], **changes}


def test_wrong_address_is_explained_and_the_code_verifies(claimant):
    state, row = claimant
    run(OnboardingState.add_license, state, _form(row, premise_postal_code="123"))
    assert state.errors == {"premise_postal_code": "Enter the 5-digit ZIP code of the licensed premises."}
    assert state.licenses == [] and state.add_form_version == 0  # nothing created, the form keeps its input

    run(OnboardingState.add_license, state, _form(row, premise_street="1 Made Up Way"))
    assert state.errors == {} and state.add_form_version == 1
    lic = state.licenses[0]
    assert lic["verification"] == "pending" and "street you entered differs" in lic["reasons"]
    assert not state.verified and "not verified yet" in state.next_step

    run(OnboardingState.recheck, state, {"license_id": lic["id"], "premise_street": row["street"],
                                         "premise_city": row["city"], "premise_postal_code": row["postal_code"]})
    lic = state.licenses[0]
    assert lic["verification"] == "code_sent"
    assert licenses.mask_email(row["email"]) in lic["reasons"] and "enter the code" in state.next_step
    run(OnboardingState.enter_code, state, {"license_id": lic["id"], "code": "12"})
    assert "not right" in state.errors[f"lic-{lic['id']}"]
    run(OnboardingState.resend_code, state, lic["id"])
    assert "less than a minute ago" in state.errors[f"lic-{lic['id']}"]
    with unit_of_work() as session:
        sent = session.exec(select(OutboundEmail).where(OutboundEmail.template == "license_code")).all()
        assert [e.recipient for e in sent] == [row["email"]]
        code = json.loads(sent[-1].context)["code"]
    run(OnboardingState.enter_code, state, {"license_id": lic["id"], "code": code})
    assert state.errors == {} and state.verified and state.next_step == ""
    assert state.licenses[0]["verification"] == "verified"


def test_admin_review_page_shows_a_contested_claim_and_its_document(claimant):
    from icc_app.core.storage import get_storage
    from icc_app.identity.models import BusinessLicense, Verification
    from icc_app.identity.ui.admin import LicenseReviewState
    from tests.factories import make_user

    state, row = claimant
    run(OnboardingState.add_license, state, _form(row))
    holder_id = state.licenses[0]["id"]
    with unit_of_work() as session:
        code = json.loads(session.exec(select(OutboundEmail).where(OutboundEmail.template == "license_code")).one()
                          .context)["code"]
    run(OnboardingState.enter_code, state, {"license_id": holder_id, "code": code})
    with unit_of_work() as session:
        rival = identity.create_user(session, email="rival@kyb-ui.test", password="Claim-a-license-2026",
                                     display_name="Rival", email_verified=True)
        business = make_business(session, owner=rival, name="Rival Holdings LLC")
        claim = licenses.submit_license(session, business_id=business.id, actor_id=rival.id, state="WA",
                                        license_number=row["license_number"], street=row["street"], city=row["city"],
                                        postal_code=row["postal_code"])
        stored = get_storage().save("licenses", b"%PDF-1.4 certificate", filename="certificate.pdf")
        claim.document_key, claim.document_filename = stored.key, "certificate.pdf"
        admin_token = session_token(session, make_user(session, is_platform_admin=True))
    admin = make_state(LicenseReviewState, token=admin_token, path="/admin/licenses")
    run(LicenseReviewState.load, admin)
    [card] = admin.queue
    assert card["holder"] == state.business["legal_name"] and card["document"] == "certificate.pdf"
    assert "download" in str(run(LicenseReviewState.download, admin, card["id"])).lower()
    run(LicenseReviewState.decide, admin, card["id"], True)
    assert admin.queue == [] and admin.errors == {}
    with unit_of_work() as session:
        assert Verification(session.get(BusinessLicense, claim.id).verification) == Verification.verified
        assert Verification(session.get(BusinessLicense, uuid.UUID(holder_id)).verification) == Verification.revoked
