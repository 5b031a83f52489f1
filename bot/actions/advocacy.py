"""The advocacy referral form (``advocacy_form``): one question at a time, answers kept word for word.

``validate_advocacy_form`` takes each answer exactly as typed (custom slot
mappings, so a danger message or a "talk to a person" is never taken as an
answer; the danger net answers first and the question is asked again). After
the four difficulties and the question about support it decides only whether
to *offer* a referral (``bot.actions.parsing``): any difficulty said and no
one clearly able to support. It never says or records that the person lacks
capacity or is eligible: the provider and the worker decide, and the
questions say so.

``action_advocacy_submit`` then, with consent, makes the referral
(``bot.records.advocacy.make_referral``, queued for ``bot.advocacy.sender``);
a refusal is recorded and nothing is sent. It sets ``adv_result``, which
picks the words of ``utter_advocacy_done`` (the rule says it next).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.records import session_scope
from bot.records import advocacy as records
from bot.records.errors import RecordsError

from .outcomes import answer_text, ask, channel_of, form_turn, message_ref, visit_is_linked
from .parsing import asker, asking_for, difficulty_said, support_is_clear, yes_or_no

logger = logging.getLogger(__name__)

FORM = "advocacy_form"
SCREEN_SLOTS = ("adv_understand", "adv_remember", "adv_weigh", "adv_say")
FORM_SLOTS = ("adv_who",) + SCREEN_SLOTS + ("adv_support", "adv_consent", "adv_contact", "adv_safe_times")
WORKING_SLOTS = ("adv_offer", "adv_consent_words", "adv_result")
#: Slot -> the records' question key.
QUESTIONS = {"adv_understand": "understand", "adv_remember": "remember", "adv_weigh": "weigh_up",
             "adv_say": "say_what_they_want", "adv_support": "support", "adv_contact": "contact",
             "adv_safe_times": "safe_times"}
RECORDED_BY = "assistant"


def should_offer(answers: Dict[str, Optional[str]], support_intent: Optional[str]) -> bool:
    """Offer a referral: any difficulty said, and no one clearly able and willing to support."""
    said = any(difficulty_said(answers.get(slot)) for slot in SCREEN_SLOTS)
    return said and not support_is_clear(support_intent, answers.get("adv_support"))


class ValidateAdvocacyForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_advocacy_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        turn = form_turn(tracker, FORM, FORM_SLOTS, WORKING_SLOTS)
        if isinstance(turn, list):
            return turn
        requested, text, intent = turn
        return self.answer(tracker, requested, text, intent)

    @staticmethod
    def answer(tracker: Tracker, requested: str, text: str, intent: Optional[str]) -> List[EventType]:
        index = FORM_SLOTS.index(requested)
        if requested == "adv_who":
            who = asking_for(text)
            if who is None:
                return ask(requested, adv_who=None)
            return ask(FORM_SLOTS[1], adv_who=who)
        if requested == "adv_consent":
            decision = yes_or_no(intent, text)
            if decision is None:
                return ask(requested, adv_consent=None)
            if not decision:
                return ask(None, adv_consent="refused", adv_consent_words=text)
            return ask("adv_contact", adv_consent="given", adv_consent_words=text)
        if not text.strip():
            return ask(requested, **{requested: None})
        if requested == "adv_support":
            answers = {slot: tracker.get_slot(slot) for slot in SCREEN_SLOTS}
            answers["adv_support"] = text
            offered = should_offer(answers, intent)
            return ask("adv_consent" if offered else None, adv_support=text,
                       adv_offer="offered" if offered else "not_offered")
        following = FORM_SLOTS[index + 1] if index + 1 < len(FORM_SLOTS) else None
        return ask(following, **{requested: text})


def _source_ref(tracker: Tracker) -> str:
    """Once per conversation turn; the conversation id itself is not stored."""
    return f"{records.chat_ref(tracker.sender_id)}{message_ref(tracker) or len(tracker.events)}"


def _enquiry_id(tracker: Tracker) -> Optional[int]:
    enquiry_id = tracker.get_slot("enquiry_id")
    if enquiry_id is None:
        return None
    try:
        return int(enquiry_id) if visit_is_linked(tracker) else None
    except (SQLAlchemyError, ValueError, TypeError):
        return None


class ActionAdvocacySubmit(Action):
    def name(self) -> Text:
        return "action_advocacy_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        offer = tracker.get_slot("adv_offer")
        consent = tracker.get_slot("adv_consent")
        # Who answered, apart from whom it is for: a carer asking for themselves is a representative, for self.
        for_whom = tracker.get_slot("adv_who")
        answered_by = asker(for_whom, answer_text(tracker.events, "adv_who"), tracker.get_slot("outcome_role"))
        # The words stay in the records only: the slots are cleared. adv_result picks utter_advocacy_done.
        clear = [SlotSet(slot, None) for slot in FORM_SLOTS + WORKING_SLOTS if slot != "adv_result"]
        if offer != "offered":
            return clear + [SlotSet("adv_result", "not_offered")]
        try:
            with session_scope() as session:
                if consent == "given":
                    answers = {QUESTIONS[slot]: tracker.get_slot(slot) for slot in QUESTIONS
                               if tracker.get_slot(slot)}
                    records.make_referral(session, answers, answered_by=answered_by,
                                          consent_words=tracker.get_slot("adv_consent_words"),
                                          recorded_by=RECORDED_BY, channel=channel_of(tracker), source="chat",
                                          source_ref=_source_ref(tracker), enquiry_id=_enquiry_id(tracker),
                                          delivery_channel=_delivery(), for_whom=for_whom)
                else:
                    records.record_refusal(session, given_by=answered_by,
                                           words=tracker.get_slot("adv_consent_words"), recorded_by=RECORDED_BY,
                                           channel=channel_of(tracker), enquiry_id=_enquiry_id(tracker),
                                           source_ref=_source_ref(tracker))
        except (SQLAlchemyError, RecordsError):
            logger.exception("advocacy referral could not be recorded")
            return clear + [SlotSet("adv_result", "unavailable")]
        return clear + [SlotSet("adv_result", "sent" if consent == "given" else "declined")]


def _delivery() -> str:
    from bot.advocacy.config import get_advocacy_config

    try:
        return get_advocacy_config().delivery
    except ValueError:
        return "email"


# --- Changing one's mind: consent to a chat referral withdrawn in the chat ---
#
# "Cancel my advocacy referral" (intent cancel_advocacy) asks first, because a
# guess at the words must never withdraw a referral on its own:
# action_advocacy_withdraw_ask looks for this conversation's referral whose
# consent still stands and sets adv_withdraw ("asked" or "none"), which picks
# the words of utter_advocacy_withdraw_ask; a yes runs action_advocacy_withdraw
# (bot.records.advocacy.withdraw_consent: the referral is never sent, or the
# provider is told it was withdrawn), a no keeps it.

WITHDRAW_SLOT = "adv_withdraw"


def _request_words(tracker: Tracker) -> Optional[str]:
    """The person's words asking to cancel: the message before the question, word for word."""
    texts = [e.get("text") for e in tracker.events if e.get("event") == "user"]
    return texts[-2] if len(texts) >= 2 else (texts[-1] if texts else None)


class ActionAdvocacyWithdrawAsk(Action):
    def name(self) -> Text:
        return "action_advocacy_withdraw_ask"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        try:
            with session_scope(read_only=True) as session:
                referral = records.chat_referral_to_withdraw(session, tracker.sender_id)
        except SQLAlchemyError:
            logger.exception("advocacy referral could not be looked up")
            return [SlotSet(WITHDRAW_SLOT, "unavailable")]
        return [SlotSet(WITHDRAW_SLOT, "asked" if referral is not None else "none")]


class ActionAdvocacyWithdraw(Action):
    def name(self) -> Text:
        return "action_advocacy_withdraw"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot(WITHDRAW_SLOT) != "asked":
            return [SlotSet(WITHDRAW_SLOT, "none")]
        try:
            with session_scope() as session:
                referral = records.chat_referral_to_withdraw(session, tracker.sender_id)
                if referral is None:
                    return [SlotSet(WITHDRAW_SLOT, "none")]
                records.withdraw_consent(session, referral.id, given_by=referral.answered_by,
                                         words=_request_words(tracker), recorded_by=RECORDED_BY,
                                         channel=channel_of(tracker), source_ref=_source_ref(tracker))
        except (SQLAlchemyError, RecordsError):
            logger.exception("advocacy consent withdrawal could not be recorded")
            return [SlotSet(WITHDRAW_SLOT, "unavailable")]
        return [SlotSet(WITHDRAW_SLOT, "withdrawn")]
