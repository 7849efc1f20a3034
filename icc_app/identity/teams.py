"""Teams: invitations by email (single use, expiring), roles and per-product access, removal, and the
business's team policies (require MFA). Admins manage everyone; Managers manage Staff; the last Admin stays."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import email_lookup, hash_token, new_token
from icc_app.identity import permissions
from icc_app.identity.models import Business, BusinessMember, Invitation, Product, Role, User, UserKind
from icc_app.identity.schemas import Principal
from icc_app.identity.service import build_principal, find_user_by_email, normalize_email, send_email

INVITATION_LIFETIME = timedelta(days=7)
# The products a member can be given today, with the names people know them by. The other Product values are
# planned (their packages do not exist yet), so the team page does not offer them.
PRODUCT_NAMES = {Product.exchange.value: "Exchange", Product.maps.value: "Maps (my dispensary)"}
PRODUCTS = list(PRODUCT_NAMES)


@dataclass(frozen=True)
class MemberRow:
    member_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    email: str
    role: Role
    products: list[str]
    mfa_enabled: bool
    joined_at: datetime


@dataclass(frozen=True)
class InvitationRow:
    id: uuid.UUID
    email: str
    role: Role
    products: list[str]
    expires_at: datetime
    status: str  # pending / accepted / revoked / expired


def _products(products: list[str] | None) -> list[str]:
    chosen = sorted({p for p in (products or [])})
    unknown = [p for p in chosen if p not in PRODUCTS]
    if unknown:
        raise ValidationFailed(f"{', '.join(unknown)} is not available yet: choose from "
                               f"{', '.join(PRODUCT_NAMES.values())}.", field="products")
    return chosen


def _actor(principal: Principal, business_id: uuid.UUID, target_role: Role):
    membership = permissions.require_member(principal, business_id, min_role=Role.manager)
    if not permissions.can_manage_member(membership, target_role):
        raise PermissionDenied("Managers can only manage Staff.")
    return membership


def list_members(session: Session, *, principal: Principal, business_id: uuid.UUID) -> list[MemberRow]:
    permissions.require_member(principal, business_id)
    rows = session.exec(select(BusinessMember, User).join(User, col(User.id) == BusinessMember.user_id)
                        .where(BusinessMember.business_id == business_id).order_by(BusinessMember.created_at)).all()
    return [MemberRow(member_id=m.id, user_id=u.id, name=u.display_name, email=u.email, role=Role(m.role),
                      products=list(m.products or []), mfa_enabled=u.mfa_enabled, joined_at=m.created_at)
            for m, u in rows]


def invite(session: Session, *, principal: Principal, business_id: uuid.UUID, email: str, role: Role,
           products: list[str] | None = None, ip: str | None = None) -> tuple[Invitation, str]:
    """Email an invitation; returns it and the raw token (in the emailed link, never stored)."""
    _actor(principal, business_id, role)
    email = normalize_email(email)
    products = _products(products)
    existing = find_user_by_email(session, email)
    if existing is not None and session.exec(select(BusinessMember.id).where(
        BusinessMember.business_id == business_id, BusinessMember.user_id == existing.id
    )).first():
        raise Conflict("This person is already on your team.", field="email")
    pending = session.exec(select(Invitation).where(
        Invitation.business_id == business_id, Invitation.email_lookup == email_lookup(email),
        col(Invitation.accepted_at).is_(None), col(Invitation.revoked_at).is_(None), Invitation.expires_at > utcnow(),
    )).first()
    if pending is not None:
        raise Conflict("An invitation to this email is already pending. Revoke it to send a new one.", field="email")
    token = new_token()
    invitation = Invitation(business_id=business_id, email=email, email_lookup=email_lookup(email), role=role,
                            products=products, token_hash=hash_token(token), invited_by=principal.user_id,
                            expires_at=utcnow() + INVITATION_LIFETIME)
    session.add(invitation)
    session.flush()
    business = session.get(Business, business_id)
    send_email(session, to=email, template="invitation",
               context={"inviter": principal.display_name, "business": business.dba or business.legal_name,
                        "role": role.value.title(), "token": token, "days": INVITATION_LIFETIME.days})
    audit.record(session, action="identity.invitation.sent", object_type="invitation", object_id=invitation.id,
                 actor_id=principal.user_id, business_id=business_id,
                 after={"role": role.value, "products": products, "email_lookup": invitation.email_lookup[:16]}, ip=ip)
    return invitation, token


def list_invitations(session: Session, *, principal: Principal, business_id: uuid.UUID) -> list[InvitationRow]:
    permissions.require_member(principal, business_id, min_role=Role.manager)
    rows = session.exec(select(Invitation).where(Invitation.business_id == business_id)
                        .order_by(col(Invitation.created_at).desc())).all()
    now = utcnow()
    return [InvitationRow(id=i.id, email=i.email, role=Role(i.role), products=list(i.products), expires_at=i.expires_at,
                          status="accepted" if i.accepted_at else "revoked" if i.revoked_at
                          else "expired" if i.expires_at <= now else "pending") for i in rows]


def revoke_invitation(session: Session, *, principal: Principal, invitation_id: uuid.UUID, ip: str | None = None) -> None:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or principal.membership(invitation.business_id) is None:
        raise NotFound("Invitation not found.")
    _actor(principal, invitation.business_id, Role(invitation.role))
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted.")
    invitation.revoked_at = utcnow()
    session.add(invitation)
    audit.record(session, action="identity.invitation.revoked", object_type="invitation", object_id=invitation.id,
                 actor_id=principal.user_id, business_id=invitation.business_id, ip=ip)


def invitation_for_token(session: Session, *, token: str) -> tuple[Invitation, Business]:
    """The invitation behind an emailed link, or a clear reason it cannot be used."""
    invitation = session.exec(select(Invitation).where(Invitation.token_hash == hash_token(token or ""))).first()
    if invitation is None:
        raise ValidationFailed("This invitation link is not valid.", field="token")
    if invitation.accepted_at is not None:
        raise ValidationFailed("This invitation was already used.", field="token")
    if invitation.revoked_at is not None:
        raise ValidationFailed("This invitation was withdrawn. Ask for a new one.", field="token")
    if invitation.expires_at <= utcnow():
        raise ValidationFailed("This invitation has expired. Ask the business for a new one.", field="token")
    return invitation, session.get(Business, invitation.business_id)


def accept_invitation(session: Session, *, token: str, user_id: uuid.UUID, ip: str | None = None) -> BusinessMember:
    """The invited person (signed in with the invited email) joins with the role and products chosen."""
    invitation, business = invitation_for_token(session, token=token)
    user = session.get(User, user_id)
    if user is None or user.email_lookup != invitation.email_lookup:
        raise PermissionDenied("This invitation was sent to another email address. Sign in with that one.")
    if user.kind != UserKind.operator:
        raise PermissionDenied("Consumer accounts cannot join a business. Sign up with a business account.")
    if session.exec(select(BusinessMember.id).where(BusinessMember.business_id == business.id,
                                                    BusinessMember.user_id == user.id)).first():
        raise Conflict("You are already on this team.")
    member = BusinessMember(business_id=business.id, user_id=user.id, role=invitation.role,
                            products=list(invitation.products))
    invitation.accepted_at, invitation.accepted_by = utcnow(), user.id
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the emailed link proves the address
    session.add_all([member, invitation, user])
    session.flush()
    audit.record(session, action="identity.invitation.accepted", object_type="business_member", object_id=member.id,
                 actor_id=user.id, business_id=business.id,
                 after={"role": Role(member.role).value, "products": member.products, "invitation": str(invitation.id)},
                 ip=ip)
    return member


def _member(session: Session, principal: Principal, member_id: uuid.UUID) -> BusinessMember:
    member = session.get(BusinessMember, member_id)
    if member is None or principal.membership(member.business_id) is None:
        raise NotFound("Team member not found.")
    return member


def _admin_count(session: Session, business_id: uuid.UUID) -> int:
    return session.exec(select(func.count()).select_from(BusinessMember).where(
        BusinessMember.business_id == business_id, BusinessMember.role == Role.admin)).one()


def _lock_business(session: Session, business_id: uuid.UUID) -> None:
    # Serialize team changes of one business, so two concurrent demotions cannot both pass the last-Admin check.
    session.exec(select(Business.id).where(Business.id == business_id).with_for_update())


def change_member(session: Session, *, principal: Principal, member_id: uuid.UUID, role: Role,
                  products: list[str] | None, ip: str | None = None) -> BusinessMember:
    member = _member(session, principal, member_id)
    _lock_business(session, member.business_id)
    _actor(principal, member.business_id, Role(member.role))
    _actor(principal, member.business_id, role)
    products = _products(products)
    if Role(member.role) == Role.admin and role != Role.admin and _admin_count(session, member.business_id) <= 1:
        raise Conflict("A business needs at least one Admin. Make someone else Admin first.", field="role")
    before = {"role": Role(member.role).value, "products": list(member.products or [])}
    member.role, member.products = role, products
    session.add(member)
    audit.record(session, action="identity.member.changed", object_type="business_member", object_id=member.id,
                 actor_id=principal.user_id, business_id=member.business_id, before=before,
                 after={"role": role.value, "products": products}, ip=ip)
    return member


def remove_member(session: Session, *, principal: Principal, member_id: uuid.UUID, ip: str | None = None) -> None:
    member = _member(session, principal, member_id)
    _lock_business(session, member.business_id)
    if member.user_id != principal.user_id:
        _actor(principal, member.business_id, Role(member.role))
    if Role(member.role) == Role.admin and _admin_count(session, member.business_id) <= 1:
        raise Conflict("You cannot remove the last Admin of a business.")
    audit.record(session, action="identity.member.removed", object_type="business_member", object_id=member.id,
                 actor_id=principal.user_id, business_id=member.business_id,
                 before={"user": str(member.user_id), "role": Role(member.role).value, "products": member.products},
                 ip=ip)
    session.delete(member)
    session.flush()


def set_require_mfa(session: Session, *, principal: Principal, business_id: uuid.UUID, required: bool,
                    ip: str | None = None) -> Business:
    permissions.require_member(principal, business_id, min_role=Role.admin)
    business = session.get(Business, business_id)
    if required and not principal.mfa_enabled:
        raise ValidationFailed("Turn on two-factor authentication for yourself first.", field="require_mfa")
    before = business.require_mfa
    business.require_mfa = required
    session.add(business)
    audit.record(session, action="identity.business.require_mfa", object_type="business", object_id=business.id,
                 actor_id=principal.user_id, business_id=business.id, before={"require_mfa": before},
                 after={"require_mfa": required}, ip=ip)
    return business


def principal_for(session: Session, user_id: uuid.UUID) -> Principal:
    """A fresh principal (after a team change) for tasks and tests."""
    return build_principal(session, session.get(User, user_id))
