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
