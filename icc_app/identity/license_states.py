"""License verification states and the only code that changes them: one Rule per verb (who may, from which
states, to which), each change written as a LicenseEvent (who, when, from, to, why) and an audit entry. The
status (active/expired) follows the dates and changes through `set_status` the same way."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, PermissionDenied
from icc_app.core.models import utcnow
from icc_app.identity.models import BusinessLicense, LicenseEvent, LicenseStatus, Verification

V = Verification
OPEN = frozenset({V.pending, V.code_sent, V.needs_review})  # claims still being decided


@dataclass(frozen=True)
class Rule:
    sources: frozenset[Verification]
    target: Verification
    by: frozenset[str]  # "member" (an Admin of the claiming business), "admin" (platform), "system"


TRANSITIONS: dict[str, Rule] = {
    "hold": Rule(frozenset({V.pending, V.code_sent}), V.pending, frozenset({"member", "system"})),
    "send_code": Rule(frozenset({V.pending, V.code_sent}), V.code_sent, frozenset({"member"})),
    "verify_code": Rule(frozenset({V.code_sent}), V.verified, frozenset({"member"})),
    "request_review": Rule(frozenset({V.pending, V.code_sent}), V.needs_review, frozenset({"member"})),
    "contest": Rule(frozenset({V.pending, V.code_sent}), V.needs_review, frozenset({"system"})),
    "approve": Rule(frozenset({V.needs_review}), V.verified, frozenset({"admin"})),
    "reject": Rule(frozenset({V.needs_review}), V.rejected, frozenset({"admin"})),
    "revoke": Rule(frozenset({V.verified}), V.revoked, frozenset({"admin"})),
}
STATE_WORDS = {V.pending: "pending", V.code_sent: "waiting for its code", V.needs_review: "in review",
               V.verified: "verified", V.rejected: "rejected", V.revoked: "revoked"}


def record_event(session: Session, license_: BusinessLicense, verb: str, before: str, after: str, *,
           actor_id: uuid.UUID | None, note: str = "", ip: str | None = None) -> None:
    session.add(LicenseEvent(license_id=license_.id, actor_id=actor_id, verb=verb, from_state=before, to_state=after,
                             note=note[:1000]))
    audit.record(session, action=f"identity.license.{verb}", object_type="business_license", object_id=license_.id,
                 actor_id=actor_id, business_id=license_.business_id, before={"state": before},
                 after={"state": after, "note": note[:300]}, ip=ip)


def transition(session: Session, license_: BusinessLicense, verb: str, *, by: str, actor_id: uuid.UUID | None,
               note: str = "", reasons: list[str] | None = None, ip: str | None = None) -> BusinessLicense:
    """The only code that changes a license's verification."""
    rule = TRANSITIONS[verb]
    current = V(license_.verification)
    if by not in rule.by:
        raise PermissionDenied(f"Only {' or '.join(sorted(rule.by))} can {verb.replace('_', ' ')} a license.")
    if current not in rule.sources:
        raise Conflict(f"This license is {STATE_WORDS[current]}: it cannot be {verb.replace('_', ' ')}ed now.")
    license_.verification = rule.target
    if rule.target == V.verified:
        license_.verified_by, license_.verified_at = ("admin" if by == "admin" else "code"), utcnow()
    elif current == V.verified:
        license_.verified_by = license_.verified_at = None
    if rule.target != V.code_sent:
        license_.code_hash = license_.code_expires_at = None
    if reasons is not None:
        license_.verification_reasons = reasons
    session.add(license_)
    record_event(session, license_, verb, current.value, rule.target.value, actor_id=actor_id,
           note=note or " ".join(license_.verification_reasons or []), ip=ip)
    return license_


def events(session: Session, *, license_id: uuid.UUID) -> list[LicenseEvent]:
    return list(session.exec(select(LicenseEvent).where(LicenseEvent.license_id == license_id)
                             .order_by(col(LicenseEvent.id))))


def status_from_dates(license_: BusinessLicense, today: date | None = None) -> None:
    today = today or date.today()
    expired = license_.expires_on is not None and license_.expires_on < today
    license_.status = LicenseStatus.expired if expired else LicenseStatus.active


def set_status(session: Session, license_: BusinessLicense, verb: str, *, actor_id: uuid.UUID | None,
                today: date | None = None, note: str = "") -> None:
    """The only code that changes a license's status (active/expired): expire, renew."""
    before = LicenseStatus(license_.status).value
    status_from_dates(license_, today)
    session.add(license_)
    record_event(session, license_, verb, before, LicenseStatus(license_.status).value, actor_id=actor_id, note=note)
