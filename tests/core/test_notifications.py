"""In-app notifications, templates, and email through a real SMTP server and a real Celery worker."""

import socket
import time

import pytest
from aiosmtpd.controller import Controller

from icc_app.core import notifications
from icc_app.core.db import unit_of_work
from icc_app.settings import get_settings
from tests.factories import make_user


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture()
def smtp_server(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    get_settings.cache_clear()
    yield inbox
    controller.stop()
    get_settings.cache_clear()


def test_render_refuses_missing_variables():
    with pytest.raises(Exception, match="undefined"):
        notifications.render_email("welcome", {"name": "Ana"})


def test_notify_stores_in_app_and_queues_email(connection, redis_client):
    with unit_of_work() as session:
        user = make_user(session)
        notifications.notify(session, user_id=user.id, email=user.email, kind="platform.welcome", title="Hi",
                             template="welcome", context={"name": "Ana", "email": user.email})
    with unit_of_work() as session:
        assert notifications.unread_count(session, user_id=user.id) == 1
        assert notifications.mark_all_read(session, user_id=user.id) == 1
        assert notifications.unread_count(session, user_id=user.id) == 0
    assert redis_client.llen("notifications") == 1


def test_send_email_over_smtp(smtp_server):
    notifications.send_email(to="ana@example.test", template="welcome", context={"name": "Ana", "email": "ana@example.test"})
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["ana@example.test"]
    assert b"Subject: Welcome to ICC, Ana" in envelope.content


def test_worker_consumes_notifications_queue_and_delivers(smtp_server, redis_client):
    """A real Celery worker (thread) on the real Redis broker picks the task from the notifications queue."""
    from celery.contrib.testing.worker import start_worker

    from icc_app.core.db import PendingTask
    from workers.celery_app import celery_app, dispatch

    dispatch(PendingTask("notifications.send_email", (), {"to": "bo@example.test", "template": "welcome",
                                                          "context": {"name": "Bo", "email": "bo@example.test"}}))
    assert redis_client.llen("notifications") == 1
    with start_worker(celery_app, queues=["notifications"], perform_ping_check=False, pool="solo", concurrency=1):
        deadline = time.monotonic() + 20
        while not smtp_server.messages and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["bo@example.test"]]
    assert redis_client.llen("notifications") == 0


def test_email_task_is_idempotent_by_outbox_id(connection, smtp_server, redis_client):
    """A send_email task delivered twice (a worker killed after sending, a retry) sends one message."""
    import sqlalchemy as sa
    from sqlmodel import select

    from icc_app.core.tasks import send_email

    with unit_of_work() as session:
        user = make_user(session)
        notifications.notify(session, user_id=user.id, email=user.email, kind="platform.welcome", title="Hi",
                             template="welcome", context={"name": "Ana", "email": user.email})
    queued = redis_client.lrange("notifications", 0, -1)
    assert len(queued) == 1 and user.email not in queued[0]  # the message carries an id, not the address
    with unit_of_work() as session:
        [email] = [e for e in session.exec(select(notifications.OutboundEmail)).all() if e.recipient == user.email]
    first = send_email.run(str(email.id))
    second = send_email.run(str(email.id))
    assert first == second == f"<{email.id}@icc.local>"
    assert [m.rcpt_tos for m in smtp_server.messages] == [[user.email]]
    with unit_of_work() as session:
        assert session.get(notifications.OutboundEmail, email.id).sent_at is not None
        raw = session.connection().execute(sa.text("SELECT recipient FROM outbound_emails WHERE id=:id"),
                                           {"id": email.id}).scalar_one()
    assert user.email not in raw  # encrypted at rest (an email may hold a one-time code)
