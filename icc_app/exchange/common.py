"""What every exchange module shares: the acting membership checks and notifications to a business's traders."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from icc_app.core import notifications
from icc_app.core.errors import PermissionDenied
from icc_app.identity.models import Business, BusinessMember, Product, Role, User
from icc_app.identity.permissions import can_buy, can_sell, require_member, require_verified_license
from icc_app.identity.schemas import MembershipRead, Principal


def seller(principal: Principal, business_id: uuid.UUID) -> MembershipRead:
    """A member with exchange access of a verified business whose license type may sell wholesale."""
    membership = require_member(principal, business_id, product=Product.exchange)
    require_verified_license(membership, action="sell on the exchange")
    if not can_sell(membership):
        raise PermissionDenied("Only cultivators, manufacturers, microbusinesses and distributors can sell lots.")
    return membership


def buyer(principal: Principal, business_id: uuid.UUID) -> MembershipRead:
    membership = require_member(principal, business_id, product=Product.exchange)
    require_verified_license(membership, action="buy on the exchange")
    if not can_buy(membership):
        raise PermissionDenied("Only retailers, distributors, manufacturers and microbusinesses can buy lots.")
    return membership


def business_name(session: Session, business_id: uuid.UUID) -> str:
    business = session.get(Business, business_id)
    return (business.dba or business.legal_name) if business else "?"


def notify_traders(session: Session, business_id: uuid.UUID, *, kind: str, title: str, body: str = "",
                   link: str | None = None, email: bool = True) -> int:
    """In-app (and email) to the business's people who work on the exchange: Admins and members given it."""
    members = session.exec(select(BusinessMember, User).join(User, col(User.id) == BusinessMember.user_id)
                           .where(BusinessMember.business_id == business_id)).all()
    count = 0
    for member, user in members:
        if Role(member.role) != Role.admin and Product.exchange.value not in (member.products or []):
            continue
        notifications.notify(session, user_id=user.id, email=user.email if email else None, kind=kind, title=title,
                             body=body, link=link, template="exchange_event" if email else None,
                             context={"name": user.display_name, "title": title, "body": body, "link": link or "/"})
        count += 1
    return count
