"""Delivery by email through a real SMTP server on loopback (aiosmtpd): once, retried, alerted, never lost."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.advocacy import sender
from bot.advocacy.message import DECIDES
from bot.records import advocacy, session_scope

from .conftest import DUTY, PROVIDER
from .provider_peer import wait_for

ROOT = Path(__file__).resolve().parents[2]

ANSWERS = {
    "understand": "yes, people talk too fast  ",
    "remember": "sometimes",
    "weigh_up": "i dont know",
    "say_what_they_want": "I freeze up when they ask me",
    "support": "no, only my nephew and he is the one taking my money",
    "contact": "phone",
    "safe_times": "weekday mornings",
}


def _referral(**kwargs) -> tuple:
    with session_scope() as session:
        referral = advocacy.make_referral(session, ANSWERS, answered_by="person", consent_words="yes ok",
                                          recorded_by="assistant", channel="web", source="chat",
                                          source_ref=kwargs.get("source_ref", "chat:test"),
                                          delivery_channel=kwargs.get("delivery_channel", "email"))
        return referral.id, referral.reference


def _state(referral_id: int) -> str:
    with session_scope(read_only=True) as session:
        return advocacy.referral_view(session, referral_id).state


def _events(referral_id: int) -> list:
    with session_scope(read_only=True) as session:
        return [e[1] for e in advocacy.referral_view(session, referral_id).events]


def _drain(config, referral_id: int, until=("sent", "failed"), timeout: float = 20.0) -> str:
    def step():
        sender.send_one(config)
        return _state(referral_id) in until
    wait_for(step, timeout, f"referral {referral_id} to be {until}")
    return _state(referral_id)


def test_relay_refusing_then_accepting_delivers_once(records_db, provider, smtp_config):
    referral_id, reference = _referral()
    provider.refuse_next = 2
    assert _drain(smtp_config, referral_id) == "sent"
    assert provider.refused == 2
    [mail] = provider.to(PROVIDER)
    message = mail["message"]
    assert message["Message-ID"] == f"<advocacy-{reference}@example.gov.uk>"
    assert message["Subject"] == f"Advocacy referral {reference}"
    body = message.get_content()
    for words in ANSWERS.values():
        assert words in body  # word for word
    assert " ".join(DECIDES.split()) in " ".join(body.split())
    assert "lacks capacity" not in body.lower() and "eligible" not in body.lower().replace("eligibility", "")
    assert _events(referral_id) == ["queued", "attempt", "retry", "attempt", "retry", "attempt", "sent"]
    time.sleep(0.5)
    assert not sender.send_one(smtp_config) and len(provider.to(PROVIDER)) == 1


def test_consent_refused_sends_nothing(records_db, provider, smtp_config):
    with session_scope() as session:
        advocacy.record_refusal(session, given_by="person", words="no, not now", recorded_by="assistant",
                                channel="web")
    assert not sender.send_one(smtp_config)
    assert sender.alert_failures(smtp_config) == 0
    assert provider.transport == []


def test_relay_down_for_good_fails_visibly_and_tells_the_duty_team_once(records_db, provider, smtp_config):
    referral_id, reference = _referral()
    provider.refuse_next = 3  # MSP_ADVOCACY_MAX_ATTEMPTS=3, then the alert gets through
    assert _drain(smtp_config, referral_id) == "failed"
    assert provider.to(PROVIDER) == []
    assert sender.alert_failures(smtp_config) == 1
    assert sender.alert_failures(smtp_config) == 0
    [alert] = provider.to(DUTY)
    text = alert["message"].get_content()
    assert str(referral_id) in text and reference in text and "451" in text
    assert all(words.strip() not in text for words in ANSWERS.values() if len(words) > 6)
    assert _events(referral_id)[-2:] == ["failed", "alerted"]
    # Staff resend it: the same Message-ID, delivered now the relay is back.
    with session_scope() as session:
        advocacy.resend(session, referral_id, "sam.worker")
    assert _drain(smtp_config, referral_id) == "sent"
    assert list(provider.inbox(PROVIDER)) == [f"<advocacy-{reference}@example.gov.uk>"]


def test_an_alert_that_cannot_be_sent_is_recorded_once_and_tried_again(records_db, provider, smtp_config):
    referral_id, _ = _referral()
    provider.refuse_next = 4  # three tries and the first alert
    _drain(smtp_config, referral_id)
    assert sender.alert_failures(smtp_config) == 0
    provider.stop()  # now the relay is unreachable as well
    assert sender.alert_failures(smtp_config) == 0
    assert sender.alert_failures(smtp_config) == 0
    events = _events(referral_id)
    assert events[-3:] == ["failed", "alert_failed", "alert_failed"]  # one per reason, not one per round
    assert "alerted" not in events


def test_sender_killed_between_send_and_record_is_kept_once(records_db, provider, smtp_env, tmp_path):
    referral_id, reference = _referral()
    env = dict(os.environ, **smtp_env, DATABASE_URL=records_db, PYTHONPATH=str(ROOT))
    log = open(tmp_path / "sender.log", "wb")

    def spawn():
        return subprocess.Popen([sys.executable, "-m", "bot.advocacy.sender"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    provider.hold()
    proc = spawn()
    try:
        assert provider.held.wait(30), "the sender never reached the relay"
        os.killpg(proc.pid, signal.SIGKILL)  # the relay has it; our record does not
        proc.wait(10)
        provider.release()
        assert _state(referral_id) == "sending"
        assert len(provider.to(PROVIDER)) == 1
        proc = spawn()  # after the lease (2 s) it is sent again, with the same Message-ID
        wait_for(lambda: _state(referral_id) == "sent", 30, "sent after restart")
        time.sleep(1.0)
        copies = provider.to(PROVIDER)
        assert len(copies) == 2  # SMTP cannot be asked: the transport carried it twice (see bot/advocacy/sender.py)
        assert {c["message"]["Message-ID"] for c in copies} == {f"<advocacy-{reference}@example.gov.uk>"}
        assert len(provider.inbox(PROVIDER)) == 1  # the provider keeps one referral
        assert _events(referral_id) == ["queued", "attempt", "attempt", "sent"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        log.close()
    logged = (tmp_path / "sender.log").read_text()
    assert "nephew" not in logged and "freeze" not in logged


def test_permanent_refusal_fails_at_once(records_db, provider, smtp_config, monkeypatch):
    referral_id, _ = _referral()
    from dataclasses import replace

    config = replace(smtp_config, to_address="refuse@advocacy.example.org")  # 550 from the relay
    assert _drain(config, referral_id) == "failed"
    assert _events(referral_id) == ["queued", "attempt", "failed"]
