"""Integrations tasks: run a sync, the per-minute scheduler tick (due connections, runs whose worker died), and
webhook processing. They take ids, reload, and are safe to run twice (a finished run is not run again; a webhook
event is processed once)."""

from __future__ import annotations

from icc_app.core.db import unit_of_work
from icc_app.integrations import sync, webhooks
from workers.celery_app import celery_app


@celery_app.task(name="integrations.run_sync", soft_time_limit=900, time_limit=960)
def run_sync(run_id: str) -> str:
    """'busy' (another live run holds the connection) leaves the run queued: the tick sends it again later."""
    return sync.execute(run_id)


@celery_app.task(name="integrations.tick")
def tick() -> dict:
    with unit_of_work() as session:
        queued = sync.schedule_due(session)
        recovered = sync.recover_stale_runs(session)
    return {"queued": queued, "recovered": recovered}


@celery_app.task(name="integrations.process_webhook")
def process_webhook(event_id: str) -> str:
    return webhooks.process(event_id)
