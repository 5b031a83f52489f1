"""A deterministic policy that puts safety first, in any conversation state.

The SafetyNet NLU component (``bot.components.safety_net``) decides, by rules
and never by a confidence score, whether a message shows immediate danger or
suicidal intent, and whether it could be read at all. This policy turns that
decision into the first reply:

* ``danger_now``     -> ``utter_danger_now`` (999, 999 BSL, emergency SMS)
* ``danger_suicide`` -> ``utter_danger_suicide`` (999 and Samaritans)
* danger possible but unclear (``check``) -> ``utter_danger_check``: is anyone
  in danger now? If so, call 999
* after a danger reply (or the danger question), a carer at breaking point
  also hears carer support, and a kind of harm described beside the danger
  its acknowledgement ("this may be physical abuse"; ``follow_up_response``:
  not in a form, not by SMS)
* one exception: while the feedback survey asks its questions, a message
  that is exactly one of its stop phrases ("I want to stop") and that only the
  learned detector read as danger goes to the survey, which ends politely
  (``bot.surveys.answers.learned_danger_set_aside``); the rules' danger
  replies are never set aside
* unreadable input   -> ``utter_ask_rephrase`` with the ``input_problem`` slot
  set, which picks the variation that says what was wrong (too long, empty,
  symbols only, another language)

and then listens. While a member of staff is in the chat, or one is awaited
(the ``handoff`` slot, ``bot/actions/handoff.py``), the assistant is silent:

* a danger reply (999, Samaritans) still comes first, then
  ``action_handoff_relay`` stores the message and that reply (as automatic:
  the worker sees an alert)
* every other message goes to ``action_handoff_relay``, which stores it for
  the worker and says nothing: no menus, fallbacks, danger question or form
* "talk to a person" runs ``action_talk_to_person`` then
  ``utter_talk_to_person`` (the rules say the same; in a form, the form looks
  at the message first, as before), and once the handoff slot is set the
  assistant listens: a form that was asking has been stopped by the action.

When nobody can chat it offers a call back: after ``utter_talk_to_person``
said so (out of hours, or a channel a worker cannot reach; not inside a form)
comes ``utter_callback_offer``; and a person still waiting who says yes to the
timeout notice's "would you like a call back?" (``callback_offered``) goes to
``action_callback_start``, which takes them out of the queue, and then to
``callback_form`` (``bot/actions/callback.py``).

Its priority is above RulePolicy and its predictions are
marked as not depending on user featurisation, so they also win while a form
is active (RulePolicy's own form predictions are marked that way and would
otherwise overrule every other policy). After the reply the form, if any, is
still active and carries on with the person's next message.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.harm_gate import DESCRIBE, GENERAL as GENERAL_HARM
from bot.surveys.answers import learned_danger_set_aside
from bot.text.requests import FREE_TEXT_SLOTS, accepts_call_back, asks_for_a_person

DANGER_RESPONSES = {
    "danger_now": "utter_danger_now",
    "danger_suicide": "utter_danger_suicide",
}
INPUT_PROBLEM_RESPONSE = "utter_ask_rephrase"
# Danger possible but unclear (the learned detector's middle band): the first
# words ask whether anyone is in danger now and say to call 999 if so.
CHECK_RESPONSE = "utter_danger_check"
# Said after the danger reply when the message was also about this.
FOLLOW_UP_RESPONSES = {"inform_carer_strain": "utter_carer_strain"}
# ... and, for a kind of harm described beside the danger, its acknowledgement
# (``follow_up_response``), except by SMS.
ACK_PREFIX = "utter_ack_"
NO_KIND_FOLLOW_UP_CHANNELS = ("twilio",)
INPUT_PROBLEM_SLOT = "input_problem"
DANGER_WHO_SLOT = "danger_who"
SURVEY_FORM = "feedback_form"
CALLBACK_FORM = "callback_form"
FREE_TEXT_FORMS = ("outcomes_form", SURVEY_FORM, "advocacy_form", CALLBACK_FORM)
#: Forms that a stop phrase ends even when only the learned detector read it as danger.
STOP_PHRASE_FORMS = (SURVEY_FORM, CALLBACK_FORM)
OWN_ACTIONS = set(DANGER_RESPONSES.values()) | {INPUT_PROBLEM_RESPONSE, CHECK_RESPONSE}
HANDOFF_SLOT = "handoff"
PERSON_INTENT = "ask_talk_to_person"
TALK_ACTION = "action_talk_to_person"
TALK_RESPONSE = "utter_talk_to_person"
RELAY_ACTION = "action_handoff_relay"
# The call back (bot/actions/callback.py): offered after the numbers when nobody can chat, and by the
# timeouts process's notice to a person still waiting (it sets CALLBACK_OFFERED_SLOT).
CALLBACK_OFFER = "utter_callback_offer"
CALLBACK_START = "action_callback_start"
CALLBACK_OFFERED_SLOT = "callback_offered"
NOBODY_CAN_CHAT = ("closed", "unavailable")


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class SafeguardPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7}

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_AND_RULE_DATA

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Optional[Any] = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        # Nothing to learn: the decision is made by rules in SafetyNet.
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        action, events = decide(tracker)
        if action is None or action not in domain.action_names_or_texts:
            return self._prediction(self._default_predictions(domain), events=events)
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, events=events, is_no_user_prediction=True)


def decide(tracker: DialogueStateTracker) -> tuple[Optional[str], List[SlotSet]]:
    """The next action this policy insists on (or None), and slot events.

    Pure function of the tracker, kept apart from the class for unit tests.
    """
    latest = tracker.latest_message
    last_action = tracker.latest_action_name
    parse_data = (latest.parse_data if latest else None) or {}
    net = parse_data.get("safety_net") or {}
    intent = (latest.intent or {}).get("name") if latest else None
    problem = net.get("input")
    events: List[SlotSet] = []

    in_handoff = bool(tracker.get_slot(HANDOFF_SLOT))
    if last_action == ACTION_LISTEN_NAME and latest is not None:
        if in_handoff and intent not in DANGER_RESPONSES:
            if (tracker.get_slot(HANDOFF_SLOT) == "waiting" and tracker.get_slot(CALLBACK_OFFERED_SLOT)
                    and accepts_call_back(latest.text or "")):
                # Yes to "would you like a call back?" (the notice that nobody is free yet): the button,
                # or plain words. Not the classifier's "affirm" alone: "ok" may mean "ok, I'll wait".
                return CALLBACK_START, events
            # A member of staff is there or coming: they answer, not the assistant.
            return RELAY_ACTION, events
        if (intent in DANGER_RESPONSES and tracker.active_loop_name in STOP_PHRASE_FORMS
                and learned_danger_set_aside(latest.text, net)):
            # "I want to stop" while the survey asks: the learned detector
            # alone read it as danger; the survey's stop phrase ends the
            # survey (or the call-back questions). What the rules catch is never set aside.
            return tracker.active_loop_name, events
        if intent in DANGER_RESPONSES:
            who = net.get("who") or "self"
            if tracker.get_slot(DANGER_WHO_SLOT) != who:
                # Picks the variation that speaks about someone else's danger.
                events.append(SlotSet(DANGER_WHO_SLOT, who))
            return DANGER_RESPONSES[intent], events
        if (not tracker.active_loop_name and intent not in ("affirm", "deny")
                and _action_before_latest_user(tracker) == CALLBACK_OFFER and accepts_call_back(latest.text or "")):
            # "Yes, call me back" to the offer, which the classifier may read as asking for a person
            # (a plain yes or no is the rules' job).
            return CALLBACK_START, events
        if net.get("check") and not problem and not tracker.active_loop_name:
            # Not while a form asks its questions: the person is answering
            # one (the rules and the learned 999 reply still apply there).
            return CHECK_RESPONSE, events
        if (intent == "ask_talk_to_person" and tracker.active_loop_name in FREE_TEXT_FORMS
                and tracker.get_slot("requested_slot") in FREE_TEXT_SLOTS
                and not asks_for_a_person(latest.text or "")):
            # Their answer to "What would you like to happen?" mentions people
            # or phones; the classifier's "talk to a person" guess must not
            # take it away from the form (only a plain request does).
            return tracker.active_loop_name, events
        if intent == PERSON_INTENT and not problem and not tracker.active_loop_name:
            # In a form the form looks first ("a phone call" may be its answer);
            # its rule then runs action_talk_to_person if it was not.
            return TALK_ACTION, events
        current_problem = tracker.get_slot(INPUT_PROBLEM_SLOT)
        if problem:
            if current_problem != problem:
                events.append(SlotSet(INPUT_PROBLEM_SLOT, problem))
            return INPUT_PROBLEM_RESPONSE, events
        if current_problem is not None:
            # A readable message: clear the marker so the ordinary
            # "sorry, I didn't understand" variation is used next time.
            events.append(SlotSet(INPUT_PROBLEM_SLOT, None))
        return None, events

    if last_action == RELAY_ACTION:
        return ACTION_LISTEN_NAME, events
    if in_handoff and last_action in DANGER_RESPONSES.values():
        # The 999 reply is given; the worker sees it, and what was said, as an alert.
        return RELAY_ACTION, events
    if last_action == TALK_ACTION:
        return TALK_RESPONSE, events
    if in_handoff and last_action == TALK_RESPONSE:
        return ACTION_LISTEN_NAME, events
    if (last_action == TALK_RESPONSE and not tracker.active_loop_name
            and tracker.get_slot("handoff_reply") in NOBODY_CAN_CHAT):
        # Nobody can chat (out of hours, or a channel a worker cannot reach): offer a call back.
        # Not while a form asks: its question comes next.
        return CALLBACK_OFFER, events
    if last_action == CALLBACK_OFFER:
        return ACTION_LISTEN_NAME, events
    if last_action == CALLBACK_START:
        # A member of staff claimed the chat at that moment: they are there. Otherwise the questions.
        return (ACTION_LISTEN_NAME if in_handoff else CALLBACK_FORM), events
    follow_up = follow_up_response(tracker, net.get("follow_up"))
    if last_action in DANGER_RESPONSES.values() and DANGER_RESPONSES.get(intent or "") == last_action and follow_up:
        return follow_up, events
    if last_action == CHECK_RESPONSE and net.get("check") and follow_up:
        # "is anyone in danger now? call 999", then carer support for the
        # carer who said they cannot go on.
        return follow_up, events
    if follow_up and last_action == follow_up and (intent in DANGER_RESPONSES or net.get("check")):
        return ACTION_LISTEN_NAME, events
    if last_action in OWN_ACTIONS and _answered_by_us(intent, problem, last_action, net):
        return ACTION_LISTEN_NAME, events
    return None, events


def follow_up_response(tracker: DialogueStateTracker, intent: Optional[str]) -> Optional[str]:
    """What follows the danger reply (or the danger question) for the net's ``follow_up`` intent.

    Carer support for a carer at breaking point, in any state. For a kind of
    harm described (``describe_<kind>``, vetted by HarmGate) its
    acknowledgement, ``utter_ack_<kind>``; but not while a form asks its
    questions (its next question comes instead) and not by SMS, where the
    999 reply stands alone (one text, nothing after it to read first).
    """
    if not intent:
        return None
    if intent in FOLLOW_UP_RESPONSES:
        return FOLLOW_UP_RESPONSES[intent]
    if not intent.startswith(DESCRIBE) or intent == GENERAL_HARM:
        return None
    if tracker.active_loop_name or tracker.get_latest_input_channel() in NO_KIND_FOLLOW_UP_CHANNELS:
        return None
    return ACK_PREFIX + intent[len(DESCRIBE):]


def _action_before_latest_user(tracker: DialogueStateTracker) -> Optional[str]:
    """The last action other than listening before the person's latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            seen_user = True
        elif seen_user and isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            return event.action_name
    return None


def _answered_by_us(intent: Optional[str], problem: Optional[str], last_action: str, net: Dict[str, Any]) -> bool:
    if last_action == CHECK_RESPONSE:
        return bool(net.get("check"))
    if last_action in DANGER_RESPONSES.values():
        return DANGER_RESPONSES.get(intent or "") == last_action
    return bool(problem)
