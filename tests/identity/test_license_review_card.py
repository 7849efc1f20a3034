"""The admin's license review card: the regulator's record beside the claim, who is claiming (and whether their
email is confirmed), the business type in words, and not the notice written for the applicant."""

from datetime import date


from icc_app.core.db import unit_of_work
from icc_app.core.storage import get_storage
from icc_app.identity import licenses
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType, LicenseRegistryEntry
from icc_app.identity.ui.admin import LicenseReviewState
from tests.factories import make_business, make_user, session_token
from tests.ui.harness import make_state, run


def test_review_card_shows_the_registry_record_and_the_claimant(connection):
    with unit_of_work() as session:
        session.add(LicenseRegistryEntry(state="WA", license_number="433333", legal_name="GREEN DOOR RETAIL INC",
                                         dba="Green Door", email="licensing@greendoor.test", phone="2065550123",
                                         license_type="Retailer", status="Active (issued)", street="12 Pike St",
                                         city="Seattle", postal_code="98101", expires_on=date(2030, 1, 1)))
        owner = identity.create_user(session, email="claimant@review-card.test", password="Claim-a-license-2026",
                                     display_name="Casey Claimant", email_verified=True)
        business = make_business(session, owner=owner, name="Green Door Retail LLC",
                                 business_type=BusinessType.retailer)
        claim = licenses.submit_license(session, business_id=business.id, actor_id=owner.id, state="WA",
                                        license_number="433333", street="12 Pike St", city="Seattle",
                                        postal_code="98101")
        stored = get_storage().save("licenses", b"%PDF-1.4 certificate", filename="certificate.pdf")
        claim.document_key, claim.document_filename = stored.key, "certificate.pdf"
        licenses.request_review(session, license_id=claim.id, business_id=business.id, actor_id=owner.id)
        admin_token = session_token(session, make_user(session, is_platform_admin=True))
    admin = make_state(LicenseReviewState, token=admin_token, path="/admin/licenses")
    run(LicenseReviewState.load, admin)
    [card] = admin.queue
    assert card["type"] == "Retailer"
    assert licenses.REVIEW_REQUESTED not in card["checks"]
    assert card["registry_name"] == "GREEN DOOR RETAIL INC · DBA Green Door"
    assert card["registry_address"] == "12 Pike St, Seattle, WA, 98101"
    assert card["registry_contact"] == "(206) 555-0123 · licensing@greendoor.test"
    assert card["registry_status"] == "Retailer · Active (issued)"
    assert (card["claimant"], card["claimant_email"], card["claimant_confirmed"]) == (
        "Casey Claimant", "claimant@review-card.test", "Email confirmed")
    assert card["document"] == "certificate.pdf"
    assert "download" in str(run(LicenseReviewState.download, admin, card["id"])).lower()
