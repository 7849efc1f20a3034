"""The after-commit task queue against the real Redis broker: a rollback sends nothing."""

import json

import pytest
from sqlmodel import select

from icc_app.core.db import enqueue, unit_of_work
from icc_app.identity.models import User
from tests.factories import make_user


def _queued_task_names(redis_client, queue: str) -> list[str]:
    return [json.loads(raw)["headers"]["task"] for raw in redis_client.lrange(queue, 0, -1)]


def test_commit_sends_enqueued_tasks_to_their_queue(connection, redis_client):
    with unit_of_work() as session:
        user = make_user(session)
        enqueue(session, "core.verify_audit_chain")
        enqueue(session, "notifications.send_email", to=user.email, template="welcome",
                context={"name": "x", "email": user.email})
        assert _queued_task_names(redis_client, "default") == []  # nothing before the commit
    assert _queued_task_names(redis_client, "default") == ["core.verify_audit_chain"]
    assert _queued_task_names(redis_client, "notifications") == ["notifications.send_email"]


def test_rollback_drops_enqueued_tasks_and_changes(connection, redis_client):
    with pytest.raises(RuntimeError):
        with unit_of_work() as session:
            make_user(session, email="ghost@example.test")
            enqueue(session, "core.verify_audit_chain")
            raise RuntimeError("boom")
    assert redis_client.llen("default") == 0
    with unit_of_work() as session:
        assert session.exec(select(User).where(User.email == "ghost@example.test")).first() is None


def test_routing_by_task_name():
    from workers.celery_app import route_for

    assert route_for("quality.score_lot") == "cqi"
    assert route_for("notifications.send_email") == "notifications"
    assert route_for("labs.parse_coa") == "default"
