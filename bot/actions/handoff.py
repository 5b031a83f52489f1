"""Live handoff to a member of staff: ask for one, stay quiet while one is there, survive a new session.

* ``action_talk_to_person``: in staffed hours (``bot.handoff.hours``), on the
  web widget or by SMS, puts the conversation in the portal's queue (channel
  "web" or "sms") and sets the ``handoff`` slot, which keeps the assistant
  silent (``SafeguardPolicy``); a form that was asking stops. Out of hours,
  on the REST channel (a worker's words cannot reach it) or when the records
  cannot be reached, nothing is queued and ``utter_talk_to_person`` gives the
  numbers. ``handoff_reply`` picks its words (by SMS the ``channel: twilio``
  wording: short, and nothing that says what this is about).
* ``action_handoff_relay``: what the person writes during a handoff is stored
  verbatim for the worker, with any automatic reply (the 999 reply) given to
  it; nothing is said. (By SMS the webhook has already stored the message,
  under the same MessageSid, so it is stored once.) If the records say the handoff has ended (the portal
  could not reach Rasa to say so), the slot is cleared and the assistant
  answers again.
* ``action_session_start``: Rasa starts a new session after 60 idle minutes
  with empty slots; a claimed handoff still live in the records is put back in
  the slot (``handoffs.resume``: one still waiting after all that time, or
  claimed but idle for 12 hours, is closed instead, so the person is answered).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.hours import HoursError, is_staffed
from bot.records import handoffs, session_scope
from bot.records.errors import RecordsError

logger = logging.getLogger(__name__)

HANDOFF_SLOT = "handoff"
REPLY_SLOT = "handoff_reply"
#: Input channels a worker's words can reach (the widget's socket.io channel; SMS through the outbox),
#: and the channel the handoff is recorded under.
LIVE_CHANNELS = {"socketio": "web", "twilio": "sms"}


def _latest_user(tracker: Tracker) -> Dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event
    return {}


def _said_since_latest_user(tracker: Tracker) -> List[str]:
    """What the assistant said after the person's latest message (the danger reply, in a handoff)."""
    said: List[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot" and event.get("text"):
            said.append(event["text"])
    return list(reversed(said))


class ActionTalkToPerson(Action):
    def name(self) -> Text:
        return "action_talk_to_person"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        channel = LIVE_CHANNELS.get(tracker.get_latest_input_channel() or "")
        if channel is None:
            return [SlotSet(REPLY_SLOT, "unavailable")]
        try:
            if not is_staffed():
                return [SlotSet(REPLY_SLOT, "closed")]
        except HoursError:
            logger.exception("handoff: the staffed hours settings cannot be read")
            return [SlotSet(REPLY_SLOT, "unavailable")]
        user = _latest_user(tracker)
        try:
            with session_scope() as session:
                handoff, _ = handoffs.request_handoff(session, tracker.sender_id, channel)
                handoffs.add_message(session, handoff.id, "person", user.get("text") or "",
                                     message_id=user.get("message_id"))
                status = handoff.status
                handoff_id = handoff.id
        except (SQLAlchemyError, RecordsError):
            logger.exception("handoff: could not be recorded")
            return [SlotSet(REPLY_SLOT, "unavailable")]
        logger.info("handoff %s requested (%s)", handoff_id, status)
        events: List[EventType] = []
        if tracker.active_loop.get("name"):
            # The form stops: the person is talking to a member of staff now.
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events + [SlotSet(REPLY_SLOT, "waiting"), SlotSet(HANDOFF_SLOT, status)]


class ActionHandoffRelay(Action):
    def name(self) -> Text:
        return "action_handoff_relay"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        user = _latest_user(tracker)
        message_id: Optional[str] = user.get("message_id")
        automatic = _said_since_latest_user(tracker)
        try:
            with session_scope() as session:
                handoff = handoffs.live_handoff(session, tracker.sender_id)
                if handoff is not None:
                    handoffs.add_message(session, handoff.id, "person", user.get("text") or "",
                                         message_id=message_id)
                    for n, text in enumerate(automatic):
                        handoffs.add_message(session, handoff.id, "automatic", text, kind="danger",
                                             message_id=f"{message_id}:automatic:{n}" if message_id else None)
                status = handoff.status if handoff is not None else None
        except (SQLAlchemyError, RecordsError):
            # Stay quiet: the worker reads the conversation in the portal too.
            logger.exception("handoff: a message could not be stored")
            return []
        if status is None:
            logger.info("handoff: none live any more; the assistant answers again")
            dispatcher.utter_message(response="utter_how_can_i_help")
            return [SlotSet(HANDOFF_SLOT, None)]
        return [] if tracker.get_slot(HANDOFF_SLOT) == status else [SlotSet(HANDOFF_SLOT, status)]


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        try:
            with session_scope() as session:
                status = handoffs.resume(session, tracker.sender_id)
        except (SQLAlchemyError, RecordsError):
            logger.exception("handoff: could not look up a live handoff at session start")
            status = None
        if status is not None:
            events.append(SlotSet(HANDOFF_SLOT, status))
        events.append(ActionExecuted("action_listen"))
        return events
