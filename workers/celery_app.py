"""The one Celery app of the platform.

Queues: `cqi` (scoring, CPU heavy), `notifications` (email and in-app), `default` (everything else). Tasks are
named "product.verb" and routed by their product prefix. With no REDIS_URL (embedded mode) tasks run eagerly
in the calling process, after the unit of work that enqueued them has committed.

Delivery is at least once: a task is acknowledged after it ran (acks_late), so a worker killed mid-task leaves
its message to be delivered again once the broker's visibility timeout passes. That timeout is kept above the
longest task time limit (a task still running is never handed to a second worker) and every task is written
to be run twice safely. Beat runs with a Redis lock (workers/beat.py), so two beat processes send one schedule.
"""

from __future__ import annotations

import logging

from celery import Celery
from kombu import Queue

from icc_app.settings import get_settings

log = logging.getLogger(__name__)

# Modules that define tasks; the worker imports them at start, the web app on first dispatch.
TASK_MODULES = [
    "icc_app.core.tasks",
    "icc_app.labs.tasks",
    "icc_app.identity.tasks",
    "icc_app.exchange.tasks",
    "icc_app.quality.tasks",
    "icc_app.maps.tasks",
    "icc_app.integrations.tasks",
    "icc_app.integrations.partners.tasks",
    "icc_app.integrations.metrc.tasks",
    "icc_app.operations.tasks",
    "icc_app.loyalty.tasks",
    "icc_app.budtender.tasks",
]

ROUTES_BY_PREFIX = {
    "quality.": "cqi",
    "notifications.": "notifications",
}


# Every task gets a hard time limit (its own or this default), and the visibility timeout stays above the
# longest one: tests/workers check that no registered task outlives it.
DEFAULT_SOFT_TIME_LIMIT = 1080
DEFAULT_TIME_LIMIT = 1200
VISIBILITY_TIMEOUT = DEFAULT_TIME_LIMIT + 300


def route_for(name: str) -> str:
    for prefix, queue in ROUTES_BY_PREFIX.items():
        if name.startswith(prefix):
            return queue
    return "default"


def _route_task(name, args, kwargs, options, task=None, **kw):
    return {"queue": route_for(name)}


def create_celery() -> Celery:
    settings = get_settings()
    app = Celery("icc", include=TASK_MODULES)
    app.conf.update(
        broker_url=settings.redis_url or "memory://",
        result_backend=settings.redis_url,
        task_always_eager=settings.embedded_tasks,
        task_eager_propagates=False,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_soft_time_limit=DEFAULT_SOFT_TIME_LIMIT,
        task_time_limit=DEFAULT_TIME_LIMIT,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        worker_prefetch_multiplier=1,
        task_default_queue="default",
        task_queues=[Queue("default"), Queue("cqi"), Queue("notifications")],
        task_routes=(_route_task,),
        result_expires=3600,
        timezone="UTC",
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    from workers.beat import SCHEDULE

    app.conf.beat_schedule = SCHEDULE
    app.conf.beat_scheduler = "workers.beat:LockedScheduler"
    return app


celery_app = create_celery()


def dispatch(task) -> None:
    """Send one PendingTask (see icc_app.core.db.enqueue). Never raises: a lost send is logged loudly."""
    celery_app.loader.import_default_modules()
    options = {"countdown": task.countdown} if task.countdown else {}
    try:
        registered = celery_app.tasks.get(task.name)
        if registered is not None:
            result = registered.apply_async(args=task.args, kwargs=task.kwargs, **options)
            if celery_app.conf.task_always_eager and result.failed():
                log.error("task %s failed in-process: %r", task.name, result.result)
        else:
            celery_app.send_task(task.name, args=task.args, kwargs=task.kwargs, queue=route_for(task.name), **options)
    except Exception:  # noqa: BLE001 - the commit already happened; the beat sweeps catch up
        log.exception("could not send task %s", task.name)
