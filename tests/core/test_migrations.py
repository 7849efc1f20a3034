"""Migrations work on SQLite (embedded mode) and match the models on PostgreSQL."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from icc_app.core import migrations
from icc_app.core.db import get_engine
from icc_app.core.registry import metadata


def test_sqlite_upgrade_and_downgrade(sqlite_url):
    migrations.upgrade(database_url=sqlite_url)
    engine = sa.create_engine(sqlite_url)
    tables = set(sa.inspect(engine).get_table_names())
    assert {"users", "businesses", "business_members", "user_sessions", "audit_log", "notifications"} <= tables
    migrations.downgrade(database_url=sqlite_url)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_no_pending_model_changes_on_postgres():
    """Autogenerate finds nothing to do: every model change has its migration."""
    postgis_tables = {"spatial_ref_sys", "geometry_columns", "geography_columns", "raster_columns", "raster_overviews"}

    manual_indexes = {"ix_lots_search", "ix_lots_active_listed", "ix_lots_active_price", "ix_lots_active_thc",
                      "ix_lots_active_cqi", "ix_lots_geog",
                  "ix_dispensaries_geog"}  # alembic/env.py MANUAL_INDEXES: raw-SQL indexes

    def include(obj, name, type_, reflected, compare_to):
        if type_ == "index" and reflected and name in manual_indexes:
            return False
        return not (type_ == "table" and name in postgis_tables | {"alembic_version"})

    with get_engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include, "compare_type": True})
        diff = compare_metadata(context, metadata)
        postgis = conn.execute(sa.text("SELECT extversion FROM pg_extension WHERE extname='postgis'")).scalar()
    assert diff == []
    assert postgis is not None


def test_existing_emails_are_encrypted_by_the_identity_migration(sqlite_url):
    """0003 encrypts the emails of existing accounts in place and fills their blind index; down again restores."""
    import uuid

    from icc_app.core.security import decrypt, email_lookup

    migrations.upgrade(database_url=sqlite_url, revision="0002")
    engine = sa.create_engine(sqlite_url)
    user_id = uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO users (id, email, display_name, password_hash, kind, is_platform_admin, is_active, created_at,"
            " updated_at) VALUES (:id, 'Old.Timer@example.test', 'Old', 'x', 'operator', 0, 1, '2026-01-01', '2026-01-01')"
        ), {"id": user_id})
    migrations.upgrade(database_url=sqlite_url)
    with engine.connect() as conn:
        stored, lookup = conn.execute(sa.text("SELECT email, email_lookup FROM users")).one()
    assert "example.test" not in stored and decrypt(stored) == "Old.Timer@example.test"
    assert lookup == email_lookup("old.timer@example.test")
    migrations.downgrade(database_url=sqlite_url, revision="0002")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT email FROM users")).scalar() == "Old.Timer@example.test"
    engine.dispose()
