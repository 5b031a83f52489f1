"""The call-back questions and their record, on a real records database: one question at a time, every answer
verbatim, a UK number or the question again, "not safe" ends with no number asked, stop ends politely, danger and
a plain "talk to a person" are never answers, and the request is recorded once and linked to the handoff."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.callback import (FORM_SLOTS, ActionCallbackStart, ActionCallbackSubmit, ValidateCallbackForm,
                                  answer)
from bot.actions.parsing import safe_to_call, uk_phone, wants_to_stop
from bot.records import callbacks, handoffs, session_scope
from bot.records.db import dispose_engines
from bot.records.schema import upgrade_to_head


@pytest.fixture(autouse=True)
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'msp.db'}")
    upgrade_to_head()
    yield
    dispose_engines()


def tracker(text="", intent="nlu_fallback", requested=None, slots=None, after=(), channel="socketio",
            sender="web-cb", message_id="m-1", first=False):
    """The tracker as validate_callback_form sees it straight after the person's message (``first``: starting)."""
    user = {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "input_channel": channel,
            "message_id": message_id}
    events = [{"event": "action", "name": "action_listen"}, user, *after]
    if not first:
        events.append({"event": "action", "name": "callback_form"})
    all_slots = dict(slots or {}, requested_slot=requested)
    return Tracker(sender, all_slots, {"text": text, "intent": {"name": intent}, "message_id": message_id},
                   events, False, None, {"name": "callback_form"}, "action_listen")


def run(action, t):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return events, [m.get("response") for m in dispatcher.messages]


def slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


# --- reading the answers (pure) -----------------------------------------------------------------------


@pytest.mark.parametrize("text, number", [
    ("07700 900123", "+447700900123"),
    ("my mobile is 07700-900-123 thanks", "+447700900123"),
    ("+44 (0)1632 960111", "+441632960111"),
    ("0044 1632 960 111", "+441632960111"),
    ("+1 202 555 0123", None),  # not a UK number
    ("07700 9001", None),  # too short
    ("999", None),
    ("you can ring me", None),
])
def test_a_uk_phone_number_is_read_from_the_words(text, number):
    assert uk_phone(text) == number


@pytest.mark.parametrize("text, intent, safe", [
    ("Yes", "affirm", True),
    ("yes, he's at work all day", "affirm", True),
    ("it's safe after 6", "inform_safe", True),
    ("No", "deny", False),
    ("it is not safe", "inform_not_safe", False),
    ("not really, he checks my phone", "deny", False),
    ("please don't call", "nlu_fallback", False),
    ("maybe", "nlu_fallback", None),
])
def test_is_it_safe_to_call_reads_any_doubt_as_no(text, intent, safe):
    assert safe_to_call(intent, text) is safe


def test_stop_phrases_are_whole_messages():
    assert wants_to_stop("Cancel!") and wants_to_stop("I’ve changed my mind") and wants_to_stop("  stop ")
    assert not wants_to_stop("stop him calling me") and not wants_to_stop("weekday mornings")


# --- the form -----------------------------------------------------------------------------------------


def test_starting_forgets_an_earlier_round_and_asks_who_it_is_for():
    events, said = run(ValidateCallbackForm(), tracker("yes", "affirm", first=True, slots={"cb_safe": "old"}))
    assert slots(events) == dict({slot: None for slot in FORM_SLOTS}, cb_problem=None, cb_leave=None,
                                 cb_result=None, requested_slot="cb_who")
    assert said == []  # Rasa's form sends utter_ask_callback_form_cb_who itself


def test_one_question_at_a_time_every_answer_verbatim():
    steps = [("cb_who", "For someone else", "cb_safe", {"cb_who": "other"}),
             ("cb_safe", " yes, he is away till Friday ", "cb_number", {"cb_safe": " yes, he is away till Friday "}),
             ("cb_number", "her mobile  07700 900123", "cb_times", {"cb_number": "her mobile  07700 900123",
                                                                    "cb_problem": None}),
             ("cb_times", "weekday mornings\nnot after 3", "cb_message", {"cb_times": "weekday mornings\nnot after 3"}),
             ("cb_message", "no, don't leave one", "cb_others", {"cb_message": "no, don't leave one",
                                                                 "cb_leave": "no"}),
             ("cb_others", "her son Dave 😟", None, {"cb_others": "her son Dave 😟"})]
    for requested, text, following, expected in steps:
        events = answer(requested, text, "nlu_fallback")
        assert slots(events) == dict(expected, requested_slot=following), requested


def test_a_number_that_is_not_a_uk_phone_number_is_asked_again_with_a_reason():
    assert slots(answer("cb_number", "my number is 12345", "nlu_fallback")) == {
        "cb_number": None, "cb_problem": "number", "requested_slot": "cb_number"}


def test_not_safe_to_call_ends_the_questions_with_no_number_asked_and_nothing_kept():
    assert slots(answer("cb_safe", "No, he checks my phone", "deny")) == {
        "cb_safe": None, "cb_result": "not_safe", "requested_slot": None}


@pytest.mark.parametrize("requested", FORM_SLOTS)
def test_stop_or_cancel_ends_the_questions_politely_at_any_point(requested):
    assert slots(answer(requested, "cancel", "nlu_fallback")) == dict(
        {slot: None for slot in FORM_SLOTS}, cb_problem=None, cb_leave=None, cb_result="cancelled",
        requested_slot=None)


def test_unclear_answers_are_asked_again():
    assert slots(answer("cb_who", "hmm", "nlu_fallback"))["requested_slot"] == "cb_who"
    assert slots(answer("cb_safe", "maybe", "nlu_fallback"))["requested_slot"] == "cb_safe"
    assert slots(answer("cb_message", "whatever", "nlu_fallback"))["requested_slot"] == "cb_message"
    assert slots(answer("cb_times", "   ", "nlu_fallback"))["requested_slot"] == "cb_times"


def test_danger_and_a_plain_request_for_a_person_are_not_answers():
    events, said = run(ValidateCallbackForm(), tracker("he's hitting me now", "danger_now", requested="cb_times"))
    assert events == [] and said == []
    events, _ = run(ValidateCallbackForm(), tracker("can I talk to a real person", "ask_talk_to_person",
                                                    requested="cb_times"))
    assert events == []
    # Own words that the classifier took for "talk to a person" stay the answer.
    events, _ = run(ValidateCallbackForm(), tracker("ring me after my carer has gone", "ask_talk_to_person",
                                                    requested="cb_times"))
    assert slots(events) == {"cb_times": "ring me after my carer has gone", "requested_slot": "cb_message"}


def test_after_a_danger_reply_the_question_is_asked_again():
    t = tracker("ok", "affirm", requested="cb_safe")
    t.events.insert(0, {"event": "action", "name": "utter_danger_now"})  # the reply before the person's "ok"
    events, _ = run(ValidateCallbackForm(), t)
    assert slots(events) == {"cb_safe": None, "requested_slot": "cb_safe"}


# --- starting from the queue, and the record ----------------------------------------------------------


FULL = {"cb_who": "self", "cb_safe": "yes it's safe", "cb_number": "07700 900123 (mobile)",
        "cb_times": "after 6pm", "cb_message": "yes", "cb_leave": "yes", "cb_others": "nobody",
        "cb_result": None}


def test_a_person_waiting_in_the_queue_leaves_it_and_the_request_is_linked_to_the_handoff():
    with session_scope() as db:
        handoff_id = handoffs.request_handoff(db, "web-cb", "web")[0].id
    events, _ = run(ActionCallbackStart(), tracker("/affirm", "affirm", first=True, slots={"handoff": "waiting"}))
    assert events == [SlotSet("handoff", None), SlotSet("callback_offered", None),
                      SlotSet("cb_handoff", str(handoff_id))]
    events, said = run(ActionCallbackSubmit(), tracker("nobody", slots=dict(FULL, cb_handoff=str(handoff_id))))
    assert slots(events)["cb_result"] == "sent" and said == []  # utter_callback_done follows (the rule)
    assert all(value is None for name, value in slots(events).items() if name != "cb_result")
    with session_scope(read_only=True) as db:
        assert handoffs.get_handoff(db, handoff_id).status == "callback_requested"
        [row] = callbacks.list_requests(db)
        view = callbacks.request_view(db, row.id)
    assert (view.handoff_id, view.sender_id, view.number, view.leave_message, view.asked_by, view.channel) == (
        handoff_id, "web-cb", "+447700900123", True, "person", "web")
    assert {key: words for key, _, words in view.answers} == {
        "safe_words": "yes it's safe", "number_words": "07700 900123 (mobile)", "safe_times": "after 6pm",
        "message_words": "yes", "others_words": "nobody"}
    # The same turn delivered twice records nothing twice.
    run(ActionCallbackSubmit(), tracker("nobody", slots=dict(FULL, cb_handoff=str(handoff_id))))
    with session_scope(read_only=True) as db:
        assert len(callbacks.list_requests(db)) == 1


def test_a_worker_who_claimed_first_keeps_the_chat_and_no_questions_start():
    with session_scope() as db:
        handoff_id = handoffs.request_handoff(db, "web-cb", "web")[0].id
        assert handoffs.claim(db, handoff_id, _worker(db))
    events, _ = run(ActionCallbackStart(), tracker("/affirm", "affirm", first=True, slots={"handoff": "waiting"}))
    assert events == [SlotSet("handoff", "claimed")]
    with session_scope(read_only=True) as db:
        assert handoffs.get_handoff(db, handoff_id).status == "claimed"


def test_out_of_hours_there_is_no_handoff_to_link():
    events, _ = run(ActionCallbackStart(), tracker("yes", "affirm", first=True, channel="twilio"))
    assert events == [SlotSet("handoff", None), SlotSet("callback_offered", None), SlotSet("cb_handoff", None)]
    events, _ = run(ActionCallbackSubmit(), tracker("my mum", channel="twilio",
                                                    slots=dict(FULL, cb_who="other", cb_leave="no")))
    assert slots(events)["cb_result"] == "sent"
    with session_scope(read_only=True) as db:
        [row] = callbacks.list_requests(db)
        view = callbacks.request_view(db, row.id)
    assert (view.handoff_id, view.asked_by, view.channel, view.leave_message) == (None, "representative", "sms",
                                                                                  False)


@pytest.mark.parametrize("result, requested, words, question", [
    ("not_safe", "cb_safe", "  No — he checks my phone every night  ", "safe_words"),
    ("cancelled", "cb_times", "stop", "safe_times"),
    ("cancelled", "cb_who", "cancel please", "who"),
])
def test_not_safe_or_stopped_is_recorded_as_a_decline_with_the_words_verbatim(result, requested, words, question):
    asking = [{"event": "slot", "name": "requested_slot", "value": requested}]
    t = tracker(words, slots={"cb_result": result, "cb_who": "self" if requested != "cb_who" else None},
                after=[{"event": "slot", "name": "requested_slot", "value": None}])
    t.events[:0] = asking  # the form was asking ``requested`` when the message came
    events, _ = run(ActionCallbackSubmit(), t)
    assert slots(events)["cb_result"] == result
    with session_scope(read_only=True) as db:
        [row] = callbacks.list_requests(db)
    assert (row.declined, row.status, row.words, row.question, row.asked_by, row.channel, row.duty_emailed) == (
        True, result, words, question, "person", "web", False)
    with session_scope(read_only=True) as db:
        assert callbacks.duty_not_told(db) == []  # nobody to call: the duty team is not emailed
    run(ActionCallbackSubmit(), t)  # the same turn twice: one decline
    with session_scope(read_only=True) as db:
        assert len(callbacks.list_requests(db)) == 1


@pytest.mark.parametrize("who_words, cb_who, outcome_role, asked_by", [
    ("For me", "self", None, "person"),
    ("for me, I'm her carer", "self", None, "representative"),
    ("It's for me, I look after my dad", "self", None, "representative"),
    ("me, I'm his daughter", "self", None, "representative"),
    ("For me", "self", "other", "representative"),  # answered the outcomes questions for someone else
    ("For someone else", "other", None, "representative"),
    ("for my mum", "other", None, "representative"),
])
def test_who_is_asking_is_recorded_apart_from_whom_the_call_is_for(who_words, cb_who, outcome_role, asked_by):
    assert ValidateCallbackForm  # the form's reading of the same words
    assert slots(answer("cb_who", who_words, "nlu_fallback"))["cb_who"] == cb_who
    who_answer = [{"event": "user", "text": who_words}, {"event": "slot", "name": "cb_who", "value": cb_who}]
    t = tracker("nobody", slots=dict(FULL, cb_who=cb_who, outcome_role=outcome_role))
    t.events[:0] = who_answer
    events, _ = run(ActionCallbackSubmit(), t)
    assert slots(events)["cb_result"] == "sent"
    with session_scope(read_only=True) as db:
        [row] = callbacks.list_requests(db)
        view = callbacks.request_view(db, row.id)
    assert (view.asked_by, view.for_whom) == (asked_by, cb_who)


def test_when_the_records_cannot_be_reached_the_person_is_given_the_numbers(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent-dir/nowhere.db")
    dispose_engines()
    events, _ = run(ActionCallbackSubmit(), tracker("nobody", slots=FULL))
    assert slots(events)["cb_result"] == "unavailable"


def _worker(db):
    from bot.records import staff

    user = staff.create_user(db, "ann", display_name="Ann", role="practitioner", password_hash="x")
    db.flush()
    return user.id


@pytest.mark.parametrize("text, accepted", [
    ("/affirm", True), ("yes", True), ("Yes, call me back", True), ("yes please call me back", True),
    ("can someone call me back", True), ("ring me back after 5", True),
    ("ok", False), ("yes I'll wait", False), ("no", False), ("no, don't ring me", False), ("not now", False),
    ("what is abuse", False),
])
def test_a_yes_to_the_call_back_in_words(text, accepted):
    from bot.text.requests import accepts_call_back

    assert accepts_call_back(text) is accepted
