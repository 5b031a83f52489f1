"""validate_outcomes_form, its question actions, and the category helper."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.outcome_categories import suggest_category
from bot.actions.outcomes import ActionAskOutcomesFormOutcomeText, ValidateOutcomesForm
from bot.actions.parsing import answering_for, contact_method, yes_or_no
from bot.records import (
    add_participant,
    consent_history,
    create_enquiry,
    outcome_history,
    session_scope,
)
from bot.records.db import dispose_engines
from bot.records.models import OUTCOME_CATEGORIES
from bot.records.schema import upgrade_to_head


@pytest.fixture(autouse=True)
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'msp.db'}")
    upgrade_to_head()
    yield
    dispose_engines()


@pytest.fixture
def enquiry_id():
    with session_scope() as session:
        return create_enquiry(session, "SG-TEST-2").id


@pytest.fixture
def person(enquiry_id):
    with session_scope() as session:
        return add_participant(session, enquiry_id, "person").id


@pytest.fixture
def dispatcher():
    return CollectingDispatcher()


def answer_tracker(requested, text, intent="nlu_fallback", slots=None, before="outcomes_form",
                   message_id="m-1"):
    """The tracker the form sends after the person answers ``requested``."""
    user = {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}},
            "input_channel": "rest"}
    events = [
        {"event": "action", "name": before},
        {"event": "bot", "text": "a question"},
        {"event": "action", "name": "action_listen"},
        user,
        {"event": "slot", "name": "requested_slot", "value": requested},
        {"event": "action", "name": "outcomes_form"},
    ]
    values = {"requested_slot": requested, **(slots or {})}
    return Tracker("conv-2", values,
                   {"text": text, "intent": {"name": intent}, "message_id": message_id},
                   events, False, None, {"name": "outcomes_form"}, "outcomes_form")


def run(tracker, dispatcher):
    return asyncio.run(ValidateOutcomesForm().run(dispatcher, tracker, {}))


def test_starting_clears_old_answers_and_asks_who_is_answering(dispatcher):
    tracker = answer_tracker(None, "my code is XR5T-9PLW", slots={"outcome_text": "old"})
    events = run(tracker, dispatcher)
    assert SlotSet("outcome_text", None) in events
    assert SlotSet("outcome_prompt", "first") in events
    assert events[-1] == SlotSet("requested_slot", "outcome_role")
    assert dispatcher.messages == []


def test_answering_for_someone_else_records_a_representative(dispatcher, enquiry_id):
    events = run(answer_tracker("outcome_role", "For someone else",
                                slots={"enquiry_id": enquiry_id}), dispatcher)
    assert events[0] == SlotSet("outcome_role", "other")
    assert events[-1] == SlotSet("requested_slot", "outcome_consent")
    from bot.records import list_participants
    with session_scope() as session:
        assert [p.role for p in list_participants(session, enquiry_id)] == ["representative"]


def test_an_unclear_role_is_asked_again(dispatcher, enquiry_id):
    events = run(answer_tracker("outcome_role", "potato", slots={"enquiry_id": enquiry_id}), dispatcher)
    assert events == [SlotSet("outcome_role", None), SlotSet("requested_slot", "outcome_role")]


def test_consent_refused_is_recorded_and_ends_the_form(dispatcher, enquiry_id, person):
    slots = {"enquiry_id": enquiry_id, "participant_id": person, "outcome_role": "self"}
    events = run(answer_tracker("outcome_consent", "no", intent="deny", slots=slots), dispatcher)
    assert events == [SlotSet("outcome_consent", "refused"), SlotSet("requested_slot", None)]
    with session_scope() as session:
        assert [c.decision for c in consent_history(session, enquiry_id)] == ["refused"]


def test_consent_given_asks_what_they_want(dispatcher, enquiry_id, person):
    slots = {"enquiry_id": enquiry_id, "participant_id": person, "outcome_role": "self"}
    events = run(answer_tracker("outcome_consent", "yes", intent="affirm", slots=slots), dispatcher)
    assert events[-1] == SlotSet("requested_slot", "outcome_text")
    with session_scope() as session:
        assert [c.decision for c in consent_history(session, enquiry_id)] == ["given"]


def test_the_words_are_kept_verbatim_and_read_back(dispatcher):
    words = "  <b>Stop</b> 😊 — 请停止  "
    events = run(answer_tracker("outcome_text", words, message_id="msg-9"), dispatcher)
    assert events == [SlotSet("outcome_text", words), SlotSet("outcome_text_ref", "msg-9"),
                      SlotSet("outcome_confirmed", None), SlotSet("requested_slot", "outcome_confirmed")]


def test_more_than_2000_characters_is_refused_not_cut(dispatcher):
    events = run(answer_tracker("outcome_text", "a" * 2001), dispatcher)
    assert events == [SlotSet("outcome_text", None), SlotSet("outcome_prompt", "too_long"),
                      SlotSet("requested_slot", "outcome_text")]
    events = run(answer_tracker("outcome_text", "a" * 2000), dispatcher)
    assert events[0] == SlotSet("outcome_text", "a" * 2000)


def test_after_a_danger_reply_the_question_is_asked_again(dispatcher):
    tracker = answer_tracker("outcome_text", "ok", intent="affirm", before="utter_danger_now")
    assert run(tracker, dispatcher) == [SlotSet("outcome_text", None),
                                        SlotSet("requested_slot", "outcome_text")]


def test_talk_to_a_person_is_left_to_the_rules(dispatcher):
    tracker = answer_tracker("outcome_text", "I want to talk to a person", intent="ask_talk_to_person")
    assert run(tracker, dispatcher) == []


def test_confirmed_outcome_is_recorded_once_per_message(dispatcher, enquiry_id, person):
    slots = {"enquiry_id": enquiry_id, "participant_id": person,
             "outcome_text": "I want the police to prosecute him", "outcome_text_ref": "msg-1"}
    for _ in range(2):
        events = run(answer_tracker("outcome_confirmed", "yes", intent="affirm", slots=slots), dispatcher)
        assert events[-1] == SlotSet("requested_slot", "outcome_more")
    with session_scope() as session:
        rows = outcome_history(session, enquiry_id)
        assert [(r.text, r.category, r.source_ref, r.channel) for r in rows] == [
            ("I want the police to prosecute him", "police_prosecute", "msg-1", "web")]


def test_not_right_asks_again(dispatcher):
    events = run(answer_tracker("outcome_confirmed", "no", intent="deny",
                                slots={"outcome_text": "x"}), dispatcher)
    assert SlotSet("outcome_prompt", "again") in events
    assert events[-1] == SlotSet("requested_slot", "outcome_text")


def test_anything_else_yes_goes_round_again_and_no_asks_about_contact(dispatcher):
    events = run(answer_tracker("outcome_more", "yes", intent="affirm"), dispatcher)
    assert SlotSet("outcome_prompt", "more") in events
    assert events[-1] == SlotSet("requested_slot", "outcome_text")
    events = run(answer_tracker("outcome_more", "no", intent="deny"), dispatcher)
    assert events == [SlotSet("outcome_more", False), SlotSet("requested_slot", "outcome_contact")]


def test_contact_preference_is_recorded_and_ends_the_form(dispatcher, enquiry_id):
    events = run(answer_tracker("outcome_contact", "A phone call", intent="ask_talk_to_person",
                                slots={"enquiry_id": enquiry_id}), dispatcher)
    assert events == [SlotSet("outcome_contact", "A phone call"), SlotSet("requested_slot", None)]
    from bot.records import get_enquiry
    with session_scope() as session:
        assert get_enquiry(session, enquiry_id).preferred_contact == "phone"


def test_the_question_action_sends_the_forms_response(dispatcher):
    events = ActionAskOutcomesFormOutcomeText().run(dispatcher, answer_tracker("outcome_text", ""), {})
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_outcomes_form"]


@pytest.mark.parametrize("text, category", [
    ("I want the police to charge him", "police_prosecute"),
    ("I want him to stay away from me", "harmer_stay_away"),
    ("for people to do what they said they would", "people_do_what_they_say"),
    ("I want to be kept informed about what happens", "be_involved"),
    ("help so it doesn't happen again", "protect_myself_future"),
    ("to feel more confident", "feel_more_confident"),
    ("I'd like to make some friends", "make_friends"),
    ("some help with my shopping and a carer", "get_support"),
    ("I just want it to stop", "stop_abuse_feel_safer"),
    ("my cat back", "something_else"),
])
def test_suggest_category(text, category):
    assert category in OUTCOME_CATEGORIES
    assert suggest_category(text) == category


def test_parsing_helpers():
    assert yes_or_no("affirm", "whatever") is True
    assert yes_or_no("nlu_fallback", "yeah that's right") is True
    assert yes_or_no("nlu_fallback", "nope") is False
    assert yes_or_no("nlu_fallback", "potato") is None
    assert answering_for("for my mum") == "other"
    assert answering_for("me") == "self"
    assert contact_method("send me a letter") == "letter"
    assert contact_method("I want to talk to a person") is None
