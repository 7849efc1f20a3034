"""The admin's license queue says what is in it: documents sent as proof of control and contested claims (a
registry match alone never verifies, so "what the registry check could not verify" would be untrue)."""

from icc_app.console.service import work_queue
from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType, Verification
from tests.factories import make_business, make_user, verified_license


def test_license_queue_describes_documents_and_contested_claims(connection):
    with unit_of_work() as session:
        owner = make_user(session)
        business = make_business(session, owner=owner, business_type=BusinessType.cultivator)
        claim = verified_license(session, business, number="402001")
        claim.verification, claim.verified_by, claim.verified_at = Verification.needs_review, None, None  # test data
        session.add(claim)
        admin = identity.build_principal(session, make_user(session, is_platform_admin=True))
        items = {item.key: item for item in work_queue(session, principal=admin)}
    item = items["license_reviews"]
    assert item.title == "1 license to review" and item.route == "/admin/licenses"
    assert "registry check" not in item.hint
    assert "proof of control" in item.hint and "another business" in item.hint
