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
