"""Database connection for the MSP records.

Nothing is created at import. ``get_engine()`` builds one engine per database
URL on first use and caches it; ``session_scope()`` gives a short-lived session
that commits on success and rolls back on error.

The URL comes from ``DATABASE_URL``. The default is a SQLite file,
``sqlite:///var/msp.db``; a relative SQLite path is always taken relative to
the project root (not the current directory), so the CLI, the action server
and the portal find the same file wherever they are started from.

On SQLite every connection has foreign keys switched on, waits up to 30
seconds for a lock, uses WAL journalling, and starts its transactions with
``BEGIN IMMEDIATE``. The last point matters when several processes write at
once: a deferred transaction that reads and then writes can fail at once with
"database is locked" instead of waiting its turn.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "sqlite:///var/msp.db"
ENV_VAR = "DATABASE_URL"

READ_ONLY_OPTION = "msp_read_only"

_lock = threading.Lock()
_engines: Dict[str, Engine] = {}
_sessionmakers: Dict[Tuple[str, bool], sessionmaker] = {}


def database_url(url: Optional[str] = None) -> str:
    """The URL to use: ``url`` if given, else ``DATABASE_URL``, else the default.

    Relative SQLite paths are resolved against the project root. A
    ``postgres://`` URL (as some hosts hand out) is read as PostgreSQL.
    """
    raw = url or os.environ.get(ENV_VAR, "").strip() or DEFAULT_DATABASE_URL
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    parsed = make_url(raw)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database)
            if not path.is_absolute():
                path = PROJECT_ROOT / path
            parsed = parsed.set(database=str(path))
    return parsed.render_as_string(hide_password=False)


def safe_url(url: Optional[str] = None) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(database_url(url)).render_as_string(hide_password=True)


def is_sqlite(url: Optional[str] = None) -> bool:
    return make_url(database_url(url)).get_backend_name() == "sqlite"


def _sqlite_file(parsed: URL) -> Optional[Path]:
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: Optional[str] = None, *, for_migrations: bool = False) -> Engine:
    """A new engine (uncached). Prefer ``get_engine()``.

    ``for_migrations`` is for Alembic: on SQLite foreign keys are switched off
    on the connection (as SQLite's own advice for table rebuilds says) and
    plain transactions are used, so batch operations can copy tables; and the
    Core append-only guard is not installed (the database triggers still are).
    """
    resolved = database_url(url)
    parsed = make_url(resolved)
    # hide_parameters: an error message never carries the values (what people typed).
    kwargs = {"future": True, "pool_pre_ping": True, "hide_parameters": True}
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(resolved, **kwargs)
        if not for_migrations:
            _guard_append_only(engine)
        return engine

    path = _sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": 30, "check_same_thread": False}
    if path is None:
        kwargs["poolclass"] = StaticPool
    kwargs.pop("pool_pre_ping")
    engine = create_engine(resolved, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - trivial
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(
                "PRAGMA foreign_keys=OFF" if for_migrations else "PRAGMA foreign_keys=ON"
            )
            if path is not None:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - trivial
        deferred = for_migrations or connection.get_execution_options().get(READ_ONLY_OPTION)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    if not for_migrations:
        _guard_append_only(engine)
    return engine


def _guard_append_only(engine: Engine) -> None:
    # Imported here so that importing db never pulls in the models' mappers
    # before they are needed.
    from .models import install_core_guard

    install_core_guard(engine)


def get_engine(url: Optional[str] = None) -> Engine:
    """The cached engine for ``url`` (default: ``DATABASE_URL``)."""
    resolved = database_url(url)
    with _lock:
        engine = _engines.get(resolved)
        if engine is None:
            engine = make_engine(resolved)
            _engines[resolved] = engine
        return engine


def get_sessionmaker(url: Optional[str] = None, *, read_only: bool = False) -> sessionmaker:
    """The cached session factory for ``url``.

    ``read_only`` sessions start deferred transactions on SQLite, so they never
    wait for, or hold up, a writer (WAL lets readers and one writer overlap).
    """
    resolved = database_url(url)
    engine = get_engine(resolved)
    with _lock:
        factory = _sessionmakers.get((resolved, read_only))
        if factory is None:
            bind = engine.execution_options(**{READ_ONLY_OPTION: True}) if read_only else engine
            factory = sessionmaker(bind=bind, future=True, expire_on_commit=False)
            _sessionmakers[(resolved, read_only)] = factory
        return factory


@contextmanager
def session_scope(url: Optional[str] = None, *, read_only: bool = False) -> Iterator[Session]:
    """A session for one unit of work: commit on success, roll back on error.

    On SQLite a writing session holds the database's write lock from its first
    statement to its end (``BEGIN IMMEDIATE``), so keep it short, and do not
    open a second writing session in the same thread while one is still open:
    the second would wait for the first. Use ``read_only=True`` for pure
    reads (reports, screens); it is rolled back at the end, never committed.
    """
    session = get_sessionmaker(url, read_only=read_only)()
    try:
        yield session
        if read_only:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    """Close every cached engine (tests, and before forking)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _sessionmakers.clear()
