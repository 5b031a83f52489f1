"""The socket.io channel behind the web widget (``web_widget/``).

Rasa's stock ``socketio`` channel accepts connections from any origin, lets the
browser choose its own session id (so anyone who learns or guesses an id can
write into, and receive the replies of, someone else's conversation), and loses
any reply sent while the connection is down. This subclass keeps Rasa's wire
format (``user_uttered`` / ``bot_uttered`` events, ``quick_replies``) and adds:

* **An origin allow-list.** Only pages whose ``Origin`` is listed in
  ``MSP_WIDGET_ORIGINS`` (comma-separated, e.g. ``https://www.example.gov.uk``)
  may connect; a connection without an ``Origin`` header is refused too. The
  check runs twice: in engine.io before any session exists (also covering the
  long-polling transport) and in the socket.io ``connect`` handler.
* **Server-issued sessions.** The browser never names a conversation. On
  ``session_request`` the server hands out an opaque, signed *session token*
  (192 random bits, HMAC-SHA256 with ``MSP_WIDGET_SECRET``, expiring after
  ``MSP_WIDGET_SESSION_HOURS``); the tracker's sender id is a second keyed hash
  of it, so the database never holds anything that opens a live session. A
  token the server did not sign gets a fresh session, and user messages go to
  the conversation bound to the socket on the server, whatever the message says.
* **No lost or duplicated messages across reconnects.** Every bot message
  carries a per-conversation sequence number and a server timestamp and is kept
  in a short in-memory outbox; a reconnecting client sends the last number it
  saw and gets what it missed. Every user message carries a client id and is
  acknowledged only after the bot has answered it; a message re-sent after a
  drop is answered from that record instead of being processed twice.
* **The invitation token** from the page URL (``#invite=...``, see
  ``bot.records.invitations``) is kept with the session and sent in the
  metadata of every user message (so also in ``session_started`` metadata).
  After the session's first message (normally the greeting) the channel
  redeems it once by sending ``/inform_invite_code{"invite_code": ...}``, the
  same path as a typed code, so the welcome comes first, then the link.
* **A rate limit per conversation** (token bucket: 10 at once, then 30 a
  minute, ``MSP_WIDGET_RATE_PER_MINUTE``): a flood gets ``slow_down`` with the
  seconds to wait, is not processed, and does not reach Rasa.
* **Quick exit.** A ``leave`` event revokes the session token, forgets the
  outbox and disconnects *every* socket joined to that session (a second tab
  or device included), so nothing the browser might still hold can reopen the
  conversation. The revocation is written to the records database
  (``widget_revocations``, ``bot.records.widget_sessions``) and checked on every
  message, every replay and every resume, so a restart of the server (or
  another instance) does not bring the session back.
* **A rate limit on new sessions** (token buckets, per client address and for
  everyone: ``MSP_WIDGET_NEW_SESSIONS_PER_MINUTE``, default 20 after a burst of
  10, and ``MSP_WIDGET_NEW_SESSIONS_TOTAL_PER_MINUTE``, default 300 after 100).
  A refused request gets ``session_refused`` with the seconds to wait. The
  address is Sanic's ``request.remote_addr`` (set ``SANIC_REAL_IP_HEADER`` or
  ``SANIC_PROXIES_COUNT`` behind a reverse proxy), else the peer address.

The outbox and the handled-message ids live in this process. Rasa's socket.io
channel needs sticky sessions behind a load balancer anyway (see Rasa's note in
``SocketIOInput.get_output_channel``); that is where this state lives too.

Credentials (``credentials.yml``)::

    bot.channels.widget.WidgetInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Deque, Dict, FrozenSet, Iterable, List, Optional, Text, Tuple
from urllib.parse import urlsplit

from rasa.core.channels.channel import UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot import logsafe
from bot.channels import limits
from bot.channels.limits import MAX_BODY_BYTES
from bot.channels.namespaces import PREFIXES

logger = logging.getLogger(__name__)

ORIGINS_ENV = "MSP_WIDGET_ORIGINS"
SECRET_ENV = "MSP_WIDGET_SECRET"
SESSION_HOURS_ENV = "MSP_WIDGET_SESSION_HOURS"
DEFAULT_SESSION_HOURS = 12.0
RATE_ENV = "MSP_WIDGET_RATE_PER_MINUTE"
DEFAULT_RATE_PER_MINUTE = 30.0  # sustained, per conversation
DEFAULT_BURST = 10  # messages at once (quick replies, a few lines typed fast)
# A live handoff whose person's page has had no open socket for this long
# (closed, or the connection lost and not back) ends as "left": the worker
# sees it. A reload or a short drop comes back well within it.
LEFT_AFTER_ENV = "MSP_WIDGET_LEFT_AFTER_SECONDS"
DEFAULT_LEFT_AFTER_SECONDS = 90.0
NEW_SESSIONS_ENV = "MSP_WIDGET_NEW_SESSIONS_PER_MINUTE"
NEW_SESSIONS_TOTAL_ENV = "MSP_WIDGET_NEW_SESSIONS_TOTAL_PER_MINUTE"
DEFAULT_NEW_SESSIONS_PER_MINUTE = 20.0  # per client address, after a burst of 10
DEFAULT_NEW_SESSIONS_BURST = 10
DEFAULT_NEW_SESSIONS_TOTAL_PER_MINUTE = 300.0  # everyone together, after a burst of 100
DEFAULT_NEW_SESSIONS_TOTAL_BURST = 100
# The widget stops at 2,000 characters and explains why; this is the channel's
# own bound on what it will pass to Rasa from any client.
MAX_MESSAGE_CHARS = 10_000
# engine.io's limit on one HTTP body or WebSocket message (bot/channels/limits.py).
MAX_HTTP_BUFFER = MAX_BODY_BYTES
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_INVITATION = re.compile(r"^[A-Za-z0-9_-]{43}$")


def invitation_payload(token: str) -> str:
    """The message that redeems a page's invitation token (``action_redeem_invitation``)."""
    if not _INVITATION.match(token):
        raise ValueError("not an invitation token")
    return '/inform_invite_code{"invite_code": "%s"}' % token
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{32})\.([0-9a-f]{1,12})\.([A-Za-z0-9_-]{43})$")


# --- origins -------------------------------------------------------------------------------

def normalise_origin(value: Any) -> Optional[str]:
    """``scheme://host[:port]`` in lower case, default ports dropped; None if not an origin."""
    if not isinstance(value, str):
        return None
    value = value.strip().rstrip("/")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)):
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def parse_origins(value: Any) -> FrozenSet[str]:
    """Allowed origins from a comma/space separated string or a list.

    Anything that is not a plain origin (``*``, a path, another scheme) is
    ignored with a warning: a wildcard would defeat the purpose.
    """
    if value is None:
        return frozenset()
    items: Iterable[Any] = re.split(r"[,\s]+", value) if isinstance(value, str) else value
    origins = set()
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        origin = normalise_origin(item)
        if origin is None:
            logger.warning("Ignoring %r in the widget origin allow-list: not an origin.", item)
        else:
            origins.add(origin)
    return frozenset(origins)


# --- session tokens --------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def secret_from_env(environ: Optional[Dict[str, str]] = None) -> bytes:
    """``MSP_WIDGET_SECRET``, or a random key for this process (sessions then end on restart)."""
    environ = os.environ if environ is None else environ
    value = (environ.get(SECRET_ENV) or "").strip()
    if value:
        return value.encode()
    logger.info("%s is not set: widget sessions cannot be resumed after a restart.", SECRET_ENV)
    return secrets.token_bytes(32)


class SessionTokens:
    """Issue and check the opaque tokens that name a widget conversation.

    ``nonce.issued.signature``: 24 random bytes, the issue time (hex seconds)
    and an HMAC over both. The tracker's sender id is derived from the nonce
    with the same key, so it cannot be turned back into a token.
    """

    def __init__(self, secret: bytes, max_age_seconds: float, clock: Callable[[], float] = time.time,
                 store: Optional["RevocationStore"] = None):
        if len(secret) < 16:
            raise ValueError(f"{SECRET_ENV} must be at least 16 bytes")
        self._secret = secret
        self.max_age = max_age_seconds
        self._clock = clock
        self._revoked: Dict[str, float] = {}
        # Durable revocations (the records database); None: this process only.
        self.store = store

    def _mac(self, kind: bytes, body: str) -> bytes:
        return hmac.new(self._secret, kind + b"\0" + body.encode("ascii"), hashlib.sha256).digest()

    def issue(self) -> str:
        body = f"{secrets.token_urlsafe(24)}.{int(self._clock()):x}"
        return f"{body}.{_b64(self._mac(b'widget-session', body))}"

    def verify(self, token: Any) -> Optional[str]:
        """The nonce of a token this server issued, unexpired and not revoked; else None."""
        if not isinstance(token, str) or len(token) > 100:
            return None
        match = _TOKEN.match(token)
        if not match:
            return None
        nonce, issued, signature = match.groups()
        expected = _b64(self._mac(b"widget-session", f"{nonce}.{issued}"))
        if not hmac.compare_digest(signature, expected):
            return None
        age = self._clock() - int(issued, 16)
        if age < -60 or age > self.max_age:
            return None
        if self.is_revoked(nonce, fail_closed=True):
            return None
        return nonce

    def revocation_key(self, nonce: str) -> str:
        """What the records hold for a revoked session: a keyed hash, opening nothing."""
        return self._mac(b"widget-revoked", nonce).hex()

    def is_revoked(self, nonce: str, fail_closed: bool = False) -> bool:
        """Revoked here or (durably) anywhere. If the records cannot be read, ``fail_closed``
        decides: True for a resume (a new session is issued), False for a message on a
        socket whose session was checked when it joined."""
        if nonce in self._revoked:
            return True
        if self.store is None:
            return False
        try:
            return self.store.is_revoked(self.revocation_key(nonce))
        except Exception:  # noqa: BLE001 - the records database is unavailable
            logger.exception("Could not check widget session revocations.")
            return fail_closed

    def sender_id(self, nonce: str) -> str:
        return PREFIXES["socketio"] + self._mac(b"widget-sender", nonce).hex()[:40]

    def sender_for_token(self, token: str) -> Optional[str]:
        nonce = self.verify(token)
        return None if nonce is None else self.sender_id(nonce)

    def revoke(self, nonce: str) -> None:
        now = self._clock()
        self._revoked[nonce] = now + self.max_age
        for key in [k for k, until in self._revoked.items() if until < now]:
            del self._revoked[key]
        if self.store is not None:
            try:
                self.store.revoke(self.revocation_key(nonce), now + self.max_age + 120)
            except Exception:  # noqa: BLE001 - still revoked in this process
                logger.exception("Could not store a widget session revocation durably.")


class RevocationStore:
    """Revoked widget sessions in the records database (``bot.records.widget_sessions``)."""

    def revoke(self, key: str, until: float) -> None:
        from datetime import datetime, timezone

        from bot.records import session_scope
        from bot.records.widget_sessions import revoke_session

        with session_scope() as session:
            revoke_session(session, key, datetime.fromtimestamp(until, tz=timezone.utc))

    def is_revoked(self, key: str) -> bool:
        from bot.records import session_scope
        from bot.records.widget_sessions import is_revoked

        with session_scope(read_only=True) as session:
            return is_revoked(session, key)

    def person_left(self, sender_id: str) -> None:
        """A live handoff of this conversation ends as "left": the worker's console shows it at once."""
        from bot.records import handoffs, session_scope

        with session_scope() as session:
            handoff_id = handoffs.person_left(session, sender_id)
        if handoff_id is not None:
            logger.info("handoff %s: the person left", handoff_id)


class TokenBucket:
    """``burst`` at once, then ``per_minute``; ``take()`` gives 0 or the seconds to wait."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.allowance = float(burst)
        self.at = clock()
        self._clock = clock

    def take(self) -> float:
        now = self._clock()
        self.allowance = min(self.burst, self.allowance + (now - self.at) * self.rate)
        self.at = now
        if self.allowance >= 1.0:
            self.allowance -= 1.0
            return 0.0
        return (1.0 - self.allowance) / self.rate if self.rate > 0 else float("inf")


class NewSessionLimit:
    """New widget sessions: a bucket per client address and one for everyone."""

    MAX_ADDRESSES = 10_000

    def __init__(self, per_minute: float = DEFAULT_NEW_SESSIONS_PER_MINUTE,
                 burst: int = DEFAULT_NEW_SESSIONS_BURST,
                 total_per_minute: float = DEFAULT_NEW_SESSIONS_TOTAL_PER_MINUTE,
                 total_burst: int = DEFAULT_NEW_SESSIONS_TOTAL_BURST,
                 clock: Callable[[], float] = time.monotonic):
        self.per_minute, self.burst, self._clock = per_minute, burst, clock
        self.total = TokenBucket(total_per_minute, total_burst, clock)
        self._addresses: "OrderedDict[str, TokenBucket]" = OrderedDict()

    def take(self, address: Optional[str]) -> float:
        """0 if a new session may be issued to ``address`` now, else the seconds to wait."""
        key = address or "unknown"
        bucket = self._addresses.pop(key, None) or TokenBucket(self.per_minute, self.burst, self._clock)
        self._addresses[key] = bucket  # most recently used last
        while len(self._addresses) > self.MAX_ADDRESSES:
            self._addresses.popitem(last=False)
        wait = bucket.take()
        if wait:
            return wait
        return self.total.take()


def client_address(environ: Dict[str, Any]) -> Optional[str]:
    """The client's address: Sanic's view (proxy headers as configured), else the peer's."""
    request = environ.get("sanic.request")
    for attr in ("remote_addr", "ip"):
        value = getattr(request, attr, None) if request is not None else None
        if isinstance(value, str) and value:
            return value
    return environ.get("REMOTE_ADDR")


# --- per-conversation delivery state -----------------------------------------------------------

@dataclass
class Conversation:
    seq: int = 0
    outbox: Deque[Dict[str, Any]] = field(default_factory=lambda: deque(maxlen=WidgetHub.OUTBOX_SIZE))
    handled: "OrderedDict[str, asyncio.Event]" = field(default_factory=OrderedDict)
    invitation: Optional[str] = None
    invitation_sent: bool = False
    # Token bucket for messages (see WidgetHub.allow).
    allowance: Optional[float] = None
    allowance_at: float = 0.0
    touched: float = field(default_factory=time.monotonic)
    # Changes when this process starts numbering a conversation afresh (e.g.
    # after a restart), so a client knows its old sequence numbers are void.
    epoch: str = field(default_factory=lambda: secrets.token_hex(4))


class WidgetHub:
    """Outbox and handled-message ids per conversation, for exact delivery across reconnects."""

    OUTBOX_SIZE = 200
    HANDLED_SIZE = 500

    def __init__(self, idle_seconds: float = DEFAULT_SESSION_HOURS * 3600,
                 clock: Callable[[], float] = time.monotonic):
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._conversations: Dict[str, Conversation] = {}
        self._last_prune = clock()

    def __contains__(self, sender_id: str) -> bool:
        return sender_id in self._conversations

    def get(self, sender_id: str) -> Conversation:
        now = self._clock()
        if now - self._last_prune > 60:
            self.prune(now)
        conversation = self._conversations.get(sender_id)
        if conversation is None:
            conversation = self._conversations[sender_id] = Conversation(touched=now)
        conversation.touched = now
        return conversation

    def prune(self, now: Optional[float] = None) -> None:
        now = self._clock() if now is None else now
        self._last_prune = now
        for sender_id in [s for s, c in self._conversations.items() if now - c.touched > self.idle_seconds]:
            del self._conversations[sender_id]

    def forget(self, sender_id: str) -> None:
        self._conversations.pop(sender_id, None)

    def record(self, sender_id: str, message: Dict[str, Any]) -> Dict[str, Any]:
        """Number and timestamp a bot message and keep it for replay."""
        conversation = self.get(sender_id)
        conversation.seq += 1
        stamped = dict(message, seq=conversation.seq, epoch=conversation.epoch, ts=int(time.time() * 1000))
        conversation.outbox.append(stamped)
        return stamped

    def since(self, sender_id: str, last_seq: int) -> List[Dict[str, Any]]:
        conversation = self._conversations.get(sender_id)
        if conversation is None:
            return []
        return [m for m in conversation.outbox if m["seq"] > last_seq]

    def last_seq(self, sender_id: str) -> int:
        conversation = self._conversations.get(sender_id)
        return conversation.seq if conversation else 0

    def allow(self, sender_id: str, per_minute: float, burst: int) -> float:
        """0 if one more message may go now, else the seconds to wait (a token bucket).

        A person typing, or tapping buttons, never meets it; a script flooding
        one conversation does, and its messages go nowhere.
        """
        conversation = self.get(sender_id)
        now = self._clock()
        rate = per_minute / 60.0
        if conversation.allowance is None:
            conversation.allowance = float(burst)
        else:
            conversation.allowance = min(float(burst),
                                         conversation.allowance + (now - conversation.allowance_at) * rate)
        conversation.allowance_at = now
        if conversation.allowance >= 1.0:
            conversation.allowance -= 1.0
            return 0.0
        return (1.0 - conversation.allowance) / rate if rate > 0 else float("inf")

    def seen(self, sender_id: str, message_id: str) -> bool:
        return message_id in self.get(sender_id).handled

    def begin(self, sender_id: str, message_id: str) -> Tuple[bool, asyncio.Event]:
        """(True, event) the first time a message id is seen, else (False, its event)."""
        handled = self.get(sender_id).handled
        event = handled.get(message_id)
        if event is not None:
            return False, event
        event = handled[message_id] = asyncio.Event()
        while len(handled) > self.HANDLED_SIZE:
            handled.popitem(last=False)
        return True, event


# --- the channel ------------------------------------------------------------------------------

class WidgetOutput(SocketIOOutput):
    """Rasa's socket.io output, with sequence numbers, timestamps and an outbox."""

    def __init__(self, sio: AsyncServer, bot_message_evt: Text, hub: WidgetHub) -> None:
        super().__init__(sio, bot_message_evt)
        self.hub = hub

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        # ``socket_id`` is the conversation's sender id, which is also its room.
        await self.sio.emit(self.bot_message_evt, self.hub.record(socket_id, response), room=socket_id)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        # e.g. {"handoff": "joined", "name": "Sam"} when a member of staff joins.
        await self._send_message(recipient_id, {"custom": json_message})


class WidgetInput(SocketIOInput):
    """Socket.io for the web widget: origin allow-list, server-issued sessions, exact delivery."""

    @classmethod
    def name(cls) -> Text:
        # Same name as Rasa's channel: ``channel: socketio`` response variants,
        # ``output_channel=socketio`` on the HTTP API and existing trackers still match.
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WidgetInput":
        credentials = credentials or {}
        origins = credentials.get("origins")
        if origins is None:
            origins = os.environ.get(ORIGINS_ENV, "")
        hours = float(credentials.get("session_hours") or os.environ.get(SESSION_HOURS_ENV) or DEFAULT_SESSION_HOURS)
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            jwt_key=credentials.get("jwt_key"),
            jwt_method=credentials.get("jwt_method", "HS256"),
            origins=parse_origins(origins),
            secret=secret_from_env(),
            session_hours=hours,
            rate_per_minute=float(credentials.get("rate_per_minute") or os.environ.get(RATE_ENV)
                                  or DEFAULT_RATE_PER_MINUTE),
            new_sessions=NewSessionLimit(
                per_minute=float(os.environ.get(NEW_SESSIONS_ENV) or DEFAULT_NEW_SESSIONS_PER_MINUTE),
                total_per_minute=float(os.environ.get(NEW_SESSIONS_TOTAL_ENV)
                                       or DEFAULT_NEW_SESSIONS_TOTAL_PER_MINUTE),
            ),
            revocations=RevocationStore(),
            left_after_seconds=float(credentials.get("left_after_seconds") or os.environ.get(LEFT_AFTER_ENV)
                                     or DEFAULT_LEFT_AFTER_SECONDS),
        )

    def __init__(
        self,
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        namespace: Optional[Text] = None,
        socketio_path: Optional[Text] = "/socket.io",
        jwt_key: Optional[Text] = None,
        jwt_method: Optional[Text] = "HS256",
        origins: Iterable[str] = (),
        secret: Optional[bytes] = None,
        session_hours: float = DEFAULT_SESSION_HOURS,
        max_message_chars: int = MAX_MESSAGE_CHARS,
        rate_per_minute: float = DEFAULT_RATE_PER_MINUTE,
        burst: int = DEFAULT_BURST,
        new_sessions: Optional[NewSessionLimit] = None,
        revocations: Optional[RevocationStore] = None,
        left_after_seconds: float = DEFAULT_LEFT_AFTER_SECONDS,
    ) -> None:
        super().__init__(user_message_evt, bot_message_evt, namespace, True, socketio_path, jwt_key, jwt_method)
        self.origins = parse_origins(list(origins))
        if not self.origins:
            logger.warning("No widget origins allowed (%s is empty): every socket.io connection will be refused.",
                           ORIGINS_ENV)
        self.tokens = SessionTokens(secret or secrets.token_bytes(32), session_hours * 3600,
                                    store=revocations)
        self.new_sessions = new_sessions or NewSessionLimit()
        self.hub = WidgetHub(idle_seconds=session_hours * 3600)
        self.max_message_chars = max_message_chars
        self.rate_per_minute = rate_per_minute
        self.burst = burst
        self.left_after_seconds = left_after_seconds
        self._left_checks: Dict[str, "asyncio.Task[None]"] = {}
        self._stopping = False

    def origin_allowed(self, origin: Any, environ: Any = None) -> bool:  # noqa: ARG002 (engine.io signature)
        normalised = normalise_origin(origin)
        return normalised is not None and normalised in self.origins

    def get_output_channel(self) -> Optional[WidgetOutput]:
        if self.sio is None:
            return super().get_output_channel()
        return WidgetOutput(self.sio, self.bot_message_evt, self.hub)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # A callable allow-list: engine.io refuses other origins before a session exists.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.origin_allowed,
                          max_http_buffer_size=MAX_HTTP_BUFFER)
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        ns = self.namespace

        @webhook.listener("before_server_start")
        async def body_limit(app: Any, _loop: Any) -> None:
            limits.install(app)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=ns)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> None:
            origin = environ.get("HTTP_ORIGIN")
            if not self.origin_allowed(origin):
                logger.warning("Refused a widget connection from origin %r.", origin)
                raise ConnectionRefusedError("origin_not_allowed")
            if self.jwt_key:
                token = auth.get("token") if isinstance(auth, dict) else None
                if not token or not decode_bearer_token(token, self.jwt_key, self.jwt_algorithm):
                    raise ConnectionRefusedError("not_authorised")
            await sio.save_session(sid, {"origin": normalise_origin(origin),
                                         "address": client_address(environ)}, namespace=ns)

        @webhook.listener("before_server_stop")
        async def stopping(_app: Any, _loop: Any) -> None:
            # Sockets closed by a stop or restart of this server are not people
            # leaving: their handoffs carry on (the widget reconnects).
            self._stopping = True
            for task in list(self._left_checks.values()):
                task.cancel()

        def connected(sender_id: str) -> bool:
            return any(True for _ in sio.manager.get_participants(ns or "/", sender_id))

        async def left_if_gone(sender_id: str) -> None:
            """After ``left_after_seconds`` with no socket of this conversation open: the person left."""
            try:
                await asyncio.sleep(self.left_after_seconds)
                if self._stopping or connected(sender_id) or self.tokens.store is None:
                    return
                await asyncio.get_running_loop().run_in_executor(None, self.tokens.store.person_left, sender_id)
            except Exception:  # noqa: BLE001 - the records database is unavailable; the worker can close it
                logger.exception("Could not record that the person's page closed during a handoff.")
            finally:
                if self._left_checks.get(sender_id) is asyncio.current_task():
                    del self._left_checks[sender_id]

        @sio.on("disconnect", namespace=ns)
        async def disconnect(sid: Text, *_: Any) -> None:
            logger.debug("Widget socket %s disconnected.", sid)
            try:
                session = await sio.get_session(sid, namespace=ns)
            except KeyError:
                return
            sender_id = session.get("sender_id")
            if not sender_id or self._stopping or self.left_after_seconds <= 0:
                return
            # Closing the page (not "Leave this page", which ends it at once):
            # checked after a while from the last socket closed, so a reload or
            # a short drop is not a leave.
            earlier = self._left_checks.pop(sender_id, None)
            if earlier is not None:
                earlier.cancel()
            self._left_checks[sender_id] = asyncio.ensure_future(left_if_gone(sender_id))

        @sio.on("session_request", namespace=ns)
        async def session_request(sid: Text, data: Any = None) -> None:
            data = data if isinstance(data, dict) else {}
            nonce = self.tokens.verify(data.get("session_id"))
            resumed = nonce is not None
            session = await sio.get_session(sid, namespace=ns)
            if not resumed:
                wait = self.new_sessions.take(session.get("address"))
                if wait:
                    logger.warning("Refused a new widget session: too many at once (wait %.0f s).", wait)
                    await sio.emit("session_refused", {"error": "busy", "retry_after": max(1, round(wait))},
                                   room=sid, namespace=ns)
                    return
            token = data["session_id"] if resumed else self.tokens.issue()
            nonce = nonce or self.tokens.verify(token)
            sender_id = self.tokens.sender_id(nonce)
            conversation = self.hub.get(sender_id)
            invitation = data.get("invitation")
            if isinstance(invitation, str) and _INVITATION.match(invitation):
                conversation.invitation = invitation
            session.update(sender_id=sender_id, nonce=nonce)
            await sio.save_session(sid, session, namespace=ns)
            last_seq = data.get("last_seq") if resumed and data.get("epoch") == conversation.epoch else 0
            last_seq = last_seq if isinstance(last_seq, int) and last_seq >= 0 else 0
            # Take the replay and join the room with no await in between, so a
            # reply produced meanwhile is either in the replay or sent to the room.
            missed = self.hub.since(sender_id, last_seq)
            await sio.enter_room(sid, sender_id, namespace=ns)
            await sio.emit("session_confirm", {"session_id": token, "resumed": resumed, "messages": missed,
                                               "epoch": conversation.epoch, "last_seq": conversation.seq},
                           room=sid, namespace=ns)

        @sio.on("sync", namespace=ns)
        async def sync(sid: Text, data: Any = None) -> Dict[str, Any]:
            session = await sio.get_session(sid, namespace=ns)
            sender_id = session.get("sender_id")
            if not sender_id:
                return {"ok": False, "error": "no_session"}
            if await ended(sid, session):
                return {"ok": False, "error": "session_ended"}
            data = data if isinstance(data, dict) else {}
            epoch = self.hub.get(sender_id).epoch
            last_seq = data.get("last_seq") if data.get("epoch") == epoch else 0
            last_seq = last_seq if isinstance(last_seq, int) and last_seq >= 0 else 0
            return {"ok": True, "epoch": epoch, "messages": self.hub.since(sender_id, last_seq)}

        @sio.on(self.user_message_evt, namespace=ns)
        async def handle_message(sid: Text, data: Any = None) -> Dict[str, Any]:
            session = await sio.get_session(sid, namespace=ns)
            sender_id = session.get("sender_id")
            if not sender_id:
                return {"ok": False, "error": "no_session"}
            if await ended(sid, session):
                return {"ok": False, "error": "session_ended"}
            data = data if isinstance(data, dict) else {}
            text = data.get("message")
            message_id = data.get("id")
            if not isinstance(text, str):
                return {"ok": False, "error": "bad_message"}
            logsafe.remember(text)
            if len(text) > self.max_message_chars:
                return {"ok": False, "error": "too_long", "max": self.max_message_chars}
            if message_id is not None and not (isinstance(message_id, str) and _MESSAGE_ID.match(message_id)):
                return {"ok": False, "error": "bad_id"}
            message_id = message_id or secrets.token_hex(8)
            if not self.hub.seen(sender_id, message_id):
                wait = self.hub.allow(sender_id, self.rate_per_minute, self.burst)
                if wait:
                    # Not processed and not marked handled: the same id may be sent again.
                    return {"ok": False, "id": message_id, "error": "slow_down",
                            "retry_after": max(1, round(wait))}
            first, done = self.hub.begin(sender_id, message_id)
            if not first:
                # Sent again after a drop: answered (or being answered) already.
                try:
                    await asyncio.wait_for(done.wait(), timeout=120)
                except asyncio.TimeoutError:
                    pass
                return {"ok": True, "id": message_id, "duplicate": True, "seq": self.hub.last_seq(sender_id)}
            conversation = self.hub.get(sender_id)
            # Only what the server knows goes into metadata; nothing the client claims.
            metadata: Dict[str, Any] = {"widget_message_id": message_id}
            if conversation.invitation:
                metadata["invitation"] = conversation.invitation
            texts = [text]
            if conversation.invitation and not conversation.invitation_sent:
                # Redeem the page's invitation once, after the first message
                # (normally the greeting), as if the person had typed the code.
                conversation.invitation_sent = True
                texts.append(invitation_payload(conversation.invitation))
            output = WidgetOutput(sio, self.bot_message_evt, self.hub)
            try:
                for each in texts:
                    await on_new_message(UserMessage(each, output, sender_id,
                                                     input_channel=self.name(), metadata=metadata))
            except Exception:  # noqa: BLE001 - the widget must get an answer, never a hang
                logger.exception("Handling a widget message failed.")
                done.set()
                return {"ok": False, "id": message_id, "error": "server", "seq": self.hub.last_seq(sender_id)}
            done.set()
            return {"ok": True, "id": message_id, "seq": self.hub.last_seq(sender_id)}

        async def ended(sid: Text, session: Dict[str, Any]) -> bool:
            """True (and the socket is closed) when this socket's session has been revoked."""
            if not self.tokens.is_revoked(session["nonce"]):
                return False
            logger.info("Refused a message on a widget session that has ended.")
            asyncio.ensure_future(sio.disconnect(sid, namespace=ns))
            return True

        @sio.on("leave", namespace=ns)
        async def leave(sid: Text, *_: Any) -> None:
            session = await sio.get_session(sid, namespace=ns)
            sender_id = session.get("sender_id")
            if session.get("nonce"):
                self.tokens.revoke(session["nonce"])
                self.hub.forget(sender_id)
                if self.tokens.store is not None and sender_id:
                    try:
                        self.tokens.store.person_left(sender_id)
                    except Exception:  # noqa: BLE001 - the records database is unavailable; still leave
                        logger.exception("Could not record that the person left a handoff.")
                # Every socket joined to this session, on this server: a second tab, a
                # second device, or someone else holding the token.
                others = [other for other, _ in sio.manager.get_participants(ns or "/", sender_id)
                          if other != sid]
                for other in others:
                    await sio.disconnect(other, namespace=ns)
            await sio.disconnect(sid, namespace=ns)

        return webhook
