"""KYB: regulator registry import on the real state lists, per-state number formats, auto-verification,
the admin review queue, and expiry (alerts at 60 days, suspension when expired)."""

from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict, PermissionDenied, ValidationFailed
from icc_app.core.notifications import Notification
from icc_app.identity import licenses, permissions
from icc_app.identity import service as identity
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


def test_matching_number_state_and_name_is_verified_automatically(connection, shared_data):
    _import(shared_data, "WA")
    with unit_of_work() as session:
        entry = session.exec(select(LicenseRegistryEntry).where(LicenseRegistryEntry.license_number == "430562")).one()
        owner, business = _owner_business(session, entry.legal_name.upper() + " LLC")
        lic = licenses.submit_license(session, business_id=business.id, actor_id=owner.id, state="wa",
                                      license_number=" 430562 ")
        assert lic.verification == Verification.verified and lic.verified_by == "registry"
        assert lic.license_type == "Adult-Use Retailer" and lic.registry_entry_id == entry.id
        principal = identity.build_principal(session, owner)
    assert principal.memberships[0].verified


def test_name_mismatch_goes_to_review_and_admin_decides(connection, shared_data):
    _import(shared_data, "WA")
    with unit_of_work() as session:
        admin = make_user(session, is_platform_admin=True)
        owner, business = _owner_business(session, "Totally Different Holdings")
        lic = licenses.submit_license(session, business_id=business.id, actor_id=owner.id, state="WA",
                                      license_number="430562")
        assert lic.verification == Verification.needs_review
        assert "does not match your business name" in lic.verification_reasons[0]
        queued = [row.id for row, _ in licenses.review_queue(session)]
        assert lic.id in queued
        assert session.exec(select(Notification).where(Notification.user_id == admin.id)).first() is not None
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


def test_unknown_number_and_taken_number(connection, shared_data):
    _import(shared_data, "WA")
    with unit_of_work() as session:
        owner, business = _owner_business(session, "Nowhere Farms")
        lic = licenses.submit_license(session, business_id=business.id, actor_id=owner.id, state="WA",
                                      license_number="999999")
        assert lic.verification == Verification.needs_review and "not in the WA regulator registry" in lic.verification_reasons[0]
        other_owner, other = _owner_business(session, "Copycat LLC")
    with pytest.raises(Conflict, match="another business"), unit_of_work() as session:
        licenses.submit_license(session, business_id=other.id, actor_id=other_owner.id, state="WA",
                                license_number="999999")


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
