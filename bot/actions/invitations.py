"""Link a conversation to an enquiry with the person's invitation (code or link).

The action says nothing itself: the rules in ``bot/data/rules/outcomes.yml``
answer from the ``invite_status`` slot it sets (``utter_invite_linked`` or
``utter_invite_problem``), so nothing about the enquiry is ever shown here.
An invitation to an end-of-enquiry feedback survey sets ``invite_status:
feedback`` and ``survey_id`` (and ``fb_rep`` for a representative); the rules
in ``bot/data/rules/feedback.yml`` then open the feedback questions instead of
the outcomes form.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from sqlalchemy.exc import SQLAlchemyError

from bot.actions.parsing import invitation_candidate
from bot.actions.visit import session_ref
from bot.records import feedback, invitations, session_scope
from bot.records.invitations import is_well_formed_token, token_from_link
from bot.records.errors import RecordsError

logger = logging.getLogger(__name__)

#: What the person is told, by the records' reason. Malformed and unknown codes
#: get the same words: "check it and try again".
STATUS_FOR_REASON = {
    invitations.OK: "ok",
    invitations.EXPIRED: "expired",
    invitations.USED: "used",
    invitations.UNKNOWN: "unknown",
    invitations.MALFORMED: "unknown",
    invitations.RATE_LIMITED: "rate_limited",
    # Presented again and again: probably leaked. Same words as "used" (ask for a new one).
    invitations.LOCKED: "used",
    # Withdrawn by staff when they issued a new one: "it has run out, your worker can send a new one".
    invitations.REVOKED: "expired",
}


def is_link_or_token(text: str) -> bool:
    return token_from_link(text) is not None or is_well_formed_token(text)


class ActionRedeemInvitation(Action):
    def name(self) -> Text:
        return "action_redeem_invitation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        entity = next(tracker.get_latest_entity_values("invite_code"), None)
        candidate = invitation_candidate(text)
        if candidate == text.strip() and entity and not is_link_or_token(candidate):
            # A pasted link is the link, even when a code-like piece of it was picked out.
            candidate = entity
        try:
            with session_scope() as session:
                # The link holds for this visit (Rasa session) only: bot/records/links.py.
                result = invitations.redeem(session, candidate, client_key=tracker.sender_id,
                                            session_ref=session_ref(tracker.events))
                survey = (feedback.survey_for_invitation(session, result.invitation_id)
                          if result.ok and result.invitation_id is not None else None)
                survey_slots = None
                if survey is not None:
                    survey_slots = {"open": survey.is_open, "id": survey.id,
                                    "rep": survey.participant.role in ("representative", "advocate")}
        except RecordsError:
            logger.exception("could not redeem an invitation")
            return [SlotSet("invite_status", "unknown")]
        except SQLAlchemyError:
            # The records database is down: say so (not "unknown code"); try again later.
            logger.exception("records database unavailable while redeeming an invitation")
            return [SlotSet("invite_status", "unavailable")]
        status = STATUS_FOR_REASON.get(result.reason, "unknown")
        if status != "ok":
            return [SlotSet("invite_status", status)]
        if survey_slots is not None:
            if not survey_slots["open"]:
                return [SlotSet("invite_status", "expired")]
            return [SlotSet("invite_status", "feedback"), SlotSet("enquiry_id", result.enquiry_id),
                    SlotSet("survey_id", survey_slots["id"]), SlotSet("fb_rep", survey_slots["rep"])]
        return [
            SlotSet("invite_status", "ok"),
            SlotSet("enquiry_id", result.enquiry_id),
        ]
