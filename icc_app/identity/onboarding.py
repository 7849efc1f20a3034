"""KYB onboarding: the business, its licenses and documents, and the submission; plus the read model of a
business's verification status that the wizard and the console show."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from icc_app.core import audit
from icc_app.core.errors import NotFound, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.storage import get_storage
from icc_app.identity import licenses
from icc_app.identity.models import Business, BusinessLicense, LicenseStatus, Role, Verification
from icc_app.identity.permissions import not_verified_reason, require_member
from icc_app.identity.schemas import Principal
from icc_app.identity.service import license_claims

TRADING = "list, offer or be paid on the exchange (you can browse meanwhile)"


@dataclass(frozen=True)
class LicenseRow:
    id: str
    number: str
    state: str
    license_type: str
    expires_on: str
    status: str
    verification: str
    reasons: str
    review_note: str
    document: str
    renewable: bool  # expired, or expiring within the alert window: show the renewal form
    premise_street: str
    premise_city: str
    premise_postal_code: str
    open: bool  # pending or waiting for its code: the business can still act on it (code, address, review)
    takes_documents: bool  # open or in review: documents help the reviewer


@dataclass
class BusinessStatus:
    id: str
    legal_name: str
    dba: str
    business_type: str
    address: str
    street: str  # the business address parts: a new license's premises default to them
    city: str
    postal_code: str
    submitted: bool
    verified: bool
    next_step: str  # what the business must still do before it may trade, in plain words ("" when verified)
    licenses: list[LicenseRow] = field(default_factory=list)


def _row(lic: BusinessLicense) -> LicenseRow:
    return LicenseRow(id=str(lic.id), number=lic.license_number, state=lic.state, license_type=lic.license_type or "—",
                      expires_on=lic.expires_on.isoformat() if lic.expires_on else "—",
                      status=LicenseStatus(lic.status).value, verification=Verification(lic.verification).value,
                      reasons=" ".join(lic.verification_reasons or []), review_note=lic.review_note or "",
                      document=lic.document_filename or "",
                      renewable=lic.expires_on is not None
                      and (lic.expires_on - date.today()).days <= licenses.EXPIRY_ALERT_DAYS,
                      premise_street=lic.premise_street or "", premise_city=lic.premise_city or "",
                      premise_postal_code=lic.premise_postal_code or "",
                      open=Verification(lic.verification) in (Verification.pending, Verification.code_sent),
                      takes_documents=Verification(lic.verification) in (Verification.pending, Verification.code_sent,
                                                                         Verification.needs_review))


def business_status(session: Session, *, principal: Principal, business_id: uuid.UUID) -> BusinessStatus:
    require_member(principal, business_id)
    business = session.get(Business, business_id)
    rows = licenses.list_licenses(session, business_id=business_id)
    address = ", ".join(p for p in (business.street, business.city, business.state, business.postal_code) if p)
    next_step = not_verified_reason(license_claims(session, business_id), TRADING) or ""
    return BusinessStatus(
        id=str(business.id), legal_name=business.legal_name, dba=business.dba or "",
        business_type=business.business_type.value if hasattr(business.business_type, "value") else business.business_type,
        address=address, street=business.street or "", city=business.city or "",
        postal_code=business.postal_code or "", submitted=business.onboarding_submitted_at is not None, verified=not next_step,
        next_step=next_step,
        licenses=[_row(r) for r in rows],
    )


def add_license(session: Session, *, principal: Principal, business_id: uuid.UUID, state: str, license_number: str,
                street: str | None = None, city: str | None = None, postal_code: str | None = None,
                expires_on: date | None = None) -> BusinessLicense:
    require_member(principal, business_id, min_role=Role.admin)
    return licenses.submit_license(session, business_id=business_id, actor_id=principal.user_id, state=state,
                                   license_number=license_number, street=street, city=city, postal_code=postal_code,
                                   expires_on=expires_on)


def recheck(session: Session, *, principal: Principal, business_id: uuid.UUID, license_id: uuid.UUID,
            street: str | None = None, city: str | None = None, postal_code: str | None = None) -> BusinessLicense:
    require_member(principal, business_id, min_role=Role.admin)
    return licenses.recheck(session, license_id=license_id, business_id=business_id, actor_id=principal.user_id,
                            street=street, city=city, postal_code=postal_code)


def resend_code(session: Session, *, principal: Principal, business_id: uuid.UUID,
                license_id: uuid.UUID) -> BusinessLicense:
    require_member(principal, business_id, min_role=Role.admin)
    return licenses.send_code(session, license_id=license_id, business_id=business_id, actor_id=principal.user_id)


def enter_code(session: Session, *, principal: Principal, business_id: uuid.UUID, license_id: uuid.UUID,
               code: str) -> str | None:
    """None when the license is verified now; else what was wrong (the attempt is counted: commit it)."""
    require_member(principal, business_id, min_role=Role.admin)
    return licenses.verify_code(session, license_id=license_id, business_id=business_id, actor_id=principal.user_id,
                                code=code)


def request_review(session: Session, *, principal: Principal, business_id: uuid.UUID,
                   license_id: uuid.UUID) -> BusinessLicense:
    require_member(principal, business_id, min_role=Role.admin)
    return licenses.request_review(session, license_id=license_id, business_id=business_id,
                                   actor_id=principal.user_id)


def attach_document(session: Session, *, principal: Principal, business_id: uuid.UUID, license_id: uuid.UUID,
                    data: bytes, filename: str) -> BusinessLicense:
    """Keep the license document (PDF or image) under licenses/; reviewers see it beside the registry check."""
    require_member(principal, business_id, min_role=Role.admin)
    license_ = session.get(BusinessLicense, license_id)
    if license_ is None or license_.business_id != business_id:
        raise NotFound("License not found.")
    stored = get_storage().save("licenses", data, filename=filename or "license")
    license_.document_key, license_.document_filename = stored.key, (filename or "license")[:255]
    session.add(license_)
    audit.record(session, action="identity.license.document_attached", object_type="business_license",
                 object_id=license_.id, actor_id=principal.user_id, business_id=business_id,
                 after={"key": stored.key, "sha256": stored.sha256, "size": stored.size})
    return license_


def renew(session: Session, *, principal: Principal, business_id: uuid.UUID, license_id: uuid.UUID,
          expires_on: date) -> BusinessLicense:
    require_member(principal, business_id, min_role=Role.admin)
    return licenses.renew_license(session, license_id=license_id, business_id=business_id,
                                  actor_id=principal.user_id, expires_on=expires_on)


def submit(session: Session, *, principal: Principal, business_id: uuid.UUID) -> Business:
    require_member(principal, business_id, min_role=Role.admin)
    if not licenses.list_licenses(session, business_id=business_id):
        raise ValidationFailed("Add at least one license before you submit.", field="licenses")
    business = session.get(Business, business_id)
    if business.onboarding_submitted_at is None:
        business.onboarding_submitted_at = utcnow()
        session.add(business)
        audit.record(session, action="identity.business.onboarding_submitted", object_type="business",
                     object_id=business.id, actor_id=principal.user_id, business_id=business.id)
    return business
