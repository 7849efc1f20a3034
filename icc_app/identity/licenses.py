"""Business licenses (KYB): a business's claim of a regulator's license, how the claim is verified, the platform
admins' review queue, and expiry (60-day alerts; an expired license suspends what rests on it).

Number, state and name are public, so they only show that the license exists. A claim is verified when the
person claiming it has a confirmed email, the premises address matches the registry's, and control is proved:
a one-time code sent to the contact the regulator lists for the license, or documents a platform admin
reviewed. A claim of a license another business already holds verified always goes to admin review, and that
business is told. Every change goes through `transition()`, which writes a LicenseEvent and an audit entry.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from rapidfuzz import fuzz, utils
from sqlmodel import Session, col, select

from icc_app.core import notifications
from icc_app.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import hash_token
from icc_app.core.storage import get_storage
from icc_app.identity.license_registry import (  # noqa: F401 - the registry functions are part of this API
    STATE_FORMATS,
    US_STATES,
    ImportReport,
    address_mismatches,
    import_registry,
    normalize_number,
    normalize_zip,
    parse_date,
    parse_float,
    pick_column,
    validate_number,
)
from icc_app.identity.license_states import (  # noqa: F401 - transition and events are part of this API
    OPEN,
    STATE_WORDS,
    TRANSITIONS,
    V,
    events,
    record_event,
    set_status,
    status_from_dates,
    transition,
)
from icc_app.identity.models import (
    Business,
    BusinessLicense,
    BusinessMember,
    LicenseEvent,
    LicenseRegistryEntry,
    LicenseStatus,
    Role,
    User,
)

NAME_MATCH_THRESHOLD = 85  # rapidfuzz token_set_ratio, 0-100
EXPIRY_ALERT_DAYS = 60
CODE_LIFETIME = timedelta(minutes=30)
CODE_MAX_ATTEMPTS = 5
CODE_RESEND_AFTER = timedelta(seconds=60)
CODE_SENDS_PER_DAY = 5
CONFIRM_EMAIL_FIRST = ("Confirm your email address first: open the link we emailed you when you signed up "
                       "(Account > Security sends a new one), then choose Check again.")
# What the applicant reads while their documents wait; the reviewer is shown the other reasons, not this one.
REVIEW_REQUESTED = ("A platform administrator reviews your documents, usually within a business day. We will "
                    "email you.")

# --- claims and their checks -----------------------------------------------------------------------------------

def name_score(business: Business, entry: LicenseRegistryEntry) -> float:
    ours = [n for n in (business.legal_name, business.dba) if n]
    theirs = [n for n in (entry.legal_name, entry.dba) if n]
    return max((fuzz.token_set_ratio(a, b, processor=utils.default_process) for a in ours for b in theirs), default=0)


def mask_email(email: str) -> str:
    """j***@example.com: enough for the rightful owner to recognise their address, not to learn it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def registry_entry(session: Session, license_: BusinessLicense) -> LicenseRegistryEntry | None:
    return session.exec(select(LicenseRegistryEntry).where(
        LicenseRegistryEntry.state == license_.state, LicenseRegistryEntry.license_number == license_.license_number
    )).first()


def check_claim(session: Session, license_: BusinessLicense, business: Business, user: User) -> list[str]:
    """What still stands between this claim and a code: empty when the email is confirmed and the registry
    lists this license as active, under the business's name, at the premises address given."""
    reasons = []
    if user.email_verified_at is None:
        reasons.append(CONFIRM_EMAIL_FIRST)
    entry = registry_entry(session, license_)
    if entry is None:
        reasons.append(f"License {license_.license_number} is not in the {license_.state} regulator registry we "
                       "hold. A platform administrator can verify it from your license certificate: upload it and "
                       "ask for a review.")
        return reasons
    license_.registry_entry_id = entry.id
    license_.license_type = license_.license_type or entry.license_type
    license_.issued_on = license_.issued_on or entry.issued_on
    license_.expires_on = license_.expires_on or entry.expires_on
    if not entry.is_active:
        reasons.append(f"The registry lists this license as '{entry.status or 'inactive'}'.")
    score = name_score(business, entry)
    if score < NAME_MATCH_THRESHOLD:
        names = " / ".join(n for n in (entry.legal_name, entry.dba) if n)
        reasons.append(f"The registry names the licensee '{names}', which does not match your business name "
                       f"(similarity {score:.0f}%).")
    differing = address_mismatches(entry, street=license_.premise_street, city=license_.premise_city,
                                   postal_code=license_.premise_postal_code)
    if differing:
        reasons.append(f"The {' and '.join(differing)} you entered differ{'s' if len(differing) == 1 else ''} from "
                       f"the premises address the {license_.state} regulator lists for this license. Enter the "
                       "licensed premises as printed on your license (suite numbers do not matter).")
    elif not entry.email:
        reasons.append("The regulator lists no email for this license (only a phone number, and we cannot send "
                       "text messages), so we cannot send you a code: upload your license certificate and ask for "
                       "a review.")
    return reasons


def waits_for_email(license_: BusinessLicense) -> bool:
    """A pending claim the checks held because its claimant had not confirmed their email (yet)."""
    return V(license_.verification) == V.pending and CONFIRM_EMAIL_FIRST in (license_.verification_reasons or [])


def _verified_holder(session: Session, license_: BusinessLicense) -> BusinessLicense | None:
    return session.exec(select(BusinessLicense).where(
        BusinessLicense.state == license_.state, BusinessLicense.license_number == license_.license_number,
        BusinessLicense.business_id != license_.business_id, BusinessLicense.verification == V.verified,
    )).first()


def _premises(street: str | None, city: str | None, postal_code: str | None) -> tuple[str, str, str]:
    street, city = " ".join((street or "").split()), " ".join((city or "").split())
    if len(street) < 3:
        raise ValidationFailed("Enter the street address of the licensed premises.", field="premise_street")
    if len(city) < 2:
        raise ValidationFailed("Enter the city of the licensed premises.", field="premise_city")
    postal_code = (postal_code or "").strip()
    if not normalize_zip(postal_code) or len(normalize_zip(postal_code)) != 5:
        raise ValidationFailed("Enter the 5-digit ZIP code of the licensed premises.", field="premise_postal_code")
    return street[:200], city[:100], postal_code[:10]


def submit_license(session: Session, *, business_id: uuid.UUID, actor_id: uuid.UUID, state: str, license_number: str,
                   street: str | None = None, city: str | None = None, postal_code: str | None = None,
                   license_type: str = "", expires_on: date | None = None, document: bytes | None = None,
                   document_filename: str = "") -> BusinessLicense:
    """Claim a license for a business. It is never verified here: it waits for its code (sent at once when every
    check passes), for the checks the reasons name, or for an admin when another business already holds it."""
    business = session.get(Business, business_id)
    user = session.get(User, actor_id)
    if business is None or user is None:
        raise NotFound("Business not found.")
    state, number = validate_number(state, license_number)
    street, city, postal_code = _premises(street, city, postal_code)
    if expires_on is not None and expires_on < date.today():
        raise ValidationFailed("This license has already expired: enter the renewed one.", field="expires_on")
    mine = session.exec(select(BusinessLicense).where(
        BusinessLicense.business_id == business_id, BusinessLicense.state == state,
        BusinessLicense.license_number == number, col(BusinessLicense.verification).in_([*OPEN, V.verified]),
    )).first()
    if mine is not None:
        raise Conflict("This license is already on your business.", field="license_number")
    license_ = BusinessLicense(business_id=business_id, license_number=number, state=state, submitted_by=actor_id,
                               license_type=(license_type or "").strip()[:120], expires_on=expires_on,
                               premise_street=street, premise_city=city, premise_postal_code=postal_code,
                               verification=V.pending)
    if document:
        stored = get_storage().save("licenses", document, filename=document_filename or "license")
        license_.document_key, license_.document_filename = stored.key, (document_filename or "license")[:255]
    reasons = check_claim(session, license_, business, user)
    status_from_dates(license_)
    license_.verification_reasons = reasons
    session.add(license_)
    session.flush()
    record_event(session, license_, "submit", "new", V.pending.value, actor_id=actor_id,
           note=" ".join(reasons) or "Checks passed.")
    holder = _verified_holder(session, license_)
    if holder is not None:
        return _contest(session, license_, business, holder)
    if not reasons:
        send_code(session, license_id=license_.id, business_id=business_id, actor_id=actor_id)
    return license_


def _contest(session: Session, license_: BusinessLicense, business: Business,
             holder: BusinessLicense) -> BusinessLicense:
    """A second claim of a license another business holds verified: an admin decides, and the holder is told."""
    reason = ("Another business on ICC already holds this license, verified. A platform administrator will review "
              "your claim: upload your license certificate so they can tell who controls it.")
    transition(session, license_, "contest", by="system", actor_id=None,
               reasons=[reason, *license_.verification_reasons])
    for admin in _business_admins(session, holder.business_id):
        notifications.notify(session, user_id=admin.id, email=admin.email, kind="identity.license_claimed",
                             title=f"Another business claimed your license {license_.state} {license_.license_number}",
                             body="A platform administrator reviews the claim; your license stays verified meanwhile.",
                             link="/onboarding", template="license_claimed",
                             context={"name": admin.display_name, "number": license_.license_number,
                                      "state": license_.state, "claimant": business.legal_name})
    _notify_platform_admins(session, license_, business)
    return license_


def _load(session: Session, license_id: uuid.UUID, business_id: uuid.UUID) -> tuple[BusinessLicense, Business]:
    license_ = session.get(BusinessLicense, license_id)
    if license_ is None or license_.business_id != business_id:
        raise NotFound("License not found.")
    return license_, session.get(Business, business_id)


def recheck(session: Session, *, license_id: uuid.UUID, business_id: uuid.UUID, actor_id: uuid.UUID,
            street: str | None = None, city: str | None = None, postal_code: str | None = None) -> BusinessLicense:
    """Run the checks again (after confirming the email or correcting the premises address); sends the code
    when they pass now."""
    license_, business = _load(session, license_id, business_id)
    if V(license_.verification) != V.pending:
        raise Conflict(f"This license is {STATE_WORDS[V(license_.verification)]}: there is nothing to check again.")
    if street is not None or city is not None or postal_code is not None:
        street, city, postal_code = _premises(street, city, postal_code)
        license_.premise_street, license_.premise_city, license_.premise_postal_code = street, city, postal_code
    reasons = check_claim(session, license_, business, session.get(User, actor_id))
    holder = _verified_holder(session, license_)
    if holder is not None:
        license_.verification_reasons = reasons
        return _contest(session, license_, business, holder)
    if reasons:
        return transition(session, license_, "hold", by="member", actor_id=actor_id, reasons=reasons)
    return send_code(session, license_id=license_id, business_id=business_id, actor_id=actor_id)


def _code_hash(license_id: uuid.UUID, code: str) -> str:
    return hash_token(f"license:{license_id}:{code.strip()}")


def send_code(session: Session, *, license_id: uuid.UUID, business_id: uuid.UUID,
              actor_id: uuid.UUID) -> BusinessLicense:
    """Email a one-time code to the contact the regulator lists for the license (never to the claimant): only
    someone who reads that mailbox can finish. Resending waits a minute, and at most 5 codes go out a day."""
    license_, business = _load(session, license_id, business_id)
    if V(license_.verification) not in (V.pending, V.code_sent):
        raise Conflict(f"This license is {STATE_WORDS[V(license_.verification)]}: no code is needed.")
    if reasons := check_claim(session, license_, business, session.get(User, actor_id)):
        raise ValidationFailed(" ".join(reasons), field="code")
    sent = session.exec(select(LicenseEvent.created_at).where(
        LicenseEvent.license_id == license_id, LicenseEvent.verb == "send_code",
        LicenseEvent.created_at > utcnow() - timedelta(days=1)).order_by(col(LicenseEvent.id).desc())).all()
    if sent and utcnow() - sent[0] < CODE_RESEND_AFTER:
        wait = int((CODE_RESEND_AFTER - (utcnow() - sent[0])).total_seconds()) + 1
        raise RateLimited(f"We sent a code less than a minute ago: check that mailbox, or ask again in {wait} "
                          "seconds.", retry_after=wait)
    if len(sent) >= CODE_SENDS_PER_DAY:
        raise RateLimited(f"{CODE_SENDS_PER_DAY} codes went out for this license today. Try again tomorrow, or "
                          "upload your license certificate and ask for a review.", retry_after=86_400)
    entry = registry_entry(session, license_)
    code = f"{secrets.randbelow(10**6):06d}"
    license_.code_hash, license_.code_expires_at = _code_hash(license_.id, code), utcnow() + CODE_LIFETIME
    license_.code_attempts = 0
    masked = mask_email(entry.email)
    transition(session, license_, "send_code", by="member", actor_id=actor_id, note=f"code sent to {masked}",
               reasons=[f"Enter the code we sent to the contact the {license_.state} regulator lists for this "
                        f"license ({masked}). It is valid for {int(CODE_LIFETIME.total_seconds() // 60)} minutes."])
    notifications.notify(session, user_id=actor_id, email=entry.email, kind="identity.license_code",
                         title=f"Verification code for {license_.state} {license_.license_number} sent to {masked}",
                         link="/onboarding", template="license_code",
                         context={"number": license_.license_number, "state": license_.state, "code": code,
                                  "business": business.legal_name,
                                  "minutes": int(CODE_LIFETIME.total_seconds() // 60)})
    return license_


def verify_code(session: Session, *, license_id: uuid.UUID, business_id: uuid.UUID, actor_id: uuid.UUID,
                code: str) -> str | None:
    """Check a typed code. Returns an error message instead of raising, so the caller commits the attempt
    count (five wrong codes spend the code)."""
    license_, business = _load(session, license_id, business_id)
    if V(license_.verification) != V.code_sent or license_.code_hash is None:
        return "No code is waiting for this license: ask for a new one."
    if license_.code_expires_at <= utcnow():
        return "That code has expired: ask for a new one."
    if not secrets.compare_digest(license_.code_hash, _code_hash(license_.id, code or "")):
        license_.code_attempts += 1
        if license_.code_attempts >= CODE_MAX_ATTEMPTS:
            license_.code_hash = license_.code_expires_at = None
        session.add(license_)
        session.flush()
        left = CODE_MAX_ATTEMPTS - license_.code_attempts
        return f"That code is not right ({left} tries left)." if left else "Too many wrong codes: ask for a new one."
    if reasons := check_claim(session, license_, business, session.get(User, actor_id)):
        return " ".join(reasons)
    if (holder := _verified_holder(session, license_)) is not None:
        _contest(session, license_, business, holder)
        return "Another business verified this license meanwhile: a platform administrator will review your claim."
    transition(session, license_, "verify_code", by="member", actor_id=actor_id,
               reasons=["Verified: the code sent to the regulator's contact for this license was entered, the "
                        "premises address matches the registry, and your email is confirmed."])
    return None


def request_review(session: Session, *, license_id: uuid.UUID, business_id: uuid.UUID,
                   actor_id: uuid.UUID) -> BusinessLicense:
    """The other proof of control: a platform admin reviews the uploaded license documents."""
    license_, business = _load(session, license_id, business_id)
    if session.get(User, actor_id).email_verified_at is None:
        raise ValidationFailed("Confirm your email address first: open the link we emailed you.", field="review")
    if not license_.document_key:
        raise ValidationFailed("Upload your license certificate first: the reviewer needs it.", field="review")
    open_reasons = [r for r in license_.verification_reasons or [] if not r.startswith("Enter the code")]
    transition(session, license_, "request_review", by="member", actor_id=actor_id,
               reasons=[REVIEW_REQUESTED, *open_reasons])
    _notify_platform_admins(session, license_, business)
    return license_


def _notify_platform_admins(session: Session, license_: BusinessLicense, business: Business) -> None:
    for admin in session.exec(select(User).where(User.is_platform_admin == True)):  # noqa: E712
        notifications.notify(session, user_id=admin.id, email=None, kind="identity.license_review",
                             title=f"License to review: {business.legal_name} ({license_.state} {license_.license_number})",
                             body=" ".join(license_.verification_reasons), link="/admin/licenses")


def _business_admins(session: Session, business_id: uuid.UUID) -> list[User]:
    return list(session.exec(select(User).join(BusinessMember, col(BusinessMember.user_id) == User.id).where(
        BusinessMember.business_id == business_id, BusinessMember.role == Role.admin)))


def list_licenses(session: Session, *, business_id: uuid.UUID) -> list[BusinessLicense]:
    return list(session.exec(select(BusinessLicense).where(BusinessLicense.business_id == business_id)
                             .order_by(BusinessLicense.created_at)))


def review_queue(session: Session) -> list[tuple[BusinessLicense, Business]]:
    return list(session.exec(select(BusinessLicense, Business).join(Business, col(Business.id) == BusinessLicense.business_id)
                             .where(BusinessLicense.verification == V.needs_review)
                             .order_by(BusinessLicense.created_at)))


@dataclass(frozen=True)
class ReviewCase:
    """What a reviewer compares for one claim in the queue: the claim, the regulator's record of the license, who
    is claiming it, the other business holding it verified (if any), and what the automatic checks found."""

    license: BusinessLicense
    business: Business
    registry: LicenseRegistryEntry | None
    claimant: User | None
    holder: Business | None
    checks: list[str]


def review_cases(session: Session) -> list[ReviewCase]:
    """The review queue with what the reviewer needs beside each claim (read only)."""
    return [ReviewCase(license=lic, business=biz, registry=registry_entry(session, lic),
                       claimant=session.get(User, lic.submitted_by) if lic.submitted_by else None,
                       holder=holder_of(session, lic),
                       checks=[r for r in lic.verification_reasons or [] if r != REVIEW_REQUESTED])
            for lic, biz in review_queue(session)]


def holder_of(session: Session, license_: BusinessLicense) -> Business | None:
    """The other business holding this license verified (the admin sees it beside a contested claim)."""
    holder = _verified_holder(session, license_)
    return session.get(Business, holder.business_id) if holder else None


def review_license(session: Session, *, license_id: uuid.UUID, admin_id: uuid.UUID, approve: bool, note: str = "",
                   ip: str | None = None) -> BusinessLicense:
    """A platform admin's decision. A rejection needs a reason, which the business sees. Approving a contested
    claim revokes the other business's verification of the same license (it is told why)."""
    license_ = session.get(BusinessLicense, license_id)
    if license_ is None:
        raise NotFound("License not found.")
    if V(license_.verification) != V.needs_review:
        raise Conflict(f"This license is already {STATE_WORDS[V(license_.verification)]}.")
    note = (note or "").strip()
    if not approve and len(note) < 5:
        raise ValidationFailed("Give the business a reason for the rejection.", field="note")
    claimant = session.get(User, license_.submitted_by) if license_.submitted_by else None
    if approve and claimant is not None and claimant.email_verified_at is None:
        raise Conflict("The person who claimed this license has not confirmed their email yet: approve it once they "
                       "have.")
    license_.reviewed_by, license_.review_note = admin_id, note[:1000] or None
    if approve:
        holder = _verified_holder(session, license_)
        if holder is not None:
            transition(session, holder, "revoke", by="admin", actor_id=admin_id, ip=ip,
                       reasons=["A platform administrator found that another business controls this license."],
                       note=note or "another business proved control")
            _tell_admins(session, holder, "revoked", note)
        transition(session, license_, "approve", by="admin", actor_id=admin_id, ip=ip, note=note,
                   reasons=["Verified by a platform administrator from your documents."])
    else:
        transition(session, license_, "reject", by="admin", actor_id=admin_id, ip=ip, note=note,
                   reasons=[f"Rejected by a platform administrator: {note}"])
    _tell_admins(session, license_, "verified" if approve else "rejected", note)
    return license_


def _tell_admins(session: Session, license_: BusinessLicense, verdict: str, note: str) -> None:
    for admin in _business_admins(session, license_.business_id):
        notifications.notify(session, user_id=admin.id, email=admin.email, kind="identity.license_reviewed",
                             title=f"License {license_.state} {license_.license_number} {verdict}",
                             body=note, link="/onboarding", template="license_reviewed",
                             context={"name": admin.display_name, "number": license_.license_number,
                                      "state": license_.state, "verdict": verdict, "note": note})


# --- expiry ----------------------------------------------------------------------------------------------------

@dataclass
class ExpiryReport:
    alerted: int = 0
    expired: int = 0


def check_expiring_licenses(session: Session, *, today: date | None = None) -> ExpiryReport:
    """Daily: alert business Admins (email and in-app) once per expiry date within 60 days; mark expired
    licenses (which suspends what rests on them until renewed). Safe to run twice."""
    today = today or date.today()
    report = ExpiryReport()
    horizon = today + timedelta(days=EXPIRY_ALERT_DAYS)
    rows = session.exec(select(BusinessLicense).where(col(BusinessLicense.expires_on).is_not(None),
                                                      BusinessLicense.expires_on <= horizon,
                                                      col(BusinessLicense.verification).in_([*OPEN, V.verified]))).all()
    for license_ in rows:
        if license_.expires_on < today and license_.status != LicenseStatus.expired:
            set_status(session, license_, "expire", actor_id=None, today=today,
                        note=f"expired on {license_.expires_on.isoformat()}")
            report.expired += 1
            _alert_admins(session, license_, expired=True, today=today)
        elif license_.expires_on >= today and license_.expiry_alert_sent_for != license_.expires_on:
            license_.expiry_alert_sent_for = license_.expires_on
            session.add(license_)
            report.alerted += 1
            _alert_admins(session, license_, expired=False, today=today)
    return report


def _alert_admins(session: Session, license_: BusinessLicense, *, expired: bool, today: date) -> None:
    days = (license_.expires_on - today).days
    title = (f"License {license_.state} {license_.license_number} has expired" if expired
             else f"License {license_.state} {license_.license_number} expires in {days} days")
    for admin in _business_admins(session, license_.business_id):
        notifications.notify(session, user_id=admin.id, email=admin.email, kind="identity.license_expiry",
                             title=title, link="/onboarding", template="license_expiring",
                             body="Listing and trading on the exchange are suspended until it is renewed." if expired
                             else "Renew it before then to keep trading on the exchange.",
                             context={"name": admin.display_name, "number": license_.license_number,
                                      "state": license_.state, "expires_on": license_.expires_on.isoformat(),
                                      "days": days, "expired": expired})


def renew_license(session: Session, *, license_id: uuid.UUID, business_id: uuid.UUID, actor_id: uuid.UUID,
                  expires_on: date) -> BusinessLicense:
    license_, _ = _load(session, license_id, business_id)
    if expires_on <= date.today():
        raise ValidationFailed("The new expiry date must be in the future.", field="expires_on")
    before = license_.expires_on
    license_.expires_on = expires_on
    set_status(session, license_, "renew", actor_id=actor_id,
                note=f"expiry {before.isoformat() if before else 'unknown'} -> {expires_on.isoformat()}")
    return license_

