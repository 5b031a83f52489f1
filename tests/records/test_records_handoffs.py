"""Handoff records: the queue, the one claim that wins, the end, messages verbatim and append-only.

Every test runs on SQLite and on a real PostgreSQL server (``db_url``).
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from bot.records import handoffs, session_scope
from bot.records.errors import AppendOnlyError, InvalidValue
from bot.records.models import Handoff, HandoffMessage, utcnow


def _worker(session, name):
    from bot.records import staff

    user = staff.create_user(session, name, display_name=name.title(), role="practitioner", password_hash="x")
    session.flush()
    return user.id


def test_asking_twice_keeps_one_live_handoff_per_conversation(db_url):
    with session_scope(db_url) as db:
        first, new = handoffs.request_handoff(db, "web-a", "web")
        again, new_again = handoffs.request_handoff(db, "web-a", "web")
        other, _ = handoffs.request_handoff(db, "web-b", "web")
    assert new and not new_again and first.id == again.id != other.id
    with session_scope(db_url, read_only=True) as db:
        assert [row.id for row in handoffs.queue(db)] == [first.id, other.id]
        assert handoffs.live_handoff(db, "web-a").status == "waiting"


def test_after_the_end_a_new_request_makes_a_new_handoff(db_url):
    with session_scope(db_url) as db:
        first, _ = handoffs.request_handoff(db, "web-a", "web")
        assert handoffs.end(db, first.id, "closed")
        second, new = handoffs.request_handoff(db, "web-a", "web")
    assert new and second.id != first.id


def test_two_workers_claiming_at_once_exactly_one_wins(db_url):
    with session_scope(db_url) as db:
        handoff, _ = handoffs.request_handoff(db, "web-race", "web")
        workers = [_worker(db, "ann"), _worker(db, "bob")]
    barrier = threading.Barrier(2)
    results = {}

    def attempt(user_id):
        barrier.wait()
        with session_scope(db_url) as db:  # its own connection and transaction
            results[user_id] = handoffs.claim(db, handoff.id, user_id)

    threads = [threading.Thread(target=attempt, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == [False, True]
    winner = [w for w, won in results.items() if won][0]
    with session_scope(db_url, read_only=True) as db:
        row = handoffs.get_handoff(db, handoff.id)
        assert row.status == "claimed" and row.claimed_by_id == winner and row.claimed_at is not None


def test_many_claims_in_a_row_only_the_first_wins(db_url):
    with session_scope(db_url) as db:
        handoff, _ = handoffs.request_handoff(db, "web-x", "web")
        users = [_worker(db, f"worker{i}") for i in range(3)]
    outcomes = []
    for user in users:
        with session_scope(db_url) as db:
            outcomes.append(handoffs.claim(db, handoff.id, user))
    assert outcomes == [True, False, False]


def test_hand_back_only_by_the_worker_who_claimed_and_only_once(db_url):
    with session_scope(db_url) as db:
        handoff, _ = handoffs.request_handoff(db, "web-a", "web")
        ann, bob = _worker(db, "ann"), _worker(db, "bob")
        assert not handoffs.end(db, handoff.id, "handed_back", user_id=ann)  # not claimed yet
        assert handoffs.claim(db, handoff.id, ann)
        assert not handoffs.end(db, handoff.id, "handed_back", user_id=bob)
        assert handoffs.end(db, handoff.id, "handed_back", user_id=ann)
        assert not handoffs.end(db, handoff.id, "closed")
        assert handoffs.live_handoff(db, "web-a") is None
        with pytest.raises(InvalidValue):
            handoffs.end(db, handoff.id, "waiting")


def test_messages_are_kept_verbatim_once_and_cannot_be_changed(db_url):
    words = "  he took my card again…\n\tI'm scared 😟  "
    with session_scope(db_url) as db:
        handoff, _ = handoffs.request_handoff(db, "web-a", "web")
        ann = _worker(db, "ann")
        assert handoffs.add_message(db, handoff.id, "person", words, message_id="m1") is not None
        assert handoffs.add_message(db, handoff.id, "person", words, message_id="m1") is None  # the same message
        handoffs.add_message(db, handoff.id, "automatic", "Call 999 now.", kind="danger")
        handoffs.add_message(db, handoff.id, "worker", "Hello, I'm Ann.", staff_user_id=ann)
        with pytest.raises(InvalidValue):
            handoffs.add_message(db, handoff.id, "worker", "no name")
    with session_scope(db_url, read_only=True) as db:
        stored = [(m.id, m.author, m.text) for m in handoffs.messages(db, handoff.id)]
        [row] = handoffs.queue(db)
    assert [(author, words) for _, author, words in stored] == [("person", words), ("automatic", "Call 999 now."),
                                                    ("worker", "Hello, I'm Ann.")]
    assert (row.messages, row.alerts) == (3, 1)
    with pytest.raises(AppendOnlyError):
        with session_scope(db_url) as db:
            db.get(HandoffMessage, stored[0][0]).text = "changed"
    with pytest.raises(AppendOnlyError):
        with session_scope(db_url) as db:
            db.execute(update(HandoffMessage).values(text="changed"))


def test_the_database_itself_refuses_to_change_a_message(db_url):
    with session_scope(db_url) as db:
        handoff, _ = handoffs.request_handoff(db, "web-a", "web")
        handoffs.add_message(db, handoff.id, "person", "hello")
    from bot.records.db import make_engine

    engine = make_engine(db_url, for_migrations=True)  # no Core guard: only the trigger is left
    try:
        with pytest.raises(Exception, match="append-only|refuse"):
            with engine.begin() as conn:
                conn.execute(text("UPDATE handoff_messages SET text = 'changed'"))
    finally:
        engine.dispose()


def test_the_marker_changes_with_the_queue_and_the_messages(db_url):
    with session_scope(db_url, read_only=True) as db:
        empty = handoffs.state_marker(db)
    with session_scope(db_url) as db:
        handoff, _ = handoffs.request_handoff(db, "web-a", "web")
    with session_scope(db_url, read_only=True) as db:
        queued = handoffs.state_marker(db)
    with session_scope(db_url) as db:
        handoffs.add_message(db, handoff.id, "person", "hello")
    with session_scope(db_url, read_only=True) as db:
        written = handoffs.state_marker(db)
    assert len({empty, queued, written}) == 3


def test_when_the_person_leaves_their_live_handoff_ends_as_left(db_url):
    with session_scope(db_url) as db:
        assert handoffs.person_left(db, "web-a") is None  # nothing live: nothing to do
        handoff, _ = handoffs.request_handoff(db, "web-a", "web")
        assert handoffs.person_left(db, "web-a") == handoff.id
        assert handoffs.person_left(db, "web-a") is None
    with session_scope(db_url, read_only=True) as db:
        assert handoffs.get_handoff(db, handoff.id).status == "left"


def test_overdue_handoffs_are_told_once(db_url):
    from datetime import timedelta

    from bot.records.models import utcnow

    with session_scope(db_url) as db:
        old, _ = handoffs.request_handoff(db, "web-old", "web", now=utcnow() - timedelta(minutes=10))
        handoffs.request_handoff(db, "web-new", "web")
        claimed, _ = handoffs.request_handoff(db, "web-claimed", "web", now=utcnow() - timedelta(minutes=10))
        assert handoffs.claim(db, claimed.id, _worker(db, "ann"))
    cutoff = utcnow() - timedelta(minutes=3)
    with session_scope(db_url, read_only=True) as db:
        assert handoffs.overdue(db, cutoff) == [(old.id, "web-old")]
    with session_scope(db_url) as db:
        assert handoffs.mark_timeout_told(db, old.id)
    with session_scope(db_url) as db:
        assert not handoffs.mark_timeout_told(db, old.id)  # a second watcher does not tell them twice
        assert handoffs.overdue(db, cutoff) == []
        handoffs.unmark_timeout_told(db, old.id)  # Rasa did not answer: try again
    with session_scope(db_url, read_only=True) as db:
        assert handoffs.overdue(db, cutoff) == [(old.id, "web-old")]
    with session_scope(db_url) as db:
        with pytest.raises(InvalidValue):
            handoffs.add_message(db, old.id, "person", "hi", kind="timeout")
        handoffs.add_message(db, old.id, "automatic", "Sorry, nobody is free yet.", kind="timeout")
    with session_scope(db_url, read_only=True) as db:
        [row] = [r for r in handoffs.queue(db) if r.id == old.id]
    assert (row.messages, row.alerts) == (1, 0)  # a notice is not an alert


def test_the_duty_team_is_told_about_each_waiting_handoff_once(db_url):
    with session_scope(db_url) as db:
        first, _ = handoffs.request_handoff(db, "web-a", "web")
        second, _ = handoffs.request_handoff(db, "web-b", "web")
        assert handoffs.end(db, second.id, "closed")
    with session_scope(db_url) as db:
        assert handoffs.duty_not_told(db) == [first.id]  # a closed one is not mailed about
        assert handoffs.claim_duty_email(db, first.id)
    with session_scope(db_url) as db:
        assert not handoffs.claim_duty_email(db, first.id)
        assert handoffs.duty_not_told(db) == []
        handoffs.release_duty_email(db, first.id)  # the relay refused: try again
    with session_scope(db_url, read_only=True) as db:
        assert handoffs.duty_not_told(db) == [first.id]
    with session_scope(db_url) as db:
        assert handoffs.claim_duty_email(db, first.id)
        handoffs.duty_email_sent(db, first.id)
    with session_scope(db_url) as db:  # sent: never again, lease or not
        later = utcnow() + timedelta(hours=1)
        assert handoffs.duty_not_told(db, now=later) == [] and not handoffs.claim_duty_email(db, first.id, now=later)


def test_a_duty_email_claimed_by_a_process_that_died_is_taken_again_after_the_lease(db_url):
    with session_scope(db_url) as db:
        handoff_id = handoffs.request_handoff(db, "web-a", "web")[0].id
    start = utcnow()
    with session_scope(db_url) as db:
        assert handoffs.claim_duty_email(db, handoff_id, now=start, lease=timedelta(seconds=60))
        # ... and the process is killed here: nothing sent, nothing released.
    with session_scope(db_url) as db:
        inside = start + timedelta(seconds=59)
        assert handoffs.duty_not_told(db, now=inside) == []
        assert not handoffs.claim_duty_email(db, handoff_id, now=inside)  # at most once while the lease runs
    with session_scope(db_url) as db:
        after = start + timedelta(seconds=61)
        assert handoffs.duty_not_told(db, now=after) == [handoff_id]
        assert handoffs.claim_duty_email(db, handoff_id, now=after)
        assert not handoffs.claim_duty_email(db, handoff_id, now=after)


def test_at_a_new_session_only_a_recently_active_claimed_handoff_comes_back(db_url):
    from datetime import timedelta

    from bot.records.models import utcnow

    now = utcnow()
    with session_scope(db_url) as db:
        ann = _worker(db, "ann")
        waiting, _ = handoffs.request_handoff(db, "web-wait", "web", now=now - timedelta(hours=2))
        fresh, _ = handoffs.request_handoff(db, "web-fresh", "web", now=now - timedelta(days=2))
        assert handoffs.claim(db, fresh.id, ann, now=now - timedelta(days=2))
        handoffs.add_message(db, fresh.id, "worker", "Are you still there?", staff_user_id=ann,
                             now=now - timedelta(hours=1))
        stale, _ = handoffs.request_handoff(db, "web-stale", "web", now=now - timedelta(days=2))
        assert handoffs.claim(db, stale.id, ann, now=now - timedelta(days=2))
    with session_scope(db_url) as db:
        assert handoffs.resume(db, "web-none", now=now) is None
        assert handoffs.resume(db, "web-fresh", now=now) == "claimed"  # a worker wrote an hour ago
        assert handoffs.resume(db, "web-wait", now=now) is None  # nobody claimed it: closed
        assert handoffs.resume(db, "web-stale", now=now) is None  # nothing for two days: closed
    with session_scope(db_url, read_only=True) as db:
        statuses = {h: handoffs.get_handoff(db, h).status for h in (waiting.id, fresh.id, stale.id)}
    assert statuses == {waiting.id: "closed", fresh.id: "claimed", stale.id: "closed"}


def test_a_claimed_chat_whose_worker_has_not_answered_is_listed_once_per_message(db_url):
    from datetime import timedelta

    from bot.records.models import utcnow

    now = utcnow()
    with session_scope(db_url) as db:
        ann = _worker(db, "ann")
        handoff, _ = handoffs.request_handoff(db, "web-a", "web", now=now - timedelta(minutes=30))
        first = handoffs.add_message(db, handoff.id, "person", "hello?", now=now - timedelta(minutes=20)).id
        waiting, _ = handoffs.request_handoff(db, "web-b", "web")
        handoffs.add_message(db, waiting.id, "person", "anyone?", now=now - timedelta(minutes=20))
    cutoff = now - timedelta(minutes=5)
    with session_scope(db_url) as db:
        assert handoffs.unanswered(db, cutoff) == []  # not claimed: the claim timeout's job
        assert handoffs.claim(db, handoff.id, ann)
    with session_scope(db_url) as db:
        assert handoffs.unanswered(db, cutoff) == []  # just claimed: the worker is about to write
        db.execute(update(Handoff).where(Handoff.id == handoff.id).values(claimed_at=now - timedelta(minutes=15)))
    with session_scope(db_url) as db:
        assert handoffs.unanswered(db, cutoff) == [(handoff.id, "web-a", first)]
        handoffs.add_message(db, handoff.id, "automatic", "Sorry, not answered yet.", kind="timeout")
    with session_scope(db_url) as db:
        assert handoffs.unanswered(db, cutoff) == []  # told; not again for the same message
        handoffs.add_message(db, handoff.id, "person", "still here", now=now - timedelta(minutes=10))
    with session_scope(db_url) as db:
        [(_, _, again)] = handoffs.unanswered(db, cutoff)
        handoffs.add_message(db, handoff.id, "worker", "Sorry, I'm back.", staff_user_id=ann)
    with session_scope(db_url, read_only=True) as db:
        assert again != first and handoffs.unanswered(db, cutoff) == []
