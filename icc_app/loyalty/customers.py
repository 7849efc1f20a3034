"""Customers: linked from POS sync (deduplicated by hashed email/phone across the business's POS systems), signed
up at the counter or on the web, with the consent ledger and STOP / unsubscribe handling.

Consent: every grant or withdrawal is a ConsentEntry. A withdrawal by the customer (SMS STOP, an unsubscribe
link) also writes a Suppression keyed by the hashed contact, and from then on only the customer's own
re-subscription (texting START, the resubscribe link) lifts it: a POS opt-in flag or an operator cannot.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import date

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import NotFound, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import constant_time_equal, normalize_email
from icc_app.identity.models import Business
from icc_app.integrations.models import PosCustomer
from icc_app.loyalty import rules
from icc_app.loyalty.models import (
    Channel,
    ConsentEntry,
    Customer,
    CustomerLink,
    CustomerType,
    Enrollment,
    Suppression,
)
from icc_app.settings import get_settings

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT-OUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES", "SUBSCRIBE"})
CUSTOMER_WITHDRAWALS = frozenset({"sms_stop", "unsubscribe_link", "provider_unsubscribed"})
CUSTOMER_RESUBSCRIBE = frozenset({"sms_start", "resubscribe_link"})


def _hashes(email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    return (rules.contact_hash("email", email) if email else None,
            rules.contact_hash("phone", phone) if phone and rules.normalize_phone(phone) else None)


def get(session: Session, *, business_id: uuid.UUID, customer_id: uuid.UUID) -> Customer:
    row = session.exec(select(Customer).where(Customer.business_id == business_id,
                                              Customer.id == customer_id)).first()
    if row is None:
        raise NotFound("Customer not found.")
    return row


def find_duplicate(session: Session, *, business_id: uuid.UUID, email_hash: str | None,
                   phone_hash: str | None) -> Customer | None:
    """The business's customer with the same hashed email, else the same hashed phone."""
    for column, value in ((Customer.email_hash, email_hash), (Customer.phone_hash, phone_hash)):
        if value:
            row = session.exec(select(Customer).where(Customer.business_id == business_id, column == value)
                               .order_by(col(Customer.created_at))).first()
            if row is not None:
                return row
    return None


def _business_state(session: Session, business_id: uuid.UUID) -> str | None:
    business = session.get(Business, business_id)
    return business.state if business else None


def _business_zone(session: Session, business_id: uuid.UUID) -> str:
    """A customer's zone until they give theirs: the store's (quiet hours are the customer's local night)."""
    business = session.get(Business, business_id)
    return business.timezone if business and business.timezone else "America/Denver"


def _refresh_enrollment(customer: Customer, *, fallback_state: str | None) -> None:
    customer.enrollment = Enrollment(rules.enrollment_for(customer.birth_date, state=customer.state or fallback_state,
                                                          customer_type=customer.customer_type))


def link_pos_customer(session: Session, *, pos_customer: PosCustomer) -> Customer:
    """The loyalty customer behind a POS record: the linked one, else a duplicate by email/phone, else a new one.
    Blank fields are filled from the POS; the POS opt-in flags become consent entries (source "pos")."""
    business_id = pos_customer.business_id
    link = session.exec(select(CustomerLink).where(CustomerLink.business_id == business_id,
                                                   CustomerLink.pos_customer_id == pos_customer.id)).first()
    email = normalize_email(pos_customer.email) if pos_customer.email else None
    phone = rules.normalize_phone(pos_customer.phone) if pos_customer.phone else None
    email_hash, phone_hash = _hashes(email, phone)
    customer = (get(session, business_id=business_id, customer_id=link.customer_id) if link else
                find_duplicate(session, business_id=business_id, email_hash=email_hash, phone_hash=phone_hash))
    created = customer is None
    if customer is None:
        customer = Customer(business_id=business_id, source="pos", timezone=_business_zone(session, business_id))
    for name, value in (("name", pos_customer.name), ("email", email), ("phone", phone),
                        ("birth_date", pos_customer.birth_date), ("state", pos_customer.state),
                        ("email_hash", email_hash), ("phone_hash", phone_hash)):
        if value and not getattr(customer, name):
            setattr(customer, name, value)
    if pos_customer.customer_type in (CustomerType.medical.value, CustomerType.recreational.value):
        customer.customer_type = CustomerType(pos_customer.customer_type)
    if pos_customer.first_seen_at and (customer.first_purchase_at is None
                                       or pos_customer.first_seen_at < customer.first_purchase_at):
        customer.first_purchase_at = pos_customer.first_seen_at
    _refresh_enrollment(customer, fallback_state=_business_state(session, business_id))
    session.add(customer)
    session.flush()
    if link is None:
        session.add(CustomerLink(business_id=business_id, customer_id=customer.id, pos_customer_id=pos_customer.id,
                                 external_ref=pos_customer.external_ref))
        session.flush()
    for channel, flag in ((Channel.email, pos_customer.email_opt_in), (Channel.sms, pos_customer.sms_opt_in)):
        current = customer.email_consent if channel == Channel.email else customer.sms_consent
        if flag is not None and bool(flag) != current and (created or flag is False or not current):
            record_consent(session, customer=customer, channel=channel, granted=bool(flag), source="pos")
    return customer


def sync_from_pos(session: Session, *, business_id: uuid.UUID) -> int:
    """Links every POS customer of the business (nightly, and after each POS sync). Returns how many."""
    count = 0
    for pos in session.exec(select(PosCustomer).where(PosCustomer.business_id == business_id)).all():
        link_pos_customer(session, pos_customer=pos)
        count += 1
    return count


def sign_up(session: Session, *, business_id: uuid.UUID, name: str, email: str | None, phone: str | None,
            birth_date: date | None, customer_type: str = "recreational", state: str | None = None,
            email_consent: bool = False, sms_consent: bool = False, source: str = "counter",
            timezone: str | None = None, actor_id: uuid.UUID | None = None) -> Customer:
    """Enrolls a person at the counter or on the web. Under-age or no birth date: refused, nothing stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Enter the customer's name.", field="name")
    email = normalize_email(email) if email and email.strip() else None
    if email and "@" not in email:
        raise ValidationFailed("Enter a valid email address.", field="email")
    if phone and phone.strip() and not rules.valid_phone(phone):
        raise ValidationFailed("Enter a mobile number with area code, e.g. (303) 555-0100.", field="phone")
    phone = rules.normalize_phone(phone) if phone and phone.strip() else None
    if not email and not phone:
        raise ValidationFailed("Enter an email address or a mobile number.", field="email")
    if customer_type not in (CustomerType.medical.value, CustomerType.recreational.value):
        raise ValidationFailed("Choose medical or recreational.", field="customer_type")
    state = (state or _business_state(session, business_id) or "").upper() or None
    verdict = rules.enrollment_for(birth_date, state=state, customer_type=customer_type)
    if verdict == "age_unknown":
        raise ValidationFailed("Enter the birth date from the customer's ID.", field="birth_date")
    if verdict == "under_age":
        raise ValidationFailed(f"Customers must be {rules.minimum_age(state, customer_type)} or older to join.",
                               field="birth_date")
    email_hash, phone_hash = _hashes(email, phone)
    customer = find_duplicate(session, business_id=business_id, email_hash=email_hash, phone_hash=phone_hash)
    if customer is None:
        customer = Customer(business_id=business_id, source=source, timezone=_business_zone(session, business_id))
    for field, value in (("name", name), ("email", email), ("phone", phone), ("email_hash", email_hash),
                         ("phone_hash", phone_hash), ("state", state)):
        if value and not getattr(customer, field):
            setattr(customer, field, value)
    customer.birth_date = birth_date.isoformat()
    customer.customer_type = CustomerType(customer_type)
    if timezone:
        rules.zone(timezone)
        customer.timezone = timezone
    customer.enrollment = Enrollment.enrolled
    session.add(customer)
    session.flush()
    for channel, wanted in ((Channel.email, email_consent and email), (Channel.sms, sms_consent and phone)):
        if wanted:
            record_consent(session, customer=customer, channel=channel, granted=True, source=source, actor_id=actor_id)
    audit.record(session, action="loyalty.customer_enrolled", object_type="loyalty_customer", object_id=customer.id,
                 actor_id=actor_id, business_id=business_id, after={"source": source, "type": customer_type})
    return customer


def _contact_hash(customer: Customer, channel: Channel) -> str | None:
    return customer.email_hash if channel == Channel.email else customer.phone_hash


def is_suppressed(session: Session, *, business_id: uuid.UUID, channel: Channel, contact_hash: str | None) -> bool:
    if not contact_hash:
        return False
    return session.exec(select(Suppression.id).where(Suppression.business_id == business_id,
                                                     Suppression.channel == channel,
                                                     Suppression.contact_hash == contact_hash)).first() is not None


def record_consent(session: Session, *, customer: Customer, channel: Channel, granted: bool, source: str,
                   detail: str = "", actor_id: uuid.UUID | None = None) -> ConsentEntry:
    """Appends to the consent ledger and applies it, unless it is a grant for a contact that withdrew (kept, not
    applied: `effective` False)."""
    channel = Channel(channel)
    contact = _contact_hash(customer, channel)
    suppressed = is_suppressed(session, business_id=customer.business_id, channel=channel, contact_hash=contact)
    effective = not (granted and suppressed and source not in CUSTOMER_RESUBSCRIBE)
    entry = ConsentEntry(business_id=customer.business_id, customer_id=customer.id, channel=channel, granted=granted,
                         source=source, detail=detail[:300], actor_id=actor_id, effective=effective)
    session.add(entry)
    if effective:
        before = customer.email_consent if channel == Channel.email else customer.sms_consent
        setattr(customer, f"{channel.value}_consent", granted)
        session.add(customer)
        if not granted and source in CUSTOMER_WITHDRAWALS and contact and not suppressed:
            session.add(Suppression(business_id=customer.business_id, channel=channel, contact_hash=contact,
                                    source=source))
        if granted and suppressed and source in CUSTOMER_RESUBSCRIBE:
            for row in session.exec(select(Suppression).where(Suppression.business_id == customer.business_id,
                                                              Suppression.channel == channel,
                                                              Suppression.contact_hash == contact)).all():
                session.delete(row)
        if before != granted:
            audit.record(session, action="loyalty.consent_changed", object_type="loyalty_customer",
                         object_id=customer.id, actor_id=actor_id, business_id=customer.business_id,
                         before={channel.value: before}, after={channel.value: granted, "source": source})
    session.flush()
    return entry


def consent_history(session: Session, *, business_id: uuid.UUID, customer_id: uuid.UUID) -> list[ConsentEntry]:
    return list(session.exec(select(ConsentEntry).where(ConsentEntry.business_id == business_id,
                                                        ConsentEntry.customer_id == customer_id)
                             .order_by(col(ConsentEntry.id))).all())


def _customers_with(session: Session, business_id: uuid.UUID, channel: Channel, contact: str) -> list[Customer]:
    column = Customer.email_hash if channel == Channel.email else Customer.phone_hash
    return list(session.exec(select(Customer).where(Customer.business_id == business_id, column == contact)).all())


def withdraw_contact(session: Session, *, business_id: uuid.UUID, channel: Channel, contact: str, source: str,
                     detail: str = "") -> int:
    """STOP / unsubscribe for an address: every customer of the business with it, and the suppression itself
    (even if no customer has the address any more). Returns the customers changed."""
    contact_hash = rules.contact_hash("email" if channel == Channel.email else "phone", contact)
    customers = _customers_with(session, business_id, channel, contact_hash)
    for customer in customers:
        record_consent(session, customer=customer, channel=channel, granted=False, source=source, detail=detail)
    if not is_suppressed(session, business_id=business_id, channel=channel, contact_hash=contact_hash):
        session.add(Suppression(business_id=business_id, channel=channel, contact_hash=contact_hash, source=source))
        session.flush()
    return len(customers)


def handle_inbound_sms(session: Session, *, business_id: uuid.UUID, from_phone: str, body: str) -> str | None:
    """A customer's text to the business's number: STOP words withdraw at once, START words re-subscribe.
    Returns the reply to send (the carriers expect a confirmation), None for other texts."""
    word = (body or "").strip().upper()
    if word in STOP_WORDS:
        withdraw_contact(session, business_id=business_id, channel=Channel.sms, contact=from_phone, source="sms_stop",
                         detail=word)
        return "You are unsubscribed and will receive no more messages. Reply START to resubscribe."
    if word in START_WORDS:
        contact_hash = rules.contact_hash("phone", from_phone)
        for customer in _customers_with(session, business_id, Channel.sms, contact_hash):
            if customer.enrollment == Enrollment.enrolled:
                record_consent(session, customer=customer, channel=Channel.sms, granted=True, source="sms_start")
        return "You are resubscribed. Reply STOP to opt out."
    return None


def unsubscribe_token(customer_id: uuid.UUID, channel: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"unsubscribe:{customer_id}:{channel}".encode(), hashlib.sha256).hexdigest()[:32]


def unsubscribe(session: Session, *, customer_id: uuid.UUID, channel: str, token: str) -> Customer:
    """The link in every email (no sign-in): a bad token is a 404 and changes nothing."""
    if not constant_time_equal(unsubscribe_token(customer_id, channel), token):
        raise NotFound("This unsubscribe link is not valid.")
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("This unsubscribe link is not valid.")
    record_consent(session, customer=customer, channel=Channel(channel), granted=False, source="unsubscribe_link",
                   detail=f"at {utcnow().isoformat(timespec='seconds')}")
    return customer
