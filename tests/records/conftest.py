"""Fixtures for the records tests: a fresh database per test, SQLite or PostgreSQL."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]
for path in (PROJECT_ROOT, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bot.records.db import dispose_engines, get_sessionmaker  # noqa: E402
from bot.records.schema import upgrade_to_head  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """No test touches var/msp.db or depends on the caller's environment."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused-default.db'}")
    for name in ("MSP_PUBLIC_URL", "MSP_INVITATION_SECRET", "MSP_DEBUG", "MSP_TOTP_KEYS", "MSP_TOTP_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    yield
    dispose_engines()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """The URL of a fresh, empty SQLite database file (no tables yet)."""
    return f"sqlite:///{tmp_path / 'records.db'}"


@pytest.fixture
def postgres_url(postgres) -> str:
    """The URL of a fresh, empty PostgreSQL database (no tables yet)."""
    return postgres.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, monkeypatch) -> str:
    """A fresh database at the current schema, on each backend in turn.

    ``DATABASE_URL`` points at it, so code that uses the default engine
    (the CLI, ``session_scope()``) sees the same database.
    """
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def sqlite_db(sqlite_url, monkeypatch) -> str:
    """A fresh SQLite database at the current schema (for tests that need only one backend)."""
    upgrade_to_head(sqlite_url)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return sqlite_url


@pytest.fixture
def db_session(db_url):
    session = get_sessionmaker(db_url)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture
def sqlite_session(sqlite_db):
    session = get_sessionmaker(sqlite_db)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture
def enquiry(db_session):
    from bot.records import add_participant, create_enquiry

    enquiry = create_enquiry(db_session, "SG-0001", assigned_worker="Sam Worker")
    person = add_participant(db_session, enquiry.id, "person")
    db_session.commit()
    enquiry.person = person  # convenience for tests
    return enquiry
