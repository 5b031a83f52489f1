"""Retention of what a conversation's chat made: handoffs, call backs, advocacy referrals (issue 13's records).

The purge and the erasure take them with the conversation; the append-only guards (ORM, Core and the
database's triggers) still refuse every other DELETE of them. On SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text

from bot.records import advocacy, callbacks, create_enquiry, handoffs, retention, session_scope
from bot.records.errors import AppendOnlyError
from bot.records.invitations import hash_client
from bot.records.models import (
    RETENTION_DELETE,
    AdvocacyAnswer,
    AdvocacyConsent,
    AdvocacyDelivery,
    AdvocacyDeliveryEvent,
    AdvocacyReferral,
    CallbackDecline,
    CallbackEvent,
    CallbackRequest,
    Handoff,
    HandoffMessage,
    RetentionLog,
    RetentionPending,
)
from test_records_retention import NOW, chat, run, senders, store, tracker_url  # noqa: F401 - fixtures

ANSWERS = {"safe_words": "yes it is safe", "number_words": "07700 900123", "safe_times": "mornings",
           "message_words": "no", "others_words": "nobody"}
TABLES = (Handoff, HandoffMessage, CallbackRequest, CallbackEvent, CallbackDecline, AdvocacyReferral,
          AdvocacyAnswer, AdvocacyConsent, AdvocacyDelivery, AdvocacyDeliveryEvent)


def made_in_chat(db_url, sender: str, *, enquiry_id=None) -> None:
    """What a conversation's chat can make: a handoff with messages, a call back and a decline, a referral
    (sent: with delivery events) and a refusal."""
    when = NOW - timedelta(days=100)
    with session_scope(db_url) as db:
        handoff, _ = handoffs.request_handoff(db, sender, "web", now=when)
        db.flush()
        handoffs.add_message(db, handoff.id, "person", f"I am {sender}, please help", now=when)
        handoffs.add_message(db, handoff.id, "automatic", "Call 999", kind="danger", now=when)
        handoffs.end(db, handoff.id, "callback_requested", now=when)
        request = callbacks.request_callback(db, ANSWERS, number="+447700900123", leave_message=False,
                                             sender_id=sender, channel="web", asked_by="person", for_whom="self",
                                             source_ref=f"callback:{sender}:1", handoff_id=handoff.id, now=when)
        callbacks.claim_duty_email(db, request.id, now=when)
        callbacks.duty_email_done(db, request.id, sent=True, now=when)
        callbacks.record_decline(db, "not_safe", "No, he reads my phone", sender_id=sender, channel="web",
                                 asked_by="person", source_ref=f"callback:{sender}:2", question="safe_words",
                                 now=when)
        referral = advocacy.make_referral(db, {"understand": f"{sender} gets muddled"}, answered_by="person",
                                          consent_words="yes", recorded_by="assistant", channel="web",
                                          source="chat", source_ref=advocacy.chat_ref(sender) + "m1",
                                          enquiry_id=enquiry_id, now=when)
        claimed = advocacy.claim_next(db, 60, now=when)
        assert claimed.referral_id == referral.id
        advocacy.mark_sent(db, claimed.delivery_id, "relay accepted")
        advocacy.record_refusal(db, given_by="person", words="no thanks", recorded_by="assistant", channel="web",
                                source_ref=advocacy.chat_ref(sender) + "m2")


def counts(db_url):
    with session_scope(db_url, read_only=True) as db:
        return {model.__tablename__: db.execute(select(func.count()).select_from(model)).scalar_one()
                for model in TABLES}


def test_the_purge_takes_a_conversations_handoffs_call_backs_and_chat_referrals_with_it(db_url, tracker_url,
                                                                                        store):
    chat(store, "web-old", days_ago=100)
    chat(store, "web-new", days_ago=1)
    made_in_chat(db_url, "web-old")
    made_in_chat(db_url, "web-new")
    with session_scope(db_url) as db:  # a referral made by staff belongs to the enquiry: it stays
        enquiry = create_enquiry(db, "SG-STAFF")
        advocacy.make_referral(db, {"remember": "forgets"}, answered_by="staff", consent_words="agreed by phone",
                               recorded_by="lead", channel="staff", source="staff", source_ref="portal:x",
                               enquiry_id=enquiry.id)
    before = counts(db_url)
    result = run(db_url, tracker_url)
    assert [(r.kind, r.handoffs, r.callbacks, r.referrals) for r in result.removed] == [("purge", 1, 2, 1)]
    assert senders(tracker_url) == {"web-new"}
    after = counts(db_url)
    # Exactly one conversation's worth went from every table (two consents: the referral's and the refusal).
    gone = {table: before[table] - after[table] for table in before}
    assert gone == {"handoffs": 1, "handoff_messages": 2, "callback_requests": 1, "callback_events": 3,
                    "callback_declines": 1, "advocacy_referrals": 1, "advocacy_answers": 1, "advocacy_consents": 2,
                    "advocacy_deliveries": 1, "advocacy_delivery_events": 3}
    with session_scope(db_url, read_only=True) as db:
        assert db.execute(select(Handoff.sender_id)).scalars().all() == ["web-new"]
        assert set(db.execute(select(AdvocacyReferral.source)).scalars()) == {"chat", "staff"}
        assert not db.execute(select(AdvocacyAnswer).where(AdvocacyAnswer.text.contains("web-old"))).first()
        assert not db.execute(select(RetentionPending)).first()
        logged = db.execute(select(RetentionLog)).scalar_one()
        assert (logged.conversation_hash, logged.handoffs, logged.callbacks, logged.referrals) == \
            (hash_client("web-old"), 1, 2, 1)


def test_erasure_takes_them_too_and_the_audit_row_says_so_without_content(db_url, tracker_url, store):
    chat(store, "web-erase", days_ago=1)
    with session_scope(db_url) as db:
        enquiry_id = create_enquiry(db, "SG-E").id
    made_in_chat(db_url, "web-erase", enquiry_id=enquiry_id)
    removed = retention.erase("web-erase", reason="DSR-7", username="ada", now=NOW, records_url=db_url,
                              tracker_url=tracker_url)
    assert (removed.handoffs, removed.callbacks, removed.referrals) == (1, 2, 1)
    assert set(counts(db_url).values()) == {0}
    with session_scope(db_url, read_only=True) as db:
        assert db.execute(select(RetentionLog.referrals)).scalar_one() == 1


def test_a_purge_interrupted_after_the_events_went_finishes_the_tied_rows_next_time(db_url, tracker_url, store,
                                                                                     monkeypatch):
    chat(store, "web-old", days_ago=100)
    made_in_chat(db_url, "web-old")
    real = retention._finish
    monkeypatch.setattr(retention, "_finish", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        run(db_url, tracker_url)
    assert senders(tracker_url) == set() and counts(db_url)["handoff_messages"] == 2
    monkeypatch.setattr(retention, "_finish", real)
    result = run(db_url, tracker_url)
    assert result.resumed == 1
    assert set(counts(db_url).values()) == {0}


@pytest.mark.parametrize("table", ["handoff_messages", "callback_requests", "callback_events", "callback_declines",
                                   "advocacy_referrals", "advocacy_answers", "advocacy_consents",
                                   "advocacy_delivery_events"])
def test_the_database_still_refuses_any_other_delete_or_update(db_url, table):
    made_in_chat(db_url, "web-a")
    # Straight to the database, past the ORM and Core guards: refused with no retention under way ...
    with pytest.raises(Exception, match="append-only"):
        with session_scope(db_url) as db:
            db.connection().exec_driver_sql(f"DELETE FROM {table}")
    # ... and while another conversation is being removed ...
    with pytest.raises(Exception, match="append-only"):
        with session_scope(db_url) as db:
            db.add(RetentionPending(sender_id="web-b", kind="erasure", events_found=0, recorded_by="t",
                                    chat_ref=advocacy.chat_ref("web-b")))
            db.flush()
            db.connection().exec_driver_sql(f"DELETE FROM {table}")
    # ... and an UPDATE, even while this very conversation is being removed.
    with pytest.raises(Exception, match="append-only"):
        with session_scope(db_url) as db:
            db.add(RetentionPending(sender_id="web-a", kind="erasure", events_found=0, recorded_by="t",
                                    chat_ref=advocacy.chat_ref("web-a")))
            db.flush()
            db.connection().exec_driver_sql(f"UPDATE {table} SET id = id")
    assert counts(db_url)[table] > 0


def test_the_core_guard_lets_through_only_deletes_marked_as_retention(db_url):
    made_in_chat(db_url, "web-a")
    with pytest.raises(AppendOnlyError):
        with session_scope(db_url) as db:
            db.execute(delete(HandoffMessage))
    # Marked, but no retention_pending row names the conversation: the database refuses it.
    with pytest.raises(Exception, match="append-only"):
        with session_scope(db_url) as db:
            db.execute(delete(HandoffMessage).execution_options(**{RETENTION_DELETE: True}))
    with session_scope(db_url) as db:
        db.add(RetentionPending(sender_id="web-a", kind="erasure", events_found=0, recorded_by="t"))
        db.flush()
        assert db.execute(delete(HandoffMessage).execution_options(**{RETENTION_DELETE: True})).rowcount == 2
        db.execute(text("DELETE FROM retention_pending"))
