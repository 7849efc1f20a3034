"""Engine, sessions and the unit of work.

Services never commit; the caller owns the transaction:

    with unit_of_work() as session:
        lot = exchange.service.publish_lot(session, lot_id=..., actor=...)
        enqueue(session, "quality.score_lot", lot.id)   # sent only if the commit succeeds

Tasks enqueued inside a unit of work are held on the session and sent to Celery after the commit; a rollback
drops them, so a worker never sees an id that does not exist.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from icc_app.core.geo import register_sqlite_functions
from icc_app.settings import get_settings

log = logging.getLogger(__name__)

_PENDING_TASKS = "icc_pending_tasks"


@dataclass(frozen=True)
class PendingTask:
    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    countdown: float | None = None


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - driver callback
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            register_sqlite_functions(dbapi_connection)  # what PostgreSQL gets from the migrations

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


@functools.cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


# Tests bind every unit of work to one connection inside an outer transaction that they roll back.
_bound_connection: Connection | None = None


@contextlib.contextmanager
def bind_sessions_to(connection: Connection) -> Iterator[None]:
    global _bound_connection
    previous, _bound_connection = _bound_connection, connection
    try:
        yield
    finally:
        _bound_connection = previous


def new_session() -> Session:
    if _bound_connection is not None:
        return Session(bind=_bound_connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    return Session(get_engine(), expire_on_commit=False)


def enqueue(session: Session, name: str, *args: Any, countdown: float | None = None, **kwargs: Any) -> None:
    """Schedule a Celery task to be sent after this session's unit of work commits."""
    session.info.setdefault(_PENDING_TASKS, []).append(PendingTask(name, args, kwargs, countdown))


def pending_tasks(session: Session) -> list[PendingTask]:
    return list(session.info.get(_PENDING_TASKS, []))


# Row-level security (migration 0010): the policies are written for this non-login role, and
# `app.business_ids` names the businesses the transaction acts for.
TENANT_ROLE = "icc_tenant"
TENANT_SETTING = "app.business_ids"


class Tenant(Protocol):
    """What a tenant-scoped unit of work needs of the acting principal (identity.schemas.Principal)."""

    is_platform_admin: bool

    @property
    def memberships(self) -> Sequence[Any]: ...


def _enter_tenant(session: Session, tenant: Tenant) -> bool:
    """Switch this transaction to the tenant role with the principal's businesses; False where there is no RLS.

    Platform admins act across businesses (dispute decisions, the audit log) and keep the app's role; what
    they do is audited. SQLite (embedded mode) has no row-level security: the scoped statements are the line.
    """
    if tenant.is_platform_admin or session.get_bind().dialect.name != "postgresql":
        return False
    ids = ",".join(str(m.business_id) for m in tenant.memberships)
    session.execute(sa.text("SELECT set_config(:name, :ids, true)"), {"name": TENANT_SETTING, "ids": ids})
    session.execute(sa.text(f"SET LOCAL ROLE {TENANT_ROLE}"))
    return True


def _leave_tenant(session: Session) -> None:
    """Back to the app's role before the commit. SET LOCAL ends with the transaction anyway, but a unit of work
    that joins an outer transaction (tests, nested work) must not leave its role and setting behind."""
    session.flush()  # every write is checked by the policies while still acting as the tenant
    session.execute(sa.text("RESET ROLE"))
    session.execute(sa.text("SELECT set_config(:name, '', true)"), {"name": TENANT_SETTING})


@contextlib.contextmanager
def unit_of_work(*, tenant: Tenant | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on error; then send the tasks it enqueued.

    `tenant`: the principal a request acts for. On PostgreSQL the transaction then runs as the tenant role, so
    row-level security hides every other business's rows even from a query that forgot its scope. Workers and
    system tasks act for no tenant and pass nothing.
    """
    session = new_session()
    try:
        scoped = tenant is not None and _enter_tenant(session, tenant)
        yield session
        if scoped:
            _leave_tenant(session)
        session.commit()
        tasks = pending_tasks(session)
    except BaseException:
        session.rollback()
        session.info.pop(_PENDING_TASKS, None)
        raise
    finally:
        session.close()
    if tasks:
        from workers.celery_app import dispatch  # late import: the worker imports this module too

        for task in tasks:
            dispatch(task)


def database_status() -> tuple[bool, str]:
    try:
        with get_engine().connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - health reporting must never raise
        return False, f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
