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

    def include(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and name in postgis_tables | {"alembic_version"})

    with get_engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include, "compare_type": True})
        diff = compare_metadata(context, metadata)
        postgis = conn.execute(sa.text("SELECT extversion FROM pg_extension WHERE extname='postgis'")).scalar()
    assert diff == []
    assert postgis is not None
