"""The call-back request (``callback_form``): one question at a time, every answer kept word for word.

Offered when nobody can chat: nobody claimed a waiting handoff in time (the
notice of ``bot/handoff/timeouts.py`` asks "would you like a call back?"),
out of staffed hours, or on a channel a worker's words cannot reach (both
after ``utter_talk_to_person``: ``utter_callback_offer``, put there by
``SafeguardPolicy``). A yes runs:

* ``action_callback_start``: a handoff still waiting in the queue ends as
  ``callback_requested`` (one conditional UPDATE; if a worker claimed it
  meanwhile, the worker is there and no form starts) and the ``handoff`` slot
  is cleared, so the assistant asks the questions; its id goes in
  ``cb_handoff`` for the record.
* ``validate_callback_form``: who the call is for (the one writing, or
  someone else; "for me, I'm her carer" is for the one writing,
  ``parsing.asking_for``); is it safe for us to call (no: the form ends, no
  number is asked, and other ways to get help are given);
  the number (a UK number, ``bot.actions.parsing.uk_phone``: asked again
  otherwise); when it is safe to call; may we leave a message; who else might
  answer. Each answer is the message exactly as typed. A danger message or a
  plain "talk to a person" is never an answer (the danger net and the rules
  answer, and the question is asked again); "stop" or "cancel" ends the form
  politely.
* ``action_callback_submit``: the request is recorded
  (``bot.records.callbacks.request_callback``, once per chat turn); the duty
  team is emailed by ``bot.handoff.timeouts`` (a link, no personal details).
  Not safe to call, or stopped: a decline is recorded instead
  (``callbacks.record_decline``: which, the question, and the person's
  message word for word), listed with the requests in the portal; no number
  or other answer is kept. Who asked is recorded apart from whom the call is
  for (``parsing.asker``): a carer asking for themselves is a representative,
  for themselves. It sets ``cb_result``, which picks the words of
  ``utter_callback_done``.

By SMS (issue 13) the offer, the questions and the closing words are the
``channel: twilio`` variants of the same responses (short, and nothing that
says what this is about); the SMS channel sends a texter's answers here while
the form asks (``bot.channels.sms.expecting_answer``). There "stop" is the
opt-out word: it opts the number out and ends a live handoff (the channel),
so the SMS questions do not offer it.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.records import callbacks, handoffs, session_scope
from bot.records.errors import RecordsError

from .outcomes import answer_text, ask, channel_of, form_turn, message_ref, question_answered_last
from .parsing import asker, asking_for, safe_to_call, uk_phone, wants_to_stop, yes_or_no

logger = logging.getLogger(__name__)

FORM = "callback_form"
FORM_SLOTS = ("cb_who", "cb_safe", "cb_number", "cb_times", "cb_message", "cb_others")
#: Set while the form runs: cb_problem picks "that is not a UK number"; cb_leave is the yes or no read
#: from the answer about messages; cb_result picks the closing words.
WORKING_SLOTS = ("cb_problem", "cb_leave", "cb_result")
HANDOFF_SLOT = "handoff"
OFFERED_SLOT = "callback_offered"
LINK_SLOT = "cb_handoff"
#: Slot -> the record's column.
ANSWERS = {"cb_safe": "safe_words", "cb_number": "number_words", "cb_times": "safe_times",
           "cb_message": "message_words", "cb_others": "others_words"}
#: Slot -> the question key a decline names.
QUESTIONS = dict(ANSWERS, cb_who="who")


class ActionCallbackStart(Action):
    def name(self) -> Text:
        return "action_callback_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        handoff_id: Optional[int] = None
        try:
            with session_scope() as session:
                live = handoffs.live_handoff(session, tracker.sender_id)
                if live is not None and live.status == "claimed":
                    # A member of staff joined meanwhile: they are there; no questions.
                    return [SlotSet(HANDOFF_SLOT, "claimed")]
                if live is not None:
                    if not handoffs.end(session, live.id, "callback_requested"):
                        return [SlotSet(HANDOFF_SLOT, "claimed")]  # claimed in this very moment
                    handoff_id = live.id
        except (SQLAlchemyError, RecordsError):
            # The questions still run; the request is tried when it is complete.
            logger.exception("call back: could not look up the handoff")
        if handoff_id is not None:
            logger.info("handoff %s: the person asked for a call back instead of waiting", handoff_id)
        return [SlotSet(HANDOFF_SLOT, None), SlotSet(OFFERED_SLOT, None),
                SlotSet(LINK_SLOT, str(handoff_id) if handoff_id is not None else None)]


class ValidateCallbackForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_callback_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        turn = form_turn(tracker, FORM, FORM_SLOTS, WORKING_SLOTS)
        if isinstance(turn, list):
            return turn
        requested, text, intent = turn
        return answer(requested, text, intent)


def answer(requested: str, text: str, intent: Optional[str]) -> List[EventType]:
    """The events for one answer to ``requested`` (pure: tested without Rasa)."""
    if wants_to_stop(text):
        return ask(None, **{slot: None for slot in FORM_SLOTS}, cb_problem=None, cb_leave=None,
                   cb_result="cancelled")
    if requested == "cb_who":
        who = asking_for(text)
        return ask("cb_safe", cb_who=who) if who else ask(requested, cb_who=None)
    if requested == "cb_safe":
        safe = safe_to_call(intent, text)
        if safe is None:
            return ask(requested, cb_safe=None)
        if not safe:
            # No number is asked; the closing words give other ways to get help. Nothing is kept.
            return ask(None, cb_safe=None, cb_result="not_safe")
        return ask("cb_number", cb_safe=text)
    if requested == "cb_number":
        if uk_phone(text) is None:
            return ask(requested, cb_number=None, cb_problem="number")
        return ask("cb_times", cb_number=text, cb_problem=None)
    if requested == "cb_message":
        leave = yes_or_no(intent, text)
        if leave is None:
            return ask(requested, cb_message=None)
        return ask("cb_others", cb_message=text, cb_leave="yes" if leave else "no")
    if not text.strip():
        return ask(requested, **{requested: None})
    following = FORM_SLOTS[FORM_SLOTS.index(requested) + 1] if requested != FORM_SLOTS[-1] else None
    return ask(following, **{requested: text})


def _source_ref(tracker: Tracker) -> str:
    """Once per conversation turn."""
    who = hashlib.sha256(tracker.sender_id.encode()).hexdigest()[:24]
    return f"callback:{who}:{message_ref(tracker) or len(tracker.events)}"


class ActionCallbackSubmit(Action):
    def name(self) -> Text:
        return "action_callback_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        # The words stay in the records only: the slots are cleared. cb_result picks utter_callback_done.
        clear = [SlotSet(slot, None) for slot in FORM_SLOTS + ("cb_problem", "cb_leave", LINK_SLOT)]
        result = tracker.get_slot("cb_result")
        for_whom = tracker.get_slot("cb_who")
        asked_by = asker(for_whom, answer_text(tracker.events, "cb_who"), tracker.get_slot("outcome_role"))
        link = tracker.get_slot(LINK_SLOT)
        if result in ("not_safe", "cancelled"):
            _record_decline(tracker, result, asked_by, for_whom, link)
            return clear + [SlotSet("cb_result", result)]
        words = {column: tracker.get_slot(slot) for slot, column in ANSWERS.items()}
        number = uk_phone(words["number_words"])
        leave = {"yes": True, "no": False}.get(tracker.get_slot("cb_leave"))
        try:
            if number is None or leave is None:
                raise RecordsError("the form ended without a number or an answer about messages")
            with session_scope() as session:
                request = callbacks.request_callback(
                    session, words, number=number, leave_message=leave, sender_id=tracker.sender_id,
                    channel=channel_of(tracker), source_ref=_source_ref(tracker), asked_by=asked_by,
                    for_whom=for_whom, handoff_id=int(link) if link else None)
                request_id = request.id
        except (SQLAlchemyError, RecordsError, ValueError):
            logger.exception("call back: the request could not be recorded")
            return clear + [SlotSet("cb_result", "unavailable")]
        logger.info("call back %s requested", request_id)
        return clear + [SlotSet("cb_result", "sent")]


def _record_decline(tracker: Tracker, result: str, asked_by: str, for_whom: Optional[str],
                    link: Optional[str]) -> None:
    """Not safe to call, or stopped: kept with the person's message as typed. The person is told the same
    either way (``utter_callback_done``), so a failure here is logged, not shown."""
    words = (tracker.latest_message or {}).get("text") or ""
    question = QUESTIONS.get(question_answered_last(tracker.events) or "")
    try:
        with session_scope() as session:
            decline = callbacks.record_decline(
                session, result, words, sender_id=tracker.sender_id, channel=channel_of(tracker),
                asked_by=asked_by, for_whom=for_whom, question=question, source_ref=_source_ref(tracker),
                handoff_id=int(link) if link else None)
            decline_id = decline.id
    except (SQLAlchemyError, RecordsError, ValueError):
        logger.exception("call back: the %s answer could not be recorded", result)
        return
    logger.info("call back declined (%s): decline %s", result, decline_id)
