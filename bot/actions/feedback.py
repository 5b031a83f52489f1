"""The end-of-enquiry feedback conversation (issue 11): ``feedback_form``.

Started by a feedback invitation (``action_redeem_invitation`` sets
``invite_status: feedback`` and ``survey_id``; the rules say the opening,
``utter_feedback_opening``, then start the form) or, over SMS, by a reply from
the number a survey was sent to (``bot/channels/sms.py``).

Every question is the response ``utter_ask_feedback_form_<slot>`` that Rasa's
form sends itself once this action sets ``requested_slot``: one call to the
action server per message. The read-back of a desired outcome ("You said:
'…'. Did that happen?") needs the records; this action reads them in the
same call and puts the words in ``fb_outcome_text`` (latest active version;
withdrawn outcomes are not asked about), as the outcomes form does.

Each reply is read by ``bot.surveys.answers`` (buttons, numbers, words,
typos; no NLU intents) and appended to the records with the words as sent
(``bot.records.feedback.record_answer``, once per message id). An unclear
reply gets the question once more, with "sorry" (its ``fb_retry`` variation), then the question is
recorded as ``unclear`` and skipped; "skip" skips; "stop" ends the survey
politely (``partial``, answers kept). Danger replies come first in every state
(``SafeguardPolicy``); after one, the question is asked again before anything
is taken as an answer. The one exception: a stop phrase ("I want to stop")
that only the learned danger detector read as danger stops the survey
(``bot.surveys.answers.learned_danger_set_aside``); the danger rules are never
set aside. "Talk to a person" is answered by a rule, then the
form carries on.

On every turn the survey must still be open and belong to this conversation:
for the web, this visit redeemed the survey's invitation (``bot.records.links``);
over SMS, the sender id is ``sms-<number id>`` of the survey's number.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from sqlalchemy.exc import SQLAlchemyError

from bot.actions.outcomes import (
    NOT_AN_ANSWER_AFTER,
    action_before_latest_user_message,
    answers_a_user_message,
    ask,
    channel_of,
    message_ref,
)
from bot.actions.visit import session_ref
from bot.records import feedback, links, session_scope
from bot.records.errors import RecordsError
from bot.surveys.answers import SKIP, STOP, is_nothing_more, learned_danger_set_aside, parse
from bot.text.requests import asks_for_a_person

logger = logging.getLogger(__name__)

FORM = "feedback_form"
#: Slot -> (the records' question key, the kind of answer it takes).
QUESTIONS: Dict[str, Tuple[str, Optional[str]]] = {
    "fb_goals": ("goals", "answer"),
    "fb_say": ("say", "answer"),
    "fb_listened": ("listened", "answer"),
    "fb_acted": ("acted", "answer"),
    "fb_safe": ("safe", "answer"),
    "fb_happier": ("happier", "answer"),
    "fb_safe_now": ("safe_now", "safe_now"),
    "fb_safe_change": ("safe_change", "safe_change"),
    "fb_outcome": ("outcome", "outcome"),
    "fb_anything_else": ("anything_else", None),
}
FORM_SLOTS = tuple(QUESTIONS)
WORKING_SLOTS = ("fb_retry", "fb_outcome_keys", "fb_outcome_index", "fb_outcome_text", "fb_end")
NOT_AN_ANSWER_INTENTS = {"danger_now", "danger_suicide", "ask_talk_to_person"}
SMS_PREFIX = "sms-"
MAX_ANSWER_CHARS = feedback.MAX_ANSWER_CHARS


def end(how: str, **slots: Any) -> List[EventType]:
    """End the form; ``utter_feedback_done`` says the words for ``how``."""
    return ask(None, fb_end=how, **slots)


def belongs(session, tracker: Tracker, survey) -> bool:
    """True when this conversation may answer ``survey`` (see the module docstring)."""
    sender = tracker.sender_id or ""
    if survey.channel == "sms" and sender.startswith(SMS_PREFIX):
        return survey.number_id is not None and sender == f"{SMS_PREFIX}{survey.number_id}"
    return links.is_linked(session, sender, session_ref(tracker.events), survey.enquiry_id)


class ValidateFeedbackForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_feedback_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        survey_id = tracker.get_slot("survey_id")
        try:
            with session_scope(read_only=True) as session:
                survey = feedback.get_survey(session, survey_id) if survey_id is not None else None
                if survey is None or not belongs(session, tracker, survey):
                    return end("lapsed", survey_id=None)
                if not survey.is_open:
                    return end("closed")
                if requested not in FORM_SLOTS:
                    return self._start(session, survey)
        except SQLAlchemyError:
            logger.exception("feedback form: records unavailable")
            dispatcher.utter_message(response="utter_records_unavailable")
            if requested in FORM_SLOTS:
                return ask(requested, **{requested: None})
            return end("closed")
        if not answers_a_user_message(tracker.events, FORM):
            return ask(requested)  # back after "talk to a person": ask again
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        text = latest.get("text") or ""
        if intent in NOT_AN_ANSWER_INTENTS and not (
                intent == "ask_talk_to_person" and self._clear_answer(requested, text)) and not (
                learned_danger_set_aside(text, latest.get("safety_net"))):
            # Rejected: the rules (or SafeguardPolicy) answer, then the form
            # carries on. A stop phrase only the learned detector read as
            # danger is the person's answer (SafeguardPolicy let it through).
            return []
        if action_before_latest_user_message(tracker.events) in NOT_AN_ANSWER_AFTER:
            return ask(requested, **{requested: None})
        try:
            return self._answer(dispatcher, tracker, requested, text)
        except RecordsError:
            logger.exception("feedback form: %s could not be recorded", requested)
            return end("closed")
        except SQLAlchemyError:
            logger.exception("feedback form: database error at %s", requested)
            dispatcher.utter_message(response="utter_records_unavailable")
            return ask(requested, **{requested: None})

    @staticmethod
    def _clear_answer(requested: str, text: str) -> bool:
        if requested == "fb_anything_else":
            return not asks_for_a_person(text)
        kind = QUESTIONS.get(requested, (None, None))[1]
        return kind is not None and parse(kind, text).clear

    def _start(self, session, survey) -> List[EventType]:
        """Start, or carry on where the person left off: the first question not yet answered."""
        rep = survey.participant.role in ("representative", "advocate")
        keys = [row.outcome_key for row in feedback.outcomes_to_ask(session, survey.enquiry_id)]
        texts = {row.outcome_key: row.text for row in feedback.outcomes_to_ask(session, survey.enquiry_id)}
        answered = set(feedback.latest_answers(session, survey.id))
        slots = {slot: None for slot in FORM_SLOTS + WORKING_SLOTS}
        slots.update(fb_rep=rep, fb_retry=False, fb_outcome_keys=keys, fb_outcome_index=0)
        for slot in FORM_SLOTS:
            question = QUESTIONS[slot][0]
            if slot == "fb_outcome":
                pending = [i for i, key in enumerate(keys) if (question, key) not in answered]
                if pending:
                    slots.update(fb_outcome_index=pending[0], fb_outcome_text=texts[keys[pending[0]]])
                    return ask(slot, **slots)
                slots["fb_outcome_index"] = len(keys)
                continue
            if (question, None) not in answered:
                return ask(slot, **slots)
        return ask("fb_anything_else", **slots)

    # --- where to go next ----------------------------------------------------

    def _next(self, tracker: Tracker, answered: str, **slots: Any) -> List[EventType]:
        """Ask the question after ``answered`` (outcomes one by one), or finish."""
        keys = tracker.get_slot("fb_outcome_keys") or []
        index = tracker.get_slot("fb_outcome_index") or 0
        if answered == "fb_outcome":
            index += 1
        order = list(FORM_SLOTS)
        following = order[order.index(answered) + 1:] if answered != "fb_outcome" else ["fb_outcome",
                                                                                         "fb_anything_else"]
        values = dict(slots)
        values["fb_retry"] = False
        for slot in following:
            if slot == "fb_outcome":
                index, text = self._outcome_text(tracker, keys, index)
                if text is None:
                    continue
                values.update(fb_outcome=None, fb_outcome_index=index, fb_outcome_text=text)
                return ask("fb_outcome", **values)
            values.update({slot: None, "fb_outcome_index": index})
            return ask(slot, **values)
        with session_scope() as session:
            feedback.finish(session, tracker.get_slot("survey_id"), "completed", detail="last question answered")
        return end("completed", **values)

    @staticmethod
    def _outcome_text(tracker: Tracker, keys: List[str], index: int) -> Tuple[int, Optional[str]]:
        """The first outcome from ``index`` on still on record (one withdrawn since is passed over)."""
        if index >= len(keys):
            return index, None
        with session_scope(read_only=True) as session:
            survey = feedback.require_survey(session, tracker.get_slot("survey_id"))
            current = {row.outcome_key: row.text for row in feedback.outcomes_to_ask(session, survey.enquiry_id)}
        while index < len(keys) and keys[index] not in current:
            index += 1
        return index, (current[keys[index]] if index < len(keys) else None)

    # --- answers ---------------------------------------------------------------

    def _record(self, tracker: Tracker, requested: str, value: str, text: Optional[str]) -> None:
        question = QUESTIONS[requested][0]
        outcome_key = None
        if question == "outcome":
            keys = tracker.get_slot("fb_outcome_keys") or []
            outcome_key = keys[tracker.get_slot("fb_outcome_index") or 0]
        with session_scope() as session:
            feedback.record_answer(session, tracker.get_slot("survey_id"), question, value,
                                   text=text, channel=channel_of(tracker), outcome_key=outcome_key,
                                   source_ref=message_ref(tracker))

    def _answer(self, dispatcher, tracker: Tracker, requested: str, text: str) -> List[EventType]:
        if requested not in QUESTIONS:
            return ask(FORM_SLOTS[0])
        if len(text) > MAX_ANSWER_CHARS:
            text_kept: Optional[str] = text[:MAX_ANSWER_CHARS]
        else:
            text_kept = text
        if requested == "fb_anything_else":
            return self._anything_else(tracker, text)
        kind = QUESTIONS[requested][1]
        parsed = parse(kind, text)
        if parsed.control == STOP:
            with session_scope() as session:
                feedback.finish(session, tracker.get_slot("survey_id"), "partial", detail="stopped by the person")
            return end("stopped", **{requested: "stop"})
        if parsed.control == SKIP:
            self._record(tracker, requested, "skipped", text_kept)
            return self._next(tracker, requested, **{requested: "skipped"})
        if parsed.value is None:
            if not tracker.get_slot("fb_retry"):
                # The fb_retry variation of the question says sorry and asks again.
                return ask(requested, **{requested: None}, fb_retry=True)
            self._record(tracker, requested, "unclear", text_kept)
            return self._next(tracker, requested, **{requested: "unclear"})
        self._record(tracker, requested, parsed.value, text_kept)
        return self._next(tracker, requested, **{requested: parsed.value})

    def _anything_else(self, tracker: Tracker, text: str) -> List[EventType]:
        if not text.strip() or text.startswith("/"):
            return ask("fb_anything_else", fb_anything_else=None)
        if len(text) > MAX_ANSWER_CHARS:
            # Nothing is cut: the first part is kept, and they may send more.
            text = text[:MAX_ANSWER_CHARS]
        words = parse("answer", text)
        if words.control == STOP:
            value = "nothing"
        else:
            value = "nothing" if is_nothing_more(text) else "given"
        self._record(tracker, "fb_anything_else", value, text)
        return self._next(tracker, "fb_anything_else", fb_anything_else=value)
