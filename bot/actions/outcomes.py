"""The outcomes conversation: what the person would like to happen, in their words.

``outcomes_form`` (domain.yml) lists its slots; every slot has a ``custom``
mapping, so only ``validate_outcomes_form`` fills them, and only from a message
that answers the form's question. That matters because SafeguardPolicy answers
danger and unreadable messages itself while the form stays active: such a
message never reaches the form, and nothing is taken from it.

The order of questions is decided here, by setting ``requested_slot``:

1. ``outcome_role``: for yourself or for someone else (recorded participant role);
2. ``outcome_consent``: may I write it down (given / refused, recorded); not
   asked again when this participant's consent is already on record;
3. ``outcome_review`` (only when outcomes are already on record, a person
   coming back): their words read back, then add, change, take one away, or
   keep them; ``outcome_pick`` asks which one when there are several;
   ``outcome_withdraw_confirmed`` checks before taking one away;
4. ``outcome_text``: what would you like to happen, kept verbatim (<= 2,000 chars);
5. ``outcome_confirmed``: read back, is that right (no: ask again; yes: recorded,
   or a new version when changing one);
6. ``outcome_category_ok``: the suggested reporting group; yes adds it to the
   record (a new version), anything else leaves the words without one. Not
   asked when no group fits (``something_else``): the worker decides;
7. ``outcome_more``: anything else (yes: back to 4, or to 3 for a returning person);
8. ``outcome_contact``: how to keep you informed (not asked again if known).

Each question is the response ``utter_ask_outcomes_form_<slot>`` (domain.yml),
which Rasa's form sends itself once this action has set ``requested_slot``: a
message in the form makes one call to the action server, not two. The wording
is chosen on the Rasa server by conditions on the slots set here
(``outcome_prompt``, ``outcome_role``, ``outcome_action``) and filled from them
(``outcome_text``, ``outcome_list``, ``outcome_category_label``); the buttons of
"which one?" come from ``outcome_choices`` (bot/components/settings_nlg.py).
So everything a question shows is read from the records here, in the same
turn, and put in slots. ``utter_outcomes_done`` ends the form (a rule).

Reading back or changing outcomes needs the invitation of this visit: on every
turn the form checks, in the records, that this conversation's current Rasa
session redeemed an invitation for the enquiry (``bot.records.links``), not
just that the ``enquiry_id`` slot is set. When the link has lapsed the form
ends, saying that a new code or link is needed; nothing is read back.

Every row written carries the id of the message that caused it
(``source_ref``), so a message delivered twice records nothing twice.

After a danger reply the next message is not taken as an answer: the question
is asked again first.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from sqlalchemy.exc import SQLAlchemyError
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction

from bot.actions.outcome_categories import FALLBACK, suggest_category
from bot.text.requests import FREE_TEXT_SLOTS, asks_for_a_person
from bot.actions.parsing import (
    answering_for,
    contact_method,
    participant_role,
    pick_number,
    review_choice,
    yes_or_no,
)
from bot.actions.visit import session_ref
from bot.records import consents, enquiries, links, outcomes, session_scope
from bot.records.errors import RecordsError
from bot.records.models import MAX_OUTCOME_CHARS, OUTCOME_CATEGORY_LABELS

logger = logging.getLogger(__name__)

FORM = "outcomes_form"
FORM_SLOTS = (
    "outcome_role",
    "outcome_consent",
    "outcome_review",
    "outcome_pick",
    "outcome_withdraw_confirmed",
    "outcome_text",
    "outcome_confirmed",
    "outcome_category_ok",
    "outcome_more",
    "outcome_contact",
)
#: Slots the form also sets (read by the responses), cleared when it starts.
WORKING_SLOTS = (
    "outcome_prompt",
    "outcome_text_ref",
    "outcome_returning",
    "outcome_list",
    "outcome_choices",
    "outcome_action",
    "outcome_category",
    "outcome_category_label",
)
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


def answers_a_user_message(events: List[Dict[str, Any]], form: str = FORM) -> bool:
    """True when ``form`` runs straight after a user message (not on resume or start)."""
    marker_seen = False
    for event in reversed(events):
        kind = event.get("event")
        if kind in _PASSING_EVENTS:
            continue
        if kind == "action" and event.get("name") == form and not marker_seen:
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


def form_turn(tracker: Tracker, form: str, slots: tuple, working: tuple = ()):
    """The shared start of a question-at-a-time form's validation run.

    Returns a list of events to return as they are (start: forget an earlier
    round and ask the first question; back after a digression: ask again;
    danger or "talk to a person": nothing, the rules and the danger net
    answer; just after a danger reply: ask again), or ``(requested, text,
    intent)`` when the latest message answers the question being asked.
    """
    requested = tracker.get_slot(REQUESTED_SLOT)
    if requested not in slots:
        return ask(slots[0], **{slot: None for slot in slots + working})
    if not answers_a_user_message(tracker.events, form):
        return ask(requested)
    latest = tracker.latest_message or {}
    intent = (latest.get("intent") or {}).get("name")
    text = latest.get("text") or ""
    if intent in NOT_AN_ANSWER_INTENTS and not (
        # "A phone call please" may be guessed as asking for a person; in
        # their own words it is an answer, unless they plainly ask for one.
        intent == "ask_talk_to_person" and requested in FREE_TEXT_SLOTS and not asks_for_a_person(text)
    ):
        return []
    if action_before_latest_user_message(tracker.events) in NOT_AN_ANSWER_AFTER:
        return ask(requested, **{requested: None})
    return requested, text, intent


def message_ref(tracker: Tracker) -> Optional[str]:
    """The id of the person's latest message (``source_ref`` of what it records)."""
    return (tracker.latest_message or {}).get("message_id")


def answer_text(events, slot: str) -> Optional[str]:
    """The words of the person's message that a form last took as the answer to ``slot`` (None if none)."""
    latest_user, found = None, None
    for event in events or ():
        kind = event.get("event")
        if kind == "user":
            latest_user = event.get("text")
        elif kind == "slot" and event.get("name") == slot and event.get("value") is not None:
            found = latest_user
    return found


def question_answered_last(events) -> Optional[str]:
    """The slot a form was asking for when the person's latest message came."""
    requested, asked = None, None
    for event in events or ():
        kind = event.get("event")
        if kind == "slot" and event.get("name") == REQUESTED_SLOT:
            requested = event.get("value")
        elif kind == "user":
            asked = requested
    return asked


def visit_is_linked(tracker: Tracker) -> bool:
    """True when this visit redeemed an invitation for the ``enquiry_id`` slot (records say)."""
    with session_scope(read_only=True) as session:
        return links.is_linked(session, tracker.sender_id, session_ref(tracker.events),
                               tracker.get_slot("enquiry_id"))


def link_lapsed() -> List[EventType]:
    """End the form and forget the enquiry: reading back needs a new invitation."""
    cleared = {slot: None for slot in FORM_SLOTS + WORKING_SLOTS}
    cleared.update(outcome_prompt="link_lapsed", enquiry_id=None, participant_id=None,
                   invite_status=None)
    return ask(None, **cleared)


def current_choices(enquiry_id: Any) -> List[Dict[str, Any]]:
    """The enquiry's current outcomes, oldest first, as ``{"id", "text"}``."""
    with session_scope(read_only=True) as session:
        rows = outcomes.current_outcomes(session, enquiry_id)
        return [{"id": row.id, "text": row.text} for row in rows]


def numbered(choices: List[Dict[str, Any]]) -> str:
    """The person's words, numbered, exactly as recorded."""
    return "\n".join(f'{n}. "{choice["text"]}"' for n, choice in enumerate(choices, 1))


def review_slots(enquiry_id: Any) -> Dict[str, Any]:
    """Slots that read the current outcomes back (``outcome_list``) and number them."""
    choices = current_choices(enquiry_id)
    return {"outcome_choices": choices, "outcome_list": numbered(choices)}


class ValidateOutcomesForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_outcomes_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        try:
            linked = visit_is_linked(tracker)
        except SQLAlchemyError:
            logger.exception("outcomes form: could not check the link")
            if requested in FORM_SLOTS:
                dispatcher.utter_message(response="utter_records_unavailable")
                return ask(requested, **{requested: None})
            linked = True  # starting reads nothing; the next answer is checked again
        if not linked:
            logger.info("outcomes form: no live link for this visit; ending the form")
            return link_lapsed()
        if requested not in FORM_SLOTS:
            # Starting: forget answers from any earlier round, ask the first question.
            start = {slot: None for slot in FORM_SLOTS + WORKING_SLOTS}
            start.update(outcome_prompt="first")
            return ask(FORM_SLOTS[0], **start)
        if not answers_a_user_message(tracker.events):
            # Coming back after a digression ("talk to a person"): ask again.
            return ask(requested)
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        text = latest.get("text") or ""
        if intent in NOT_AN_ANSWER_INTENTS and not (
            # "A phone call" or "change the first one" may be guessed as asking
            # for a person; a clear answer to the question wins over that guess.
            intent == "ask_talk_to_person" and self._clear_answer(requested, text, tracker)
        ):
            return []  # rejected: the rules answer, then the form carries on
        if action_before_latest_user_message(tracker.events) in NOT_AN_ANSWER_AFTER:
            # The question was not the last thing they saw: ask it again.
            return ask(requested, **{requested: None})
        handler = getattr(self, f"_answer_{requested}")
        try:
            return handler(dispatcher, tracker, text, intent)
        except RecordsError:
            # Changed meanwhile (by a worker, say): read back what is there now.
            logger.exception("outcomes form: %s could not be recorded", requested)
            return self._after_words(tracker, prompt="more")
        except SQLAlchemyError:
            # The database is down: say so, keep everything, ask the same question.
            # The words are still in the conversation record (tracker store).
            logger.exception("outcomes form: database error at %s", requested)
            dispatcher.utter_message(response="utter_records_unavailable")
            return ask(requested, **{requested: None})

    @staticmethod
    def _clear_answer(requested: str, text: str, tracker: Tracker) -> bool:
        """True when ``text`` plainly answers the question (choices, not free words)."""
        if requested == "outcome_contact":
            return contact_method(text) is not None
        if requested == "outcome_review":
            return review_choice(None, text) is not None
        if requested == "outcome_pick":
            return pick_number(text, len(tracker.get_slot("outcome_choices") or [])) is not None
        if requested in FREE_TEXT_SLOTS:
            # Their own words, unless they plainly ask for a person.
            return not asks_for_a_person(text)
        return False

    # --- where to go next ----------------------------------------------------

    def _after_words(self, tracker: Tracker, prompt: str) -> List[EventType]:
        """The returning person's list again, or the question for new words."""
        enquiry_id = tracker.get_slot("enquiry_id")
        slots = review_slots(enquiry_id)
        if slots["outcome_choices"]:
            return ask("outcome_review", outcome_review=None, outcome_returning=True,
                       outcome_prompt=prompt, outcome_action=None, outcome_pick=None, **slots)
        return ask("outcome_text", outcome_text=None, outcome_action="add",
                   outcome_prompt="first", outcome_text_ref=None, **slots)

    def _picked(self, tracker: Tracker, number: int, action: str) -> List[EventType]:
        choices = tracker.get_slot("outcome_choices") or []
        chosen = choices[number - 1]
        if action == "withdraw":
            return ask("outcome_withdraw_confirmed", outcome_pick=chosen["id"],
                       outcome_text=chosen["text"], outcome_withdraw_confirmed=None)
        return ask("outcome_text", outcome_pick=chosen["id"], outcome_text=chosen["text"],
                   outcome_prompt="change", outcome_text_ref=None)

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
            consented = consents.has_consent(
                session, enquiry_id, participant_id, consents.RECORD_OUTCOMES
            )
        if not consented:
            return ask("outcome_consent", outcome_role=answering, participant_id=participant_id)
        return [SlotSet("outcome_role", answering), SlotSet("participant_id", participant_id),
                SlotSet("outcome_consent", "given")] + self._after_words(tracker, prompt="first")

    def _answer_outcome_consent(self, dispatcher, tracker, text, intent) -> List[EventType]:
        answer = yes_or_no(intent, text)
        if answer is None:
            return ask("outcome_consent", outcome_consent=None)
        enquiry_id = tracker.get_slot("enquiry_id")
        participant_id = tracker.get_slot("participant_id")
        record = consents.give_consent if answer else consents.refuse_consent
        with session_scope() as session:
            record(session, enquiry_id, participant_id, consents.RECORD_OUTCOMES,
                   recorded_by=RECORDED_BY, channel=channel_of(tracker))
            if not answer:
                # They were asked (SAC SG4a), and chose not to have it written here.
                outcomes.record_asked(
                    session, enquiry_id, "yes", participant_id=participant_id,
                    recorded_by=RECORDED_BY, channel=channel_of(tracker),
                    note="Asked by the assistant; did not want it written down there.",
                )
        if not answer:
            return ask(None, outcome_consent="refused")
        return [SlotSet("outcome_consent", "given")] + self._after_words(tracker, prompt="first")

    def _answer_outcome_review(self, dispatcher, tracker, text, intent) -> List[EventType]:
        choice = review_choice(intent, text)
        choices = tracker.get_slot("outcome_choices") or []
        if choice is None:
            return ask("outcome_review", outcome_review=None)
        if choice == "keep":
            return ask(None, outcome_review="keep")
        if choice == "add" or not choices:
            return ask("outcome_text", outcome_review=choice, outcome_action="add",
                       outcome_text=None, outcome_text_ref=None, outcome_prompt="more")
        if len(choices) == 1:
            return [SlotSet("outcome_review", choice), SlotSet("outcome_action", choice)] + \
                self._picked(tracker, 1, choice)
        return ask("outcome_pick", outcome_review=choice, outcome_action=choice, outcome_pick=None)

    def _answer_outcome_pick(self, dispatcher, tracker, text, intent) -> List[EventType]:
        choices = tracker.get_slot("outcome_choices") or []
        number = pick_number(text, len(choices))
        if number is None:
            return ask("outcome_pick", outcome_pick=None)
        return self._picked(tracker, number, tracker.get_slot("outcome_action"))

    def _answer_outcome_withdraw_confirmed(self, dispatcher, tracker, text, intent):
        answer = yes_or_no(intent, text)
        if answer is None:
            return ask("outcome_withdraw_confirmed", outcome_withdraw_confirmed=None)
        if not answer:
            return self._after_words(tracker, prompt="more")
        with session_scope() as session:
            outcomes.withdraw_outcome(
                session, tracker.get_slot("outcome_pick"),
                participant_id=tracker.get_slot("participant_id"),
                recorded_by=RECORDED_BY, channel=channel_of(tracker),
                reason="Taken away by the person in the chat.", source_ref=message_ref(tracker),
            )
        return ask("outcome_more", outcome_withdraw_confirmed=True, outcome_more=None,
                   outcome_category=None, outcome_prompt="withdrawn")

    def _answer_outcome_text(self, dispatcher, tracker, text, intent) -> List[EventType]:
        if len(text) > MAX_OUTCOME_CHARS:
            # Nothing is cut: ask for a shorter answer, or two.
            return ask("outcome_text", outcome_text=None, outcome_prompt="too_long")
        if not text.strip() or text.startswith("/"):
            return ask("outcome_text", outcome_text=None)
        return ask("outcome_confirmed", outcome_text=text, outcome_text_ref=message_ref(tracker),
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
            if tracker.get_slot("outcome_action") == "change":
                row = outcomes.change_outcome(
                    session, tracker.get_slot("outcome_pick"), text=words, category=None,
                    participant_id=tracker.get_slot("participant_id"),
                    recorded_by=RECORDED_BY, channel=channel_of(tracker),
                    reason="Changed by the person in the chat.",
                    source_ref=tracker.get_slot("outcome_text_ref"),
                )
            else:
                row = outcomes.record_outcome(
                    session, tracker.get_slot("enquiry_id"), words,
                    participant_id=tracker.get_slot("participant_id"),
                    recorded_by=RECORDED_BY, channel=channel_of(tracker),
                    source_ref=tracker.get_slot("outcome_text_ref"),
                )
            outcome_id = row.id
        category = suggest_category(words)
        slots = dict(outcome_confirmed=True, outcome_pick=outcome_id, outcome_category=category,
                     outcome_category_label=OUTCOME_CATEGORY_LABELS[category])
        if category == FALLBACK:
            # No group fits well: the words stand alone; the worker may add one.
            return ask("outcome_more", outcome_more=None, outcome_prompt="saved", **slots)
        prompt = "police" if category == "police_prosecute" else "group"
        return ask("outcome_category_ok", outcome_category_ok=None, outcome_prompt=prompt, **slots)

    def _answer_outcome_category_ok(self, dispatcher, tracker, text, intent) -> List[EventType]:
        if not text.strip():
            return ask("outcome_category_ok", outcome_category_ok=None)
        prompt = "returning" if tracker.get_slot("outcome_returning") else "more"
        # Only a plain "yes" accepts (not the classifier's guess: "skip" must not).
        if yes_or_no(None, text) is not True:
            # "No", "skip" or anything else: the words stay without a group.
            return ask("outcome_more", outcome_category_ok="ignored", outcome_more=None,
                       outcome_prompt=prompt)
        with session_scope() as session:
            outcomes.change_outcome(
                session, tracker.get_slot("outcome_pick"),
                category=tracker.get_slot("outcome_category"),
                participant_id=tracker.get_slot("participant_id"),
                recorded_by=RECORDED_BY, channel=channel_of(tracker),
                reason="Reporting group suggested by the assistant, agreed by the person.",
                source_ref=message_ref(tracker),
            )
        return ask("outcome_more", outcome_category_ok="accepted", outcome_more=None,
                   outcome_prompt=prompt)

    def _answer_outcome_more(self, dispatcher, tracker, text, intent) -> List[EventType]:
        answer = yes_or_no(intent, text)
        if answer is None:
            return ask("outcome_more", outcome_more=None)
        if answer:
            if tracker.get_slot("outcome_returning"):
                return [SlotSet("outcome_more", None)] + self._after_words(tracker, prompt="more")
            return ask("outcome_text", outcome_text=None, outcome_confirmed=None,
                       outcome_more=None, outcome_text_ref=None, outcome_prompt="more",
                       outcome_action="add", outcome_category=None)
        with session_scope(read_only=True) as session:
            enquiry = enquiries.require_enquiry(session, tracker.get_slot("enquiry_id"))
            known = enquiry.preferred_contact is not None
        if known and tracker.get_slot("outcome_returning"):
            return ask(None, outcome_more=False)
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
