"""SMS in through Twilio's signed webhook; replies out through the durable outbox.

Rasa 3.6's stock ``twilio`` channel trusts whoever posts to it (no signature
check), calls Twilio's blocking client from async code, and answers a POST
without ``Body`` with a 500. This channel keeps the URL Twilio is usually
given (``POST /webhooks/twilio/webhook``) and:

* **checks ``X-Twilio-Signature``** with the ``twilio`` library's
  ``RequestValidator`` against ``MSP_SMS_PUBLIC_URL`` + the path and query
  (the address Twilio called, which behind a proxy is not ours) and the form
  parameters, before anything else: a missing or wrong signature gets 403 and
  nothing is stored or logged;
* records the message once per ``MessageSid`` and answers at once with empty
  TwiML; any reply goes into the outbox (``bot.records.sms``) and is sent by
  ``python -m bot.sms.sender`` through the Messages API, never from here;
* STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT (any case) opt the number out
  (recorded; no reply, no SMS of any kind until START) and end its open
  feedback survey (``opted_out``); START/UNSTOP opt back in; HELP/INFO say who
  we are and the council's number; anything else, from a number with no open
  survey, gets a neutral reply with the council's number that says nothing
  about any enquiry (``bot.sms.texts``);
* a message from a number with an open feedback survey (issue 11) goes to
  Rasa's dialogue as conversation ``sms-<number id>`` (never the number), and
  Rasa's replies (the ``channel: twilio`` wording) go into the outbox, one SMS
  each. When that conversation is not in the survey's form (the first reply
  to the invitation, or a reply after the Rasa session lapsed), the survey is
  (re)opened instead with a one-off invitation redeemed by a message the
  server makes itself (``/inform_invite_code``), and the form carries on at
  the first question not yet answered (the answers are in the records);
* ``POST /webhooks/twilio/status?o=<outbox id>``: Twilio's delivery status
  callbacks, signature-checked the same way, appended to the outbox history.

Live handoff by SMS (issue 13): a message that plainly asks for a person
(``bot.text.requests.asks_for_a_person``), from any number that has not
opted out, goes to the assistant as it is (the danger net reads it first),
which puts the texter in the portal's queue in staffed hours
(``bot/actions/handoff.py``) or gives the numbers and offers a call back.
While the number's conversation has a live handoff, everything it sends is
stored verbatim for the worker in the same transaction as the message
(``handoff_messages``, keyed by MessageSid: stored once), and goes to the
assistant, which stays silent except for the 999 reply; STOP (and the other
opt-out words) ends the handoff as "left". So do the answers to the call-back
questions, and a yes to the offer of one (``expecting_answer``). The
worker's words come back through the outbox (``bot.handoff.sms``). A reply of
the assistant's with a word an SMS must not say (``texts.revealing_words``) is
never sent: the neutral reply goes instead.


Switched off (every request 403, saying why) unless ``TWILIO_AUTH_TOKEN`` and
``MSP_SMS_PUBLIC_URL`` are set (``bot.sms.config``).

Credentials (``credentials.yml``)::

    bot.channels.sms.SmsInput:
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import parse_qsl

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from rasa.shared.core.events import BotUttered, UserUttered
from twilio.request_validator import RequestValidator

from bot import logsafe
from bot.channels import limits
from bot.sms import texts
from bot.sms.config import SmsConfig, get_sms_config

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_SID_CHARS = 64


class FormParams(dict):
    """Form parameters as lists of values, blank ones kept (Twilio signs those too)."""

    def getlist(self, name: str) -> List[str]:
        return self[name]

    def first(self, name: str) -> Optional[str]:
        values = self.get(name)
        return values[0] if values else None


def parse_form(raw: bytes) -> FormParams:
    params = FormParams()
    for key, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return params


def signed_url(config: SmsConfig, request: Request) -> str:
    """The URL Twilio signed: the public address, our path, the query string as sent."""
    query = request.query_string
    return config.public(request.path) + (f"?{query}" if query else "")


def reply_for(keyword: Optional[str]) -> Optional[str]:
    """Which reply a message gets: ``help``, ``start``, ``unknown``, or None (STOP: none)."""
    if keyword == "stop":
        return None
    if keyword in ("help", "start"):
        return keyword
    return "unknown"


SENDER_PREFIX = "sms-"
FEEDBACK_FORM = "feedback_form"


class SmsOutput(CollectingOutputChannel):
    """Collects Rasa's replies for the outbox; named ``twilio`` so the SMS wording is chosen."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"


class Routed:
    """An inbound message for the assistant, not the neutral reply: a survey reply (``survey_id``),
    or (``survey_id`` None) a message in a live handoff, a request for a person, or an answer the
    assistant is waiting for."""

    def __init__(self, inbound, survey_id: Optional[int]) -> None:
        self.inbound = inbound
        self.survey_id = survey_id

    def __getattr__(self, name: str):
        return getattr(self.inbound, name)


def sender_for(number_id: int) -> str:
    """The conversation id of a number (never the number itself)."""
    return f"{SENDER_PREFIX}{number_id}"


def lookup_number_id(from_number: str) -> Optional[int]:
    from bot.records import session_scope
    from bot.records import sms as records

    with session_scope(read_only=True) as session:
        number = records.find_number(session, from_number)
        return number.id if number is not None else None


def handle_inbound(message_sid: str, from_number: str, body: str, conversing: bool = False):
    """Record the message once; STOP ends an open survey and a live handoff; a message for the assistant
    is routed, not answered. ``conversing``: the assistant is waiting for this number's answer."""
    from bot.records import feedback, handoffs, session_scope
    from bot.records import sms as records
    from bot.text.requests import asks_for_a_person

    keyword = texts.keyword(body)
    with session_scope() as session:
        number = records.find_number(session, from_number)
        live = handoffs.live_handoff(session, sender_for(number.id)) if number is not None else None
        survey, plain = None, False
        if keyword is None and not (number is not None and records.is_opted_out(session, number.id)):
            plain = live is not None or conversing or asks_for_a_person(body)
            if not plain and number is not None:
                survey = feedback.open_survey_for_number(session, number.id)
        kind = None if (survey is not None or plain) else reply_for(keyword)
        result = records.receive(session, message_sid, from_number, body, keyword,
                                 texts.render(kind) if kind else None, kind)
        if result.duplicate:
            return result
        if live is not None:
            # For the worker, word for word, with the message (STOP and HELP too); once per MessageSid.
            handoffs.add_message(session, live.id, "person", body[:records.MAX_BODY_CHARS],
                                 message_id=message_sid)
        if keyword == "stop":
            open_survey = feedback.open_survey_for_number(session, result.number_id)
            if open_survey is not None:
                feedback.finish(session, open_survey.id, "opted_out", detail="STOP from the number")
            if live is not None:
                handoffs.end(session, live.id, "left")  # the console shows that the person left
            return result
        if plain:
            records.route_turn(session, message_sid, None)  # same transaction as the message
            return Routed(result, None)
        if survey is not None:
            records.route_turn(session, message_sid, survey.id)  # same transaction as the message
            return Routed(result, survey.id)
        return result


def pending_turns() -> List[Any]:
    from bot.records import session_scope
    from bot.records import sms as records

    with session_scope() as session:
        return records.pending_turns(session)


def finish_turn(message_sid: str) -> bool:
    from bot.records import session_scope
    from bot.records import sms as records

    with session_scope() as session:
        return records.finish_turn(session, message_sid)


def start_token(survey_id: int) -> str:
    """A one-off invitation to the survey, for the server's own start message (never sent anywhere)."""
    from bot.records import feedback, session_scope
    from bot.records.invitations import create_invitation

    with session_scope() as session:
        survey = feedback.require_survey(session, survey_id)
        days = 1
        issued = create_invitation(session, survey.enquiry_id, days=days, created_by="sms channel",
                                   for_feedback=True)
        survey.invitation_id = issued.invitation.id
        return issued.token


def queue_replies(number_id: int, message_sid: str, messages: List[Dict[str, Any]], kind: str = "survey") -> int:
    """Put Rasa's replies in the outbox, once each (``reply:<sid>:<n>``). Returns how many.

    A reply with a word no SMS may say (``texts.revealing_words``) is not sent; the neutral reply
    goes in its place (once per message)."""
    from bot.records import session_scope
    from bot.records import sms as records

    queued, withheld = 0, False
    with session_scope() as session:
        for n, message in enumerate(messages):
            text = (message.get("text") or "").strip()
            if not text:
                continue
            if texts.revealing_words(text):
                logger.warning("SMS %s: reply %s withheld (it says what this is about); the neutral reply "
                               "goes instead.", message_sid, n)
                if withheld:
                    continue
                withheld, text = True, texts.render("unknown")
            row = records.enqueue(session, number_id, kind, text, f"reply:{message_sid}:{n}")
            queued += row is not None
    return queued


#: What the assistant may be waiting for from a texter outside a survey or a handoff.
CALLBACK_FORM = "callback_form"
CALLBACK_OFFER = "utter_callback_offer"


async def expecting_answer(app: Any, sender_id: str, body: str) -> bool:
    """True when the assistant is asking this texter the call-back questions, or has just offered a
    call back and the message says yes to it (``bot.text.requests.accepts_call_back``)."""
    from rasa.shared.core.events import ActionExecuted

    from bot.text.requests import accepts_call_back

    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is None or agent.tracker_store is None:
        return False
    tracker = await agent.tracker_store.retrieve(sender_id)
    if tracker is None:
        return False
    minutes = agent.domain.session_config.session_expiration_time if agent.domain else 0
    last = tracker.get_last_event_for(UserUttered)
    if minutes and last is not None and time.time() - last.timestamp > minutes * 60 - 60:
        return False  # a new session would start: nothing is being asked any more
    if tracker.active_loop_name == CALLBACK_FORM:
        return True
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted) and event.action_name != "action_listen":
            return event.action_name == CALLBACK_OFFER and accepts_call_back(body)
    return False


async def in_survey_form(app: Any, sender_id: str) -> bool:
    """True when the conversation's current Rasa session is in the feedback form."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is None or agent.tracker_store is None:
        return False
    tracker = await agent.tracker_store.retrieve(sender_id)
    if tracker is None or tracker.active_loop_name != FEEDBACK_FORM:
        return False
    minutes = agent.domain.session_config.session_expiration_time if agent.domain else 0
    last = tracker.get_last_event_for(UserUttered) if hasattr(tracker, "get_last_event_for") else None
    if minutes and last is not None and time.time() - last.timestamp > minutes * 60 - 60:
        return False  # the session is about to lapse: start again (answers are in the records)
    return True


async def replies_already_given(app: Any, sender_id: str, sid: str) -> Optional[List[Dict[str, Any]]]:
    """The bot's replies to message ``sid`` if the assistant has already read it, else None."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
    if tracker is None:
        return None
    found, replies = False, []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if found:
                break
            found = event.message_id in (sid, f"{sid}:start")
        elif found and isinstance(event, BotUttered):
            replies.append({"recipient_id": sender_id, "text": event.text})
    return replies if found else None


def handle_status(outbox_id: int, message_sid: str, status: str, error_code: Optional[str]) -> bool:
    from bot.records import session_scope
    from bot.records import sms as records

    with session_scope() as session:
        return records.record_status(session, outbox_id, message_sid, status, error_code)


def _plain(status: int, message: str) -> HTTPResponse:
    return response.text(message, status=status)


def _twiml() -> HTTPResponse:
    return response.text(EMPTY_TWIML, content_type="text/xml; charset=utf-8")


class SmsInput(InputChannel):
    """Twilio SMS webhook with signature checks (see the module docstring)."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "SmsInput":
        return cls(get_sms_config())

    def __init__(self, config: Optional[SmsConfig] = None) -> None:
        self.config = config or get_sms_config()
        # One lock per number: a texter's replies reach the assistant in the
        # order they arrived, even though each is handled after the webhook
        # has answered. Tasks are kept here so none is collected mid-way.
        self._locks: Dict[int, asyncio.Lock] = {}
        self._waiting: Dict[int, int] = {}
        self._tasks: set = set()
        # At most this many survey replies are read at once. The assistant's
        # work runs on the server's one event loop; a burst of replies read
        # all at once would keep the webhook from answering Twilio promptly.
        self._turns: Optional[asyncio.Semaphore] = None
        self.validator = RequestValidator(self.config.auth_token) if self.config.receiving else None
        if self.validator is None:
            logger.info("SMS channel switched off (TWILIO_AUTH_TOKEN and MSP_SMS_PUBLIC_URL are needed).")

    def verified(self, request: Request) -> Optional[FormParams]:
        """The form parameters if the request carries Twilio's valid signature, else None."""
        signature = request.headers.get("x-twilio-signature")
        if self.validator is None or not signature:
            return None
        params = parse_form(request.body or b"")
        if not self.validator.validate(signed_url(self.config, request), params, signature):
            return None
        return params

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @bp.listener("before_server_start")
        async def body_limit(app: Any, _loop: Any) -> None:
            limits.install(app)

        @bp.listener("after_server_start")
        async def finish_pending(app: Any, _loop: Any) -> None:
            if self.validator is not None:
                self._spawn(self.recover(app, on_new_message))

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.validator else "off"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.validator is None:
                return _plain(403, "The SMS channel is switched off on this server.")
            params = self.verified(request)
            if params is None:
                return _plain(403, "This request is not signed by Twilio.")
            sid = params.first("MessageSid") or params.first("SmsSid")
            sender = params.first("From")
            body = params.first("Body") or ""
            logsafe.remember(body)
            if not sid or len(sid) > MAX_SID_CHARS or not sender:
                return _plain(400, "MessageSid and From are needed.")
            loop = asyncio.get_running_loop()
            try:
                number_id = await loop.run_in_executor(None, lookup_number_id, sender)
                conversing = (number_id is not None and texts.keyword(body) is None
                              and await expecting_answer(request.app, sender_for(number_id), body))
                result = await loop.run_in_executor(None, handle_inbound, sid, sender, body, conversing)
            except ValueError:  # InvalidValue: From is not a phone number
                return _plain(400, "From is not a phone number.")
            except Exception:  # noqa: BLE001 - Twilio retries on 5xx; nothing half-written
                logger.exception("SMS %s could not be recorded.", sid)
                return _plain(503, "The message could not be recorded; please retry.")
            logger.info("SMS %s from number %s: %s%s.", sid, result.number_id,
                        "duplicate, ignored" if result.duplicate else (result.keyword or "message"),
                        f", reply queued as outbox {result.outbox_id}" if result.outbox_id else "")
            if isinstance(result, Routed):
                # Recorded and marked as waiting for the assistant: answer
                # Twilio now, read it next (replies go out through the outbox).
                self._spawn(self.take_turn(request.app, on_new_message, result.number_id, result.survey_id,
                                           sid, body))
            return _twiml()

        @bp.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            if self.validator is None:
                return _plain(403, "The SMS channel is switched off on this server.")
            params = self.verified(request)
            if params is None:
                return _plain(403, "This request is not signed by Twilio.")
            sid = params.first("MessageSid") or ""
            state = params.first("MessageStatus") or params.first("SmsStatus") or ""
            try:
                outbox_id = int(request.args.get("o", ""))
            except ValueError:
                return _plain(400, "Unknown message.")
            if not sid or not state or len(sid) > MAX_SID_CHARS:
                return _plain(400, "MessageSid and MessageStatus are needed.")
            loop = asyncio.get_running_loop()
            try:
                ours = await loop.run_in_executor(None, handle_status, outbox_id, sid, state,
                                                  params.first("ErrorCode"))
            except Exception:  # noqa: BLE001
                logger.exception("SMS status for outbox %s could not be recorded.", outbox_id)
                return _plain(503, "The status could not be recorded; please retry.")
            if not ours:
                logger.warning("SMS status callback for outbox %s does not match it; ignored.", outbox_id)
            return response.empty()

        return bp

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def take_turn(self, app: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                        number_id: int, survey_id: Optional[int], sid: str, body: str,
                        recovering: bool = False) -> bool:
        """One message for the assistant, in order for its number. True when its replies are queued."""
        lock = self._locks.setdefault(number_id, asyncio.Lock())
        self._waiting[number_id] = self._waiting.get(number_id, 0) + 1
        if self._turns is None:
            self._turns = asyncio.Semaphore(max(1, self.config.concurrent_turns))
        try:
            async with lock, self._turns:
                return await self.converse(app, on_new_message, number_id, survey_id, sid, body, recovering)
        finally:
            # The last of this number's turns forgets its lock (none is waiting on it).
            self._waiting[number_id] -= 1
            if not self._waiting[number_id]:
                del self._waiting[number_id]
                self._locks.pop(number_id, None)

    async def recover(self, app: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """At start-up: finish messages for the assistant (survey replies and others) accepted before a stop
        but never answered."""
        loop = asyncio.get_running_loop()
        for _ in range(300):  # the agent is loaded by Rasa's own start-up listener
            if getattr(getattr(app, "ctx", None), "agent", None) is not None and app.ctx.agent.is_ready():
                break
            await asyncio.sleep(0.1)
        try:
            pending = await loop.run_in_executor(None, pending_turns)
        except Exception:  # noqa: BLE001 - no records yet (a fresh database): nothing to finish
            logger.exception("Could not look for SMS messages left unanswered.")
            return
        if pending:
            logger.warning("Finishing %s SMS message%s accepted before the last stop.", len(pending),
                           "" if len(pending) == 1 else "s")
        for turn in pending:
            await self.take_turn(app, on_new_message, turn.number_id, turn.survey_id, turn.message_sid, turn.body,
                                 recovering=True)

    async def converse(self, app: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                       number_id: int, survey_id: Optional[int], sid: str, body: str,
                       recovering: bool = False) -> bool:
        """Pass a message to Rasa (a survey reply: or reopen the survey) and queue the replies as SMS.

        The inbound message is already recorded with a ``routed`` turn; the
        turn is marked ``done`` once the replies are in the outbox. A failure
        here is logged and the turn stays open: the next start finishes it.
        If the assistant had already read the message (a stop between reading
        it and queueing the replies), its replies are taken from the
        conversation instead of reading it twice.

        ``survey_id`` None: a message outside a survey (a handoff, a request for a person, the
        call-back questions) goes to the assistant as it is, with the same turn record (session 17;
        before, a stop of the server between the webhook and the assistant lost its reading).
        """
        sender_id = sender_for(number_id)
        loop = asyncio.get_running_loop()
        output = SmsOutput()
        try:
            already = await replies_already_given(app, sender_id, sid) if recovering else None
            if already is not None:
                output.messages = already
            elif survey_id is None:
                await on_new_message(UserMessage(body, output, sender_id, input_channel=self.name(),
                                                 message_id=sid))
            else:
                if await in_survey_form(app, sender_id):
                    text, message_id = body, sid
                else:
                    token = await loop.run_in_executor(None, start_token, survey_id)
                    text = '/inform_invite_code{"invite_code": "%s"}' % token
                    message_id = f"{sid}:start"
                await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name(),
                                                 message_id=message_id))
            queued = await loop.run_in_executor(None, queue_replies, number_id, sid, output.messages,
                                                "survey" if survey_id is not None else "reply")
            await loop.run_in_executor(None, finish_turn, sid)
            logger.info("SMS %s: %s, %s repl%s queued.", sid,
                        f"survey {survey_id}" if survey_id is not None else "outside a survey", queued,
                        "y" if queued == 1 else "ies")
            return True
        except Exception:  # noqa: BLE001 - recorded already; finished at the next start
            logger.exception("SMS %s: the message could not be handled yet; the next start finishes it.", sid)
            return False
