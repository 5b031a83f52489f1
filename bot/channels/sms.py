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
  (recorded; no reply, no SMS of any kind until START); START/UNSTOP opt back
  in; HELP/INFO say who we are and the council's number; anything else, from
  a number with no survey (today: every number), gets a neutral reply with the
  council's number that says nothing about any enquiry (``bot.sms.texts``);
* ``POST /webhooks/twilio/status?o=<outbox id>``: Twilio's delivery status
  callbacks, signature-checked the same way, appended to the outbox history.

Messages are not passed to Rasa's dialogue yet: the feedback survey (issue 11)
will route messages from numbers with an open survey to it, with sender ids
``sms-<number id>`` (never the number).

Switched off (every request 403, saying why) unless ``TWILIO_AUTH_TOKEN`` and
``MSP_SMS_PUBLIC_URL`` are set (``bot.sms.config``).

Credentials (``credentials.yml``)::

    bot.channels.sms.SmsInput:
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import parse_qsl

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
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


def handle_inbound(message_sid: str, from_number: str, body: str):
    from bot.records import session_scope
    from bot.records import sms as records

    keyword = texts.keyword(body)
    kind = reply_for(keyword)
    with session_scope() as session:
        return records.receive(session, message_sid, from_number, body, keyword,
                               texts.render(kind) if kind else None, kind)


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
                result = await loop.run_in_executor(None, handle_inbound, sid, sender, body)
            except ValueError:  # InvalidValue: From is not a phone number
                return _plain(400, "From is not a phone number.")
            except Exception:  # noqa: BLE001 - Twilio retries on 5xx; nothing half-written
                logger.exception("SMS %s could not be recorded.", sid)
                return _plain(503, "The message could not be recorded; please retry.")
            logger.info("SMS %s from number %s: %s%s.", sid, result.number_id,
                        "duplicate, ignored" if result.duplicate else (result.keyword or "message"),
                        f", reply queued as outbox {result.outbox_id}" if result.outbox_id else "")
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
