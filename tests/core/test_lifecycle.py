"""The machine-driven status lifecycles: a move the table allows is made and audited in the caller's transaction;
any other is refused in words and changes nothing."""

from __future__ import annotations

import pytest
from sqlmodel import select

from icc_app.core.audit import AuditLog
from icc_app.core.errors import Conflict
from icc_app.integrations.metrc.workflows import LINK_LIFECYCLE
from icc_app.integrations.partners.delivery import DELIVERY_LIFECYCLE
from icc_app.integrations.sync import RUN_LIFECYCLE
from icc_app.integrations.webhooks import EVENT_LIFECYCLE
from icc_app.integrations.models import WebhookEvent


def _event(session, status="accepted") -> WebhookEvent:
    event = WebhookEvent(vendor="dutchie", event_id=f"evt-{status}", status=status, event_type="menu.updated")
    session.add(event)
    session.flush()
    return event


def test_an_allowed_move_sets_the_fields_and_is_audited(session):
    event = _event(session)
    EVENT_LIFECYCLE.move(session, event, "failed", reason="The connection is gone.", why="The connection is gone.")
    assert (event.status, event.reason) == ("failed", "The connection is gone.")
    entry = session.exec(select(AuditLog).where(AuditLog.object_id == str(event.id))).one()
    assert entry.action == "integrations.webhook_event.failed" and entry.object_type == "integration_webhook_event"
    assert entry.before == {"status": "accepted"} and entry.after == {"status": "failed",
                                                                      "why": "The connection is gone."}


def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing(session):
    event = _event(session, status="processed")
    with pytest.raises(Conflict, match="cannot go from processed to failed"):
        EVENT_LIFECYCLE.move(session, event, "failed", reason="late failure")
    assert (event.status, event.reason) == ("processed", "")
    assert session.exec(select(AuditLog).where(AuditLog.object_id == str(event.id))).all() == []


@pytest.mark.parametrize(("lifecycle", "current", "target", "allowed"), [
    (RUN_LIFECYCLE, "queued", "running", True),
    (RUN_LIFECYCLE, "running", "running", True),  # a dead worker's run taken over
    (RUN_LIFECYCLE, "succeeded", "running", False),  # a finished run never runs again (a retry is a new run)
    (RUN_LIFECYCLE, "failed", "succeeded", False),
    (DELIVERY_LIFECYCLE, "retrying", "retrying", True),
    (DELIVERY_LIFECYCLE, "failed", "delivered", False),  # redelivery is a new delivery
    (DELIVERY_LIFECYCLE, "delivered", "failed", False),
    (LINK_LIFECYCLE, "blocked", "template_created", True),  # tried again after the seller fixed the package
    (LINK_LIFECYCLE, "received", "in_transit", False),
    (LINK_LIFECYCLE, "closed", "received", False),
])
def test_the_tables_say_what_may_follow_what(lifecycle, current, target, allowed):
    assert lifecycle.allowed(current, target) is allowed


def test_refusals_use_human_words():
    class Link:
        status = "received"
    with pytest.raises(Conflict, match="metrc transfer link cannot go from received to in transit"):
        LINK_LIFECYCLE.move(None, Link(), "in_transit")
