"""Teams: invitations (single use, expiring, bound to the invited email), roles and product access, the last
Admin rule, Managers managing Staff only, and tenant isolation over services and UI state handlers."""

from datetime import timedelta

import pytest
from sqlmodel import select

from icc_app.core.audit import AuditLog
from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.identity import teams
from icc_app.identity.models import Invitation, Role
from icc_app.identity.service import build_principal
from tests.factories import add_member, make_business, make_user


def _p(session, user):
    return build_principal(session, user)


@pytest.fixture()
def team(connection, redis_client):
    with unit_of_work() as session:
        admin = make_user(session, name="Ada Admin")
        business = make_business(session, owner=admin, name="Team Farms LLC")
        manager = add_member(session, business, role=Role.manager, products=["exchange"])
        staff = add_member(session, business, role=Role.staff, products=["exchange"])
        outsider = make_user(session)
        other = make_business(session, owner=outsider, name="Other Farms LLC")
    return {"admin": admin, "business": business, "manager": manager, "staff": staff, "outsider": outsider,
            "other": other}


def test_invite_accept_flow_with_role_and_products(team):
    with unit_of_work() as session:
        invitation, token = teams.invite(session, principal=_p(session, team["admin"]), business_id=team["business"].id,
                                         email="New.Hire@Example.test", role=Role.manager, products=["maps", "exchange"])
        newcomer = make_user(session, email="new.hire@example.test")
    with unit_of_work() as session:
        member = teams.accept_invitation(session, token=token, user_id=newcomer.id)
        assert Role(member.role) == Role.manager and member.products == ["exchange", "maps"]
    with pytest.raises(ValidationFailed, match="already used"), unit_of_work() as session:
        teams.accept_invitation(session, token=token, user_id=newcomer.id)
    with unit_of_work() as session:
        actions = session.exec(select(AuditLog.action).where(AuditLog.business_id == team["business"].id)).all()
    assert "identity.invitation.sent" in actions and "identity.invitation.accepted" in actions


def test_invitation_is_bound_to_its_email_and_expires(team):
    with unit_of_work() as session:
        _, token = teams.invite(session, principal=_p(session, team["admin"]), business_id=team["business"].id,
                                email="someone@example.test", role=Role.staff)
        stranger = make_user(session, email="stranger@example.test")
        invited = make_user(session, email="someone@example.test")
    with pytest.raises(PermissionDenied, match="another email"), unit_of_work() as session:
        teams.accept_invitation(session, token=token, user_id=stranger.id)
    with unit_of_work() as session:
        row = session.exec(select(Invitation).where(Invitation.business_id == team["business"].id)).one()
        row.expires_at = row.expires_at - timedelta(days=8)
        session.add(row)
    with pytest.raises(ValidationFailed, match="expired"), unit_of_work() as session:
        teams.accept_invitation(session, token=token, user_id=invited.id)


def test_managers_manage_staff_only_and_staff_nobody(team):
    with pytest.raises(PermissionDenied, match="Managers can only manage Staff"), unit_of_work() as session:
        teams.invite(session, principal=_p(session, team["manager"]), business_id=team["business"].id,
                     email="x@example.test", role=Role.admin)
    with unit_of_work() as session:
        teams.invite(session, principal=_p(session, team["manager"]), business_id=team["business"].id,
                     email="y@example.test", role=Role.staff)
    with pytest.raises(PermissionDenied, match="Manager role"), unit_of_work() as session:
        teams.invite(session, principal=_p(session, team["staff"]), business_id=team["business"].id,
                     email="z@example.test", role=Role.staff)
    with unit_of_work() as session:
        members = {m.name: m for m in teams.list_members(session, principal=_p(session, team["admin"]),
                                                          business_id=team["business"].id)}
        admin_member = members["Ada Admin"].member_id
    with pytest.raises(PermissionDenied), unit_of_work() as session:
        teams.change_member(session, principal=_p(session, team["manager"]), member_id=admin_member,
                            role=Role.staff, products=[])


def test_last_admin_cannot_be_demoted_or_removed(team):
    with unit_of_work() as session:
        members = teams.list_members(session, principal=_p(session, team["admin"]), business_id=team["business"].id)
        admin_member = next(m for m in members if m.role == Role.admin).member_id
    with pytest.raises(Conflict, match="at least one Admin"), unit_of_work() as session:
        teams.change_member(session, principal=_p(session, team["admin"]), member_id=admin_member, role=Role.manager,
                            products=[])
    with pytest.raises(Conflict, match="last Admin"), unit_of_work() as session:
        teams.remove_member(session, principal=_p(session, team["admin"]), member_id=admin_member)


def test_another_tenant_sees_nothing_and_changes_nothing(team):
    with unit_of_work() as session:
        members = teams.list_members(session, principal=_p(session, team["admin"]), business_id=team["business"].id)
        outsider = _p(session, team["outsider"])
    with pytest.raises(NotFound), unit_of_work() as session:
        teams.list_members(session, principal=outsider, business_id=team["business"].id)
    with pytest.raises(NotFound), unit_of_work() as session:
        teams.change_member(session, principal=outsider, member_id=members[1].member_id, role=Role.admin, products=[])
    with pytest.raises(NotFound), unit_of_work() as session:
        teams.remove_member(session, principal=outsider, member_id=members[1].member_id)
    with pytest.raises(NotFound), unit_of_work() as session:
        teams.invite(session, principal=outsider, business_id=team["business"].id, email="q@example.test",
                     role=Role.staff)


def test_business_requiring_mfa_blocks_members_without_it(team):
    from icc_app.identity.permissions import require_member

    with pytest.raises(ValidationFailed, match="for yourself first"), unit_of_work() as session:
        teams.set_require_mfa(session, principal=_p(session, team["admin"]), business_id=team["business"].id,
                              required=True)
    with unit_of_work() as session:
        admin = session.get(type(team["admin"]), team["admin"].id)
        admin.email_otp_enabled = True
        session.add(admin)
    with unit_of_work() as session:
        admin = session.get(type(team["admin"]), team["admin"].id)
        teams.set_require_mfa(session, principal=_p(session, admin), business_id=team["business"].id, required=True)
        staff = _p(session, team["staff"])
        admin_principal = _p(session, admin)
    with pytest.raises(PermissionDenied, match="requires two-factor"):
        require_member(staff, team["business"].id)
    assert require_member(admin_principal, team["business"].id).role == Role.admin


def test_only_products_that_exist_can_be_given(team):
    assert teams.PRODUCTS == ["exchange", "maps"]  # the others are planned: their packages do not exist yet
    with pytest.raises(ValidationFailed, match="gardens is not available yet") as err, unit_of_work() as session:
        teams.invite(session, principal=_p(session, team["admin"]), business_id=team["business"].id,
                     email="someone@example.test", role=Role.staff, products=["gardens"])
    assert err.value.field == "products"
