"""Factories for test data: real rows through the real services, with sensible defaults."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from icc_app.identity import service as identity
from icc_app.identity.models import Business, BusinessType, Role, User, UserKind

PASSWORD = "Correct-horse-42"
_seq = itertools.count(1)


def make_user(session: Session, *, email: str | None = None, kind: UserKind = UserKind.operator,
              is_platform_admin: bool = False, name: str | None = None) -> User:
    n = next(_seq)
    return identity.create_user(
        session,
        email=email or f"user{n}@example.test",
        password=PASSWORD,
        display_name=name or f"User {n}",
        kind=kind,
        is_platform_admin=is_platform_admin,
    )


def make_business(session: Session, *, owner: User | None = None,
                  business_type: BusinessType = BusinessType.cultivator, name: str | None = None) -> Business:
    owner = owner or make_user(session)
    return identity.create_business(
        session, legal_name=name or f"Business {next(_seq)} LLC", business_type=business_type, owner=owner
    )


def add_member(session: Session, business: Business, *, role: Role = Role.staff, products: list[str] | None = None,
               user: User | None = None) -> User:
    user = user or make_user(session)
    identity.add_member(session, business=business, user=user, role=role, products=products or [], actor_id=user.id)
    return user


def session_token(session: Session, user: User) -> str:
    """A signed-in browser session for a user (as the sign-in page would open it)."""
    from icc_app.identity.service import _open_session

    return _open_session(session, user, ip="127.0.0.1", user_agent="pytest", mfa_verified=False).token


def verified_license(session: Session, business: Business, *, number: str = "430562", state: str = "WA",
                     expires_in_days: int = 365):
    from datetime import date, timedelta

    from icc_app.core.models import utcnow
    from icc_app.identity.models import BusinessLicense, Verification

    row = BusinessLicense(business_id=business.id, license_number=number, state=state, license_type="Test",
                          expires_on=date.today() + timedelta(days=expires_in_days), verification=Verification.verified,
                          verified_by="admin", verified_at=utcnow())
    session.add(row)
    session.flush()
    return row


def queued_emails(session: Session, template: str | None = None, *, to: str | None = None) -> list[dict]:
    """Emails waiting in the outbox (oldest first) as {to, template, context}: what people are about to receive.
    Filter by recipient: tests that commit for real (races between connections) leave their own emails behind."""
    import json

    from sqlmodel import col, select

    from icc_app.core.notifications import OutboundEmail

    query = select(OutboundEmail).order_by(col(OutboundEmail.created_at))
    if template:
        query = query.where(OutboundEmail.template == template)
    return [{"to": e.recipient, "template": e.template, "context": json.loads(e.context)}
            for e in session.exec(query).all() if to is None or e.recipient == to]


def status_trail(session: Session, object_id) -> list[str]:
    """The audited status moves of one record, oldest first: ["running", "succeeded"]."""
    from sqlmodel import select

    from icc_app.core.audit import AuditLog

    session.expire_all()
    rows = session.exec(select(AuditLog).where(AuditLog.object_id == str(object_id)).order_by(AuditLog.id))
    return [row.after["status"] for row in rows if row.after and "status" in row.after]
