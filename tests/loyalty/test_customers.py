"""Customers: dedup across POS systems by hashed email/phone, PII encrypted at rest, the age rule at sign-up and
from the POS, the consent ledger, and STOP / unsubscribe honoured at once and forever."""

import pytest
import sqlalchemy as sa
from sqlmodel import select

from icc_app.core.errors import NotFound, ValidationFailed
from icc_app.loyalty import customers
from icc_app.loyalty.models import Channel, ConsentEntry, Customer, CustomerLink, Enrollment, Suppression
from tests.loyalty.conftest import ADULT, connection, member, pos_customer


def test_same_person_in_two_pos_systems_is_one_customer(session, shop):
    counter, online = connection(session, shop), connection(session, shop)
    a = pos_customer(session, counter, email="Pat@Example.test", phone=None)
    b = pos_customer(session, online, email="pat@example.test ", phone="(303) 555-0142")
    c = pos_customer(session, online, email=None, phone="303-555-0142")  # only the phone in common
    stranger = pos_customer(session, online, email="sam@example.test")
    ids = {customers.link_pos_customer(session, pos_customer=p).id for p in (a, b, c)}
    assert len(ids) == 1
    assert customers.link_pos_customer(session, pos_customer=stranger).id not in ids
    person = session.get(Customer, ids.pop())
    assert person.phone == "+13035550142" and person.email == "pat@example.test"
    assert len(session.exec(select(CustomerLink).where(CustomerLink.customer_id == person.id)).all()) == 3
    # re-linking (the nightly sync) changes nothing
    assert customers.link_pos_customer(session, pos_customer=a).id == person.id


def test_pii_is_encrypted_at_rest(session, shop):
    person = member(session, shop, email="secret@example.test", phone="+13035550999")
    raw = session.execute(sa.text("SELECT email, phone, birth_date, email_hash FROM loyalty_customers WHERE id = :id"),
                          {"id": person.id}).one()
    assert "secret@example.test" not in raw.email and "3035550999" not in raw.phone and "1990" not in raw.birth_date
    assert raw.email_hash and "secret" not in raw.email_hash


def test_under_age_or_unknown_age_is_never_enrolled(session, shop):
    with pytest.raises(ValidationFailed, match="21 or older"):
        customers.sign_up(session, business_id=shop.id, name="Kid", email="kid@example.test", phone=None,
                          birth_date=ADULT.replace(year=2010))
    with pytest.raises(ValidationFailed, match="birth date"):
        customers.sign_up(session, business_id=shop.id, name="No ID", email="noid@example.test", phone=None,
                          birth_date=None)
    assert session.exec(select(Customer).where(Customer.business_id == shop.id)).all() == []  # nothing stored
    # an 18-year-old medical patient in Colorado may join; the same person as recreational may not
    teen_birth = ADULT.replace(year=2007)
    patient = customers.sign_up(session, business_id=shop.id, name="Pat", email="pat18@example.test", phone=None,
                                birth_date=teen_birth, customer_type="medical")
    assert patient.enrollment == Enrollment.enrolled
    # from the POS an under-age record is kept (it is the POS's) but marked, and its opt-in is not usable
    conn = connection(session, shop)
    minor = customers.link_pos_customer(session, pos_customer=pos_customer(
        session, conn, email="minor@example.test", birth_date="2010-01-01", email_opt_in=True))
    assert minor.enrollment == Enrollment.under_age


def test_consent_ledger_records_source_and_time(session, shop):
    person = member(session, shop, email_consent=True, sms_consent=False)
    customers.record_consent(session, customer=person, channel=Channel.sms, granted=True, source="web",
                             detail="checkbox on the sign-up form")
    history = customers.consent_history(session, business_id=shop.id, customer_id=person.id)
    assert [(e.channel, e.granted, e.source) for e in history] == [("email", True, "counter"), ("sms", True, "web")]
    assert all(e.created_at is not None for e in history)
    assert person.email_consent and person.sms_consent


def test_stop_is_honoured_at_once_and_forever(session, shop):
    person = member(session, shop, phone="(720) 555-0188")
    reply = customers.handle_inbound_sms(session, business_id=shop.id, from_phone="+17205550188", body=" stop ")
    assert "unsubscribed" in reply
    session.refresh(person)
    assert person.sms_consent is False and person.email_consent is True  # only the channel they stopped
    # the POS sync says opted in again, an operator ticks the box: recorded, not applied
    customers.record_consent(session, customer=person, channel=Channel.sms, granted=True, source="pos")
    customers.record_consent(session, customer=person, channel=Channel.sms, granted=True, source="operator")
    session.refresh(person)
    assert person.sms_consent is False
    ignored = session.exec(select(ConsentEntry).where(ConsentEntry.customer_id == person.id,
                                                      ConsentEntry.effective.is_(False))).all()
    assert [e.source for e in ignored] == ["pos", "operator"]
    # a new record under the same number (a second POS, a new sign-up) is suppressed too
    again = customers.sign_up(session, business_id=shop.id, name="Same Phone", email=None, phone="720-555-0188",
                              birth_date=ADULT, sms_consent=True)
    assert again.id == person.id and again.sms_consent is False
    # only the customer texting START lifts it
    customers.handle_inbound_sms(session, business_id=shop.id, from_phone="+17205550188", body="START")
    session.refresh(person)
    assert person.sms_consent is True
    assert session.exec(select(Suppression).where(Suppression.business_id == shop.id)).all() == []


def test_unsubscribe_link_needs_its_token(session, shop):
    person = member(session, shop)
    with pytest.raises(NotFound):
        customers.unsubscribe(session, customer_id=person.id, channel="email", token="forged")
    assert person.email_consent is True
    customers.unsubscribe(session, customer_id=person.id, channel="email",
                          token=customers.unsubscribe_token(person.id, "email"))
    session.refresh(person)
    assert person.email_consent is False
    assert customers.is_suppressed(session, business_id=shop.id, channel=Channel.email,
                                   contact_hash=person.email_hash)


def test_other_texts_change_nothing(session, shop):
    person = member(session, shop, phone="+17205550111")
    assert customers.handle_inbound_sms(session, business_id=shop.id, from_phone="+17205550111",
                                        body="what time do you close?") is None
    session.refresh(person)
    assert person.sms_consent is True


def test_row_level_security_hides_other_businesses_customers(session):
    from icc_app.core.db import unit_of_work
    from icc_app.identity import service as identity
    from icc_app.identity.models import BusinessMember
    from icc_app.identity.models import User as UserRow
    from tests.loyalty.conftest import dispensary

    mine, theirs = dispensary(session), dispensary(session)
    member(session, mine, email="mine@example.test")
    member(session, theirs, email="theirs@example.test")
    owner_id = session.exec(select(BusinessMember.user_id).where(BusinessMember.business_id == mine.id)).first()
    principal = identity.build_principal(session, session.get(UserRow, owner_id))
    with unit_of_work(tenant=principal) as scoped:
        seen = scoped.exec(select(Customer.email)).all()  # no business filter at all: RLS is the second line
    assert seen == ["mine@example.test"]
