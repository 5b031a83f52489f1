"""The outcomes conversation: what the person would like to happen, in their words.

``outcomes_form`` (domain.yml) lists its slots; every slot has a ``custom``
mapping, so only ``validate_outcomes_form`` fills them, and only from a message
that answers the form's question. That matters because SafeguardPolicy answers
danger and unreadable messages itself while the form stays active: such a
message never reaches the form, and nothing is taken from it.

The order of questions is decided here, by setting ``requested_slot``:

1. ``outcome_role``: for yourself or for someone else (recorded participant role);
2. ``outcome_consent``: may I write it down (given / refused, recorded);
3. ``outcome_text``: what would you like to happen, kept verbatim (<= 2,000 chars);
4. ``outcome_confirmed``: read back, is that right (no: ask again; yes: recorded);
5. ``outcome_more``: anything else (yes: back to 3);
6. ``outcome_contact``: how to keep you informed.

Every question is the one response ``utter_outcomes_form``, whose variations
are chosen by ``requested_slot`` (and ``outcome_role``, ``outcome_prompt``);
the ``action_ask_outcomes_form_<slot>`` actions send it.

After a danger reply the next message is not taken as an answer: the question
is asked again first.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction

from bot.actions.outcome_categories import suggest_category
from bot.actions.parsing import answering_for, contact_method, participant_role, yes_or_no
from bot.records import consents, enquiries, outcomes, session_scope
from bot.records.errors import RecordsError
from bot.records.models import MAX_OUTCOME_CHARS

logger = logging.getLogger(__name__)

FORM = "outcomes_form"
FORM_SLOTS = (
    "outcome_role",
    "outcome_consent",
    "outcome_text",
    "outcome_confirmed",
    "outcome_more",
    "outcome_contact",
)
QUESTION_RESPONSE = "utter_outcomes_form"
RECORDED_BY = "assistant"
#: Replies after which the person's next message is not an answer to our question.
NOT_AN_ANSWER_AFTER = {"utter_danger_now", "utter_danger_suicide"}
#: Intents the form never takes as an answer (rules or SafeguardPolicy answer them).
NOT_AN_ANSWER_INTENTS = {"danger_now", "danger_suicide", "ask_talk_to_person"}
_PASSING_EVENTS = {"slot", "active_loop", "user_featurization", "loop_interrupted",
                   "action_execution_rejected"}


def channel_of(tracker: Tracker) -> str:
    """The records' channel for this conversation."""
    return "sms" if tracker.get_latest_input_channel() == "twilio" else "web"


def answers_a_user_message(events: List[Dict[str, Any]]) -> bool:
    """True when the form runs straight after a user message (not on resume or start)."""
    marker_seen = False
    for event in reversed(events):
        kind = event.get("event")
        if kind in _PASSING_EVENTS:
            continue
        if kind == "action" and event.get("name") == FORM and not marker_seen:
            marker_seen = True
            continue
        return kind == "user"
    return False


def action_before_latest_user_message(events: List[Dict[str, Any]]) -> Optional[str]:
    """The last action (other than listening) before the person's latest message."""
    seen_user = False
    for event in reversed(events):
        kind = event.get("event")
        if not seen_user:
            seen_user = kind == "user"
            continue
        if kind == "action" and event.get("name") not in ("action_listen", None):
            return event.get("name")
    return None


def ask(slot: Optional[str], **slots: Any) -> List[EventType]:
    """Events that set ``slots`` and make the form ask ``slot`` next (None ends the form)."""
    return [SlotSet(name, value) for name, value in slots.items()] + [SlotSet(REQUESTED_SLOT, slot)]


class ValidateOutcomesForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_outcomes_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested not in FORM_SLOTS:
            # Starting: forget answers from any earlier round, ask the first question.
            start = {slot: None for slot in FORM_SLOTS}
            start.update(outcome_prompt="first", outcome_text_ref=None)
            return ask(FORM_SLOTS[0], **start)
        if not answers_a_user_message(tracker.events):
            # Coming back after a digression ("talk to a person"): ask again.
            return ask(requested)
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        text = latest.get("text") or ""
        if intent in NOT_AN_ANSWER_INTENTS and not (
            # "A phone call" also sounds like asking for a person.
            requested == "outcome_contact" and contact_method(text) is not None
        ):
            return []  # rejected: the rules answer, then the form carries on
        if action_before_latest_user_message(tracker.events) in NOT_AN_ANSWER_AFTER:
            # The question was not the last thing they saw: ask it again.
            return ask(requested, **{requested: None})
        handler = getattr(self, f"_answer_{requested}")
        return handler(dispatcher, tracker, text, intent)

    # --- one method per question --------------------------------------------

    def _answer_outcome_role(self, dispatcher, tracker, text, intent) -> List[EventType]:
        answering = answering_for(text)
        if answering is None:
            return ask("outcome_role", outcome_role=None)
        enquiry_id = tracker.get_slot("enquiry_id")
        with session_scope() as session:
            participant = enquiries.get_or_create_participant(
                session, enquiry_id, participant_role(answering, text)
            )
            participant_id = participant.id
        return ask("outcome_consent", outcome_role=answering, participant_id=participant_id)

    def _answer_outcome_consent(self, dispatcher, tracker, text, intent) -> List[EventType]:
        answer = yes_or_no(intent, text)
        if answer is None:
            return ask("outcome_consent", outcome_consent=None)
        record = consents.give_consent if answer else consents.refuse_consent
        with session_scope() as session:
            record(
                session,
                tracker.get_slot("enquiry_id"),
                tracker.get_slot("participant_id"),
                consents.RECORD_OUTCOMES,
                recorded_by=RECORDED_BY,
                channel=channel_of(tracker),
            )
        if not answer:
            return ask(None, outcome_consent="refused")
        return ask("outcome_text", outcome_consent="given", outcome_prompt="first")

    def _answer_outcome_text(self, dispatcher, tracker, text, intent) -> List[EventType]:
        if len(text) > MAX_OUTCOME_CHARS:
            # Nothing is cut: ask for a shorter answer, or two.
            return ask("outcome_text", outcome_text=None, outcome_prompt="too_long")
        if not text.strip() or text.startswith("/"):
            return ask("outcome_text", outcome_text=None)
        message_id = (tracker.latest_message or {}).get("message_id")
        return ask("outcome_confirmed", outcome_text=text, outcome_text_ref=message_id,
                   outcome_confirmed=None)

    def _answer_outcome_confirmed(self, dispatcher, tracker, text, intent) -> List[EventType]:
        answer = yes_or_no(intent, text)
        if answer is None:
            return ask("outcome_confirmed", outcome_confirmed=None)
        if not answer:
            return ask("outcome_text", outcome_text=None, outcome_confirmed=None,
                       outcome_prompt="again")
        words = tracker.get_slot("outcome_text")
        with session_scope() as session:
            outcomes.record_outcome(
                session,
                tracker.get_slot("enquiry_id"),
                words,
                participant_id=tracker.get_slot("participant_id"),
                recorded_by=RECORDED_BY,
                channel=channel_of(tracker),
                category=suggest_category(words),
                source_ref=tracker.get_slot("outcome_text_ref"),
            )
        return ask("outcome_more", outcome_confirmed=True, outcome_more=None)

    def _answer_outcome_more(self, dispatcher, tracker, text, intent) -> List[EventType]:
        answer = yes_or_no(intent, text)
        if answer is None:
            return ask("outcome_more", outcome_more=None)
        if answer:
            return ask("outcome_text", outcome_text=None, outcome_confirmed=None,
                       outcome_more=None, outcome_text_ref=None, outcome_prompt="more")
        return ask("outcome_contact", outcome_more=False)

    def _answer_outcome_contact(self, dispatcher, tracker, text, intent) -> List[EventType]:
        if not text.strip():
            return ask("outcome_contact", outcome_contact=None)
        method = contact_method(text)
        if method is not None:
            try:
                with session_scope() as session:
                    enquiry = enquiries.require_enquiry(session, tracker.get_slot("enquiry_id"))
                    if method != "sms" or enquiries.can_text(enquiry):
                        enquiries.set_contact_preferences(
                            session, enquiry.id, preferred_contact=method
                        )
            except RecordsError:
                # Not safe or not possible to set: the worker will ask.
                logger.info("contact preference %r not recorded", method)
        return ask(None, outcome_contact=text[:200])


class _AskOutcomesQuestion(Action):
    """Sends the form's question; ``utter_outcomes_form`` picks the words by slot."""

    slot = ""

    def name(self) -> Text:
        return f"action_ask_{FORM}_{self.slot}"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response=QUESTION_RESPONSE)
        return []


class ActionAskOutcomesFormOutcomeRole(_AskOutcomesQuestion):
    slot = "outcome_role"


class ActionAskOutcomesFormOutcomeConsent(_AskOutcomesQuestion):
    slot = "outcome_consent"


class ActionAskOutcomesFormOutcomeText(_AskOutcomesQuestion):
    slot = "outcome_text"


class ActionAskOutcomesFormOutcomeConfirmed(_AskOutcomesQuestion):
    slot = "outcome_confirmed"


class ActionAskOutcomesFormOutcomeMore(_AskOutcomesQuestion):
    slot = "outcome_more"


class ActionAskOutcomesFormOutcomeContact(_AskOutcomesQuestion):
    slot = "outcome_contact"
