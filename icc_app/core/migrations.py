"""Run Alembic programmatically (CLI `migrate`, tests, `make run`). The app never creates tables itself."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from icc_app.settings import PROJECT_ROOT


def alembic_config(*, database_url: str | None = None, connection=None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["skip_logging"] = connection is not None
    if database_url:
        config.attributes["database_url"] = database_url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(*, database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url=database_url), revision)


def downgrade(*, database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url=database_url), revision)


def enable_tenant_rls(op, *tables: str, column: str = "business_id") -> None:
    """Row-level security for tables owned by one business (column `column`), as in migration 0010: the tenant
    role sees and writes only rows of the businesses it acts for; the app's own role (workers) sees all. A no-op on
    SQLite. For migrations 0013 and later; the statements are stable SQL, so old migrations keep their meaning."""
    if op.get_bind().dialect.name != "postgresql":
        return
    mine = f"{column} = ANY (icc_tenant_ids())"
    for table in tables:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_system ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")
        op.execute(f"CREATE POLICY {table}_own ON {table} FOR ALL TO icc_tenant USING ({mine}) WITH CHECK ({mine})")


def disable_tenant_rls(op, *tables: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS {table}_own ON {table}")
        op.execute(f"DROP POLICY IF EXISTS {table}_system ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
