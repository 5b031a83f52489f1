"""SafeguardPolicy: the 999 reply first, in any state, and only on the net's word."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.safeguard_policy import SafeguardPolicy, decide


@pytest.fixture
def policy(tmp_path):
    return SafeguardPolicy.create(
        SafeguardPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("safeguard"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def user(text, intent, net=None, confidence=1.0):
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    if net is not None:
        parse["safety_net"] = net
    return UserUttered(text, parse["intent"], [], parse)


def tracker(domain, *events):
    return DialogueStateTracker.from_events("t", [ActionExecuted(ACTION_LISTEN_NAME), *events], slots=domain.slots)


def predicted(policy, domain, t):
    prediction = policy.predict_action_probabilities(t, domain)
    if max(prediction.probabilities) == 0:
        return None, prediction
    return domain.action_names_or_texts[prediction.max_confidence_index], prediction


def test_danger_now_is_answered_first(policy, domain):
    t = tracker(domain, user("he is hitting me", "danger_now", {"danger": "now", "input": None}))
    action, prediction = predicted(policy, domain, t)
    assert action == "utter_danger_now"
    assert prediction.max_confidence == 1.0
    assert prediction.policy_priority == 7
    # Marked so that it also beats RulePolicy's form ("no user") predictions.
    assert prediction.is_no_user_prediction


def test_whose_danger_picks_the_wording(domain):
    t = tracker(domain, user("she wants to kill herself", "danger_suicide", {"danger": "suicide", "who": "other"}))
    assert decide(t) == ("utter_danger_suicide", [SlotSet("danger_who", "other")])
    t = tracker(domain, user("i want to die", "danger_suicide", {"danger": "suicide", "who": "self"}))
    assert decide(t) == ("utter_danger_suicide", [SlotSet("danger_who", "self")])


def test_suicide_gets_its_own_reply(policy, domain):
    t = tracker(domain, user("i want to die", "danger_suicide", {"danger": "suicide", "input": None}))
    assert predicted(policy, domain, t)[0] == "utter_danger_suicide"


def test_listens_after_the_danger_reply(policy, domain):
    t = tracker(domain, user("he is hitting me", "danger_now"), ActionExecuted("utter_danger_now"))
    assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME


def test_danger_wins_while_a_form_is_active(policy, domain):
    t = DialogueStateTracker.from_events(
        "t",
        [ActiveLoop("some_form"), ActionExecuted(ACTION_LISTEN_NAME), user("help he's got a knife", "danger_now")],
        slots=domain.slots,
    )
    assert t.active_loop_name == "some_form"
    assert predicted(policy, domain, t)[0] == "utter_danger_now"


def test_ordinary_message_is_left_to_other_policies(policy, domain):
    t = tracker(domain, user("what is neglect", "ask_about_neglect", {"danger": None, "input": None}, 0.8))
    action, prediction = predicted(policy, domain, t)
    assert action is None
    assert prediction.events == []


@pytest.mark.parametrize("problem", ["empty", "symbols", "too_long", "other_script"])
def test_unreadable_input_sets_the_problem_and_asks_again(policy, domain, problem):
    t = tracker(domain, user("x", "nlu_fallback", {"danger": None, "input": problem}))
    action, prediction = predicted(policy, domain, t)
    assert action == "utter_ask_rephrase"
    assert prediction.events == [SlotSet("input_problem", problem)]


def test_problem_marker_is_cleared_by_a_readable_message(domain):
    t = tracker(
        domain,
        user("😀", "nlu_fallback", {"danger": None, "input": "symbols"}),
        SlotSet("input_problem", "symbols"),
        ActionExecuted("utter_ask_rephrase"),
        ActionExecuted(ACTION_LISTEN_NAME),
        user("hello", "greet", {"danger": None, "input": None}),
    )
    action, events = decide(t)
    assert action is None
    assert events == [SlotSet("input_problem", None)]


def test_danger_beats_an_input_problem(policy, domain):
    long_text = "x " * 1500 + "he is hitting me now"
    t = tracker(domain, user(long_text, "danger_now", {"danger": "now", "input": "too_long"}))
    assert predicted(policy, domain, t)[0] == "utter_danger_now"


def test_unclear_danger_first_asks_and_says_999(policy, domain):
    t = tracker(domain, user("he's back again and I'm frightened", "describe_psychological",
                             {"danger": None, "check": True, "input": None}))
    assert predicted(policy, domain, t)[0] == "utter_danger_check"
    t = tracker(domain, user("x", "describe_psychological", {"danger": None, "check": True}),
                ActionExecuted("utter_danger_check"))
    assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME


def test_danger_check_words_ask_about_danger_and_say_999(domain):
    text = domain.responses["utter_danger_check"][0]["text"]
    assert text.startswith("Is anyone in danger right now?")
    assert "call 999" in text.split("\n")[0]


def test_a_carer_at_breaking_point_hears_the_suicide_reply_then_carer_support(policy, domain):
    net = {"danger": "suicide", "who": "self", "follow_up": "inform_carer_strain", "input": None}
    t = tracker(domain, user("caring for mum, i can't go on, i want to die", "danger_suicide", net))
    assert predicted(policy, domain, t)[0] == "utter_danger_suicide"
    t = tracker(domain, user("caring for mum, i can't go on, i want to die", "danger_suicide", net),
                ActionExecuted("utter_danger_suicide"))
    assert predicted(policy, domain, t)[0] == "utter_carer_strain"
    t = tracker(domain, user("caring for mum, i can't go on, i want to die", "danger_suicide", net),
                ActionExecuted("utter_danger_suicide"), ActionExecuted("utter_carer_strain"))
    assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME


def test_a_carer_asked_whether_anyone_is_in_danger_also_hears_carer_support(policy, domain):
    net = {"danger": None, "check": True, "follow_up": "inform_carer_strain", "input": None}
    text = "I look after mum day and night and I cannot do this any more"
    t = tracker(domain, user(text, "inform_carer_strain", net))
    assert predicted(policy, domain, t)[0] == "utter_danger_check"
    t = tracker(domain, user(text, "inform_carer_strain", net), ActionExecuted("utter_danger_check"))
    assert predicted(policy, domain, t)[0] == "utter_carer_strain"
    t = tracker(domain, user(text, "inform_carer_strain", net), ActionExecuted("utter_danger_check"),
                ActionExecuted("utter_carer_strain"))
    assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME


def test_no_follow_up_without_one(policy, domain):
    net = {"danger": "suicide", "who": "self", "follow_up": None}
    t = tracker(domain, user("i want to die", "danger_suicide", net), ActionExecuted("utter_danger_suicide"))
    assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME


def test_someone_elses_danger_says_what_to_do_for_them(domain):
    variations = domain.responses["utter_danger_now"]
    other = [v for v in variations if any(c.get("value") == "other" for c in v.get("condition", []))]
    assert other and "call 999 for them" in other[0]["text"]


def _in_outcomes_form(domain, text, requested="outcome_text"):
    return DialogueStateTracker.from_events(
        "t",
        [ActiveLoop("outcomes_form"), SlotSet("requested_slot", requested), ActionExecuted(ACTION_LISTEN_NAME),
         user(text, "ask_talk_to_person", {"danger": None, "input": None}, confidence=0.8)],
        slots=domain.slots,
    )


def test_own_words_that_mention_phones_stay_the_answer(policy, domain):
    t = _in_outcomes_form(domain, "I want Bartholomew Quince to stop ringing me on 07700 900461")
    assert predicted(policy, domain, t)[0] == "outcomes_form"


def test_a_plain_request_for_a_person_still_interrupts_the_form(policy, domain):
    for text in ("can I talk to a real person", "/ask_talk_to_person"):
        assert decide(_in_outcomes_form(domain, text))[0] is None
    # A choice question is left to the form's own check.
    assert decide(_in_outcomes_form(domain, "a phone call", requested="outcome_contact"))[0] is None


LEARNED = {"danger": "suicide", "who": "self", "source": "learned", "matched": "", "input": None}


def _in_survey(domain, text, net, intent="danger_suicide", form="feedback_form"):
    return DialogueStateTracker.from_events(
        "t",
        [ActiveLoop(form), SlotSet("requested_slot", "fb_say"), ActionExecuted(ACTION_LISTEN_NAME),
         user(text, intent, net)],
        slots=domain.slots,
    )


def test_a_survey_stop_phrase_only_the_learned_detector_read_as_danger_goes_to_the_survey(policy, domain):
    t = _in_survey(domain, "I want to stop", LEARNED)
    action, prediction = predicted(policy, domain, t)
    assert action == "feedback_form" and prediction.is_no_user_prediction
    assert decide(_in_survey(domain, "I want to stop", dict(LEARNED, danger="now"), intent="danger_now"))[0] == \
        "feedback_form"


def test_the_danger_reply_stays_for_everything_else_in_the_survey(domain):
    rules = dict(LEARNED, source="rules", matched="end it all")
    assert decide(_in_survey(domain, "I want to end it all", rules))[0] == "utter_danger_suicide"
    assert decide(_in_survey(domain, "I want to stop", rules))[0] == "utter_danger_suicide"
    assert decide(_in_survey(domain, "I want to stop living", LEARNED))[0] == "utter_danger_suicide"
    assert decide(_in_survey(domain, "I don't want to carry on", LEARNED))[0] == "utter_danger_suicide"


def test_outside_the_survey_the_learned_danger_reply_stays(domain):
    assert decide(_in_survey(domain, "I want to stop", LEARNED, form="outcomes_form"))[0] == "utter_danger_suicide"
    t = tracker(domain, user("I want to stop", "danger_suicide", LEARNED))
    assert decide(t)[0] == "utter_danger_suicide"


# --- live handoff (bot/actions/handoff.py) ------------------------------------------------------

DANGER = {"danger": "now", "who": "self", "input": None}


def _in_handoff(domain, *events, status="waiting"):
    return DialogueStateTracker.from_events(
        "t", [SlotSet("handoff", status), ActionExecuted(ACTION_LISTEN_NAME), *events], slots=domain.slots)


@pytest.mark.parametrize("text, intent, net", [
    ("hello", "greet", {"input": None}),
    ("what kinds of abuse are there", "ask_types_of_abuse", {"input": None}),
    ("zzkx qqpl", "nlu_fallback", {"input": None}),
    ("x" * 2500, "nlu_fallback", {"input": "too_long"}),  # no "too long" reply either: the worker reads it
    ("is anyone there", "nlu_fallback", {"input": None, "check": True}),  # no danger question
    ("can I talk to a real person", "ask_talk_to_person", {"input": None}),
])
def test_in_a_handoff_every_message_goes_to_the_worker_and_the_assistant_says_nothing(policy, domain, text,
                                                                                        intent, net):
    for status in ("waiting", "claimed"):
        t = _in_handoff(domain, user(text, intent, net), status=status)
        action, prediction = predicted(policy, domain, t)
        assert action == "action_handoff_relay" and prediction.is_no_user_prediction
        t.update(ActionExecuted("action_handoff_relay"))
        assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME


def test_in_a_handoff_a_form_does_not_ask_its_questions(policy, domain):
    t = DialogueStateTracker.from_events(
        "t", [ActiveLoop("outcomes_form"), SlotSet("requested_slot", "outcome_text"), SlotSet("handoff", "claimed"),
              ActionExecuted(ACTION_LISTEN_NAME), user("I want him to stop", "describe_financial", {"input": None})],
        slots=domain.slots)
    assert predicted(policy, domain, t)[0] == "action_handoff_relay"


@pytest.mark.parametrize("intent, reply", [("danger_now", "utter_danger_now"),
                                           ("danger_suicide", "utter_danger_suicide")])
def test_danger_still_comes_first_in_a_handoff_then_the_worker_is_told(policy, domain, intent, reply):
    t = _in_handoff(domain, user("he is hitting me now", intent, dict(DANGER, danger=intent[7:])))
    assert predicted(policy, domain, t)[0] == reply
    t.update(ActionExecuted(reply))
    assert predicted(policy, domain, t)[0] == "action_handoff_relay"
    t.update(ActionExecuted("action_handoff_relay"))
    assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME


def test_asking_for_a_person_runs_the_handoff_action_then_its_reply_then_listens(policy, domain):
    t = tracker(domain, user("can I talk to a real person", "ask_talk_to_person", {"input": None}))
    assert predicted(policy, domain, t)[0] == "action_talk_to_person"
    t.update(ActionExecuted("action_talk_to_person"))
    t.update(SlotSet("handoff", "waiting"))
    assert predicted(policy, domain, t)[0] == "utter_talk_to_person"
    t.update(ActionExecuted("utter_talk_to_person"))
    assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME


@pytest.mark.parametrize("reply", ["closed", "unavailable"])
def test_when_nobody_can_chat_a_call_back_is_offered_after_the_numbers_then_the_rules_carry_on(domain, reply):
    t = tracker(domain, user("can I talk to a real person", "ask_talk_to_person", {"input": None}),
                ActionExecuted("action_talk_to_person"), SlotSet("handoff_reply", reply),
                ActionExecuted("utter_talk_to_person"))
    assert decide(t)[0] == "utter_callback_offer"
    t.update(ActionExecuted("utter_callback_offer"))
    assert decide(t)[0] == ACTION_LISTEN_NAME
    t.update(ActionExecuted(ACTION_LISTEN_NAME))
    t.update(user("yes", "affirm", {"input": None}))
    assert decide(t)[0] is None  # the rule starts the call-back questions


def test_in_a_form_out_of_hours_no_call_back_is_offered_and_the_form_carries_on(domain):
    t = DialogueStateTracker.from_events(
        "t", [ActiveLoop("advocacy_form"), SlotSet("requested_slot", "adv_say"), ActionExecuted(ACTION_LISTEN_NAME),
              user("I want to talk to a person", "ask_talk_to_person", {"input": None}),
              ActionExecuted("action_talk_to_person"), SlotSet("handoff_reply", "closed"),
              ActionExecuted("utter_talk_to_person")], slots=domain.slots)
    assert decide(t)[0] is None


def test_a_person_still_waiting_who_says_yes_to_the_call_back_leaves_the_queue_for_the_questions(policy, domain):
    offered = [SlotSet("callback_offered", True)]
    t = _in_handoff(domain, *offered, user("/affirm", "affirm", {"input": None}))
    action, prediction = predicted(policy, domain, t)
    assert action == "action_callback_start" and prediction.is_no_user_prediction
    t.update(ActionExecuted("action_callback_start"))
    t.update(SlotSet("handoff", None))
    assert predicted(policy, domain, t)[0] == "callback_form"


@pytest.mark.parametrize("text, intent", [("yes please call me back", "ask_talk_to_person"),
                                          ("Yes, call me back", "ask_talk_to_person"), ("yes", "affirm")])
def test_a_yes_in_words_to_the_notice_starts_the_call_back_too(domain, text, intent):
    t = _in_handoff(domain, SlotSet("callback_offered", True), user(text, intent, {"input": None}))
    assert decide(t)[0] == "action_callback_start"


@pytest.mark.parametrize("text, intent", [("ok", "affirm"), ("yes I'll wait", "affirm"), ("no", "deny"),
                                          ("please don't ring me", "ask_talk_to_person")])
def test_an_unclear_or_no_answer_to_the_notice_keeps_the_person_in_the_queue(domain, text, intent):
    t = _in_handoff(domain, SlotSet("callback_offered", True), user(text, intent, {"input": None}))
    assert decide(t)[0] == "action_handoff_relay"


def test_yes_in_words_to_the_offer_out_of_hours_starts_the_call_back(domain):
    offered = [ActionExecuted("action_talk_to_person"), SlotSet("handoff_reply", "closed"),
               ActionExecuted("utter_talk_to_person"), ActionExecuted("utter_callback_offer"),
               ActionExecuted(ACTION_LISTEN_NAME)]
    t = tracker(domain, user("can I talk to a person", "ask_talk_to_person", {"input": None}), *offered,
                user("yes please call me back", "ask_talk_to_person", {"input": None}))
    assert decide(t)[0] == "action_callback_start"
    t = tracker(domain, user("can I talk to a person", "ask_talk_to_person", {"input": None}), *offered,
                user("yes", "affirm", {"input": None}))
    assert decide(t)[0] is None  # the rule
    t = tracker(domain, user("can I talk to a person", "ask_talk_to_person", {"input": None}), *offered,
                user("I want to talk to a real person", "ask_talk_to_person", {"input": None}))
    assert decide(t)[0] == "action_talk_to_person"


def test_yes_in_a_handoff_goes_to_the_worker_unless_a_call_back_was_offered_to_a_person_waiting(domain):
    assert decide(_in_handoff(domain, user("yes", "affirm", {"input": None})))[0] == "action_handoff_relay"
    claimed = _in_handoff(domain, SlotSet("callback_offered", True), user("yes", "affirm", {"input": None}),
                          status="claimed")
    assert decide(claimed)[0] == "action_handoff_relay"
    no = _in_handoff(domain, SlotSet("callback_offered", True), user("no, I'll wait", "deny", {"input": None}))
    assert decide(no)[0] == "action_handoff_relay"


def test_a_worker_who_claimed_at_that_moment_keeps_the_chat(domain):
    t = _in_handoff(domain, SlotSet("callback_offered", True), user("/affirm", "affirm", {"input": None}),
                    ActionExecuted("action_callback_start"), SlotSet("handoff", "claimed"))
    assert decide(t)[0] == ACTION_LISTEN_NAME


def test_danger_comes_first_in_the_call_back_questions_and_a_stop_phrase_ends_them(domain):
    rules = dict(LEARNED, source="rules", matched="end it all")
    assert decide(_in_survey(domain, "I want to end it all", rules, form="callback_form"))[0] == \
        "utter_danger_suicide"
    assert decide(_in_survey(domain, "I want to stop", LEARNED, form="callback_form"))[0] == "callback_form"


def test_without_a_handoff_ordinary_messages_are_left_to_the_rules(domain):
    t = tracker(domain, user("hello", "greet", {"input": None}))
    assert decide(t)[0] is None


def test_a_kind_of_harm_beside_danger_is_named_after_the_999_reply(policy, domain):
    net = {"danger": "now", "who": "self", "follow_up": "describe_physical", "input": None}
    text = "he is hitting me now"
    t = tracker(domain, user(text, "danger_now", net))
    assert predicted(policy, domain, t)[0] == "utter_danger_now"
    t = tracker(domain, user(text, "danger_now", net), ActionExecuted("utter_danger_now"))
    assert predicted(policy, domain, t)[0] == "utter_ack_physical"
    t = tracker(domain, user(text, "danger_now", net), ActionExecuted("utter_danger_now"),
                ActionExecuted("utter_ack_physical"))
    assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME
    # General words are never followed up with a kind.
    net = dict(net, follow_up="describe_harm")
    t = tracker(domain, user(text, "danger_now", net), ActionExecuted("utter_danger_now"))
    assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME


def test_no_kind_after_the_999_reply_in_a_form_or_by_sms(policy, domain):
    net = {"danger": "now", "who": "self", "follow_up": "describe_domestic", "input": None}
    text = "my husband is hitting me now"
    t = tracker(domain, ActiveLoop("outcomes_form"), user(text, "danger_now", net), ActionExecuted("utter_danger_now"))
    assert predicted(policy, domain, t)[0] != "utter_ack_domestic"
    sms = UserUttered(text, {"name": "danger_now", "confidence": 1.0}, [],
                      {"text": text, "intent": {"name": "danger_now", "confidence": 1.0}, "entities": [], "safety_net": net},
                      input_channel="twilio")
    t = tracker(domain, sms, ActionExecuted("utter_danger_now"))
    assert predicted(policy, domain, t)[0] == ACTION_LISTEN_NAME
    # A carer's support is still given in a form: it is about their own safety.
    net = dict(net, follow_up="inform_carer_strain")
    t = tracker(domain, ActiveLoop("outcomes_form"), user(text, "danger_now", net), ActionExecuted("utter_danger_now"))
    assert predicted(policy, domain, t)[0] == "utter_carer_strain"
