"""Sync runs: request one (schedule, "sync now", a webhook, the CLI), run it, recover it when its worker died.

A run goes queued -> running -> succeeded | failed. Running it:
1. claim (a short transaction): the run takes a lease on its connection. At most one run per connection holds a
   live lease; a run whose worker died keeps a lapsed lease and is taken over later (recover_stale_runs), so the
   lock survives worker death without ever being held forever.
2. fetch from the vendor, outside any transaction (progress and the lease are refreshed as pages arrive).
3. apply everything in ONE transaction (integrations.apply): a failing page, a vendor error or a crash before the
   commit leaves the menu exactly as it was; after the commit it is complete. Re-running is harmless.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.errors import Conflict, DomainError, NotFound
from icc_app.core.lifecycle import Lifecycle
from icc_app.core.models import utcnow
from icc_app.integrations import apply, base, service
from icc_app.integrations.models import Connection, ConnectionStatus, RunStatus, SyncRun
from icc_app.settings import get_settings

log = logging.getLogger(__name__)



def lease() -> timedelta:
    """A run's lease: renewed with every sign of progress; once lapsed, the run is taken over (its worker died)."""
    return timedelta(seconds=get_settings().sync_lease_seconds)


MAX_ATTEMPTS = 3
SALES_BACKFILL = timedelta(days=30)  # the first sales sync reaches this far back
CURSOR_OVERLAP = timedelta(hours=1)  # late-arriving edits near the cursor are read again (upserts make it harmless)
ACTIVE = (RunStatus.queued, RunStatus.running)
SYNCABLE = (ConnectionStatus.new, ConnectionStatus.healthy, ConnectionStatus.failing)
# running -> running: a run whose worker died is taken over; queued -> failed: it kept dying before it started
RUN_LIFECYCLE = Lifecycle(object_type="integration_sync_run", action="integrations.sync_run", moves={
    RunStatus.queued: [RunStatus.running, RunStatus.failed],
    RunStatus.running: [RunStatus.running, RunStatus.succeeded, RunStatus.failed],
})


def default_streams(connection: Connection) -> list[str]:
    adapter = base.make_adapter(service.config_for(connection))  # capabilities may depend on the credentials
    capabilities = adapter.capabilities
    service._close(adapter)
    wanted = [base.Capability.menu, base.Capability.sales, base.Capability.customers]
    streams = [c.value for c in wanted if c in capabilities]
    if connection.dispensary_id is None and "menu" in streams:
        streams.remove("menu")
    return streams


def active_run(session: Session, connection_id: uuid.UUID) -> SyncRun | None:
    return session.exec(select(SyncRun).where(SyncRun.connection_id == connection_id,
                                              col(SyncRun.status).in_(ACTIVE))
                        .order_by(col(SyncRun.created_at))).first()


def request_sync(session: Session, connection: Connection, *, trigger: str, requested_by: uuid.UUID | None = None,
                 streams: list[str] | None = None, countdown: float | None = None) -> tuple[SyncRun, bool]:
    """Queue a run unless one is already queued or running for this connection. Returns (run, created)."""
    if connection.status not in SYNCABLE:
        raise Conflict(f"A {service.STATUS_LABELS[connection.status].lower()} connection does not sync: "
                       f"{'resume it first' if connection.status == ConnectionStatus.paused else 'connect again'}.")
    if connection.vendor == "metrc":
        raise Conflict("Metrc is checked, not synced: run a compliance check on the Metrc compliance page.")
    current = active_run(session, connection.id)
    if current is not None:
        return current, False
    streams = streams or default_streams(connection)
    if not streams:
        raise Conflict("Nothing to sync: choose the dispensary whose menu this connection feeds.")
    run = SyncRun(connection_id=connection.id, business_id=connection.business_id, trigger=trigger,
                  streams=streams, requested_by=requested_by)
    session.add(run)
    session.flush()
    enqueue(session, "integrations.run_sync", str(run.id), countdown=countdown)
    return run, True


def request_manual(session: Session, *, principal, connection_id: uuid.UUID) -> tuple[SyncRun, bool]:
    connection = service.get(session, principal, connection_id, manage=True)
    run, created = request_sync(session, connection, trigger="manual", requested_by=principal.user_id)
    if created:
        audit.record(session, action="integrations.sync.requested", object_type="integration_connection",
                     object_id=connection.id, actor_id=principal.user_id, business_id=connection.business_id,
                     after={"run_id": str(run.id)})
    return run, created


def retry(session: Session, *, principal, run_id: uuid.UUID) -> tuple[SyncRun, bool]:
    """Run a failed (or any finished) run's streams again, as a new run."""
    old = session.exec(select(SyncRun).where(SyncRun.id == run_id, col(SyncRun.business_id).in_(
        service.tenant_ids(principal)))).first()
    if old is None:
        raise NotFound("Sync run not found.")
    connection = service.get(session, principal, old.connection_id, manage=True)
    return request_sync(session, connection, trigger="retry", requested_by=principal.user_id, streams=old.streams)


# ------------------------------------------------------------------------------------------------- running


def _claim(run_id: uuid.UUID) -> str:
    """Take the run's lease. Returns "claimed", "done" (already finished: a duplicate delivery), "busy" (another
    live run holds this connection) or "missing"."""
    now = utcnow()
    with unit_of_work() as session:
        run = session.exec(select(SyncRun).where(SyncRun.id == run_id).with_for_update()).first()
        if run is None:
            return "missing"
        if run.status in (RunStatus.succeeded, RunStatus.failed):
            return "done"
        session.exec(select(Connection.id).where(Connection.id == run.connection_id).with_for_update()).first()
        if run.status == RunStatus.running and run.lease_until and run.lease_until > now:
            return "busy"  # this very run is alive in another worker
        other = session.exec(select(SyncRun.id).where(
            SyncRun.connection_id == run.connection_id, SyncRun.id != run.id, SyncRun.status == RunStatus.running,
            col(SyncRun.lease_until) > now)).first()
        if other is not None:
            return "busy"
        if run.attempts >= MAX_ATTEMPTS:
            _finish_failed(session, run, f"Stopped after {run.attempts} attempts (the worker kept dying).")
            return "done"
        RUN_LIFECYCLE.move(session, run, RunStatus.running, lease_until=now + lease(),
                           started_at=run.started_at or now, attempts=run.attempts + 1, progress="starting",
                           why="taken over: the previous worker stopped renewing its lease"
                           if run.status == RunStatus.running else "")
        return "claimed"


class _Progress:
    """Writes a run's progress and renews its lease, at most every `every_s` seconds (a short transaction each)."""

    def __init__(self, run_id: uuid.UUID, every_s: float = 1.0):
        self.run_id, self.every_s, self.last = run_id, every_s, 0.0

    def __call__(self, message: str) -> None:
        now = time.monotonic()
        if now - self.last < self.every_s:
            return
        self.last = now
        with unit_of_work() as session:
            session.exec(sa.update(SyncRun).where(col(SyncRun.id) == self.run_id, col(SyncRun.status) ==
                                                  RunStatus.running)
                         .values(progress=message[:200], lease_until=utcnow() + lease()))


def _fetch(connection: Connection, run: SyncRun, progress: _Progress, http_options: dict[str, Any]) -> dict:
    config = service.config_for(connection, **http_options)
    adapter = base.make_adapter(config)
    fetched: dict[str, Any] = {}
    now = utcnow()
    try:
        if "menu" in run.streams:
            fetched["menu"] = adapter.fetch_menu(lambda m: progress(f"menu: {m}"))
        if "sales" in run.streams:
            since = _cursor(connection, "sales") or now - SALES_BACKFILL
            fetched["sales"] = adapter.fetch_sales(since=since, until=now, progress=lambda m: progress(f"sales: {m}"))
        if "customers" in run.streams:
            fetched["customers"] = adapter.fetch_customers(since=_cursor(connection, "customers"),
                                                           progress=lambda m: progress(f"customers: {m}"))
    finally:
        service._close(adapter)
    fetched["until"] = now
    return fetched


def _cursor(connection: Connection, stream: str) -> datetime | None:
    value = (connection.cursors or {}).get(stream)
    if not value:
        return None
    return datetime.fromisoformat(value) - CURSOR_OVERLAP


def execute(run_id: uuid.UUID | str, *, http_options: dict[str, Any] | None = None) -> str:
    """Run one sync to its end. Returns the claim outcome ("claimed" means it ran, successfully or not)."""
    run_id = uuid.UUID(str(run_id))
    outcome = _claim(run_id)
    if outcome != "claimed":
        return outcome
    started = time.monotonic()
    with unit_of_work() as session:
        run = session.get(SyncRun, run_id)
        connection = session.get(Connection, run.connection_id)
        session.expunge_all()
    try:
        fetched = _fetch(connection, run, _Progress(run_id), http_options or {})
        with unit_of_work() as session:
            _apply(session, run_id, fetched, started)
    except (base.IntegrationError, DomainError) as exc:
        _record_failure(run_id, getattr(exc, "message", str(exc)), started)
    except Exception as exc:  # noqa: BLE001 - a bug must fail the run visibly, not leave it running
        log.exception("sync run %s crashed", run_id)
        _record_failure(run_id, f"Internal error ({type(exc).__name__}); the team has been told.", started)
    return outcome


def _apply(session: Session, run_id: uuid.UUID, fetched: dict, started: float) -> None:
    run = session.exec(select(SyncRun).where(SyncRun.id == run_id).with_for_update()).one()
    connection = session.exec(select(Connection).where(Connection.id == run.connection_id).with_for_update()).one()
    if run.status != RunStatus.running:
        return  # taken over and finished elsewhere meanwhile
    counts = apply.Counts()
    if "menu" in fetched:
        apply.apply_menu(session, connection, fetched["menu"], counts)
    if "sales" in fetched:
        apply.apply_sales(session, connection, fetched["sales"], counts)
    if "customers" in fetched:
        apply.apply_customers(session, connection, fetched["customers"], counts)
    cursors = dict(connection.cursors or {})
    for stream in ("sales", "customers"):
        if stream in fetched:
            cursors[stream] = fetched["until"].isoformat()
    if cursors != connection.cursors:
        connection.cursors = cursors
    for key, value in counts.as_dict().items():
        setattr(run, key, value)
    RUN_LIFECYCLE.move(session, run, RunStatus.succeeded, finished_at=utcnow(), lease_until=None, progress="done",
                       duration_ms=int((time.monotonic() - started) * 1000))
    connection.next_sync_at = utcnow() + timedelta(minutes=connection.interval_minutes,
                                                   seconds=random.uniform(0, 30))
    service.transition(session, connection, "sync_succeeded", reason="Sync succeeded.")
    if counts.created or counts.updated or counts.out_of_stock:
        audit.record(session, action="integrations.sync.applied", object_type="integration_connection",
                     object_id=connection.id, business_id=connection.business_id,
                     after={"run_id": str(run.id), **{k: v for k, v in counts.as_dict().items() if k != "errors"}})


def _record_failure(run_id: uuid.UUID, message: str, started: float) -> None:
    with unit_of_work() as session:
        run = session.get(SyncRun, run_id)
        if run is None or run.status != RunStatus.running:
            return
        run.duration_ms = int((time.monotonic() - started) * 1000)
        _finish_failed(session, run, message)


def _finish_failed(session: Session, run: SyncRun, message: str) -> None:
    RUN_LIFECYCLE.move(session, run, RunStatus.failed, error=message[:1000], finished_at=utcnow(), lease_until=None,
                       progress="failed", why=message)
    connection = session.get(Connection, run.connection_id)
    if connection is not None and connection.status in SYNCABLE:
        connection.next_sync_at = utcnow() + timedelta(minutes=connection.interval_minutes)
        service.transition(session, connection, "failed", reason=message)


# ------------------------------------------------------------------------------------------------- scheduling


def schedule_due(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Queue a run for every connection whose time has come, each with a random delay within a minute (so a
    thousand connections due at the same minute do not fire in the same second). Returns how many."""
    now = now or utcnow()
    due = session.exec(select(Connection).where(col(Connection.status).in_(SYNCABLE), Connection.vendor != "metrc",
                                                col(Connection.next_sync_at) <= now)
                       .order_by(col(Connection.next_sync_at)).limit(limit).with_for_update(skip_locked=True)).all()
    queued = 0
    for connection in due:
        connection.next_sync_at = now + timedelta(minutes=connection.interval_minutes,
                                                  seconds=random.uniform(0, 60))
        session.add(connection)
        try:
            _, created = request_sync(session, connection, trigger="schedule", countdown=random.uniform(0, 55))
        except (Conflict, base.IntegrationError) as exc:
            log.info("connection %s not scheduled: %s", connection.id, exc)
            continue
        queued += int(created)
    return queued


def recover_stale_runs(session: Session, *, now: datetime | None = None) -> int:
    """Runs whose worker died (running with a lapsed lease, or queued for long with their message lost) are sent
    again; they finish once (the claim refuses a run that is already done)."""
    now = now or utcnow()
    stale = session.exec(select(SyncRun).where(sa.or_(
        sa.and_(SyncRun.status == RunStatus.running, col(SyncRun.lease_until) < now),
        sa.and_(SyncRun.status == RunStatus.queued, col(SyncRun.created_at) < now - timedelta(minutes=2))))
    ).all()
    for run in stale:
        enqueue(session, "integrations.run_sync", str(run.id))
    return len(stale)
