"""validate_feedback_form and the feedback invitation: order, parsing, records, endings."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.feedback import FORM_SLOTS, ValidateFeedbackForm
from bot.actions.invitations import ActionRedeemInvitation
from bot.actions.visit import session_ref
from bot.records import (add_participant, close_enquiry, create_enquiry, record_outcome, redeem,
                         session_scope, withdraw_outcome)
from bot.records import feedback
from bot.records.db import dispose_engines
from bot.records.models import OutcomeReview, utcnow
from bot.records.schema import upgrade_to_head
from bot.surveys.request import request_feedback

SENDER = "rest-feedback-1"
STARTED = 1760000000.5


@pytest.fixture(autouse=True)
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'msp.db'}")
    upgrade_to_head()
    yield
    dispose_engines()


def make_survey(role="person", outcomes=("For him to stop ringing me", "To feel safe at home"),
                withdrawn=("Move house",), link=True):
    with session_scope() as session:
        enquiry = create_enquiry(session, f"SG-FB-{role}")
        person = add_participant(session, enquiry.id, role)
        keys = []
        for text in outcomes:
            keys.append(record_outcome(session, enquiry.id, text, participant_id=person.id,
                                       recorded_by="assistant", channel="web").outcome_key)
        for text in withdrawn:
            row = record_outcome(session, enquiry.id, text, participant_id=person.id,
                                 recorded_by="assistant", channel="web")
            withdraw_outcome(session, row.id, participant_id=person.id, recorded_by="assistant", channel="web")
        close_enquiry(session, enquiry.id, when=utcnow() - timedelta(days=3))
        result = request_feedback(session, enquiry.id, channel="web", requested_by="Sam")
        assert result.ok
        if link:
            assert redeem(session, result.code, client_key=SENDER,
                          session_ref=session_ref([{"event": "session_started", "timestamp": STARTED}])).ok
        return {"survey_id": result.survey_id, "enquiry_id": enquiry.id, "keys": keys, "code": result.code}


class Conversation:
    """The form's side of a conversation: slots carried over as Rasa would."""

    def __init__(self, survey, sender=SENDER):
        self.sender = sender
        self.slots = {"survey_id": survey["survey_id"], "enquiry_id": survey["enquiry_id"]}
        self.n = 0
        self.dispatcher = CollectingDispatcher()

    def tracker(self, text, intent="nlu_fallback", requested=None, after_user=True, before="feedback_form", net=None):
        self.n += 1
        events = [{"event": "action", "name": "action_session_start"},
                  {"event": "session_started", "timestamp": STARTED},
                  {"event": "action", "name": "action_listen"},
                  {"event": "action", "name": before},
                  {"event": "bot", "text": "a question"},
                  {"event": "action", "name": "action_listen"}]
        if after_user:
            events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": intent}},
                           "input_channel": "rest"})
        events.append({"event": "action", "name": "feedback_form"})
        slots = dict(self.slots)
        slots["requested_slot"] = requested if requested is not None else self.slots.get("requested_slot")
        latest = {"text": text, "intent": {"name": intent}, "message_id": f"m-{self.n}"}
        if net is not None:
            latest["safety_net"] = net
        return Tracker(self.sender, slots, latest, events, False, None, {"name": "feedback_form"}, "feedback_form")

    def run(self, tracker):
        self.dispatcher = CollectingDispatcher()
        events = asyncio.run(ValidateFeedbackForm().run(self.dispatcher, tracker, {}))
        for event in events:
            self.slots[event["name"]] = event["value"]
        return events

    def start(self):
        return self.run(self.tracker("ABCD-EFGH", intent="inform_invite_code", requested=None))

    def say(self, text, intent="nlu_fallback", net=None):
        return self.run(self.tracker(text, intent, net=net))

    @property
    def asking(self):
        return self.slots.get("requested_slot")


def answers(survey_id):
    with session_scope() as session:
        return [(a.question, a.text, a.value) for a in feedback.survey_answers(session, survey_id)]


def status(survey_id):
    with session_scope() as session:
        return feedback.require_survey(session, survey_id).status


def test_a_whole_survey_in_words(tmp_path):
    survey = make_survey()
    talk = Conversation(survey)
    events = talk.start()
    assert events[-1] == SlotSet("requested_slot", "fb_goals")
    assert talk.slots["fb_rep"] is False and talk.slots["fb_outcome_keys"] == survey["keys"]
    replies = [("kind of", "fb_say"), ("not really", "fb_listened"), ("yep", "fb_acted"),
               ("dunno", "fb_safe"), ("Prefer not to say", "fb_happier"), ("skip", "fb_safe_now"),
               ("4", "fb_safe_change"), ("better", "fb_outcome")]
    for text, then in replies:
        talk.say(text)
        assert talk.asking == then, text
    assert talk.slots["fb_outcome_text"] == "For him to stop ringing me"
    talk.say("yes it did")
    assert talk.asking == "fb_outcome" and talk.slots["fb_outcome_text"] == "To feel safe at home"
    talk.say("partley")
    assert talk.asking == "fb_anything_else"
    talk.say("The worker was kind but it took ages ")
    assert talk.asking is None and talk.slots["fb_end"] == "completed"
    assert status(survey["survey_id"]) == "completed"
    assert answers(survey["survey_id"]) == [
        ("goals", "kind of", "partly"), ("say", "not really", "no"), ("listened", "yep", "yes"),
        ("acted", "dunno", "dont_know"), ("safe", "Prefer not to say", "prefer_not"),
        ("happier", "skip", "skipped"), ("safe_now", "4", "4"), ("safe_change", "better", "better"),
        ("outcome", "yes it did", "fully"), ("outcome", "partley", "partly"),
        ("anything_else", "The worker was kind but it took ages ", "given")]
    with session_scope() as session:
        reviews = session.query(OutcomeReview).order_by(OutcomeReview.id).all()
        assert [(r.view, r.outcome_key, r.achievement) for r in reviews] == [
            ("person", survey["keys"][0], "fully"), ("person", survey["keys"][1], "partially")]


def test_unclear_is_asked_again_once_then_skipped():
    survey = make_survey(outcomes=())
    talk = Conversation(survey)
    talk.start()
    talk.say("the weather is nice")
    assert talk.asking == "fb_goals" and talk.slots["fb_retry"] is True
    assert answers(survey["survey_id"]) == []
    talk.say("purple")
    assert talk.asking == "fb_say" and talk.slots["fb_retry"] is False
    assert answers(survey["survey_id"]) == [("goals", "purple", "unclear")]


def test_no_outcomes_on_record_goes_straight_to_anything_else():
    survey = make_survey(outcomes=(), withdrawn=("Move house",))
    talk = Conversation(survey)
    talk.start()
    assert talk.slots["fb_outcome_keys"] == []
    for text in ("yes",) * 6 + ("5", "same"):
        talk.say(text)
    assert talk.asking == "fb_anything_else"
    talk.say("No, that's all")
    assert answers(survey["survey_id"])[-1] == ("anything_else", "No, that's all", "nothing")


def test_stop_ends_politely_and_keeps_answers():
    survey = make_survey()
    talk = Conversation(survey)
    talk.start()
    talk.say("yes")
    talk.say("I want to stop")
    assert talk.asking is None and talk.slots["fb_end"] == "stopped"
    assert status(survey["survey_id"]) == "partial"
    assert answers(survey["survey_id"]) == [("goals", "yes", "yes")]
    # A message after the end is not recorded: the survey is closed.
    talk.slots["requested_slot"] = "fb_say"
    talk.say("yes")
    assert talk.slots["fb_end"] == "closed" and len(answers(survey["survey_id"])) == 1


def test_representative_gets_their_wording_flag():
    talk = Conversation(make_survey(role="representative"))
    talk.start()
    assert talk.slots["fb_rep"] is True


def test_another_conversation_cannot_answer():
    survey = make_survey()
    talk = Conversation(survey, sender="rest-someone-else")
    talk.start()
    assert talk.asking is None and talk.slots["fb_end"] == "lapsed" and talk.slots["survey_id"] is None


def test_danger_and_talk_to_a_person_are_not_answers():
    survey = make_survey()
    talk = Conversation(survey)
    talk.start()
    assert talk.say("he is here now with a knife", intent="danger_now") == []
    assert talk.say("can I talk to a real person", intent="ask_talk_to_person") == []
    # A clear answer guessed as "talk to a person" is still the answer.
    talk.say("yes", intent="ask_talk_to_person")
    assert talk.asking == "fb_say"
    # After a danger reply, the question is asked again first.
    tracker = talk.tracker("no", before="utter_danger_now")
    assert talk.run(tracker) == [SlotSet("fb_say", None), SlotSet("requested_slot", "fb_say")]
    assert answers(survey["survey_id"]) == [("goals", "yes", "yes")]


def test_a_stop_phrase_only_the_learned_detector_read_as_danger_stops_the_survey():
    survey = make_survey()
    talk = Conversation(survey)
    talk.start()
    talk.say("yes")
    learned = {"danger": "suicide", "who": "self", "source": "learned"}
    # What the rules caught, or a stop phrase also said of a life, is not an answer.
    assert talk.say("I want to end it all", intent="danger_suicide", net=dict(learned, source="rules")) == []
    assert talk.say("I don't want to carry on", intent="danger_suicide", net=learned) == []
    assert talk.say("I want to stop living", intent="danger_suicide", net=learned) == []
    assert talk.asking == "fb_say" and status(survey["survey_id"]) == "in_progress"
    talk.say("I want to stop", intent="danger_suicide", net=learned)
    assert talk.asking is None and talk.slots["fb_end"] == "stopped"
    assert status(survey["survey_id"]) == "partial"
    assert answers(survey["survey_id"]) == [("goals", "yes", "yes")]


def test_the_same_message_twice_is_recorded_once():
    survey = make_survey()
    talk = Conversation(survey)
    talk.start()
    tracker = talk.tracker("yes")
    talk.run(tracker)
    talk.slots["requested_slot"] = "fb_goals"
    talk.run(tracker)
    assert answers(survey["survey_id"]) == [("goals", "yes", "yes")]


def test_redeeming_a_feedback_invitation_opens_the_survey():
    survey = make_survey(role="advocate", link=False)
    tracker = Tracker("rest-new", {}, {"text": survey["code"], "intent": {"name": "inform_invite_code"}},
                      [{"event": "session_started", "timestamp": STARTED}], False, None, {}, "action_listen")
    events = ActionRedeemInvitation().run(CollectingDispatcher(), tracker, {})
    assert events == [SlotSet("invite_status", "feedback"), SlotSet("enquiry_id", survey["enquiry_id"]),
                      SlotSet("survey_id", survey["survey_id"]), SlotSet("fb_rep", True)]


def test_form_slots_match_the_domain(domain):
    assert tuple(domain.as_dict()["forms"]["feedback_form"]["required_slots"]) == FORM_SLOTS
    assert {f"utter_ask_feedback_form_{slot}" for slot in FORM_SLOTS} <= set(domain.responses)


def test_starting_again_carries_on_at_the_first_question_not_answered():
    survey = make_survey()
    talk = Conversation(survey)
    talk.start()
    for text in ("yes",) * 6 + ("2", "same", "no"):
        talk.say(text)
    assert talk.asking == "fb_outcome" and talk.slots["fb_outcome_index"] == 1
    again = Conversation(survey)  # a new Rasa session: slots are gone, the records are not
    again.start()
    assert again.asking == "fb_outcome" and again.slots["fb_outcome_text"] == "To feel safe at home"
    again.say("4")
    assert again.asking == "fb_anything_else"
