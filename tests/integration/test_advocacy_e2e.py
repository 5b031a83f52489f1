"""Advocacy end to end: the chat over REST with the real servers -> records -> SMTP to the provider."""
from __future__ import annotations

import pytest

from bot.advocacy import sender as advocacy_sender
from bot.advocacy.config import load_advocacy_config
from bot.records import advocacy, session_scope
from bot.records.db import dispose_engines
from tests.advocacy.provider_peer import SmtpProvider

pytestmark = pytest.mark.integration

ANSWERS = ["For someone else", "she says the letters are too hard  ", "sometimes", "no", "yes, she gets stuck for words",
           "only her son, and he is the one taking her money"]


def joined(messages):
    return "\n".join(m.get("text", "") for m in messages)


@pytest.fixture
def provider():
    peer = SmtpProvider().start()
    yield peer
    peer.stop()


def _screen(stack, sender):
    offer = joined(stack.send(sender, "can I have an advocate"))
    assert "independent advocate" in offer and "I don't decide anything" in offer
    assert "for yourself, or for someone else" in joined(stack.send(sender, "yes"))
    replies = [joined(stack.send(sender, text)) for text in ANSWERS]
    assert "hard to understand" in replies[0] and "Do they" in replies[0]  # a representative: "they"
    return replies[-1]


def test_chat_referral_with_consent_reaches_the_provider_word_for_word(stack, sender, provider, monkeypatch):
    url = stack.env()["DATABASE_URL"]
    consent = _screen(stack, sender)
    assert "Does the person agree?" in consent and "not me" in consent
    assert "get in touch" in joined(stack.send(sender, "yes she agrees"))
    assert "safe to contact" in joined(stack.send(sender, "a phone call please"))
    done = joined(stack.send(sender, "weekday mornings"))
    assert "I have sent it" in done and "capacity" not in done.lower()

    monkeypatch.setenv("DATABASE_URL", url)
    config = load_advocacy_config({"MSP_ADVOCACY_SMTP_HOST": "127.0.0.1", "MSP_ADVOCACY_SMTP_PORT": str(provider.port),
                                   "MSP_ADVOCACY_SMTP_STARTTLS": "no", "MSP_ADVOCACY_FROM": "msp@example.gov.uk",
                                   "MSP_ADVOCACY_TO": "referrals@advocacy.example.org"})
    try:
        assert advocacy_sender.send_one(config)
        with session_scope(url, read_only=True) as session:
            [row] = [r for r in advocacy.list_referrals(session) if r.state == "sent"][:1]
            view = advocacy.referral_view(session, row.id)
    finally:
        dispose_engines()
    assert view.answered_by == "representative"
    words = advocacy.answers_by_question(view)
    # Rasa strips the ends of every message (UserMessage); everything else is kept.
    assert words["understand"] == "she says the letters are too hard" and words["contact"] == "a phone call please"
    [mail] = provider.to("referrals@advocacy.example.org")
    body = mail["message"].get_content()
    assert "she says the letters are too hard" in body and "only her son, and he is the one taking her money" in body
    assert sender not in body  # no conversation id


def test_chat_referral_refused_sends_nothing(stack, sender):
    url = stack.env()["DATABASE_URL"]
    with session_scope(url, read_only=True) as session:
        before = len(advocacy.list_referrals(session)), len(advocacy.consents(session))
    _screen(stack, sender)
    assert "I have not sent anything" in joined(stack.send(sender, "no"))
    with session_scope(url, read_only=True) as session:
        assert len(advocacy.list_referrals(session)) == before[0]
        consents = [(c.decision, c.words, c.referral_id) for c in advocacy.consents(session)]
    assert len(consents) == before[1] + 1 and consents[-1] == ("refused", "no", None)
    dispose_engines()


def test_changing_ones_mind_in_the_chat_withdraws_the_referral_and_the_provider_is_told(stack, sender, provider,
                                                                                       monkeypatch):
    url = stack.env()["DATABASE_URL"]
    _screen(stack, sender)
    stack.send(sender, "yes she agrees")
    stack.send(sender, "a phone call please")
    assert "I have sent it" in joined(stack.send(sender, "weekday mornings"))
    monkeypatch.setenv("DATABASE_URL", url)
    config = load_advocacy_config({"MSP_ADVOCACY_SMTP_HOST": "127.0.0.1", "MSP_ADVOCACY_SMTP_PORT": str(provider.port),
                                   "MSP_ADVOCACY_SMTP_STARTTLS": "no", "MSP_ADVOCACY_FROM": "msp@example.gov.uk",
                                   "MSP_ADVOCACY_TO": "referrals@advocacy.example.org"})
    try:
        while advocacy_sender.send_one(config):  # this referral (and any left by other tests) reaches the provider
            pass
        sent = len(provider.to("referrals@advocacy.example.org"))

        request = "She's changed her mind, please cancel the advocacy referral"
        question = joined(stack.send(sender, request))
        assert "Do you want to cancel" in question
        assert "Your referral stays" in joined(stack.send(sender, "no"))  # kept: nothing changes
        assert "Do you want to cancel" in joined(stack.send(sender, request))
        assert "you do not want the referral" in joined(stack.send(sender, "yes"))
        assert "cannot find" in joined(stack.send(sender, request))  # nothing left to cancel here

        with session_scope(url, read_only=True) as session:
            mine = [r for r in advocacy.list_referrals(session)
                    if advocacy.get_referral(session, r.id).source_ref.startswith(advocacy.chat_ref(sender))]
            assert [r.state for r in mine] == ["withdrawn"]
            [withdrawn] = [c for c in advocacy.consents(session)
                           if c.decision == "withdrawn" and c.referral_id == mine[0].id]
            assert (withdrawn.words, withdrawn.given_by) == (request, "representative")
        assert advocacy_sender.send_one(config)  # the provider is told, once
        assert not advocacy_sender.send_one(config)
    finally:
        dispose_engines()
    mails = provider.to("referrals@advocacy.example.org")
    assert len(mails) == sent + 1
    notice = mails[-1]["message"]
    assert "withdrawn" in notice["Message-ID"]
    body = notice.get_content()
    assert "the letters are too hard" not in body and request not in body and sender not in body
