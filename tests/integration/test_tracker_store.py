"""The conversations store (bot/components/tracker_store.py): WAL on SQLite, and
a message the server has answered is on disk even if the server is killed.

The server tests start their own Rasa and action servers (the shared
``stack`` fixture must stay alive), kill Rasa with SIGKILL and read
``tracker.db`` afterwards, as a restarted server would.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from bot.components.tracker_store import (
    DEFAULT_SYNCHRONOUS,
    SYNCHRONOUS_LEVELS,
    WALSQLTrackerStore,
    parse_synchronous,
)
from scripts.stack import ROOT, Stack, free_port, new_token

pytestmark = pytest.mark.integration


def configured() -> dict:
    """The tracker_store section of endpoints.yml as written (no ${VARS} expanded)."""
    return yaml.safe_load((ROOT / "endpoints.yml").read_text())["tracker_store"]


def user_texts(db_path: Path, sender: str) -> list:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        rows = db.execute("select data from events where sender_id = ? and type_name = 'user' "
                          "order by id", (sender,)).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


# --- in process: how Rasa loads it from endpoints.yml ------------------------

def test_rasa_loads_our_store_from_endpoints_yml(tmp_path, monkeypatch):
    """Rasa's own loader, on endpoints.yml itself: our class, WAL, the configured level.

    (A wrong module path would make Rasa fall back to an in-memory store with
    only a warning: nothing would be kept.)
    """
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    monkeypatch.setenv("MSP_TRACKER_DB", str(tmp_path / "tracker.db"))
    monkeypatch.setenv("ACTIONS_PORT", "5055")
    store = TrackerStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store"))
    try:
        assert type(store) is WALSQLTrackerStore
        assert store.synchronous == parse_synchronous(configured().get("sqlite_synchronous"))
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == \
                SYNCHRONOUS_LEVELS[store.synchronous]
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == store.busy_timeout_ms
        assert isinstance(store.engine.pool, sa.pool.QueuePool)
    finally:
        store.engine.dispose()


def test_synchronous_levels_are_checked(tmp_path):
    assert parse_synchronous(None) == DEFAULT_SYNCHRONOUS
    assert parse_synchronous("full") == "FULL"
    for bad in ("OFF", "0", "fast"):
        with pytest.raises(ValueError):
            WALSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "t.db"), sqlite_synchronous=bad)


def _two_sessions(sender: str) -> list:
    from rasa.shared.core.events import (ActionExecuted, BotUttered, SessionStarted, SlotSet,
                                         UserUttered)

    t = 1_700_000_000.0
    parse = {"intent": {"name": "ask_kind", "confidence": 0.9},
             "entities": [{"entity": "abuse_kind", "value": "financial"}],
             "text": "what is financial abuse", "intent_ranking": []}
    first = [ActionExecuted("action_session_start", timestamp=t), SessionStarted(timestamp=t + 1),
             ActionExecuted("action_listen", timestamp=t + 2),
             UserUttered("what is financial abuse", parse["intent"], parse["entities"], parse,
                         timestamp=t + 3),
             SlotSet("abuse_kind", "financial", timestamp=t + 4),
             ActionExecuted("utter_financial_abuse", timestamp=t + 5),
             BotUttered("Financial abuse is ...", {"buttons": []}, {"utter_action": "x"},
                        timestamp=t + 6),
             ActionExecuted("action_listen", timestamp=t + 7)]
    second = [ActionExecuted("action_session_start", timestamp=t + 100),
              SessionStarted(timestamp=t + 101), ActionExecuted("action_listen", timestamp=t + 102),
              UserUttered("hello again", {"name": "greet", "confidence": 1.0}, timestamp=t + 103),
              ActionExecuted("action_listen", timestamp=t + 104)]
    return [first[:4], first[4:], second[:3], second[3:]]


def test_rasas_own_store_and_ours_read_and_write_the_same_rows(tmp_path, domain):
    """Our SQLite fast path (SQLAlchemy Core) against Rasa's ORM path, on one file."""
    from rasa.core.tracker_store import SQLTrackerStore

    db = str(tmp_path / "tracker.db")
    ours = WALSQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    rasas = SQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    reference = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "rasa-only.db"))
    try:
        assert ours.on_sqlite
        for sender, writers in (("a", [ours, rasas, ours, rasas]), ("b", [rasas, ours, rasas, ours])):
            for writer, events in zip(writers, _two_sessions(sender)):
                for store in (writer, reference):
                    tracker = asyncio.run(store.retrieve(sender)) or store.init_tracker(sender)
                    for evt in events:
                        tracker.update(evt)
                    asyncio.run(store.save(tracker))
            for method in ("retrieve", "retrieve_full_tracker"):
                got = [[e.as_dict() for e in asyncio.run(getattr(s, method)(sender)).events]
                       for s in (ours, rasas, reference)]
                assert got[0] == got[1] == got[2], method
            latest = asyncio.run(ours.retrieve(sender))
            assert [e.as_dict().get("text") for e in latest.events if e.type_name == "user"] == \
                ["hello again"]
        assert asyncio.run(ours.retrieve("nobody")) is None

        def rows(path):
            with contextlib.closing(sqlite3.connect(path)) as conn:
                return conn.execute("select sender_id, type_name, timestamp, intent_name, "
                                    "action_name, data from events order by sender_id, id").fetchall()
        assert rows(db) == rows(str(tmp_path / "rasa-only.db"))
    finally:
        for store in (ours, rasas, reference):
            store.engine.dispose()


def test_postgresql_is_left_as_rasa_makes_it(tmp_path):
    """On PostgreSQL: Rasa's engine and pool, no PRAGMAs; the sqlite_* keys are ignored."""
    sys.path.insert(0, str(ROOT / "tests" / "records"))
    try:
        from msp_pgserver import PostgresUnavailable, start_postgres
    finally:
        sys.path.remove(str(ROOT / "tests" / "records"))
    from rasa.core.tracker_store import POSTGRESQL_DEFAULT_POOL_SIZE
    from rasa.shared.core.events import UserUttered

    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL could not be started here: {exc}")
    try:
        store = WALSQLTrackerStore(host=server.create_database("tracker"), dialect="postgresql",
                                   sqlite_synchronous="FULL", sqlite_busy_timeout_ms=1)
        try:
            assert store.engine.dialect.name == "postgresql"
            assert isinstance(store.engine.pool, sa.pool.QueuePool)
            assert store.engine.pool.size() == int(POSTGRESQL_DEFAULT_POOL_SIZE)
            assert not store.on_sqlite
            assert not sa.event.contains(store.engine, "connect", store._on_connect)
            tracker = store.init_tracker("pg-sender")
            tracker.update(UserUttered("kept in PostgreSQL"))
            asyncio.run(store.save(tracker))
            again = asyncio.run(store.retrieve("pg-sender"))
            assert again.latest_message.text == "kept in PostgreSQL"
        finally:
            store.engine.dispose()
    finally:
        server.stop()


# --- the real server -------------------------------------------------------

@pytest.fixture(scope="module")
def own_stack(trained_model, tmp_path_factory):
    """Not the shared ``stack``: the last test here kills this one."""
    var_dir = tmp_path_factory.mktemp("tracker-var")
    s = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(),
              var_dir=var_dir, token=new_token(), log_dir=var_dir / "logs",
              rest_token=new_token())
    s.start()
    yield s
    s.stop()


def test_server_keeps_conversations_in_wal_mode(own_stack):
    sender = f"rest-wal-{uuid.uuid4().hex}"
    assert own_stack.send(sender, "what is neglect")
    with contextlib.closing(sqlite3.connect(own_stack.db_path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert user_texts(own_stack.db_path, sender) == ["what is neglect"]
    level = parse_synchronous(configured().get("sqlite_synchronous"))
    log = (own_stack.log_dir / "rasa.log").read_text(errors="replace")
    assert f"{own_stack.db_path}: journal_mode=wal, synchronous={level} " in log


def test_zz_an_answered_message_survives_sigkill_of_the_server(own_stack):
    """Nothing lost: once Rasa has replied, the message is committed, even if Rasa dies.

    Runs last in this module: it kills the server.
    """
    sender = f"rest-kill-{uuid.uuid4().hex}"
    words = f"my neighbour takes my pension {uuid.uuid4().hex[:8]}"
    assert own_stack.send(sender, "hello")
    assert own_stack.send(sender, words)  # the reply comes after Rasa's commit

    rasa = own_stack.procs["rasa"]
    os.killpg(rasa.pid, signal.SIGKILL)  # no chance to close, checkpoint or flush anything
    rasa.wait(15)
    # The commits are in the write-ahead log, which Rasa never got to copy back.
    assert own_stack.db_path.with_name("tracker.db-wal").stat().st_size > 0

    assert user_texts(own_stack.db_path, sender) == ["hello", words]
