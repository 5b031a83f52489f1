"""Alembic environment for the MSP records.

The URL comes from ``config.attributes["url"]`` (set by
``bot.records.schema``) or else from ``bot.records.db.database_url()``
(``DATABASE_URL`` or the SQLite default). It is never read from alembic.ini.

SQLite runs in batch mode (``render_as_batch``) so ALTERs become table copies,
with foreign keys off on the migration connection, and checked afterwards.
Only MSP tables are considered: Rasa's ``events`` table (and anything else
that shares the database) is left alone by autogenerate.
"""
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text

from bot.records.db import database_url, make_engine
from bot.records.models import metadata
from bot.records.schema import VERSION_TABLE

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def _include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and reflected and compare_to is None:
        return name in metadata.tables
    return True


def _url() -> str:
    return database_url(config.attributes.get("url"))


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
        version_table=VERSION_TABLE,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def _configure_and_run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        version_table=VERSION_TABLE,
        include_object=_include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            problems = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
            if problems:
                raise RuntimeError(f"foreign key check failed after migration: {problems}")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    engine = make_engine(_url(), for_migrations=True)
    try:
        with engine.connect() as connection:
            _configure_and_run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
