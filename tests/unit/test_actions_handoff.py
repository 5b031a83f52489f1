"""The handoff actions on a real records database: queue in staffed hours, numbers otherwise, relay verbatim,
restore at a new session."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import ActionHandoffRelay, ActionSessionStart, ActionTalkToPerson
from bot.records import handoffs, session_scope
from bot.records.db import dispose_engines
from bot.records.schema import upgrade_to_head
from bot.settings import get_settings

ALWAYS = {"MSP_HANDOFF_DAYS": "Mon-Sun", "MSP_HANDOFF_HOURS": "00:00-24:00", "MSP_HANDOFF_BANK_HOLIDAYS": "none"}
NEVER = {"MSP_HANDOFF_DAYS": "Sat", "MSP_HANDOFF_HOURS": "00:00-00:01", "MSP_HANDOFF_BANK_HOLIDAYS": "none"}


@pytest.fixture(autouse=True)
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'msp.db'}")
    upgrade_to_head()
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    dispose_engines()


@pytest.fixture
def hours(monkeypatch):
    def set_hours(env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
    return set_hours


def tracker(text, intent="ask_talk_to_person", channel="socketio", slots=None, after=(), loop=None,
            sender="web-conv-a", message_id="m-1"):
    user = {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "input_channel": channel,
            "message_id": message_id}
    events = [{"event": "action", "name": "action_listen"}, user, *after]
    return Tracker(sender, dict(slots or {}), {"text": text, "intent": {"name": intent}, "message_id": message_id},
                   events, False, None, {"name": loop} if loop else {}, "action_listen")


def run(action, t):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return events, [m.get("response") for m in dispatcher.messages]


def stored(sender="web-conv-a"):
    with session_scope(read_only=True) as db:
        live = handoffs.live_handoff(db, sender)
        return None if live is None else (live.status, [(m.author, m.text) for m in handoffs.messages(db, live.id)])


def test_in_staffed_hours_the_widget_user_joins_the_queue(hours):
    hours(ALWAYS)
    events, said = run(ActionTalkToPerson(), tracker("can I talk to a real person"))
    assert events == [SlotSet("handoff_reply", "waiting"), SlotSet("handoff", "waiting")]
    assert said == []  # utter_talk_to_person follows (SafeguardPolicy and the rules)
    assert stored() == ("waiting", [("person", "can I talk to a real person")])
    # Asking again keeps the one handoff and does not store the same message twice.
    run(ActionTalkToPerson(), tracker("can I talk to a real person"))
    assert stored() == ("waiting", [("person", "can I talk to a real person")])


def test_a_form_that_was_asking_stops(hours):
    hours(ALWAYS)
    events, _ = run(ActionTalkToPerson(), tracker("a person please", loop="outcomes_form"))
    assert events == [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("handoff_reply", "waiting"),
                      SlotSet("handoff", "waiting")]


def test_out_of_hours_nothing_is_queued(hours):
    hours(NEVER)
    events, _ = run(ActionTalkToPerson(), tracker("can I talk to a real person"))
    assert events == [SlotSet("handoff_reply", "closed")]
    assert stored() is None


@pytest.mark.parametrize("channel", ["rest", "cmdline", None])
def test_channels_a_worker_cannot_reach_get_the_numbers(hours, channel):
    hours(ALWAYS)
    events, _ = run(ActionTalkToPerson(), tracker("can I talk to a real person", channel=channel))
    assert events == [SlotSet("handoff_reply", "unavailable")]
    assert stored() is None


def test_a_texter_joins_the_same_queue_as_a_text_message_chat(hours):
    hours(ALWAYS)
    events, said = run(ActionTalkToPerson(), tracker("can I talk to a person", channel="twilio", sender="sms-7",
                                                     message_id="SM1"))
    assert events == [SlotSet("handoff_reply", "waiting"), SlotSet("handoff", "waiting")] and said == []
    assert stored("sms-7") == ("waiting", [("person", "can I talk to a person")])
    with session_scope(read_only=True) as db:
        [row] = handoffs.queue(db)
    assert row.channel == "sms"
    # The webhook already stored a later message under its MessageSid: the relay does not store it twice.
    with session_scope() as db:
        handoffs.add_message(db, row.id, "person", "he is out", message_id="SM2")
    events, said = run(ActionHandoffRelay(), tracker("he is out", intent="inform", channel="twilio", sender="sms-7",
                                                      slots={"handoff": "waiting"}, message_id="SM2"))
    assert events == [] and said == []
    assert stored("sms-7")[1] == [("person", "can I talk to a person"), ("person", "he is out")]


def test_a_texter_out_of_hours_gets_the_numbers(hours):
    hours(NEVER)
    events, _ = run(ActionTalkToPerson(), tracker("can I talk to a person", channel="twilio", sender="sms-7"))
    assert events == [SlotSet("handoff_reply", "closed")]
    assert stored("sms-7") is None


def test_unreadable_hours_give_the_numbers_rather_than_a_silent_queue(hours):
    hours({"MSP_HANDOFF_BANK_HOLIDAYS": "Atlantis"})
    events, _ = run(ActionTalkToPerson(), tracker("can I talk to a real person"))
    assert events == [SlotSet("handoff_reply", "unavailable")]


def test_the_relay_stores_words_verbatim_and_says_nothing(hours):
    hours(ALWAYS)
    run(ActionTalkToPerson(), tracker("a person please"))
    words = "  he came back last night…  "
    events, said = run(ActionHandoffRelay(), tracker(words, intent="nlu_fallback", slots={"handoff": "waiting"},
                                                      message_id="m-2"))
    assert events == [] and said == []
    assert stored()[1][-1] == ("person", words)


def test_the_relay_marks_the_danger_reply_as_automatic(hours):
    hours(ALWAYS)
    run(ActionTalkToPerson(), tracker("a person please"))
    after = [{"event": "action", "name": "utter_danger_now"}, {"event": "bot", "text": "Call 999 now."}]
    events, said = run(ActionHandoffRelay(), tracker("he has a knife", intent="danger_now", after=after,
                                                      slots={"handoff": "waiting"}, message_id="m-3"))
    assert said == []
    assert stored()[1][-2:] == [("person", "he has a knife"), ("automatic", "Call 999 now.")]


def test_the_relay_follows_the_records_when_the_slot_is_out_of_date(hours):
    hours(ALWAYS)
    run(ActionTalkToPerson(), tracker("a person please"))
    with session_scope() as db:
        handoff = handoffs.live_handoff(db, "web-conv-a")
        assert handoffs.end(db, handoff.id, "closed")
    events, said = run(ActionHandoffRelay(), tracker("hello?", intent="greet", slots={"handoff": "claimed"}))
    assert events == [SlotSet("handoff", None)] and said == ["utter_how_can_i_help"]


def test_a_new_session_puts_a_claimed_handoff_back(hours):
    hours(ALWAYS)
    events, _ = run(ActionSessionStart(), tracker("", sender="web-conv-a"))
    assert events == [SessionStarted(), ActionExecuted("action_listen")]
    run(ActionTalkToPerson(), tracker("a person please"))
    with session_scope() as db:
        from bot.records import staff

        user = staff.create_user(db, "ann.worker", display_name="Ann", role="practitioner", password_hash="x")
        db.flush()
        assert handoffs.claim(db, handoffs.live_handoff(db, "web-conv-a").id, user.id)
    events, _ = run(ActionSessionStart(), tracker("", sender="web-conv-a"))
    assert events == [SessionStarted(), SlotSet("handoff", "claimed"), ActionExecuted("action_listen")]
    events, _ = run(ActionSessionStart(), tracker("", sender="web-conv-other"))
    assert events == [SessionStarted(), ActionExecuted("action_listen")]


def test_a_new_session_closes_a_handoff_nobody_claimed_so_the_person_is_answered(hours):
    hours(ALWAYS)
    run(ActionTalkToPerson(), tracker("a person please"))
    events, _ = run(ActionSessionStart(), tracker("", sender="web-conv-a"))
    assert events == [SessionStarted(), ActionExecuted("action_listen")]
    assert stored() is None  # closed: no longer live
