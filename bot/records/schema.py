"""Bring the MSP tables up to date with Alembic, from code.

``make run`` and ``make test`` call ``upgrade_to_head()``; staff can run
``msp db upgrade``. Both use ``alembic.ini`` next to this file; the URL is
passed in (or read from ``DATABASE_URL``), never taken from the ini file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import database_url, make_engine

ALEMBIC_INI = Path(__file__).resolve().with_name("alembic.ini")
#: Our own version table, so Alembic used by anything else sharing the
#: database (Rasa's tracker store lives there too) cannot clash with ours.
VERSION_TABLE = "msp_alembic_version"


def alembic_config(url: Optional[str] = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = database_url(url)
    # Do not let alembic.ini's logging section reconfigure the caller's logging.
    config.attributes["configure_logging"] = False
    return config


def upgrade_to_head(url: Optional[str] = None) -> str:
    """Apply every migration not yet applied. Returns the head revision."""
    command.upgrade(alembic_config(url), "head")
    return head_revision()


def upgrade(url: Optional[str] = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: Optional[str] = None, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` (default: remove every MSP table)."""
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config())
    return script.get_current_head()


def current_revision(url: Optional[str] = None) -> Optional[str]:
    """The revision the database is at, or None if it has no MSP tables yet."""
    engine = make_engine(url, for_migrations=True)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE}
            )
            return context.get_current_revision()
    finally:
        engine.dispose()


def is_up_to_date(url: Optional[str] = None) -> bool:
    return current_revision(url) == head_revision()
