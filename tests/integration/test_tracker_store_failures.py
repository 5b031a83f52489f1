"""Nothing lost when the conversations database fails (bot/components/tracker_store.py).

Real SQLite files and real failures: another connection holding the write
lock ("database is locked"), a database path that cannot be opened, a spool
directory that cannot be written. Then the real server over REST, with the
database locked while a person keeps talking.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from sqlalchemy.exc import SQLAlchemyError

from bot.components.tracker_store import Spool, WALSQLTrackerStore
from scripts.stack import ROOT, Stack, free_port, new_token

pytestmark = pytest.mark.integration


def user_texts(db_path: Path, sender: str) -> list:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        rows = db.execute("select data from events where sender_id = ? and type_name = 'user' "
                          "order by id", (sender,)).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


def stored_events(db_path: Path, sender: str) -> list:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        rows = db.execute("select data from events where sender_id = ? order by id",
                          (sender,)).fetchall()
    return [json.loads(data) for (data,) in rows]


@contextlib.contextmanager
def write_locked(db_path: Path):
    """Another process's view: a connection holding SQLite's write lock."""
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@contextlib.contextmanager
def unreachable(db_path: Path):
    """The database file is gone and its path cannot be opened (a directory is there)."""
    moved = []
    for suffix in ("", "-wal", "-shm"):
        path = Path(str(db_path) + suffix)
        if path.exists():
            path.rename(str(path) + ".away")
            moved.append(path)
    db_path.mkdir()
    try:
        yield
    finally:
        db_path.rmdir()
        for path in moved:
            Path(str(path) + ".away").rename(path)


def say(store, sender: str, text: str, tracker=None):
    """One turn, as Rasa's processor does it: load (or start), add the message, save."""
    tracker = tracker or asyncio.run(store.retrieve(sender)) or store.init_tracker(sender)
    tracker.update(UserUttered(text, {"name": "inform", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))
    return tracker


def started_afresh(store, sender: str, text: str):
    """What Rasa does when a load fails: a new tracker, a new session, then the message."""
    fresh = store.init_tracker(sender)
    fresh.update(ActionExecuted("action_session_start"))
    fresh.update(SessionStarted())
    fresh.update(ActionExecuted("action_listen"))
    fresh.update(UserUttered(text, {"name": "inform", "confidence": 1.0}))
    return fresh


def new_store(db: Path, domain, **kwargs) -> WALSQLTrackerStore:
    return WALSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db),
                              sqlite_busy_timeout_ms=50, **kwargs)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "tracker.db"


def test_a_save_the_database_refuses_is_spooled_served_and_moved_in_order(db, domain, caplog):
    store = new_store(db, domain)
    spool = Path(str(db) + ".spool.jsonl")
    try:
        say(store, "p1", "hello")
        with write_locked(db), caplog.at_level(logging.ERROR):
            say(store, "p1", "he takes my money")  # the database refuses the write
            assert user_texts(db, "p1") == ["hello"]
            assert spool.exists() and "he takes my money" in spool.read_text(encoding="utf-8")
            assert "Could not save conversation p1" in caplog.text
            # The next turn carries on from the spool, not from the database.
            again = asyncio.run(store.retrieve("p1"))
            assert [e.text for e in again.events if e.type_name == "user"] == \
                ["hello", "he takes my money"]
            say(store, "p1", "I want him to stop 😊", tracker=again)
            say(store, "p2", "a second person, never stored yet")
        # The lock is gone: the next load moves everything in, in the order typed.
        asyncio.run(store.retrieve("p1"))
        assert user_texts(db, "p1") == ["hello", "he takes my money", "I want him to stop 😊"]
        say(store, "p1", "thank you")  # a normal save afterwards adds only the new turn
        assert user_texts(db, "p1") == ["hello", "he takes my money", "I want him to stop 😊",
                                        "thank you"]
        # p2 was moved by that save (one pending conversation per save that works).
        assert user_texts(db, "p2") == ["a second person, never stored yet"]
        assert len(store.spool) == 0 and not spool.exists()
        # The whole conversation, every event, once each, in order.
        full = asyncio.run(store.retrieve("p1"))
        assert [e["event"] for e in stored_events(db, "p1")] == \
            [e.as_dict()["event"] for e in full.events]
    finally:
        store.engine.dispose()


def test_spooled_conversations_are_stored_when_the_server_starts_again(db, domain):
    store = new_store(db, domain)
    say(store, "p1", "hello")
    with write_locked(db):
        say(store, "p1", "typed while the database was locked")
    store.engine.dispose()  # the server stops (or crashes) before the database is back
    assert user_texts(db, "p1") == ["hello"]

    restarted = new_store(db, domain)
    try:
        assert user_texts(db, "p1") == ["hello", "typed while the database was locked"]
        assert len(restarted.spool) == 0 and not Path(str(db) + ".spool.jsonl").exists()
        # Moving again stores nothing twice.
        restarted.spool.add("p1", [e.as_dict() for e in asyncio.run(restarted.retrieve("p1")).events])
        assert restarted.flush_spool() == 0
        assert user_texts(db, "p1") == ["hello", "typed while the database was locked"]
    finally:
        restarted.engine.dispose()


def test_when_the_database_cannot_be_read_a_conversation_carries_on(db, domain):
    store = new_store(db, domain)
    try:
        say(store, "p1", "hello")
        store.engine.dispose()  # no open connection survives: every query must open the file
        with unreachable(db):
            # This process saved p1 last: it carries on from that copy.
            tracker = asyncio.run(store.retrieve("p1"))
            assert [e.text for e in tracker.events if e.type_name == "user"] == ["hello"]
            say(store, "p1", "still here", tracker=tracker)
        asyncio.run(store.retrieve("p1"))
        assert user_texts(db, "p1") == ["hello", "still here"]
    finally:
        store.engine.dispose()


def test_a_conversation_started_afresh_during_an_outage_is_stored_after_the_old_one(db, domain):
    store = new_store(db, domain, recent_conversations=0)  # no copy in this process
    try:
        t = 1_700_000_000.0
        old = store.init_tracker("p1")
        for evt in (ActionExecuted("action_session_start", timestamp=t), SessionStarted(timestamp=t),
                    ActionExecuted("action_listen", timestamp=t + 1),
                    UserUttered("first visit", {"name": "inform", "confidence": 1.0}, timestamp=t + 2),
                    ActionExecuted("action_listen", timestamp=t + 3)):
            old.update(evt)
        asyncio.run(store.save(old))
        store.engine.dispose()
        with unreachable(db):
            with pytest.raises(SQLAlchemyError):
                asyncio.run(store.retrieve("p1"))  # Rasa's FailSafe store then starts afresh
            fresh = started_afresh(store, "p1", "during the outage")
            asyncio.run(store.save(fresh))
        # The database is back, and Rasa's next save would count on it: it must not
        # skip the fresh session's first events (they are not in the database yet).
        fresh.update(ActionExecuted("action_listen"))
        fresh.update(UserUttered("after it", {"name": "inform", "confidence": 1.0}))
        asyncio.run(store.save(fresh))
        assert user_texts(db, "p1") == ["first visit", "during the outage", "after it"]
        kinds = [e["event"] for e in stored_events(db, "p1")]
        assert kinds.count("session_started") == 2
        assert kinds[:5] == ["action", "session_started", "action", "user", "action"]
    finally:
        store.engine.dispose()


def test_a_load_that_failed_just_before_the_database_came_back_loses_nothing(db, domain):
    """Load fails, Rasa starts afresh, the database is back by the save: Rasa's own
    counting would skip the fresh session's first events (the old session has more)."""
    store = new_store(db, domain, recent_conversations=0)
    try:
        for text in ("one", "two", "three"):
            say(store, "p1", text)
        store.engine.dispose()
        with unreachable(db):
            with pytest.raises(SQLAlchemyError):
                asyncio.run(store.retrieve("p1"))
        fresh = started_afresh(store, "p1", "typed just as it came back")
        asyncio.run(store.save(fresh))
        assert user_texts(db, "p1") == ["one", "two", "three", "typed just as it came back"]
        # And the conversation goes on normally from the database.
        say(store, "p1", "and then this")
        assert user_texts(db, "p1")[-2:] == ["typed just as it came back", "and then this"]
    finally:
        store.engine.dispose()


def test_if_the_spool_cannot_be_written_either_the_error_reaches_rasa(db, domain, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the spool's directory should be")
    store = new_store(db, domain, spool_path=str(blocker / "spool.jsonl"))
    try:
        say(store, "p1", "hello")
        with write_locked(db), pytest.raises(OSError):
            say(store, "p1", "nowhere to put this")
    finally:
        store.engine.dispose()


def test_a_torn_last_line_in_the_spool_is_ignored(tmp_path):
    path = tmp_path / "spool.jsonl"
    good = {"sender_id": "p1", "events": [{"event": "user", "text": "kept", "timestamp": 1.0}]}
    done = {"sender_id": "p0", "done": True}
    path.write_text(json.dumps({"sender_id": "p0", "events": []}) + "\n" + json.dumps(good) + "\n"
                    + json.dumps(done) + "\n" + '{"sender_id": "p2", "eve', encoding="utf-8")
    spool = Spool(path)
    assert spool.senders() == ["p1"] and spool.events("p1") == good["events"]
    spool.done("p1")
    assert not path.exists() and len(spool) == 0


# --- the real server -------------------------------------------------------

@pytest.fixture(scope="module")
def locked_stack(trained_model, tmp_path_factory):
    """Its own servers, with a short SQLite busy timeout so a locked database fails fast."""
    var_dir = tmp_path_factory.mktemp("tracker-fail-var")
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["tracker_store"]["sqlite_busy_timeout_ms"] = 200
    path = var_dir / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints))
    s = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(),
              var_dir=var_dir, token=new_token(), log_dir=var_dir / "logs",
              rest_token=new_token())
    s.endpoints = str(path)
    s.start()
    yield s
    s.stop()
    shutil.rmtree(var_dir / "logs", ignore_errors=True)


def test_the_server_answers_and_keeps_every_message_while_the_database_is_locked(locked_stack):
    stack = locked_stack
    sender = f"rest-locked-{uuid.uuid4().hex}"
    assert stack.send(sender, "hello")
    words = ["my son takes my pension", "what is financial abuse", "<b>thanks</b> 😊"]
    with write_locked(stack.db_path):
        for text in words:
            reply = stack.send(sender, text)
            assert reply and all("Traceback" not in (m.get("text") or "") for m in reply)
        assert user_texts(stack.db_path, sender) == ["hello"]
        spool = Path(str(stack.db_path) + ".spool.jsonl")
        assert spool.exists() and words[-1] in spool.read_text(encoding="utf-8")
    assert stack.send(sender, "bye")
    assert user_texts(stack.db_path, sender) == ["hello", *words, "bye"]
    assert not Path(str(stack.db_path) + ".spool.jsonl").exists()
    # The conversation carried on while locked: the tracker Rasa serves has it all, once.
    tracker = stack.tracker(sender)
    assert [e.get("text") for e in tracker["events"] if e["event"] == "user"] == \
        ["hello", *words, "bye"]
    log = (stack.log_dir / "rasa.log").read_text(errors="replace")
    assert f"Could not save conversation {sender}" in log
    assert os.path.exists(stack.db_path)
