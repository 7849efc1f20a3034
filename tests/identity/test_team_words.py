"""The team page shows roles and invitation states as words ("Admin", "Staff", "Pending"), and its role selects
send words that the handlers map back to roles."""

from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.identity.models import BusinessMember, Role
from icc_app.identity.ui.team import ROLES, TeamState
from tests.factories import add_member, make_business, make_user, session_token
from tests.ui.harness import make_state, run


def test_roles_read_as_words_and_the_select_words_change_the_role(connection, redis_client):
    with unit_of_work() as session:
        owner = make_user(session, email="owner@team-words.test")
        business = make_business(session, owner=owner, name="Word Farms LLC")
        staff = add_member(session, business, role=Role.staff, products=["exchange"])
        token = session_token(session, owner)
    state = make_state(TeamState, token=token, path="/team")
    run(TeamState.load, state)
    assert ROLES == ["Admin", "Manager", "Staff"]
    assert sorted(m["role_label"] for m in state.members) == ["Admin", "Staff"]

    run(TeamState.set_invite_role, state, "Manager")
    run(TeamState.invite, state, {"email": "new@team-words.test"})
    assert [(i["role_label"], i["status_label"]) for i in state.invitations] == [("Manager", "Pending")]

    member = next(m for m in state.members if m["role"] == "staff")
    run(TeamState.start_edit, state, member)
    assert state.edit_role == "Staff"
    run(TeamState.set_edit_role, state, "no such role")  # ignored
    run(TeamState.set_edit_role, state, "Manager")
    run(TeamState.save_edit, state)
    assert state.form_error == ""
    with unit_of_work() as session:
        row = session.exec(select(BusinessMember).where(BusinessMember.user_id == staff.id)).one()
        assert Role(row.role) == Role.manager
