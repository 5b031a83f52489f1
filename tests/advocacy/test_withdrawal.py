"""Consent to an advocacy referral withdrawn (issue 13): a queued referral is never sent; one already sent is
marked withdrawn and the provider is told through the same outbox (a real SMTP server on loopback); each
withdrawal is a consent event with the words as given."""
from __future__ import annotations

import pytest

from bot.advocacy import sender
from bot.records import advocacy, session_scope
from bot.records.errors import InvalidValue

from .conftest import PROVIDER
from .test_advocacy_sender import _referral, _state


def _withdraw(referral_id, words="I've changed my mind, don't send it", given_by="person"):
    with session_scope() as session:
        return advocacy.withdraw_consent(session, referral_id, given_by=given_by, words=words,
                                         recorded_by="ann.worker", channel="staff")


def _consents(referral_id):
    with session_scope(read_only=True) as session:
        return [(c.decision, c.given_by, c.words) for c in advocacy.consents(session, referral_id)]


def test_a_queued_referral_withdrawn_is_never_sent(records_db, provider, smtp_config):
    referral_id, _ = _referral()
    assert _withdraw(referral_id) is False  # nothing was tried: nothing to tell the provider
    for _ in range(3):
        assert sender.send_one(smtp_config) is False
    assert provider.to(PROVIDER) == [] and _state(referral_id) == "withdrawn"
    assert _consents(referral_id) == [("given", "person", "yes ok"),
                                      ("withdrawn", "person", "I've changed my mind, don't send it")]
    with session_scope() as session, pytest.raises(InvalidValue, match="withdrawn"):
        advocacy.resend(session, referral_id, "lead")


def test_a_sent_referral_withdrawn_is_marked_and_the_provider_told_once(records_db, provider, smtp_config):
    referral_id, reference = _referral()
    assert sender.send_one(smtp_config) and _state(referral_id) == "sent"
    assert _withdraw(referral_id, words="she says no now", given_by="representative") is True
    assert _state(referral_id) == "withdrawn"
    assert sender.send_one(smtp_config) is True  # the notice, through the same outbox
    assert sender.send_one(smtp_config) is False
    messages = [m["message"] for m in provider.to(PROVIDER)]
    assert [m["Subject"] for m in messages] == [f"Advocacy referral {reference}",
                                                f"Consent withdrawn: advocacy referral {reference}"]
    assert "changed" not in messages[1].get_content() and "she says" not in messages[1].get_content()
    assert _withdraw(referral_id, words="again") is True  # recorded again, the provider not told twice
    assert sender.send_one(smtp_config) is False and len(provider.to(PROVIDER)) == 2
    assert [c[0] for c in _consents(referral_id)] == ["given", "withdrawn", "withdrawn"]
    with session_scope(read_only=True) as session:
        assert [r.state for r in advocacy.list_referrals(session)] == ["withdrawn"]


def test_a_withdrawal_while_the_referral_is_being_sent_stays_withdrawn_and_the_provider_is_told(
        records_db, provider, smtp_config):
    referral_id, _ = _referral()
    with session_scope() as session:
        claimed = advocacy.claim_next(session, 60)
    assert _withdraw(referral_id) is True  # a try is under way: it may reach the provider
    with session_scope() as session:
        advocacy.mark_sent(session, claimed.delivery_id, "relay accepted")  # the sender finishes afterwards
    assert _state(referral_id) == "withdrawn"
    assert sender.send_one(smtp_config) is True
    assert [m["message"]["Subject"].split(":")[0] for m in provider.to(PROVIDER)] == ["Consent withdrawn"]
