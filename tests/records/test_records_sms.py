"""SMS records: numbers once in E.164, MessageSid once, opt-out, the outbox's claims and history."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from bot.records import sms
from bot.records.errors import AppendOnlyError, InvalidValue
from bot.records.models import SmsInbound, SmsNumber, SmsOutbox, utcnow


def test_number_stored_once_in_e164(db_session):
    a = sms.get_or_create_number(db_session, "+447700900123")
    b = sms.get_or_create_number(db_session, "07700 900123")
    assert a.id == b.id and a.e164 == "+447700900123"
    assert db_session.execute(select(SmsNumber)).scalars().all() == [a]
    with pytest.raises(InvalidValue):
        sms.get_or_create_number(db_session, "not a number")


def test_message_sid_handled_once_and_stop_suppresses_replies(db_session):
    first = sms.receive(db_session, "SM1", "+447700900123", "hi", None, "reply", "unknown")
    again = sms.receive(db_session, "SM1", "+447700900123", "hi", None, "reply", "unknown")
    assert not first.duplicate and first.outbox_id is not None
    assert again.duplicate and again.outbox_id is None
    stop = sms.receive(db_session, "SM2", "+447700900123", "STOP", "stop", None, None)
    assert stop.outbox_id is None and sms.is_opted_out(db_session, stop.number_id)
    assert sms.receive(db_session, "SM3", "+447700900123", "HELP", "help", "h", "help").outbox_id is None
    start = sms.receive(db_session, "SM4", "+447700900123", "START", "start", "s", "start")
    assert start.outbox_id is not None and not sms.is_opted_out(db_session, start.number_id)
    assert len(db_session.execute(select(SmsInbound)).scalars().all()) == 4


def test_claim_lease_and_reclaim_after_a_dead_sender(db_session):
    result = sms.receive(db_session, "SM1", "+447700900123", "hi", None, "reply", "unknown")
    now = utcnow()
    claimed = sms.claim_next(db_session, 30, now=now)
    assert claimed.id == result.outbox_id and claimed.attempts == 1 and not claimed.tried_before
    assert sms.claim_next(db_session, 30, now=now + timedelta(seconds=10)) is None  # leased
    again = sms.claim_next(db_session, 30, now=now + timedelta(seconds=31))  # the sender died
    assert again.id == claimed.id and again.tried_before and again.attempts == 2
    assert again.first_attempt_at == claimed.first_attempt_at
    sms.record_status(db_session, claimed.id, "SMabc", "delivered")  # Twilio's callback settles it
    row = db_session.get(SmsOutbox, claimed.id)
    db_session.refresh(row)
    assert (row.state, row.twilio_sid) == ("sent", "SMabc")
    assert not sms.record_status(db_session, claimed.id, "SMother", "delivered")
    assert [e.event for e in sms.outbox_events(db_session, claimed.id)] == [
        "queued", "attempt", "attempt", "reconciled", "status"]


def test_history_tables_are_append_only(db_session):
    sms.receive(db_session, "SM1", "+447700900123", "hi", None, "reply", "unknown")
    db_session.commit()
    row = db_session.execute(select(SmsInbound)).scalar_one()
    row.body = "changed"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    with pytest.raises(AppendOnlyError):
        db_session.execute(update(SmsInbound).values(body="changed"))
    db_session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db_session.execute(text("DELETE FROM sms_outbox_events"))
