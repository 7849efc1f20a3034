"""Beat runs the schedule once however many beat processes start; the broker never re-delivers a task that is
still within its time limit."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from celery.schedules import schedule

from workers.beat import LOCK_KEY, LockedScheduler
from workers.celery_app import VISIBILITY_TIMEOUT, celery_app

EVERY_SECOND = {"anchor": {"task": "core.anchor_audit_chain", "schedule": schedule(timedelta(seconds=1))}}


def _sent(redis_client) -> int:
    return sum(json.loads(raw)["headers"]["task"] == "core.anchor_audit_chain"
               for raw in redis_client.lrange("default", 0, -1))


def _run(schedulers, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for scheduler in schedulers:
            scheduler.tick()
        time.sleep(0.1)


def test_two_beat_processes_send_each_entry_once(redis_client, tmp_path, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "beat_schedule", EVERY_SECOND)
    first = LockedScheduler(app=celery_app, schedule_filename=str(tmp_path / "first"))
    second = LockedScheduler(app=celery_app, schedule_filename=str(tmp_path / "second"))
    try:
        _run([first, second], 3.5)
        sent = _sent(redis_client)
        assert 2 <= sent <= 4  # once a second, not twice
        assert first._lock.held and not second._lock.held
        assert redis_client.get(LOCK_KEY) == first._lock.token

        first.close()  # the holder stops: the other takes over, without replaying what the first sent
        before = _sent(redis_client)
        second.tick()
        assert second._lock.held and _sent(redis_client) == before
        _run([second], 2.5)
        assert _sent(redis_client) > before
    finally:
        first.close()
        second.close()
    assert redis_client.get(LOCK_KEY) is None


def test_visibility_timeout_is_above_every_task_time_limit():
    celery_app.loader.import_default_modules()
    transport = celery_app.conf.broker_transport_options
    assert transport["visibility_timeout"] == VISIBILITY_TIMEOUT
    for name, task in celery_app.tasks.items():
        if name.startswith("celery."):
            continue
        assert task.time_limit is not None, f"{name} has no hard time limit"
        assert task.time_limit < VISIBILITY_TIMEOUT, f"{name} may outlive the broker's visibility timeout"
        assert task.acks_late, f"{name} is acknowledged before it runs"
