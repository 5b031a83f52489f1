"""A handoff by SMS on a real records database: what the webhook does with a texter's message
(``bot.channels.sms.handle_inbound``), the outbox for what staff say (``bot.handoff.sms``), the timeouts
process's notices by SMS, and the guard on the assistant's SMS replies."""
from __future__ import annotations

import time

import pytest

from bot.channels import sms as channel
from bot.handoff import sms as handoff_sms
from bot.handoff import texts, timeouts
from bot.records import handoffs, session_scope
from bot.records import sms as sms_records
from bot.records.db import dispose_engines
from bot.records.models import SmsOutbox
from bot.records.schema import upgrade_to_head
from bot.settings import get_settings

PHONE = "+447700900461"


@pytest.fixture(autouse=True)
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'msp.db'}")
    upgrade_to_head()
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    dispose_engines()


def texter(number=PHONE):
    """A texter in a live handoff: (number id, conversation id, handoff id)."""
    with session_scope() as db:
        n = sms_records.get_or_create_number(db, number)
        handoff, _ = handoffs.request_handoff(db, f"sms-{n.id}", "sms")
        return n.id, f"sms-{n.id}", handoff.id


def messages(handoff_id):
    with session_scope(read_only=True) as db:
        return [(m.author, m.text, m.message_id) for m in handoffs.messages(db, handoff_id)]


def status(handoff_id):
    with session_scope(read_only=True) as db:
        return handoffs.get_handoff(db, handoff_id).status


def outbox():
    with session_scope(read_only=True) as db:
        return [(r.kind, r.body, r.source_ref, r.state) for r in db.query(SmsOutbox).order_by(SmsOutbox.id)]


def test_in_a_handoff_every_message_is_stored_verbatim_with_the_message_and_goes_to_the_assistant():
    number_id, sender, handoff_id = texter()
    result = channel.handle_inbound("SM1", PHONE, "  he took my card   again ")
    assert isinstance(result, channel.Routed) and result.survey_id is None and result.number_id == number_id
    assert messages(handoff_id) == [("person", "  he took my card   again ", "SM1")]
    # The same MessageSid again (Twilio retries): nothing more.
    again = channel.handle_inbound("SM1", PHONE, "  he took my card   again ")
    assert again.duplicate and len(messages(handoff_id)) == 1
    # HELP: the usual reply, and the worker still sees it; not for the assistant.
    helped = channel.handle_inbound("SM2", PHONE, "HELP")
    assert not isinstance(helped, channel.Routed) and helped.outbox_id is not None
    assert messages(handoff_id)[-1] == ("person", "HELP", "SM2")
    assert outbox() == [("help", sms_records_render("help"), "reply:SM2", "queued")]
    assert status(handoff_id) == "waiting"


def sms_records_render(kind):
    from bot.sms.texts import render

    return render(kind)


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "cancel", " QUIT. "])
def test_stop_during_a_handoff_ends_it_as_left_and_nothing_is_sent(word):
    number_id, sender, handoff_id = texter()
    result = channel.handle_inbound("SM9", PHONE, word)
    assert not isinstance(result, channel.Routed) and result.outbox_id is None
    assert status(handoff_id) == "left"
    assert messages(handoff_id) == [("person", word, "SM9")]
    with session_scope() as db:
        assert handoff_sms.opted_out(db, sender)
        # Whatever staff or the timeouts process try afterwards is not queued.
        assert handoff_sms.queue(db, handoff_id, sender, "Ann: hello", "m1") is None
    assert outbox() == []


def test_a_plain_request_for_a_person_goes_to_the_assistant_anything_else_gets_the_neutral_reply():
    asked = channel.handle_inbound("SM3", "+447700900999", "Can I talk to a person please")
    assert isinstance(asked, channel.Routed) and asked.survey_id is None
    other = channel.handle_inbound("SM4", "+447700900998", "what is this number?")
    assert not isinstance(other, channel.Routed) and other.outbox_id is not None
    # The assistant is asking this number the call-back questions: its answer goes there.
    answer = channel.handle_inbound("SM5", "+447700900998", "weekday mornings", conversing=True)
    assert isinstance(answer, channel.Routed)
    # After STOP nothing goes to the assistant, a request for a person included.
    channel.handle_inbound("SM6", "+447700900998", "STOP")
    assert not isinstance(channel.handle_inbound("SM7", "+447700900998", "I want to talk to a person"),
                          channel.Routed)


def test_a_workers_words_go_once_per_message_and_never_with_a_revealing_word():
    number_id, sender, handoff_id = texter()
    with session_scope() as db:
        first = handoff_sms.queue(db, handoff_id, sender, "Ann: hello", "m1")
        again = handoff_sms.queue(db, handoff_id, sender, "Ann: hello", "m1")
    assert first == again and outbox() == [("handoff", "Ann: hello", f"handoff:{handoff_id}:m1", "queued")]
    assert handoff_sms.worker_words_problem("Is it safe to talk now?") is None
    problem = handoff_sms.worker_words_problem("Was it abuse? I can refer you to safeguarding")
    assert '"abuse", "safeguarding"' in problem and "someone else may read" in problem
    assert "at most" in handoff_sms.worker_words_problem("x" * (handoff_sms.MAX_WORKER_CHARS + 1))
    assert handoff_sms.number_id("sms-12") == 12 and handoff_sms.number_id("web-12") is None
    assert handoff_sms.number_id("sms-x") is None


class FakeRasa:
    """Stands in for Rasa's HTTP API: records what would be appended, and whether it would be sent."""

    def __init__(self, fail=False):
        self.calls, self.fail = [], fail

    def append(self, sender_id, events, send=True):
        if self.fail:
            raise timeouts.RasaUnavailable("down")
        self.calls.append((sender_id, events, send))


def test_nobody_claims_in_time_the_texter_is_told_by_sms_once_with_the_call_back_offer(monkeypatch):
    monkeypatch.setenv("MSP_HANDOFF_CLAIM_TIMEOUT_MINUTES", "0.0001")
    get_settings.cache_clear()
    number_id, sender, handoff_id = texter()
    time.sleep(0.05)
    down = FakeRasa(fail=True)
    assert timeouts.run_once(down) == 0 and outbox() == []  # Rasa must take it first (the slot): next round
    api = FakeRasa()
    assert timeouts.run_once(api) == 1
    assert timeouts.run_once(api) == 0  # once
    [(to, events, send)] = api.calls
    words = texts.sms_timeout()
    assert to == sender and send is False  # Rasa keeps a copy and the slot; the outbox sends it
    assert events[0]["text"] == words and events[1] == {"event": "slot", "name": "callback_offered", "value": True}
    assert outbox() == [("handoff", words, f"handoff:{handoff_id}:timeout", "queued")]
    assert messages(handoff_id)[-1][:2] == ("automatic", words)


def test_a_web_chat_is_still_told_through_rasa_only(monkeypatch):
    monkeypatch.setenv("MSP_HANDOFF_CLAIM_TIMEOUT_MINUTES", "0.0001")
    get_settings.cache_clear()
    with session_scope() as db:
        handoffs.request_handoff(db, "web-conv", "web")
    time.sleep(0.05)
    api = FakeRasa()
    assert timeouts.run_once(api) == 1
    [(to, events, send)] = api.calls
    assert to == "web-conv" and send is True and events[0]["text"] == timeouts.notice()
    assert outbox() == []


def test_a_reply_of_the_assistant_that_says_what_this_is_about_is_not_texted():
    with session_scope() as db:
        number_id = sms_records.get_or_create_number(db, PHONE).id
    replies = [{"text": "If anyone is in danger now, call 999."},
               {"text": "Financial abuse is when someone takes your money."},
               {"text": "Contact the Council."}]
    assert channel.queue_replies(number_id, "SM1", replies, "reply") == 2
    bodies = [row[1] for row in outbox()]
    assert bodies == ["If anyone is in danger now, call 999.", sms_records_render("unknown")]


class _Agent:
    def __init__(self, store, domain):
        self.tracker_store, self.domain = store, domain


class _App:
    def __init__(self, agent):
        self.ctx = type("Ctx", (), {"agent": agent})()


def _expecting(events, body, active_loop=None):
    """``expecting_answer`` against a real in-memory tracker store holding ``events``."""
    import asyncio

    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_yaml("version: '3.1'\nsession_config:\n  session_expiration_time: 60\n")
    store = InMemoryTrackerStore(domain)
    tracker = DialogueStateTracker.from_events("sms-1", events)
    if active_loop:
        tracker.active_loop = {"name": active_loop}
    asyncio.run(store.save(tracker))
    return asyncio.run(channel.expecting_answer(_App(_Agent(store, domain)), "sms-1", body))


def test_the_channel_knows_when_the_assistant_waits_for_a_texters_answer():
    import time as clock

    from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered

    now = clock.time()
    offered = [UserUttered("a person please", timestamp=now), ActionExecuted("utter_talk_to_person", timestamp=now),
               ActionExecuted("utter_callback_offer", timestamp=now), ActionExecuted("action_listen", timestamp=now)]
    assert _expecting(offered, "yes please") is True
    assert _expecting(offered, "no thanks") is False  # a no gets the neutral reply
    assert _expecting(offered[:2] + [ActionExecuted("action_listen", timestamp=now)], "yes") is False
    asking = [UserUttered("yes", timestamp=now), ActionExecuted("callback_form", timestamp=now),
              ActiveLoop("callback_form", timestamp=now), ActionExecuted("action_listen", timestamp=now)]
    assert _expecting(asking, "weekday mornings") is True
    # An hour idle: Rasa would start a new session, so nothing is being asked any more.
    old = [UserUttered("yes", timestamp=now - 7200), ActionExecuted("callback_form", timestamp=now - 7200),
           ActiveLoop("callback_form", timestamp=now - 7200)]
    assert _expecting(old, "weekday mornings") is False
    assert _expecting([], "hello") is False
