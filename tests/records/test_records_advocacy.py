"""Advocacy referral records: verbatim answers, consent, refusal, the delivery outbox's claims and history."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from bot.records import advocacy
from bot.records.errors import AppendOnlyError, InvalidValue
from bot.records.models import AdvocacyAnswer, AdvocacyDelivery, AdvocacyReferral, utcnow

ANSWERS = {
    "understand": "  yes, people talk too fast  ",
    "remember": "sometimes i forget what they said",
    "weigh_up": "not really",
    "say_what_they_want": "YES!! i freeze",
    "support": "no one, my son is the one doing it",
    "contact": "phone my key worker",
    "safe_times": "mornings before 11",
}


def _make(session, source_ref="chat:1", **kwargs):
    defaults = dict(answered_by="person", consent_words="yes please", recorded_by="assistant", channel="web",
                    source="chat", source_ref=source_ref)
    defaults.update(kwargs)
    return advocacy.make_referral(session, ANSWERS, **defaults)


def test_referral_keeps_every_answer_verbatim_and_queues_one_delivery(db_session, enquiry):
    referral = _make(db_session, enquiry_id=enquiry.id)
    again = _make(db_session)  # the same turn twice: one referral
    db_session.commit()
    assert again.id == referral.id and len(referral.reference) == 32
    view = advocacy.referral_view(db_session, referral.id)
    assert advocacy.answers_by_question(view) == ANSWERS  # spaces, capitals and all
    assert view.enquiry_reference == "SG-0001" and view.state == "queued"
    assert [e[1] for e in view.events] == ["queued"]
    [consent] = advocacy.consents(db_session, referral.id)
    assert (consent.decision, consent.words, consent.given_by) == ("given", "yes please", "person")
    assert [r.id for r in advocacy.list_referrals(db_session)] == [referral.id]


def test_a_representative_can_answer_and_the_record_says_so(db_session):
    referral = _make(db_session, answered_by="representative")
    assert advocacy.referral_view(db_session, referral.id).answered_by == "representative"


def test_refusal_records_the_decision_and_nothing_else(db_session):
    advocacy.record_refusal(db_session, given_by="person", words="no thank you", recorded_by="assistant",
                            channel="web")
    db_session.commit()
    assert db_session.execute(select(AdvocacyReferral)).first() is None
    assert db_session.execute(select(AdvocacyAnswer)).first() is None
    assert db_session.execute(select(AdvocacyDelivery)).first() is None
    [consent] = advocacy.consents(db_session)
    assert consent.decision == "refused" and consent.referral_id is None
    assert advocacy.claim_next(db_session, 30) is None


@pytest.mark.parametrize("answers, message", [
    ({"understand": "   "}, "empty"),
    ({"understand": "x" * 2001}, "2,001 characters"),
    ({"support": "no one"}, "four difficulties"),
    ({"understand": "yes", "date_of_birth": "1950"}, "Unknown advocacy question"),
])
def test_unusable_answers_are_refused_with_a_message(db_session, answers, message):
    with pytest.raises(InvalidValue, match=message):
        advocacy.make_referral(db_session, answers, answered_by="person", consent_words="yes",
                               recorded_by="assistant", channel="web", source="chat", source_ref="x")


def test_claim_lease_reclaim_retry_fail_resend_acknowledge(db_session):
    referral = _make(db_session)
    now = utcnow()
    claimed = advocacy.claim_next(db_session, 30, now=now)
    assert claimed.referral_id == referral.id and claimed.reference == referral.reference
    assert claimed.attempts == 1 and not claimed.tried_before
    assert advocacy.claim_next(db_session, 30, now=now + timedelta(seconds=10)) is None  # leased
    again = advocacy.claim_next(db_session, 30, now=now + timedelta(seconds=31))  # the sender died
    assert again.delivery_id == claimed.delivery_id and again.tried_before and again.attempts == 2
    advocacy.mark_retry(db_session, claimed.delivery_id, "relay said 451", 5, now=now)
    assert advocacy.claim_next(db_session, 30, now=now + timedelta(seconds=1)) is None  # backing off
    advocacy.claim_next(db_session, 30, now=now + timedelta(seconds=6))
    advocacy.mark_failed(db_session, claimed.delivery_id, "gave up")
    assert advocacy.failed_unalerted(db_session) == [claimed.delivery_id]
    advocacy.mark_alerted(db_session, claimed.delivery_id, True)
    assert advocacy.failed_unalerted(db_session) == []
    advocacy.resend(db_session, referral.id, "sam.worker")
    resent = advocacy.claim_next(db_session, 30)
    assert resent.reference == referral.reference and resent.attempts == 1
    advocacy.mark_sent(db_session, resent.delivery_id, "250 ok")
    assert advocacy.acknowledge(db_session, referral.reference, "provider")
    assert not advocacy.acknowledge(db_session, "0" * 32, "provider")
    view = advocacy.referral_view(db_session, referral.id)
    assert view.state == "acknowledged"
    assert [e[1] for e in view.events] == ["queued", "attempt", "attempt", "retry", "attempt", "failed", "alerted",
                                           "resend", "attempt", "sent", "acknowledged"]


def test_history_tables_are_append_only(db_session):
    referral = _make(db_session)
    db_session.commit()
    answer = db_session.execute(select(AdvocacyAnswer)).scalars().first()
    answer.text = "changed"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    with pytest.raises(AppendOnlyError):
        db_session.execute(update(AdvocacyReferral).values(recorded_by="x"))
    db_session.rollback()
    for table in ("advocacy_answers", "advocacy_consents", "advocacy_delivery_events", "advocacy_referrals"):
        with pytest.raises(Exception, match="append-only"):
            db_session.execute(text(f"DELETE FROM {table}"))
        db_session.rollback()
    assert advocacy.referral_view(db_session, referral.id).answers


def test_msp_advocacy_make_list_show_resend_ack(db_url, capsys, monkeypatch):
    from bot.advocacy.config import get_advocacy_config
    from bot.cli import main

    get_advocacy_config.cache_clear()
    monkeypatch.setenv("USER", "sam.worker")
    assert main(["enquiry", "create", "--reference", "SG-0100"]) == 0
    code = main(["advocacy", "make", "--consent", "She said yes on the phone", "--answered-by", "representative",
                 "--enquiry", "SG-0100", "--understand", "she says the letters confuse her",
                 "--support", "her daughter lives in Spain"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "queued for the provider" in out
    assert main(["advocacy", "list"]) == 0
    assert "queued" in capsys.readouterr().out
    assert main(["advocacy", "resend", "1"]) == 0 and main(["advocacy", "ack", "1"]) == 0
    capsys.readouterr()
    assert main(["advocacy", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert "she says the letters confuse her" in out and "acknowledged" in out and "by sam.worker" in out
    assert main(["advocacy", "make", "--consent", "yes", "--answered-by", "person", "--support", "none"]) == 1
    assert "four difficulties" in capsys.readouterr().err
    assert main(["advocacy", "show", "99"]) == 1


def test_msp_advocacy_withdraw(db_url, capsys, monkeypatch):
    from bot.advocacy.config import get_advocacy_config
    from bot.cli import main
    from bot.records import session_scope

    get_advocacy_config.cache_clear()
    monkeypatch.setenv("USER", "sam.worker")
    for _ in range(2):
        assert main(["advocacy", "make", "--consent", "yes", "--answered-by", "person",
                     "--understand", "the letters are hard"]) == 0
    capsys.readouterr()
    code = main(["advocacy", "withdraw", "1", "--by", "person", "--words", "I don't want it now, my son helps"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "withdrawn" in out and "provider will be told" not in out  # never tried: nothing to tell
    with session_scope() as session:
        assert sorted((r.id, r.state) for r in advocacy.list_referrals(session)) == [(1, "withdrawn"), (2, "queued")]
        [withdrawn] = [c for c in advocacy.consents(session) if c.decision == "withdrawn"]
        assert (withdrawn.words, withdrawn.given_by, withdrawn.recorded_by, withdrawn.channel) == (
            "I don't want it now, my son helps", "person", "sam.worker", "staff")
    assert main(["advocacy", "withdraw", "99", "--by", "person"]) == 1
    assert "99" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # one line from argparse, no traceback
        main(["advocacy", "withdraw", "2", "--by", "someone"])
    assert exited.value.code == 2 and "invalid choice" in capsys.readouterr().err
