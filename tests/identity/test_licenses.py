"""KYB: regulator registry import on the real state lists, per-state number formats, verification (never on
public data alone: confirmed email, registry premises address, a code to the regulator's contact or documents),
contested claims, the admin review queue, and expiry (alerts at 60 days, suspension when expired)."""

import json
import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import col, func, select

from icc_app.core.db import unit_of_work
from icc_app.core.models import utcnow
from icc_app.core.errors import Conflict, PermissionDenied, RateLimited, ValidationFailed
from icc_app.core.notifications import Notification, OutboundEmail
from icc_app.identity import licenses, permissions
from icc_app.identity import service as identity
from icc_app.identity.license_registry import address_mismatches
from icc_app.identity.models import BusinessLicense, BusinessType, LicenseRegistryEntry, LicenseStatus, Verification
from tests.factories import make_business, make_user


def _import(shared_data, state):
    path = shared_data / "licenses" / f"licenses-{state.lower()}-latest.csv"
    with unit_of_work() as session:
        return licenses.import_registry(session, path.read_bytes(), state=state, source=path.name)


@pytest.mark.parametrize(("state", "least"), [("WA", 500), ("OR", 650), ("CO", 2500), ("MA", 500), ("NM", 250),
                                              ("AZ", 180)])
def test_each_state_list_imports_and_reports_rejected_rows(connection, shared_data, state, least):
    report = _import(shared_data, state)
    assert report.created >= least
    assert report.created + report.updated + report.merged + len(report.rejected) == report.read
    for line, reason in report.rejected:
        assert line >= 2 and reason  # every dropped row is named with its reason
    again = _import(shared_data, state)  # re-import updates, never duplicates
    assert again.created == 0 and again.updated == report.created


def test_registry_keeps_the_licensee_email_the_regulator_lists(connection, shared_data):
    _import(shared_data, "WA")
    with unit_of_work() as session:
        emails = session.exec(select(LicenseRegistryEntry.email).where(col(LicenseRegistryEntry.email).is_not(None))).all()
    assert len(emails) > 200 and all("@" in e and e == e.lower() for e in emails)


def test_montana_list_without_numbers_is_rejected_row_by_row(connection, shared_data):
    report = _import(shared_data, "MT")
    assert report.created == 0 and len(report.rejected) == report.read > 400
    assert {reason for _, reason in report.rejected} == {"no license number"}


def test_import_refuses_a_file_without_a_license_column(connection):
    with pytest.raises(ValidationFailed, match="license number column"), unit_of_work() as session:
        licenses.import_registry(session, b"name,city\nA,B\n", state="WA")


@pytest.mark.parametrize(("state", "number", "ok"), [
    ("WA", "430562", True), ("WA", "43O562", False), ("OR", "050 10011127277", True), ("CO", "403-01467", True),
    ("CO", "40301467", False), ("MA", "MC282137", True), ("NM", "CCD-2022-0181-001", True),
    ("AZ", "00000139ESDD30084191", True), ("CA", "C11-0000123-LIC", True), ("CA", "12345", False), ("XX", "1", False),
])
def test_license_number_formats(state, number, ok):
    if ok:
        assert licenses.validate_number(state, number.lower())[1] == number
    else:
        with pytest.raises(ValidationFailed) as err:
            licenses.validate_number(state, number)
        assert err.value.field in ("license_number", "state")


def _owner_business(session, name, business_type=BusinessType.retailer):
    owner = make_user(session)
    return owner, make_business(session, owner=owner, name=name, business_type=business_type)


def _registry_row(session, *, with_email=True) -> LicenseRegistryEntry:
    query = select(LicenseRegistryEntry).where(LicenseRegistryEntry.state == "WA", LicenseRegistryEntry.is_active,
                                               col(LicenseRegistryEntry.street).is_not(None),
                                               col(LicenseRegistryEntry.email).is_not(None) if with_email
                                               else col(LicenseRegistryEntry.email).is_(None))
    return session.exec(query.order_by(LicenseRegistryEntry.license_number)).first()


def _claimant(session, entry, *, confirmed=True, name=None):
    owner = identity.create_user(session, email=f"claim{entry.license_number}.{uuid.uuid4().hex[:8]}@example.test",
                                 password="Claim-a-license-2026", display_name="Claimant", email_verified=confirmed)
    return owner, make_business(session, owner=owner, name=name or entry.legal_name.title() + " LLC")


def _claim(session, owner, business, entry, **address):
    where = {"street": entry.street, "city": entry.city, "postal_code": entry.postal_code, **address}
    return licenses.submit_license(session, business_id=business.id, actor_id=owner.id, state="WA",
                                   license_number=entry.license_number, **where)


def _outbox(session, template: str) -> list[OutboundEmail]:
    return list(session.exec(select(OutboundEmail).where(OutboundEmail.template == template)
                             .order_by(col(OutboundEmail.created_at))))


def _sent_code(session, entry) -> str:
    sent = _outbox(session, "license_code")
    assert sent and sent[-1].recipient == entry.email  # the regulator's contact, never the claimant
    return json.loads(sent[-1].context)["code"]


def test_premises_addresses_compare_normalized():
    entry = LicenseRegistryEntry(state="WA", license_number="430562", legal_name="X", street="5809 112TH ST E BLDG B",
                                 city="Puyallup", postal_code="983734323")
    assert address_mismatches(entry, street="5809 112th Street East, Suite 4", city=" PUYALLUP ",
                              postal_code="98373-4323") == []
    assert address_mismatches(entry, street="5811 112th St E", city="Tacoma", postal_code="98373") == ["street", "city"]
    assert address_mismatches(entry, street="", city="Puyallup", postal_code="98374") == ["street", "ZIP"]


def test_public_data_alone_never_verifies(connection, shared_data):
    """The attack of issue 14: an unconfirmed account types a real number and name and a made-up address."""
    _import(shared_data, "WA")
    with unit_of_work() as session:
        entry = _registry_row(session)
        owner, business = _claimant(session, entry, confirmed=False)
        lic = _claim(session, owner, business, entry, street="1 Made Up Way", postal_code="98001")
        assert lic.verification == Verification.pending
        reasons = " ".join(lic.verification_reasons)
        assert "Confirm your email address" in reasons and "street and ZIP you entered differ" in reasons
        assert not _outbox(session, "license_code")
        membership = identity.build_principal(session, owner).memberships[0]
        assert not membership.verified and not permissions.can_buy(membership)
        with pytest.raises(PermissionDenied, match="not verified yet"):
            permissions.require_verified_license(membership, action="buy on the exchange")
        with pytest.raises(PermissionDenied, match="not verified yet"):
            permissions.require_verified_business(session, business.id)
        # the right address does not help while the email is unconfirmed, and no code can be asked for
        licenses.recheck(session, license_id=lic.id, business_id=business.id, actor_id=owner.id,
                         street=entry.street, city=entry.city, postal_code=entry.postal_code)
        assert lic.verification == Verification.pending
        with pytest.raises(ValidationFailed, match="Confirm your email"):
            licenses.send_code(session, license_id=lic.id, business_id=business.id, actor_id=owner.id)
        assert [e.verb for e in licenses.events(session, license_id=lic.id)] == ["submit", "hold"]


def test_code_sent_to_the_regulator_contact_verifies(connection, shared_data):
    _import(shared_data, "WA")
    with unit_of_work() as session:
        entry = _registry_row(session)
        owner, business = _claimant(session, entry)
        lic = _claim(session, owner, business, entry, street=entry.street.title() + " Suite 9")
        assert lic.verification == Verification.code_sent
        assert licenses.mask_email(entry.email) in lic.verification_reasons[0]
        code = _sent_code(session, entry)
        with pytest.raises(PermissionDenied, match="enter the code we sent"):
            permissions.require_verified_business(session, business.id)
        wrong = "000000" if code != "000000" else "111111"
        assert licenses.verify_code(session, license_id=lic.id, business_id=business.id, actor_id=owner.id,
                                    code=wrong) == "That code is not right (4 tries left)."
        with pytest.raises(RateLimited, match="less than a minute ago"):  # resend is rate limited
            licenses.send_code(session, license_id=lic.id, business_id=business.id, actor_id=owner.id)
        assert licenses.verify_code(session, license_id=lic.id, business_id=business.id, actor_id=owner.id,
                                    code=code) is None
        assert lic.verification == Verification.verified and lic.verified_by == "code"
        permissions.require_verified_business(session, business.id)
        assert identity.build_principal(session, owner).memberships[0].verified
        assert [(e.verb, e.from_state, e.to_state) for e in licenses.events(session, license_id=lic.id)] == [
            ("submit", "new", "pending"), ("send_code", "pending", "code_sent"), ("verify_code", "code_sent", "verified")]


def test_wrong_codes_spend_the_code_and_sends_are_limited(connection, shared_data):
    _import(shared_data, "WA")
    with unit_of_work() as session:
        entry = _registry_row(session)
        owner, business = _claimant(session, entry)
        lic = _claim(session, owner, business, entry)
        code = _sent_code(session, entry)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(licenses.CODE_MAX_ATTEMPTS):
            message = licenses.verify_code(session, license_id=lic.id, business_id=business.id, actor_id=owner.id,
                                           code=wrong)
        assert message == "Too many wrong codes: ask for a new one."
        assert licenses.verify_code(session, license_id=lic.id, business_id=business.id, actor_id=owner.id,
                                    code=code) == "No code is waiting for this license: ask for a new one."
        for event in licenses.events(session, license_id=lic.id):  # as if the sends were spread over the day
            event.created_at -= timedelta(minutes=10)
            session.add(event)
        session.flush()
        for _ in range(licenses.CODE_SENDS_PER_DAY - 1):
            licenses.send_code(session, license_id=lic.id, business_id=business.id, actor_id=owner.id)
            for event in licenses.events(session, license_id=lic.id):
                event.created_at -= timedelta(minutes=2)
                session.add(event)
            session.flush()
        with pytest.raises(RateLimited, match="codes went out for this license today"):
            licenses.send_code(session, license_id=lic.id, business_id=business.id, actor_id=owner.id)


def test_phone_only_license_goes_to_admin_review_with_documents(connection, shared_data):
    _import(shared_data, "WA")
    with unit_of_work() as session:
        admin = make_user(session, is_platform_admin=True)
        entry = _registry_row(session, with_email=False)
        owner, business = _claimant(session, entry)
        lic = _claim(session, owner, business, entry)
        assert lic.verification == Verification.pending
        assert "we cannot send text messages" in " ".join(lic.verification_reasons)
        with pytest.raises(ValidationFailed, match="Upload your license certificate"):
            licenses.request_review(session, license_id=lic.id, business_id=business.id, actor_id=owner.id)
        lic.document_key, lic.document_filename = "licenses/x.pdf", "license.pdf"
        licenses.request_review(session, license_id=lic.id, business_id=business.id, actor_id=owner.id)
        assert lic.verification == Verification.needs_review
        assert lic.id in [row.id for row, _ in licenses.review_queue(session)]
        assert session.exec(select(Notification).where(Notification.user_id == admin.id)).first() is not None
        licenses.review_license(session, license_id=lic.id, admin_id=admin.id, approve=True)
        assert lic.verification == Verification.verified and lic.verified_by == "admin"
        assert licenses.events(session, license_id=lic.id)[-1].actor_id == admin.id


def test_second_claim_of_a_verified_license_goes_to_review_and_tells_the_holder(connection, shared_data):
    _import(shared_data, "WA")
    with unit_of_work() as session:
        admin = make_user(session, is_platform_admin=True)
        entry = _registry_row(session)
        owner, business = _claimant(session, entry)
        first = _claim(session, owner, business, entry)
        assert licenses.verify_code(session, license_id=first.id, business_id=business.id, actor_id=owner.id,
                                    code=_sent_code(session, entry)) is None
        rival, rival_business = _claimant(session, entry, name=entry.legal_name.upper(), confirmed=False)
        second = _claim(session, rival, rival_business, entry)
        assert second.verification == Verification.needs_review
        assert "Another business on ICC already holds this license" in second.verification_reasons[0]
        assert [e.recipient for e in _outbox(session, "license_claimed")] == [owner.email]
        assert licenses.holder_of(session, second).id == business.id
        assert not identity.build_principal(session, rival).memberships[0].verified
        with pytest.raises(Conflict, match="already on your business"):
            _claim(session, rival, rival_business, entry)
        with pytest.raises(Conflict, match="not confirmed their email"):  # a confirmed email, on every path
            licenses.review_license(session, license_id=second.id, admin_id=admin.id, approve=True)
        rival.email_verified_at = utcnow()
        # the admin finds the rival controls the license: the first holder loses it, with an event and an email
        licenses.review_license(session, license_id=second.id, admin_id=admin.id, approve=True, note="Deed checked")
        assert (first.verification, second.verification) == (Verification.revoked, Verification.verified)
        assert licenses.events(session, license_id=first.id)[-1].verb == "revoke"
        with pytest.raises(PermissionDenied):
            permissions.require_verified_business(session, business.id)


def test_admin_rejection_needs_a_reason_and_decides_once(connection, shared_data):
    _import(shared_data, "WA")
    with unit_of_work() as session:
        admin = make_user(session, is_platform_admin=True)
        owner, business = _claimant(session, _registry_row(session), name="Totally Different Holdings")
        lic = licenses.submit_license(session, business_id=business.id, actor_id=owner.id, state="WA",
                                      license_number="999999", street="1 Main St", city="Seattle", postal_code="98101")
        assert "not in the WA regulator registry" in lic.verification_reasons[0]
        lic.document_key, lic.document_filename = "licenses/y.pdf", "license.pdf"
        licenses.request_review(session, license_id=lic.id, business_id=business.id, actor_id=owner.id)
    with pytest.raises(ValidationFailed, match="reason"), unit_of_work() as session:
        licenses.review_license(session, license_id=lic.id, admin_id=admin.id, approve=False, note="")
    with unit_of_work() as session:
        done = licenses.review_license(session, license_id=lic.id, admin_id=admin.id, approve=False,
                                       note="The registry names another licensee.")
        assert done.verification == Verification.rejected
        assert session.exec(select(Notification).where(Notification.user_id == owner.id,
                                                       Notification.kind == "identity.license_reviewed")).first()
    with pytest.raises(Conflict), unit_of_work() as session:
        licenses.review_license(session, license_id=lic.id, admin_id=admin.id, approve=True)


def test_a_claim_needs_the_premises_address(connection):
    with pytest.raises(ValidationFailed) as err, unit_of_work() as session:
        owner, business = _owner_business(session, "No Address LLC")
        licenses.submit_license(session, business_id=business.id, actor_id=owner.id, state="WA",
                                license_number="430562", street="1 Main St", city="Seattle", postal_code="98")
    assert err.value.field == "premise_postal_code"


def test_expiry_alerts_once_and_expired_license_suspends_trading(connection):
    today = date.today()
    with unit_of_work() as session:
        owner, business = _owner_business(session, "Soon Expiring Farms", BusinessType.cultivator)
        lic = BusinessLicense(business_id=business.id, license_number="401234", state="WA", license_type="Producer",
                              expires_on=today + timedelta(days=30), verification=Verification.verified)
        session.add(lic)
    with unit_of_work() as session:
        assert licenses.check_expiring_licenses(session, today=today).alerted == 1
    with unit_of_work() as session:
        assert licenses.check_expiring_licenses(session, today=today).alerted == 0  # once per expiry date
        alerts = session.exec(select(func.count()).select_from(Notification).where(
            Notification.user_id == owner.id, Notification.kind == "identity.license_expiry")).one()
        assert alerts == 1
        membership = identity.build_principal(session, owner).memberships[0]
        assert permissions.can_sell(membership)
    with unit_of_work() as session:
        report = licenses.check_expiring_licenses(session, today=today + timedelta(days=31))
        assert report.expired == 1
        assert session.get(BusinessLicense, lic.id).status == LicenseStatus.expired
        membership = identity.build_principal(session, owner).memberships[0]
    assert not permissions.can_sell(membership)
    with pytest.raises(PermissionDenied, match="expired"):
        permissions.require_verified_license(membership, action="list on the exchange")


def test_renewal_lifts_the_suspension(connection):
    from icc_app.identity import onboarding

    today = date.today()
    with unit_of_work() as session:
        owner, business = _owner_business(session, "Renewing Farms", BusinessType.cultivator)
        lic = BusinessLicense(business_id=business.id, license_number="401999", state="WA", license_type="Producer",
                              expires_on=today - timedelta(days=1), verification=Verification.verified)
        session.add(lic)
    with unit_of_work() as session:
        licenses.check_expiring_licenses(session, today=today)
        principal = identity.build_principal(session, owner)
    assert not permissions.can_sell(principal.memberships[0])
    with pytest.raises(ValidationFailed, match="future"), unit_of_work() as session:
        onboarding.renew(session, principal=principal, business_id=business.id, license_id=lic.id, expires_on=today)
    with unit_of_work() as session:
        onboarding.renew(session, principal=principal, business_id=business.id, license_id=lic.id,
                         expires_on=today + timedelta(days=365))
        assert permissions.can_sell(identity.build_principal(session, owner).memberships[0])
    stranger_principal = None
    with unit_of_work() as session:
        stranger, _ = _owner_business(session, "Nosy LLC")
        stranger_principal = identity.build_principal(session, stranger)
    with pytest.raises(Exception, match="Business not found"), unit_of_work() as session:
        onboarding.renew(session, principal=stranger_principal, business_id=business.id, license_id=lic.id,
                         expires_on=today + timedelta(days=30))


def test_migration_reopens_licenses_verified_on_public_data_alone(sqlite_url):
    """0011: a license an earlier version verified from number + state + name (verified_by 'registry') is pending
    again, with an event row saying why; admin- and seed-verified licenses stay verified."""
    import sqlalchemy as sa

    from icc_app.core import migrations

    migrations.upgrade(database_url=sqlite_url, revision="0010")
    engine = sa.create_engine(sqlite_url)
    business = uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO businesses (id, legal_name, business_type, timezone, require_mfa, created_at, "
                             "updated_at) VALUES (:id, 'Old Co', 'retailer', 'UTC', 0, '2026-01-01', '2026-01-01')"),
                     {"id": business})
        for number, by in (("430562", "registry"), ("412345", "seed"), ("415678", "admin")):
            conn.execute(sa.text(
                "INSERT INTO business_licenses (id, business_id, license_number, state, license_type, status, "
                "verification, verification_reasons, verified_by, created_at, updated_at) VALUES (:id, :b, :n, 'WA', "
                "'', 'active', 'verified', '[]', :by, '2026-01-01', '2026-01-01')"),
                {"id": uuid.uuid4().hex, "b": business, "n": number, "by": by})
    migrations.upgrade(database_url=sqlite_url)
    with engine.connect() as conn:
        states = dict(conn.execute(sa.text("SELECT license_number, verification FROM business_licenses")).all())
        events = conn.execute(sa.text("SELECT verb, from_state, to_state FROM license_events")).all()
    assert states == {"430562": "pending", "412345": "verified", "415678": "verified"}
    assert [tuple(e) for e in events] == [("reopen", "verified", "pending")]
    migrations.downgrade(database_url=sqlite_url, revision="0010")
    engine.dispose()


def test_the_demo_seed_businesses_stay_verified(connection):
    from icc_app.core import seed

    with unit_of_work() as session:
        seed.seed_demo(session)
    with unit_of_work() as session:
        for email in ("grower@icc.demo", "buyer@icc.demo"):
            membership = identity.build_principal(session, identity.find_user_by_email(session, email)).memberships[0]
            assert membership.verified
            permissions.require_verified_business(session, membership.business_id)
