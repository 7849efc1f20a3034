"""The Metrc compliance page's state without a browser: alerts most severe first with evidence in words and a
fix, resolving with a note moves the alert to Resolved with its history, Staff see but cannot act, Check now
queues one check."""

from __future__ import annotations

from decimal import Decimal

import pytest

from icc_app.identity.models import Role, User
from icc_app.integrations.metrc import compliance
from icc_app.integrations.metrc.ui.state import MetrcAlertsState as S
from icc_app.integrations.models import InventoryLevel
from tests.factories import add_member, session_token
from tests.integrations.conftest import claimed_store, make_connection
from tests.integrations.fakes.metrc import NOW, tag
from tests.integrations.metrc.conftest import FAST
from tests.ui.harness import make_state, run


@pytest.fixture()
def sent(monkeypatch):
    tasks = []
    monkeypatch.setattr("workers.celery_app.dispatch", tasks.append)
    return tasks


@pytest.fixture()
def checked(session, metrc):
    principal, business, store = claimed_store(session)
    pos = make_connection(session, business, store)
    metrc.add_package(tag(1), quantity=100, unit="Grams", on_hold=True)
    metrc.add_package(tag(2), quantity=100, unit="Grams")
    session.add(InventoryLevel(business_id=business.id, connection_id=pos.id, external_id="p1",
                               quantity=Decimal("100"), unit="g", package_label=tag(1)))
    session.add(InventoryLevel(business_id=business.id, connection_id=pos.id, external_id="p2",
                               quantity=Decimal("60"), unit="g", package_label=tag(2)))
    connection = make_connection(session, business, None, vendor="metrc", base_url=metrc.url,
                                 credentials=metrc.credentials())
    session.flush()
    compliance.run_check(connection.id, now=NOW, http_options=FAST)
    return principal, business, connection


def _page(session, user_id):
    state = make_state(S, token=session_token(session, session.get(User, user_id)),
                       path="/console/integrations/metrc/alerts")
    run(S.load, state)
    return state


def test_alerts_in_words_and_resolving_with_a_note(session, checked, sent):
    principal, business, connection = checked
    state = _page(session, principal.user_id)
    assert state.can_manage and [a.kind_label for a in state.alerts] == ["On hold but for sale", "Quantity mismatch"]
    hold = state.alerts[0]
    assert hold.severity_label == "High" and "Metrc: 100 Grams (on hold, lab TestPassed)" in hold.evidence
    assert "the POS: 100 g" in hold.evidence and "until Metrc lifts the hold" in hold.fix
    assert state.checks[0].summary.startswith("Full read: 2 packages, 2 discrepancies")
    run(S.set_note, state, hold.id, "pulled from the shelf")
    run(S.act, state, hold.id, "resolve")
    assert [a.kind_label for a in state.alerts] == ["Quantity mismatch"]
    run(S.set_status, state, "resolved")
    resolved = state.alerts[0]
    assert resolved.status_label == "Resolved" and resolved.history[-1].endswith("Resolved (pulled from the shelf)")
    run(S.check_now, state, str(connection.id))
    assert [t.name for t in sent] == ["metrc.compliance_check"] and state.queued == [str(connection.id)]


def test_staff_see_but_cannot_act(session, checked):
    principal, business, connection = checked
    staff = add_member(session, business, role=Role.staff, products=["integrations"])
    state = _page(session, staff.id)
    assert not state.can_manage and len(state.alerts) == 2
    run(S.act, state, state.alerts[0].id, "dismiss")
    assert len(state.alerts) == 2  # refused: nothing changed
