"""Test setup: a throwaway PostgreSQL+PostGIS database migrated once per run, Redis db 15, a temp media dir.

Each test runs inside an outer transaction on one connection that is rolled back afterwards; every
`unit_of_work()` in the code under test joins it through a savepoint, so services commit as usual and nothing
leaks between tests. Settings come from the environment, so they are set here before any icc_app import.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet

PG_SERVER = os.environ.get("TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
TEST_DB = os.environ.get("TEST_DB_NAME", f"icc_test_{os.getpid()}")
TEST_DATABASE_URL = f"{PG_SERVER}/{TEST_DB}"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MEDIA_DIR = Path(tempfile.mkdtemp(prefix="icc-media-"))
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

os.environ.update(
    DATABASE_URL=TEST_DATABASE_URL,
    REDIS_URL=TEST_REDIS_URL,
    STORAGE_URL=f"file://{MEDIA_DIR}",
    SMTP_URL="console://",
    SECRET_KEY=secrets.token_urlsafe(48),
    ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    PUBLIC_URL="http://localhost:3000",
)

import psycopg  # noqa: E402
import pytest  # noqa: E402
import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from icc_app.core import db as core_db  # noqa: E402
from icc_app.core import migrations  # noqa: E402


def _admin_conn():
    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def pytest_sessionstart(session):
    with _admin_conn() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEST_DB}"')
    migrations.upgrade(database_url=TEST_DATABASE_URL)
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()


def pytest_sessionfinish(session, exitstatus):
    core_db.get_engine().dispose()
    if os.environ.get("KEEP_TEST_DB"):
        return
    with _admin_conn() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')


@pytest.fixture()
def connection():
    """One connection in an outer transaction, rolled back after the test."""
    engine = core_db.get_engine()
    conn = engine.connect()
    outer = conn.begin()
    with core_db.bind_sessions_to(conn):
        yield conn
    if outer.is_active:
        outer.rollback()
    conn.close()


@pytest.fixture()
def session(connection):
    """A session for arranging and asserting; code under test opens its own units of work."""
    from sqlmodel import Session

    s = Session(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    yield s
    s.close()


@pytest.fixture()
def redis_client():
    client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture()
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATA} is missing in CI")
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture()
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'icc.db'}"


def count_rows(conn, table: str) -> int:
    return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
