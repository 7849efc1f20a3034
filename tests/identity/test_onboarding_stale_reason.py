"""Onboarding after the email is confirmed in another tab: coming back to /onboarding checks the held license
claim again, so its card no longer asks to confirm the email (no "Check again" click needed)."""

from datetime import date

from icc_app.core.db import unit_of_work
from icc_app.core.models import utcnow
from icc_app.identity import licenses
from icc_app.identity import service as identity
from icc_app.identity.models import LicenseRegistryEntry, User
from icc_app.identity.ui.onboarding import OnboardingState
from tests.factories import make_business, session_token
from tests.ui.harness import make_state, run


def test_returning_after_confirming_the_email_rechecks_the_held_claim(connection, redis_client):
    with unit_of_work() as session:
        session.add(LicenseRegistryEntry(state="WA", license_number="434444", legal_name="BLUE GATE CANNABIS",
                                         email="licensing@bluegate.test", license_type="Retailer", status="Active",
                                         street="40 Main St", city="Tacoma", postal_code="98402",
                                         expires_on=date(2030, 1, 1)))
        owner = identity.create_user(session, email="late@onboarding.test", password="Claim-a-license-2026",
                                     display_name="Late Confirmer")
        make_business(session, owner=owner, name="Blue Gate Cannabis LLC")
        token = session_token(session, owner)
    state = make_state(OnboardingState, token=token, path="/onboarding")
    run(OnboardingState.load, state)
    run(OnboardingState.add_license, state, {"license_number": "434444", "premise_street": "40 Main St",
                                             "premise_city": "Tacoma", "premise_postal_code": "98402"})
    assert licenses.CONFIRM_EMAIL_FIRST in state.licenses[0]["reasons"]

    run(OnboardingState.load, state)  # back on the page, email still not confirmed: the reason stands
    assert state.licenses[0]["verification"] == "pending"
    assert licenses.CONFIRM_EMAIL_FIRST in state.licenses[0]["reasons"]

    with unit_of_work() as session:  # the emailed link, opened in another tab
        session.get(User, owner.id).email_verified_at = utcnow()
    back = make_state(OnboardingState, token=token, path="/onboarding")
    run(OnboardingState.load, back)
    assert back.email_confirmed
    assert licenses.CONFIRM_EMAIL_FIRST not in back.licenses[0]["reasons"]
    assert back.licenses[0]["verification"] == "code_sent"
