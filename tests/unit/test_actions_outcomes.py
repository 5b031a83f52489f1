"""validate_outcomes_form and the category helper (the questions: test_outcomes_questions.py)."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.outcome_categories import suggest_category
from bot.actions.outcomes import ValidateOutcomesForm
from bot.actions.parsing import answering_for, contact_method, pick_number, review_choice, yes_or_no
from bot.actions.visit import session_ref
from bot.records import (
    add_participant,
    create_invitation,
    redeem,
    give_consent,
    record_outcome,
    consent_history,
    create_enquiry,
    outcome_history,
    session_scope,
)
from bot.records.db import dispose_engines
from bot.records.outcomes import latest_asked
from bot.records.models import OUTCOME_CATEGORIES
from bot.records.schema import upgrade_to_head


@pytest.fixture(autouse=True)
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'msp.db'}")
    upgrade_to_head()
    yield
    dispose_engines()


#: The conversation and visit (Rasa session) the form's trackers come from.
SENDER = "conv-2"
SESSION_STARTED = 1760000000.25
_LINKED = {}


def link_visit(enquiry_id, sender=SENDER, started=SESSION_STARTED, now=None):
    """Redeem a new invitation for ``enquiry_id`` in this visit, as action_redeem_invitation does."""
    with session_scope() as session:
        issued = create_invitation(session, enquiry_id, now=now)
        result = redeem(session, issued.code, client_key=sender,
                        session_ref=session_ref([{"event": "session_started", "timestamp": started}]),
                        now=now)
        assert result.ok
    return enquiry_id


@pytest.fixture(autouse=True)
def enquiry_id(db):
    """An enquiry that this test's visit has linked to with an invitation."""
    with session_scope() as session:
        created = create_enquiry(session, "SG-TEST-2").id
    _LINKED["id"] = link_visit(created)
    yield created
    _LINKED.clear()


@pytest.fixture
def person(enquiry_id):
    with session_scope() as session:
        return add_participant(session, enquiry_id, "person").id


@pytest.fixture
def dispatcher():
    return CollectingDispatcher()


def answer_tracker(requested, text, intent="nlu_fallback", slots=None, before="outcomes_form",
                   message_id="m-1", started=SESSION_STARTED):
    """The tracker the form sends after the person answers ``requested``."""
    user = {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}},
            "input_channel": "rest"}
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started", "timestamp": started},
        {"event": "action", "name": "action_listen"},
        {"event": "action", "name": before},
        {"event": "bot", "text": "a question"},
        {"event": "action", "name": "action_listen"},
        user,
        {"event": "slot", "name": "requested_slot", "value": requested},
        {"event": "action", "name": "outcomes_form"},
    ]
    values = {"requested_slot": requested, "enquiry_id": _LINKED.get("id"), **(slots or {})}
    return Tracker(SENDER, values,
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
        # They were asked (SG4a "asked but no outcomes expressed"), not "not recorded".
        assert latest_asked(session, enquiry_id).answer == "yes"


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
        assert events[-1] == SlotSet("requested_slot", "outcome_category_ok")
        # The honest note about prosecution goes with the suggested group.
        assert SlotSet("outcome_prompt", "police") in events
        assert SlotSet("outcome_category", "police_prosecute") in events
    with session_scope() as session:
        rows = outcome_history(session, enquiry_id)
        # Recorded once, without a group until the person agrees to one.
        assert [(r.text, r.category, r.source_ref, r.channel) for r in rows] == [
            ("I want the police to prosecute him", None, "msg-1", "web")]


def test_not_right_asks_again(dispatcher):
    events = run(answer_tracker("outcome_confirmed", "no", intent="deny",
                                slots={"outcome_text": "x"}), dispatcher)
    assert SlotSet("outcome_prompt", "again") in events
    assert events[-1] == SlotSet("requested_slot", "outcome_text")


def test_anything_else_yes_goes_round_again_and_no_asks_about_contact(dispatcher, enquiry_id):
    events = run(answer_tracker("outcome_more", "yes", intent="affirm"), dispatcher)
    assert SlotSet("outcome_prompt", "more") in events
    assert events[-1] == SlotSet("requested_slot", "outcome_text")
    events = run(answer_tracker("outcome_more", "no", intent="deny",
                                slots={"enquiry_id": enquiry_id}), dispatcher)
    assert events == [SlotSet("outcome_more", False), SlotSet("requested_slot", "outcome_contact")]


def test_contact_preference_is_recorded_and_ends_the_form(dispatcher, enquiry_id):
    events = run(answer_tracker("outcome_contact", "A phone call", intent="ask_talk_to_person",
                                slots={"enquiry_id": enquiry_id}), dispatcher)
    assert events == [SlotSet("outcome_contact", "A phone call"), SlotSet("requested_slot", None)]
    from bot.records import get_enquiry
    with session_scope() as session:
        assert get_enquiry(session, enquiry_id).preferred_contact == "phone"


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


def test_review_and_pick_parsing():
    assert review_choice(None, "Add something") == "add"
    assert review_choice(None, "Change one") == "change"
    assert review_choice(None, "Take one away") == "withdraw"
    assert review_choice(None, "please remove the second one") == "withdraw"
    assert review_choice(None, "Keep them as they are") == "keep"
    assert review_choice(None, "nothing to add thanks") == "keep"
    assert review_choice("deny", "no") == "keep"
    assert review_choice("affirm", "yes") is None  # yes to what? asked again
    assert review_choice(None, "potato") is None
    assert [pick_number(t, 3) for t in ("2", "number 3", "the second one", "last one", "one")] == \
        [2, 3, 2, 3, 1]
    assert [pick_number(t, 3) for t in ("4", "0", "1 or 2", "whichever", "")] == [None] * 5
    assert pick_number("that one", 1) == 1 and pick_number("that one", 2) is None


class Conversation:
    """Answers the form one message at a time, keeping the slots it sets (like Rasa)."""

    def __init__(self, enquiry_id, **slots):
        self.slots = {"enquiry_id": enquiry_id, **slots}
        self.count = 0
        self.dispatcher = CollectingDispatcher()
        self.apply(run(answer_tracker(None, "start", slots=self.slots), self.dispatcher))

    def apply(self, events):
        for event in events:
            self.slots[event["name"]] = event["value"]

    @property
    def asking(self):
        return self.slots.get("requested_slot")

    def say(self, text, intent="nlu_fallback"):
        self.count += 1
        self.dispatcher = CollectingDispatcher()
        tracker = answer_tracker(self.asking, text, intent=intent, slots=self.slots,
                                 message_id=f"m-{self.count}")
        self.apply(run(tracker, self.dispatcher))
        return self.asking


def history(enquiry_id):
    with session_scope() as session:
        return [(r.version, r.status, r.text, r.category)
                for r in outcome_history(session, enquiry_id)]


def test_first_visit_suggests_a_group_which_the_person_may_accept(enquiry_id):
    talk = Conversation(enquiry_id)
    assert talk.say("For myself") == "outcome_consent"
    assert talk.say("yes", "affirm") == "outcome_text"
    assert talk.say("I want him to stay away from me") == "outcome_confirmed"
    assert talk.say("yes", "affirm") == "outcome_category_ok"
    assert talk.slots["outcome_category_label"] == "For the person harming me to stay away"
    assert talk.say("yes", "affirm") == "outcome_more"
    assert talk.slots["outcome_prompt"] == "more"
    assert talk.say("yes", "affirm") == "outcome_text"
    assert talk.say("I'd like to make some friends") == "outcome_confirmed"
    assert talk.say("yes", "affirm") == "outcome_category_ok"
    # "Skip this" read as yes by the classifier must not accept the group.
    assert talk.say("Skip this", "affirm") == "outcome_more"
    assert talk.slots["outcome_category_ok"] == "ignored"
    assert talk.say("no", "deny") == "outcome_contact"
    assert history(enquiry_id) == [
        (1, "active", "I want him to stay away from me", None),
        (2, "active", "I want him to stay away from me", "harmer_stay_away"),
        (1, "active", "I'd like to make some friends", None),
    ]


def test_no_group_fits_the_words_are_saved_and_nothing_is_asked(enquiry_id):
    talk = Conversation(enquiry_id)
    talk.say("For myself")
    talk.say("yes", "affirm")
    talk.say("my cat back")
    assert talk.say("yes", "affirm") == "outcome_more"
    assert talk.slots["outcome_prompt"] == "saved"
    assert history(enquiry_id) == [(1, "active", "my cat back", None)]


def returning(enquiry_id, *texts):
    with session_scope() as session:
        person = add_participant(session, enquiry_id, "person")
        give_consent(session, enquiry_id, person.id, "record_outcomes",
                     recorded_by="assistant", channel="web")
        for text in texts:
            record_outcome(session, enquiry_id, text, participant_id=person.id,
                           recorded_by="assistant", channel="web")


def test_a_returning_person_hears_their_words_and_changes_one(enquiry_id):
    returning(enquiry_id, "I want him to stop <b>now</b> 😊", "to see my friends")
    talk = Conversation(enquiry_id)
    # Consent is on record for this person: not asked again.
    assert talk.say("me") == "outcome_review"
    assert talk.slots["outcome_prompt"] == "first"
    assert talk.slots["outcome_list"] == '1. "I want him to stop <b>now</b> 😊"\n2. "to see my friends"'
    assert talk.say("I'd like to change one") == "outcome_pick"
    assert talk.say("potato") == "outcome_pick"
    assert talk.say("2") == "outcome_text"
    assert (talk.slots["outcome_prompt"], talk.slots["outcome_text"]) == ("change", "to see my friends")
    assert talk.say("to see my friends every week") == "outcome_confirmed"
    assert talk.say("yes", "affirm") == "outcome_category_ok"
    assert talk.say("no", "deny") == "outcome_more"
    assert talk.slots["outcome_prompt"] == "returning"
    # "Anything else?" yes: the list again, as it is now.
    assert talk.say("yes", "affirm") == "outcome_review"
    assert talk.slots["outcome_prompt"] == "more"
    assert talk.slots["outcome_list"].endswith('2. "to see my friends every week"')
    assert talk.say("Keep them as they are") is None
    assert talk.slots["outcome_review"] == "keep"
    assert history(enquiry_id) == [
        (1, "active", "I want him to stop <b>now</b> 😊", None),
        (1, "active", "to see my friends", None),
        (2, "active", "to see my friends every week", None),
    ]


def test_a_returning_person_takes_one_away_and_adds_one(enquiry_id):
    returning(enquiry_id, "for the police to prosecute him")
    talk = Conversation(enquiry_id)
    assert talk.say("for myself") == "outcome_review"
    # Only one: no need to ask which.
    assert talk.say("Take one away") == "outcome_withdraw_confirmed"
    assert talk.slots["outcome_text"] == "for the police to prosecute him"
    assert talk.say("yes", "affirm") == "outcome_more"
    assert talk.slots["outcome_prompt"] == "withdrawn"
    # Nothing left: "anything else?" goes straight to new words.
    assert talk.say("yes", "affirm") == "outcome_text"
    assert talk.say("I want to feel safe at home") == "outcome_confirmed"
    talk.say("yes", "affirm")
    talk.say("yes", "affirm")
    assert history(enquiry_id) == [
        (1, "active", "for the police to prosecute him", None),
        (2, "withdrawn", "for the police to prosecute him", None),
        (1, "active", "I want to feel safe at home", None),
        (2, "active", "I want to feel safe at home", "stop_abuse_feel_safer"),
    ]


def test_not_taking_it_away_after_all_changes_nothing(enquiry_id):
    returning(enquiry_id, "one", "two")
    talk = Conversation(enquiry_id)
    talk.say("for myself")
    assert talk.say("remove one") == "outcome_pick"
    assert talk.say("the first one") == "outcome_withdraw_confirmed"
    assert talk.say("no", "deny") == "outcome_review"
    assert [row[:2] for row in history(enquiry_id)] == [(1, "active"), (1, "active")]


def test_a_database_failure_is_said_and_the_question_kept(enquiry_id, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import bot.actions.outcomes as module

    talk = Conversation(enquiry_id)
    talk.say("For myself")
    talk.say("yes", "affirm")
    talk.say("I want it to stop")

    def broken(*_args, **_kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    working = module.outcomes.record_outcome
    monkeypatch.setattr(module.outcomes, "record_outcome", broken)
    assert talk.say("yes", "affirm") == "outcome_confirmed"
    assert [m["response"] for m in talk.dispatcher.messages] == ["utter_records_unavailable"]
    assert talk.slots["outcome_text"] == "I want it to stop"  # kept for the retry
    monkeypatch.setattr(module.outcomes, "record_outcome", working)
    assert talk.say("yes", "affirm") == "outcome_category_ok"
    assert history(enquiry_id) == [(1, "active", "I want it to stop", None)]


def test_a_clear_choice_guessed_as_asking_for_a_person_is_still_an_answer(enquiry_id):
    returning(enquiry_id, "one", "two")
    talk = Conversation(enquiry_id)
    talk.say("for myself")
    assert talk.say("I want to change the first one", "ask_talk_to_person") == "outcome_pick"
    assert talk.say("the first one", "ask_talk_to_person") == "outcome_text"
    # A real request for a person is left to the rules (the form is rejected).
    tracker = answer_tracker("outcome_review", "can I talk to a real person",
                             intent="ask_talk_to_person", slots=talk.slots)
    assert run(tracker, CollectingDispatcher()) == []


def test_the_form_slots_are_the_domains_and_no_question_is_a_custom_action():
    """The questions are responses sent by the Rasa server (test_outcomes_questions.py)."""
    import yaml
    from rasa_sdk import Action

    from bot.actions.outcomes import FORM_SLOTS

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    served = {c().name() for c in subclasses(Action)
              if c.__module__ == "bot.actions.outcomes" and not c.__name__.startswith("_")}
    domain = yaml.safe_load(open("domain.yml"))
    assert served == {"validate_outcomes_form"}
    assert not [a for a in domain["actions"] if a.startswith("action_ask_")]
    assert set(FORM_SLOTS) == set(domain["forms"]["outcomes_form"]["required_slots"])
    assert {f"utter_ask_outcomes_form_{slot}" for slot in FORM_SLOTS} <= set(domain["responses"])


# --- reading back needs the invitation of this visit (issue 10, item 2) ------------------------

def returning_slots(enquiry_id):
    return {"enquiry_id": enquiry_id, "outcome_role": "self", "participant_id": None}


def test_a_later_visit_with_the_enquiry_in_its_slots_hears_nothing(dispatcher, enquiry_id, person):
    with session_scope() as session:
        give_consent(session, enquiry_id, person, "record_outcomes", recorded_by="t", channel="web")
        record_outcome(session, enquiry_id, "my private words", participant_id=person,
                       recorded_by="t", channel="web")
    # The same conversation, a new Rasa session (after 60 idle minutes), the slot still set
    # (say, carried over): no link for this visit, so nothing is read back.
    for requested, text in ((None, "start"), ("outcome_role", "For myself")):
        dispatcher = CollectingDispatcher()
        events = run(answer_tracker(requested, text, slots={"enquiry_id": enquiry_id},
                                    started=SESSION_STARTED + 7200), dispatcher)
        assert SlotSet("outcome_prompt", "link_lapsed") in events
        assert SlotSet("enquiry_id", None) in events and events[-1] == SlotSet("requested_slot", None)
        assert "my private words" not in repr(events) and dispatcher.messages == []


def test_another_conversation_cannot_use_this_visits_link(dispatcher, enquiry_id):
    tracker = answer_tracker("outcome_role", "For myself")
    tracker.sender_id = "someone-else"
    events = run(tracker, dispatcher)
    assert SlotSet("outcome_prompt", "link_lapsed") in events


def test_a_link_lasts_at_most_the_configured_minutes(dispatcher, monkeypatch):
    from datetime import timedelta

    from bot.records.models import utcnow

    with session_scope() as session:
        other = create_enquiry(session, "SG-TEST-OLD").id
    monkeypatch.setenv("MSP_LINK_MAX_MINUTES", "30")
    link_visit(other, now=utcnow() - timedelta(minutes=31))
    events = run(answer_tracker("outcome_role", "For myself", slots={"enquiry_id": other}), dispatcher)
    assert SlotSet("outcome_prompt", "link_lapsed") in events
    link_visit(other, now=utcnow() - timedelta(minutes=29))
    events = run(answer_tracker("outcome_role", "For myself", slots={"enquiry_id": other}),
                 CollectingDispatcher())
    assert events[-1] == SlotSet("requested_slot", "outcome_consent")
