"""Alembic environment: the URL comes from settings; PostGIS's own tables are never touched."""

from __future__ import annotations

from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context

from icc_app.core.db import make_engine
from icc_app.core.registry import metadata
from icc_app.settings import get_settings

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

POSTGIS_TABLES = {"spatial_ref_sys", "geometry_columns", "geography_columns", "raster_columns", "raster_overviews"}
POSTGIS_SCHEMAS = {"tiger", "tiger_data", "topology"}


# PostgreSQL-only expression indexes that migrations create with raw SQL (no model can declare them portably).
MANUAL_INDEXES = {"ix_lots_search", "ix_lots_active_listed", "ix_lots_active_price", "ix_lots_active_thc",
                  "ix_lots_active_cqi", "ix_lots_geog",
                  "ix_dispensaries_geog"}


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and (name in POSTGIS_TABLES or getattr(obj, "schema", None) in POSTGIS_SCHEMAS):
        return False
    if type_ == "index" and reflected and name in MANUAL_INDEXES:
        return False
    return True


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # tests hand over their own connection
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.attributes.get("database_url") or get_settings().database_url)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
            connection.commit()
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=get_settings().database_url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
