"""REST for trusted integrations (and the tests), never for the public.

Rasa's stock ``rest`` channel lets whoever can reach it pick any sender id
(so continue anyone's conversation, a widget one included, and read the
replies), takes the recorded input channel from the body, sends an absent or
``null`` sender to one shared ``default`` conversation, and answers a body
that is JSON but not an object with a 500 page. This channel keeps its URL
(``POST /webhooks/rest/webhook``) and its wire format
(``{"sender": ..., "message": ...}`` in, a list of bot messages out) and adds:

* **A credential.** ``Authorization: Bearer <token>``, compared in constant
  time, with the token from ``MSP_REST_TOKEN`` (or the file named by
  ``MSP_REST_TOKEN_FILE``; at least 16 characters, else the server refuses to
  start). Without a token the channel is switched off: every request gets
  403 and says how to switch it on. ``make run`` switches it on only when
  ``MSP_REST_TOKEN`` is set.
* **Its own namespace** (``bot.channels.namespaces``): the sender must be a
  string ``rest-<letters, digits, _ . : ->`` (at most 105 characters), so a
  REST client can never reach a ``web-`` widget conversation. The recorded
  input channel is always ``rest``.
* **Clear refusals.** A missing, empty, ``null``, non-JSON or non-object body,
  a bad sender, a ``message`` that is not a string, or ``metadata`` that is
  not an object gets 400 with ``{"error": <code>, "message": <reason>}``.
  Bodies over 16 KB get 413 before they are read (``bot.channels.limits``).

An empty or very long *text* is still a message: the assistant answers it
kindly (asks for words, or to shorten it to 2,000 characters) and stores it.

Credentials (``credentials.yml``)::

    bot.channels.rest.IntegrationRestInput:
      # token: read from MSP_REST_TOKEN / MSP_REST_TOKEN_FILE when not given here
"""
from __future__ import annotations

import hmac
import json
import logging
import os
from asyncio import CancelledError
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logsafe
from bot.channels import limits, namespaces

logger = logging.getLogger(__name__)

TOKEN_ENV = "MSP_REST_TOKEN"
TOKEN_FILE_ENV = "MSP_REST_TOKEN_FILE"
MIN_TOKEN_CHARS = 16


class BadRequest(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def token_from_env(environ: Optional[Dict[str, str]] = None) -> Optional[str]:
    environ = os.environ if environ is None else environ
    token = (environ.get(TOKEN_ENV) or "").strip()
    path = (environ.get(TOKEN_FILE_ENV) or "").strip()
    if not token and path:
        token = Path(path).read_text(encoding="utf-8").strip()
    return token or None


def parse_body(raw: bytes) -> Tuple[str, str, Optional[Dict[str, Any]]]:
    """(sender, message, metadata) from a request body, or BadRequest saying what is wrong."""
    if not raw or not raw.strip():
        raise BadRequest("empty_body", 'The body is empty. Send a JSON object: {"sender": "rest-...", '
                                       '"message": "..."}.')
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("not_json", "The body is not valid JSON (UTF-8). Send a JSON object: "
                                     '{"sender": "rest-...", "message": "..."}.') from None
    if not isinstance(data, dict):
        raise BadRequest("not_an_object", f"The body is JSON {_kind(data)}, not an object. Send "
                                          '{"sender": "rest-...", "message": "..."}.')
    sender = data.get("sender")
    if sender is None:
        raise BadRequest("no_sender", 'A "sender" is needed: a string starting with "rest-".')
    if not namespaces.is_rest_sender(sender):
        raise BadRequest("bad_sender", '"sender" must be a string "rest-" followed by 1 to 100 letters, '
                                       "digits, '_', '.', ':' or '-'. Conversations of other channels "
                                       "cannot be reached over REST.")
    if "message" not in data or data["message"] is None:
        raise BadRequest("no_message", 'A "message" is needed: a string (it may be empty).')
    message = data["message"]
    if not isinstance(message, str):
        raise BadRequest("bad_message", f'"message" must be a string, not {_kind(message)}.')
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("bad_metadata", f'"metadata" must be a JSON object, not {_kind(metadata)}.')
    channel = data.get("input_channel")
    if channel is not None and channel != IntegrationRestInput.name():
        raise BadRequest("bad_input_channel", 'This is the "rest" channel; "input_channel" cannot be set '
                                              "to another one.")
    return sender, message, metadata


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _error(status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status, headers=headers)


class IntegrationRestInput(RestInput):
    """Rasa's REST channel behind a bearer token, in its own sender namespace."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "IntegrationRestInput":
        credentials = credentials or {}
        return cls(token=credentials.get("token") or token_from_env())

    def __init__(self, token: Optional[str] = None) -> None:
        token = (token or "").strip() or None
        if token is not None and len(token) < MIN_TOKEN_CHARS:
            raise ValueError(f"{TOKEN_ENV} must be at least {MIN_TOKEN_CHARS} characters")
        self.token = token
        if token is None:
            logger.info("REST channel switched off (%s is not set).", TOKEN_ENV)

    def authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization") or ""
        scheme, _, given = header.partition(" ")
        if self.token is None or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @bp.listener("before_server_start")
        async def body_limit(app: Any, _loop: Any) -> None:
            limits.install(app)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.token else "off"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.token is None:
                return _error(403, "rest_off", f"The REST channel is switched off on this server. "
                                               f"Set {TOKEN_ENV} to switch it on.")
            if not self.authorised(request):
                return _error(401, "not_authorised", "A valid token is needed: Authorization: Bearer <token>.",
                              headers={"WWW-Authenticate": 'Bearer realm="msp-rest"'})
            try:
                sender_id, text, metadata = parse_body(request.body)
            except BadRequest as bad:
                return _error(400, bad.code, bad.message)
            logsafe.remember(text)
            if request.args.get("stream", "").lower() == "true":
                return response.stream(self.stream_response(on_new_message, text, sender_id, self.name(),
                                                            metadata), content_type="text/event-stream")
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender_id, input_channel=self.name(),
                                                 metadata=metadata))
            except CancelledError:
                logger.error("REST message for %s timed out.", sender_id)
            except Exception:  # noqa: BLE001 - same as Rasa: answer with what was said so far
                logger.exception("REST message for %s could not be handled.", sender_id)
            return response.json(collector.messages)

        return bp
