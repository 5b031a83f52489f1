"""Call-back request records: every answer verbatim, once per chat turn, append-only; the status is the newest
event; the duty team's email is taken by exactly one process per try.

Every test runs on SQLite and on a real PostgreSQL server (``db_url``).
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text, update

from bot.records import callbacks, handoffs, session_scope
from bot.records.errors import AppendOnlyError, InvalidValue, NotFound
from bot.records.models import CallbackEvent, CallbackRequest

ANSWERS = {"safe_words": "yes, he's out at work",
           "number_words": "my mobile  07700 900123 ",
           "safe_times": "weekdays 10 till 2\n(not weekends)",
           "message_words": "no don't leave one",
           "others_words": "nobody, it's my own phone 😊"}


def _worker(session, name):
    from bot.records import staff

    user = staff.create_user(session, name, display_name=name.title(), role="practitioner", password_hash="x")
    session.flush()
    return user.id


def _request(db, ref="chat:a:m1", handoff_id=None, sender="web-a"):
    return callbacks.request_callback(db, ANSWERS, number="+447700900123", leave_message=False, sender_id=sender,
                                      channel="web", asked_by="person", source_ref=ref, handoff_id=handoff_id)


def test_a_request_keeps_every_answer_verbatim_once_and_links_the_handoff(db_url):
    with session_scope(db_url) as db:
        handoff, _ = handoffs.request_handoff(db, "web-a", "web")
        assert handoffs.end(db, handoff.id, "callback_requested")
        first = _request(db, handoff_id=handoff.id)
        again = _request(db, handoff_id=handoff.id)  # the same chat turn delivered twice
        request_id, handoff_id = first.id, handoff.id
    assert again.id == request_id
    with session_scope(db_url, read_only=True) as db:
        view = callbacks.request_view(db, request_id)
        [row] = callbacks.list_requests(db)
        assert handoffs.get_handoff(db, handoff_id).status == "callback_requested"
    assert {key: words for key, _, words in view.answers} == ANSWERS
    assert (view.number, view.leave_message, view.handoff_id, view.sender_id, view.status) == (
        "+447700900123", False, handoff_id, "web-a", "requested")
    assert (row.id, row.status, row.handoff_id, row.duty_emailed) == (request_id, "requested", handoff_id, False)
    assert [event for _, event, _, _ in view.events] == ["requested"]


@pytest.mark.parametrize("change, message", [
    (dict(number="07700900123"), "E.164"),
    (dict(number="+12025550123"), "UK"),
    (dict(channel="pigeon"), "channel"),
    (dict(asked_by="neighbour"), "Who asked"),
    (dict(answers=dict(ANSWERS, safe_times="   ")), "empty"),
    (dict(answers=dict(ANSWERS, safe_times="x" * 2001)), "2,001"),
    (dict(answers=dict(ANSWERS, address="1 High St")), "Unknown"),
])
def test_what_cannot_be_a_request_is_refused_with_a_reason(db_url, change, message):
    args = dict(answers=ANSWERS, number="+447700900123", leave_message=True, sender_id="web-a", channel="web",
                asked_by="person", source_ref="chat:x")
    args.update(change)
    answers = args.pop("answers")
    with session_scope(db_url) as db:
        with pytest.raises(InvalidValue, match=message):
            callbacks.request_callback(db, answers, **args)
        with pytest.raises(NotFound):
            callbacks.request_callback(db, ANSWERS, **dict(args, number="+447700900123", channel="web",
                                                              asked_by="person", handoff_id=999))


def test_called_or_not_reached_are_new_events_and_the_newest_is_the_status(db_url):
    with session_scope(db_url) as db:
        ann = _worker(db, "ann")
        one, two = _request(db, "r1").id, _request(db, "r2").id
        callbacks.record_outcome(db, one, "not_reached", ann)
    with session_scope(db_url, read_only=True) as db:
        assert [(r.id, r.status) for r in callbacks.list_requests(db)] == [(one, "not_reached"), (two, "requested")]
    with session_scope(db_url) as db:
        callbacks.record_outcome(db, one, "called", ann)
        with pytest.raises(InvalidValue):
            callbacks.record_outcome(db, one, "requested", ann)
        with pytest.raises(NotFound):
            callbacks.record_outcome(db, 9999, "called", ann)
    with session_scope(db_url, read_only=True) as db:
        rows = callbacks.list_requests(db)
        view = callbacks.request_view(db, one)
    # Still to call first; done ones after.
    assert [(r.id, r.status, r.status_by) for r in rows] == [(two, "requested", None), (one, "called", "Ann")]
    assert [(event, by) for _, event, _, by in view.events] == [("requested", None), ("not_reached", "Ann"),
                                                                 ("called", "Ann")]
    assert view.status == "called"


def test_requests_and_events_cannot_be_changed_or_deleted(db_url):
    with session_scope(db_url) as db:
        request_id = _request(db).id
    with pytest.raises(AppendOnlyError):
        with session_scope(db_url) as db:
            db.get(CallbackRequest, request_id).number = "+447700900999"
    with pytest.raises(AppendOnlyError):
        with session_scope(db_url) as db:
            db.execute(update(CallbackEvent).values(event="called"))
    from bot.records.db import make_engine

    engine = make_engine(db_url, for_migrations=True)  # no Core guard: only the trigger is left
    try:
        for statement in ("UPDATE callback_requests SET safe_times = 'x'", "DELETE FROM callback_events"):
            with pytest.raises(Exception, match="append-only|refuse"):
                with engine.begin() as conn:
                    conn.execute(text(statement))
    finally:
        engine.dispose()


def test_the_duty_team_is_emailed_once_and_a_failed_try_is_tried_again(db_url):
    with session_scope(db_url) as db:
        one, two = _request(db, "r1").id, _request(db, "r2").id
    with session_scope(db_url, read_only=True) as db:
        assert callbacks.duty_not_told(db) == [one, two]
    with session_scope(db_url) as db:
        assert callbacks.claim_duty_email(db, one)
        assert not callbacks.claim_duty_email(db, one)  # being emailed
    with session_scope(db_url, read_only=True) as db:
        assert callbacks.duty_not_told(db) == [two]
    with session_scope(db_url) as db:
        callbacks.duty_email_done(db, one, sent=False, attempt=1)  # the relay refused: try again later
    with session_scope(db_url, read_only=True) as db:
        assert callbacks.duty_not_told(db) == [one, two]
    with session_scope(db_url) as db:
        assert callbacks.claim_duty_email(db, one) == 2
        callbacks.duty_email_done(db, one, sent=True, attempt=2)
        assert not callbacks.claim_duty_email(db, one)
    with session_scope(db_url, read_only=True) as db:
        assert callbacks.duty_not_told(db) == [two]
        attempts = [(event, attempt) for _, event, attempt, _ in callbacks.request_view(db, one).events]
        assert [r.duty_emailed for r in callbacks.list_requests(db)] == [True, False]
    assert attempts == [("requested", None), ("duty_claimed", 1), ("duty_failed", 1), ("duty_claimed", 2),
                        ("duty_emailed", 2)]


def test_a_duty_email_try_whose_process_died_is_taken_again_after_the_lease(db_url):
    from datetime import timedelta

    from bot.records.models import utcnow

    with session_scope(db_url) as db:
        request_id = _request(db).id
    start, lease = utcnow(), timedelta(seconds=60)
    with session_scope(db_url) as db:
        assert callbacks.claim_duty_email(db, request_id, now=start, lease=lease) == 1
        # ... and the process is killed here: no duty_emailed, no duty_failed.
    with session_scope(db_url) as db:
        inside = start + timedelta(seconds=59)
        assert callbacks.duty_not_told(db, now=inside, lease=lease) == []
        assert callbacks.claim_duty_email(db, request_id, now=inside, lease=lease) is None
    with session_scope(db_url) as db:
        after = start + timedelta(seconds=61)
        assert callbacks.duty_not_told(db, now=after, lease=lease) == [request_id]
        assert callbacks.claim_duty_email(db, request_id, now=after, lease=lease) == 2
        assert callbacks.claim_duty_email(db, request_id, now=after, lease=lease) is None
        callbacks.duty_email_done(db, request_id, sent=True, attempt=2, now=after)
    with session_scope(db_url, read_only=True) as db:
        much_later = after + timedelta(days=1)
        assert callbacks.duty_not_told(db, now=much_later, lease=lease) == []


def test_failures_recorded_before_they_carried_the_try_still_settle_it(db_url):
    with session_scope(db_url) as db:
        request_id = _request(db).id
        assert callbacks.claim_duty_email(db, request_id) == 1
        callbacks.duty_email_done(db, request_id, sent=False)  # as written before 0015: no attempt
        assert callbacks.claim_duty_email(db, request_id) == 2


def test_two_processes_claiming_the_same_duty_email_exactly_one_wins(db_url):
    with session_scope(db_url) as db:
        request_id = _request(db).id
    barrier = threading.Barrier(2)
    results = []

    def attempt():
        barrier.wait()
        with session_scope(db_url) as db:
            results.append(callbacks.claim_duty_email(db, request_id))

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(bool(r) for r in results) == [False, True]
