"""Migrations on SQLite and on a real PostgreSQL; the db module's behaviour."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.records import db as records_db
from bot.records.db import database_url, make_engine, session_scope
from bot.records.models import APPEND_ONLY_TABLES, metadata
from bot.records.schema import (
    VERSION_TABLE,
    current_revision,
    downgrade,
    head_revision,
    upgrade_to_head,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MSP_TABLES = set(metadata.tables)


def _tables(url):
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _schema_differences(url):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def _round_trip(url):
    assert current_revision(url) is None
    assert upgrade_to_head(url) == head_revision()
    assert current_revision(url) == head_revision()
    assert MSP_TABLES <= _tables(url)
    assert _schema_differences(url) == []

    # Some data survives a no-op upgrade.
    with session_scope(url) as session:
        from bot.records import add_participant, create_enquiry, record_outcome

        enquiry = create_enquiry(session, "MIG-1")
        person = add_participant(session, enquiry.id, "person")
        record_outcome(session, enquiry.id, "Kept 😀", participant_id=person.id,
                       recorded_by="t", channel="web")
    upgrade_to_head(url)
    records_db.dispose_engines()

    downgrade(url, "base")
    assert current_revision(url) is None
    assert not (MSP_TABLES & _tables(url))

    upgrade_to_head(url)
    assert current_revision(url) == head_revision()
    assert MSP_TABLES <= _tables(url)
    assert _schema_differences(url) == []
    return url


def test_sqlite_upgrade_downgrade_upgrade(sqlite_url):
    _round_trip(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            triggers = {row[0] for row in connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
    finally:
        engine.dispose()
    assert triggers == {f"{t}_no_{a}" for t in APPEND_ONLY_TABLES for a in ("update", "delete")}


def test_postgresql_upgrade_downgrade_upgrade(postgres_url):
    assert postgres_url.startswith("postgresql+psycopg2://")
    _round_trip(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            assert connection.dialect.name == "postgresql"
            triggers = {row[0] for row in connection.execute(text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))}
            server_version = connection.execute(text("SHOW server_version")).scalar()
    finally:
        engine.dispose()
    assert {f"{t}_append_only" for t in APPEND_ONLY_TABLES} <= triggers
    assert server_version


def test_postgresql_refuses_truncate_of_history(postgres_url):
    upgrade_to_head(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text("TRUNCATE desired_outcomes"))
    finally:
        engine.dispose()


def test_alembic_command_line_uses_database_url(sqlite_url, tmp_path):
    env = {"DATABASE_URL": sqlite_url, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("alembic")), "-c",
         str(PROJECT_ROOT / "bot/records/alembic.ini"), "upgrade", "head"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert current_revision(sqlite_url) == head_revision()


def test_upgrade_leaves_other_tables_alone(sqlite_url):
    engine = make_engine(sqlite_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, data TEXT)"))
    finally:
        engine.dispose()
    upgrade_to_head(sqlite_url)
    downgrade(sqlite_url)
    assert _tables(sqlite_url) >= {"events"}
    assert not (MSP_TABLES & _tables(sqlite_url))


# --- the db module ------------------------------------------------------------


def test_default_url_is_var_msp_db_in_project_root(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url() == f"sqlite:///{PROJECT_ROOT / 'var' / 'msp.db'}"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/other.db")
    assert database_url() == f"sqlite:///{PROJECT_ROOT / 'var' / 'other.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/msp")
    assert database_url() == "postgresql://u:p@db.example/msp"
    assert records_db.safe_url() == "postgresql://u:***@db.example/msp"


def test_importing_creates_nothing(tmp_path):
    target = tmp_path / "should-not-exist.db"
    code = (
        "import bot.records, bot.records.invitations, bot.records.reporting, bot.cli\n"
        "from bot.records import db\n"
        "assert not db._engines\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={"DATABASE_URL": f"sqlite:///{target}", "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert not target.exists()


def test_engine_is_cached_and_sqlite_foreign_keys_are_on(sqlite_db):
    assert records_db.get_engine() is records_db.get_engine(sqlite_db)
    with session_scope() as session:
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(Exception, match="FOREIGN KEY"):
        with session_scope() as session:
            session.execute(text(
                "INSERT INTO participants (enquiry_id, role, created_at) "
                "VALUES (999, 'person', '2024-01-01 00:00:00')"))


def test_session_scope_commits_or_rolls_back(sqlite_db):
    from bot.records import create_enquiry, get_enquiry_by_reference

    with pytest.raises(RuntimeError):
        with session_scope() as session:
            create_enquiry(session, "ROLLED-BACK")
            raise RuntimeError("boom")
    with session_scope() as session:
        create_enquiry(session, "KEPT")
    with session_scope() as session:
        assert get_enquiry_by_reference(session, "ROLLED-BACK") is None
        assert get_enquiry_by_reference(session, "KEPT") is not None


def test_read_only_sessions_do_not_block_writers_on_sqlite(sqlite_db):
    """A read-only session left open does not hold the write lock (WAL + deferred BEGIN)."""
    from bot.records import create_enquiry, get_enquiry_by_reference

    with session_scope(read_only=True) as reader:
        assert get_enquiry_by_reference(reader, "R-1") is None
        with session_scope() as writer:  # would wait 30 s if the reader held the lock
            create_enquiry(writer, "R-1")
        reader.rollback()
        assert get_enquiry_by_reference(reader, "R-1") is not None
    with session_scope(read_only=True) as reader:
        create_enquiry(reader, "R-2")  # read-only scope never commits
    with session_scope(read_only=True) as reader:
        assert get_enquiry_by_reference(reader, "R-2") is None


def test_sms_turns_outside_a_survey_need_0016_and_block_its_downgrade(sqlite_url):
    """0016: a message outside a survey gets a turn record (survey_id NULL), is
    pending until done, and a downgrade past 0016 is refused while one exists
    (the table is append-only and the old column could not hold it)."""
    from bot.records import sms as sms_records

    upgrade_to_head(sqlite_url)
    with session_scope(sqlite_url) as session:
        sms_records.receive(session, "SMturn1", "+447700900123", "can I talk to a person", None, None, None)
        sms_records.route_turn(session, "SMturn1", None)
    with session_scope(sqlite_url) as session:
        pending = sms_records.pending_turns(session)
        assert [(t.message_sid, t.survey_id) for t in pending] == [("SMturn1", None)]
        assert sms_records.finish_turn(session, "SMturn1")
        assert not sms_records.finish_turn(session, "SMturn1")
    with session_scope(sqlite_url) as session:
        assert sms_records.pending_turns(session) == []
    records_db.dispose_engines()
    with pytest.raises(RuntimeError, match="outside a survey"):
        downgrade(sqlite_url, "0015_record_gaps")
    records_db.dispose_engines()
    assert current_revision(sqlite_url) == head_revision()
