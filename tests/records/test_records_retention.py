"""Retention: the purge and erasure (bot/records/retention.py), on SQLite and PostgreSQL, with a
controlled clock.

Conversations are written through the project's real tracker store class (Rasa's SQL store): on
SQLite in their own file, as ``make run`` keeps them; on PostgreSQL in the records database, as a
deployment that shares one database does.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.records import add_participant, close_enquiry, create_enquiry, session_scope
from bot.records import retention, transcripts
from bot.records.errors import AppendOnlyError, NotFound
from bot.records.invitations import create_invitation, hash_client
from bot.records.models import AuditEvent, CodeFailure, DesiredOutcome, InvitationLink, RetentionLog, \
    RetentionPending

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=timezone.utc)
POLICY = retention.Policy(retention_days=90, enquiry_retention_days=365)


@pytest.fixture
def tracker_url(db_url, tmp_path):
    if make_url(db_url).get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return db_url


@pytest.fixture
def store(tracker_url):
    from bot.components.tracker_store import WALSQLTrackerStore

    made = WALSQLTrackerStore(**transcripts.store_arguments(tracker_url))
    yield made
    made.engine.dispose()
    transcripts.dispose_tracker_engines()


def chat(store, sender: str, *, days_ago: float, text_: str = "my son takes my pension", now=NOW) -> None:
    """A short conversation whose last event was ``days_ago`` days before ``now``."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    end = (now - timedelta(days=days_ago)).timestamp()
    tracker = store.init_tracker(sender)
    for event in (ActionExecuted("action_listen", timestamp=end - 60),
                  UserUttered(text_, {"name": "inform_harm", "confidence": 1.0}, timestamp=end - 30,
                              message_id=f"{sender}-m1"),
                  BotUttered("Thank you for telling me.", timestamp=end)):
        tracker.update(event)
    asyncio.run(store.save(tracker))


def senders(tracker_url):
    with transcripts.connect(tracker_url) as connection:
        return set(transcripts.all_sender_ids(connection))


def run(db_url, tracker_url, **kwargs):
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("policy", POLICY)
    return retention.purge(records_url=db_url, tracker_url=tracker_url, **kwargs)


def link(db_url, sender: str, reference: str, *, closed_days_ago=None) -> int:
    """An enquiry, and an invitation redeemed in conversation ``sender`` (as the action does)."""
    with session_scope(db_url) as db:
        enquiry = create_enquiry(db, reference)
        add_participant(db, enquiry.id, "person")
        issued = create_invitation(db, enquiry.id, days=1)
        db.add(InvitationLink(invitation_id=issued.invitation.id, enquiry_id=enquiry.id,
                              conversation_hash=hash_client(sender), session_ref="s",
                              expires_at=NOW - timedelta(days=100)))
        db.add(CodeFailure(client_hash=hash_client(sender), attempted_at=NOW - timedelta(days=100)))
        if closed_days_ago is not None:
            close_enquiry(db, enquiry.id, when=NOW - timedelta(days=closed_days_ago))
        return enquiry.id


def log(db_url):
    with session_scope(db_url, read_only=True) as db:
        return [(r.kind, r.conversation_hash, r.events, r.links, r.code_failures, r.recorded_by)
                for r in db.execute(select(RetentionLog).order_by(RetentionLog.id)).scalars()]


def test_purge_keeps_recent_and_deletes_old_counted_from_the_last_event(db_url, tracker_url, store):
    chat(store, "web-old", days_ago=91)
    chat(store, "web-edge", days_ago=89.9)
    chat(store, "web-new", days_ago=1)
    result = run(db_url, tracker_url)
    assert senders(tracker_url) == {"web-edge", "web-new"}
    assert [c.sender_id for c in result.to_delete] == ["web-old"] and result.events_removed == 3
    assert log(db_url) == [("purge", hash_client("web-old"), 3, 0, 0, "scheduler")]
    # Nothing left half-done, the lock is free again, and a second run finds nothing to do.
    assert retention.pending_count(db_url) == 0
    assert run(db_url, tracker_url).removed == []


def test_dry_run_deletes_nothing_and_says_what_would_go(db_url, tracker_url, store):
    chat(store, "web-old", days_ago=200)
    chat(store, "web-new", days_ago=3)
    result = run(db_url, tracker_url, dry_run=True)
    assert [(c.sender_id, c.decision, c.events) for c in result.candidates] == [("web-old", "delete", 3)]
    assert senders(tracker_url) == {"web-old", "web-new"} and log(db_url) == []


def test_open_enquiry_keeps_the_conversation_and_its_link(db_url, tracker_url, store):
    chat(store, "web-linked", days_ago=400)
    link(db_url, "web-linked", "SG-OPEN")
    result = run(db_url, tracker_url)
    assert [c.decision for c in result.candidates] == [retention.KEEP_OPEN]
    assert senders(tracker_url) == {"web-linked"} and log(db_url) == []


def test_closed_enquiry_keeps_it_until_the_enquiry_retention_ends_then_it_goes(db_url, tracker_url, store):
    chat(store, "web-closed", days_ago=400)
    link(db_url, "web-closed", "SG-CLOSED", closed_days_ago=300)  # retention ends in 65 days
    result = run(db_url, tracker_url)
    assert [c.decision for c in result.candidates] == [retention.KEEP_ENQUIRY]
    assert result.candidates[0].keep_until == NOW + timedelta(days=65)
    assert senders(tracker_url) == {"web-closed"}

    later = run(db_url, tracker_url, now=NOW + timedelta(days=66))
    assert [c.decision for c in later.candidates] == [retention.DELETE]
    assert senders(tracker_url) == set()
    # The link and the code failures tied to it went too; the enquiry and its invitation stay.
    assert log(db_url) == [("purge", hash_client("web-closed"), 3, 1, 1, "scheduler")]
    with session_scope(db_url, read_only=True) as db:
        assert db.execute(select(func.count()).select_from(InvitationLink)).scalar_one() == 0
        assert db.execute(select(func.count()).select_from(CodeFailure)).scalar_one() == 0


def test_outcomes_recorded_from_the_conversation_stay_as_enquiry_evidence(db_url, tracker_url, store):
    from bot.records import record_outcome

    chat(store, "web-evidence", days_ago=900)
    enquiry_id = link(db_url, "web-evidence", "SG-EVIDENCE", closed_days_ago=800)
    with session_scope(db_url) as db:
        person = add_participant(db, enquiry_id, "person")
        record_outcome(db, enquiry_id, "For him to stop", participant_id=person.id, recorded_by="assistant",
                       channel="web", source_ref="web-evidence-m1")
    run(db_url, tracker_url)
    assert senders(tracker_url) == set()
    with session_scope(db_url, read_only=True) as db:
        assert [o.text for o in db.execute(select(DesiredOutcome)).scalars()] == ["For him to stop"]


def test_a_purge_interrupted_between_conversations_is_finished_by_the_next_run(db_url, tracker_url, store):
    for n in range(5):
        chat(store, f"web-old{n}", days_ago=100 + n)
    chat(store, "web-new", days_ago=1)
    done = []

    def stop_after_two(removed):
        done.append(removed)
        if len(done) == 2:
            raise KeyboardInterrupt("the process was stopped")

    with pytest.raises(KeyboardInterrupt):
        run(db_url, tracker_url, after_each=stop_after_two)
    assert len(senders(tracker_url)) == 4 and len(log(db_url)) == 2  # two gone, each logged once
    assert retention.pending_count(db_url) == 0

    result = run(db_url, tracker_url)
    assert senders(tracker_url) == {"web-new"} and len(result.removed) == 3
    assert sorted(h for _, h, *_ in log(db_url)) == sorted(hash_client(f"web-old{n}") for n in range(5))


def test_a_purge_interrupted_inside_one_conversation_is_finished_by_the_next_run(db_url, tracker_url, store,
                                                                                monkeypatch):
    chat(store, "web-a", days_ago=120)
    chat(store, "web-b", days_ago=110)
    link(db_url, "web-a", "SG-A", closed_days_ago=400)
    real_finish = retention._finish

    def crash_once(*args, **kwargs):
        monkeypatch.setattr(retention, "_finish", real_finish)
        raise RuntimeError("power cut after the events were deleted")

    monkeypatch.setattr(retention, "_finish", crash_once)
    with pytest.raises(RuntimeError):
        run(db_url, tracker_url)
    # web-a's events are gone, its link and pending row are still there: consistent, not finished.
    assert senders(tracker_url) == {"web-b"} and retention.pending_count(db_url) == 1 and log(db_url) == []

    result = run(db_url, tracker_url)
    assert result.resumed == 1 and senders(tracker_url) == set()
    assert log(db_url) == [("purge", hash_client("web-a"), 3, 1, 1, "scheduler"),
                           ("purge", hash_client("web-b"), 3, 0, 0, "scheduler")]
    assert retention.pending_count(db_url) == 0


def test_a_person_who_comes_back_after_the_plan_keeps_their_conversation(db_url, tracker_url, store, monkeypatch):
    chat(store, "web-back", days_ago=100)
    real_delete = retention._delete_events

    def message_arrives_first(engine, sender_id, cutoff):
        with store.engine.begin() as connection:  # what Rasa stores for a new message
            connection.execute(transcripts.events.insert().values(
                sender_id=sender_id, type_name="user", timestamp=NOW.timestamp(), data='{"text": "hello again"}'))
        return real_delete(engine, sender_id, cutoff)

    monkeypatch.setattr(retention, "_delete_events", message_arrives_first)
    result = run(db_url, tracker_url)
    assert result.came_back == 1 and result.removed == [] and log(db_url) == []
    assert senders(tracker_url) == {"web-back"} and retention.pending_count(db_url) == 0


def test_two_purges_never_run_at_once(db_url, tracker_url, store):
    chat(store, "web-old", days_ago=100)
    assert retention.acquire_lock(db_url, "another-run")
    result = run(db_url, tracker_url)
    assert result.lock_busy and senders(tracker_url) == {"web-old"}
    retention.release_lock(db_url, "another-run")
    assert run(db_url, tracker_url).events_removed == 3


def test_a_lapsed_lock_is_taken_over(db_url, tracker_url, store):
    chat(store, "web-old", days_ago=100)
    assert retention.acquire_lock(db_url, "a-run-that-died", lease=timedelta(seconds=-1))
    assert not run(db_url, tracker_url).lock_busy and senders(tracker_url) == set()


def test_the_log_is_append_only(db_url, tracker_url, store):
    chat(store, "web-old", days_ago=100)
    run(db_url, tracker_url)
    with pytest.raises(AppendOnlyError):
        with session_scope(db_url) as db:
            db.delete(db.execute(select(RetentionLog)).scalar_one())
    with pytest.raises(Exception, match="append-only"):
        with session_scope(db_url) as db:  # past the ORM and Core guards: the database trigger
            db.connection().exec_driver_sql("DELETE FROM retention_log")


def test_erasure_removes_one_conversation_now_and_audits_who_when_which_and_why(db_url, tracker_url, store):
    chat(store, "web-erase", days_ago=1, text_="please delete what I wrote")
    chat(store, "web-stay", days_ago=1)
    link(db_url, "web-erase", "SG-ERASE")  # even while the enquiry is open: the request decides
    removed = retention.erase("web-erase", reason="Request from the person, ref DSR-12", username="ada",
                              client="127.0.0.1", now=NOW, records_url=db_url, tracker_url=tracker_url)
    assert (removed.kind, removed.events, removed.links, removed.code_failures) == ("erasure", 3, 1, 1)
    assert senders(tracker_url) == {"web-stay"}
    with session_scope(db_url, read_only=True) as db:
        row = db.execute(select(AuditEvent).where(AuditEvent.action == "conversation.erased")).scalar_one()
        assert (row.username, row.target, row.client, row.at) == ("ada", "conversation:web-erase", "127.0.0.1", NOW)
        assert "DSR-12" in row.detail and "please delete" not in row.detail
        logged = db.execute(select(RetentionLog)).scalar_one()
        assert (logged.kind, logged.recorded_by, logged.events) == ("erasure", "ada", 3)
    with pytest.raises(NotFound):
        retention.erase("web-erase", reason="again", username="ada", records_url=db_url, tracker_url=tracker_url)


def test_an_erasure_interrupted_after_its_audit_row_is_finished_by_the_next_purge(db_url, tracker_url, store,
                                                                                   monkeypatch):
    chat(store, "web-erase", days_ago=1)

    def crash(*args, **kwargs):
        raise RuntimeError("stopped")

    monkeypatch.setattr(retention, "_delete_events", crash)
    with pytest.raises(RuntimeError):
        retention.erase("web-erase", reason="DSR-13", username="ada", records_url=db_url,
                        tracker_url=tracker_url, now=NOW)
    monkeypatch.undo()
    with session_scope(db_url, read_only=True) as db:
        assert db.execute(select(RetentionPending.kind)).scalar_one() == "erasure"
        assert db.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 1
    result = run(db_url, tracker_url)  # the conversation is recent: only the pending erasure removes it
    assert result.resumed == 1 and senders(tracker_url) == set()
    assert [row[0] for row in log(db_url)] == ["erasure"]


def test_the_index_on_rasas_events_table_is_added_by_migration_0008_and_by_the_purge(db_url, tracker_url, store):
    from sqlalchemy import inspect

    from bot.records.schema import downgrade, upgrade
    from bot.records.tracker_index import FLAG_INDEXES, INDEX_NAME

    def indexes(url):
        engine = transcripts.get_tracker_write_engine(url)
        with engine.connect() as connection:
            return {i["name"] for i in inspect(connection).get_indexes("events")}

    chat(store, "web-a", days_ago=1)
    assert not (set(FLAG_INDEXES) | {INDEX_NAME}) & indexes(tracker_url) or tracker_url == db_url
    run(db_url, tracker_url)
    assert INDEX_NAME in indexes(tracker_url)
    assert set(FLAG_INDEXES) <= indexes(tracker_url)  # the list's flag filters: the purge adds them
    if tracker_url == db_url:  # the events table shares the records database: the migration handles it
        downgrade(db_url, "0007_portal_enquiries")
        transcripts.dispose_tracker_engines()
        assert INDEX_NAME not in indexes(tracker_url) and "ix_events_sender_id" in indexes(tracker_url)
        upgrade(db_url)
        transcripts.dispose_tracker_engines()
        assert INDEX_NAME in indexes(tracker_url)
    with session_scope(db_url, read_only=True) as db:
        assert db.execute(text("SELECT count(*) FROM retention_locks")).scalar_one() == 1


def test_msp_retention_purge_dry_run_then_purge_and_erase(db_url, tracker_url, store, monkeypatch, capsys):
    from bot.cli import main
    from bot.records.models import utcnow

    monkeypatch.setenv("MSP_TRACKER_URL", tracker_url)
    chat(store, "web-old", days_ago=120, now=utcnow())
    chat(store, "web-new", days_ago=2, now=utcnow())
    assert main(["retention", "purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete web-old" in out and "web-new" not in out and "Nothing was deleted" in out
    assert senders(tracker_url) == {"web-old", "web-new"}
    assert main(["retention", "purge"]) == 0
    assert ("Deleted 1 conversation(s), 3 event(s); with them 0 live chat(s) with staff, 0 call-back request(s) "
            "or decline(s) and 0 advocacy referral(s) made in the chat.") in capsys.readouterr().out
    assert senders(tracker_url) == {"web-new"}

    assert main(["retention", "erase", "web-new", "--reason", "asked by phone"]) == 1  # no terminal, no --yes
    assert "add --yes" in capsys.readouterr().err and senders(tracker_url) == {"web-new"}
    assert main(["retention", "erase", "web-new", "--reason", "asked by phone", "--yes"]) == 0
    assert "Erased: 3 events" in capsys.readouterr().out and senders(tracker_url) == set()
    assert main(["retention", "erase", "web-none", "--reason", "x", "--yes"]) == 1
    assert "no conversation with that id" in capsys.readouterr().err
    with session_scope(db_url, read_only=True) as db:
        row = db.execute(select(AuditEvent).where(AuditEvent.action == "conversation.erased")).scalar_one()
        assert row.target == "conversation:web-new" and "asked by phone" in row.detail


def test_the_scheduler_started_by_make_run_purges_on_its_own(sqlite_db, tmp_path):
    """``python -m bot.surveys.scheduler`` (scripts/stack.py starts it) runs the purge in its loop."""
    import os
    import subprocess
    import sys
    import time

    from bot.components.tracker_store import WALSQLTrackerStore

    tracker = tmp_path / "tracker.db"
    made = WALSQLTrackerStore(dialect="sqlite", db=str(tracker))
    chat(made, "web-old", days_ago=100)
    chat(made, "web-new", days_ago=1)
    made.engine.dispose()
    url = f"sqlite:///{tracker}"
    env = dict(os.environ, DATABASE_URL=sqlite_db, MSP_TRACKER_URL=url, MSP_SURVEY_POLL_SECONDS="0.2",
               MSP_RETENTION_PURGE_MINUTES="0.005", MSP_SCHEDULER_NOW=NOW.isoformat())
    process = subprocess.Popen([sys.executable, "-m", "bot.surveys.scheduler"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while senders(url) != {"web-new"} and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.3)
        assert senders(url) == {"web-new"}
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert log(sqlite_db) == [("purge", hash_client("web-old"), 3, 0, 0, "scheduler")]
