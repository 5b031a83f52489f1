"""The web widget's socket.io channel (bot/channels/widget.py), in process.

The same handlers run against the real servers and real Chromium in
tests/browser; here the socket.io server's session and room calls are replaced
by an in-memory stand-in so each rule can be checked directly.
"""
from __future__ import annotations

import asyncio
import secrets
from typing import Any, Dict, List

import pytest

from bot.channels import widget
from bot.channels.widget import (
    SessionTokens,
    WidgetHub,
    WidgetInput,
    WidgetOutput,
    normalise_origin,
    parse_origins,
)

SECRET = b"unit-test-secret-unit-test-secret"
PAGE = "https://www.example.gov.uk"


# --- origins ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("https://www.example.gov.uk", "https://www.example.gov.uk"),
    ("https://WWW.Example.gov.uk/", "https://www.example.gov.uk"),
    ("https://www.example.gov.uk:443", "https://www.example.gov.uk"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://localhost:80", "http://localhost"),
    ("http://[::1]:8000", "http://[::1]:8000"),
    ("https://www.example.gov.uk/chat", None),
    ("https://user@www.example.gov.uk", None),
    ("*", None),
    ("null", None),
    ("ftp://example.gov.uk", None),
    ("http://example.gov.uk:99999", None),
    ("", None),
    (None, None),
    (42, None),
])
def test_normalise_origin(value, expected):
    assert normalise_origin(value) == expected


def test_parse_origins_takes_commas_spaces_and_lists_and_drops_wildcards():
    assert parse_origins("https://a.gov.uk, http://127.0.0.1:8000  https://b.gov.uk/") == {
        "https://a.gov.uk", "http://127.0.0.1:8000", "https://b.gov.uk"}
    assert parse_origins(["https://a.gov.uk", "*"]) == {"https://a.gov.uk"}
    assert parse_origins("") == frozenset() and parse_origins(None) == frozenset()


# --- session tokens -----------------------------------------------------------------------------

class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_token_verifies_and_names_a_stable_sender_that_does_not_reveal_it():
    tokens = SessionTokens(SECRET, 3600)
    token = tokens.issue()
    nonce = tokens.verify(token)
    assert nonce and token.startswith(nonce)
    sender = tokens.sender_id(nonce)
    assert sender == tokens.sender_for_token(token) and sender.startswith("web-") and len(sender) == 44
    assert nonce not in sender and token not in sender
    assert tokens.sender_for_token(tokens.issue()) != sender  # every session is its own


def test_tokens_are_unguessable_and_unforgeable():
    tokens = SessionTokens(SECRET, 3600)
    issued = {tokens.issue() for _ in range(200)}
    assert len(issued) == 200
    token = tokens.issue()
    nonce, issued_at, signature = token.split(".")
    assert len(nonce) == 32  # 192 random bits
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for forged in (f"{nonce}.{issued_at}.{flipped}", f"{secrets.token_urlsafe(24)}.{issued_at}.{signature}",
                   f"{nonce}.{int(issued_at, 16) + 1:x}.{signature}", token + "x", "", None, 7, "a" * 500):
        assert tokens.verify(forged) is None, forged
    assert SessionTokens(b"another-secret-another-secret", 3600).verify(token) is None


def test_tokens_expire_and_can_be_revoked():
    clock = Clock()
    tokens = SessionTokens(SECRET, 3600, clock=clock)
    token = tokens.issue()
    clock.now += 3599
    assert tokens.verify(token)
    clock.now += 2
    assert tokens.verify(token) is None
    clock.now -= 1800
    nonce = tokens.verify(token)
    tokens.revoke(nonce)
    assert tokens.verify(token) is None


def test_a_short_secret_is_refused_and_a_missing_one_is_random(monkeypatch):
    with pytest.raises(ValueError):
        SessionTokens(b"short", 60)
    monkeypatch.delenv(widget.SECRET_ENV, raising=False)
    assert widget.secret_from_env() != widget.secret_from_env()
    monkeypatch.setenv(widget.SECRET_ENV, "configured-secret-configured")
    assert widget.secret_from_env() == b"configured-secret-configured"


# --- the outbox -----------------------------------------------------------------------------------

def test_hub_numbers_messages_per_conversation_and_replays_after_a_number():
    hub = WidgetHub()
    a1 = hub.record("a", {"text": "one"})
    a2 = hub.record("a", {"text": "two"})
    b1 = hub.record("b", {"text": "other"})
    assert (a1["seq"], a2["seq"], b1["seq"]) == (1, 2, 1)
    assert a1["epoch"] == a2["epoch"] != b1["epoch"]
    assert a1["ts"] > 1_600_000_000_000
    assert [m["text"] for m in hub.since("a", 1)] == ["two"]
    assert hub.since("a", 2) == [] and hub.since("nobody", 0) == []
    assert hub.last_seq("a") == 2
    hub.forget("a")
    assert hub.since("a", 0) == [] and "a" not in hub
    assert hub.record("a", {"text": "again"})["epoch"] != a1["epoch"]  # numbering restarted: new epoch


def test_hub_keeps_a_bounded_outbox_and_forgets_idle_conversations():
    now = [0.0]
    hub = WidgetHub(idle_seconds=100, clock=lambda: now[0])
    for i in range(WidgetHub.OUTBOX_SIZE + 50):
        hub.record("a", {"text": str(i)})
    assert len(hub.since("a", 0)) == WidgetHub.OUTBOX_SIZE
    hub.get("b")
    now[0] = 150
    hub.prune()
    assert "a" not in hub and "b" not in hub


def test_hub_recognises_a_message_id_it_has_seen():
    async def scenario():
        hub = WidgetHub()
        first, event = hub.begin("a", "m1")
        again, same = hub.begin("a", "m1")
        other, _ = hub.begin("b", "m1")
        return first, again, other, event is same

    assert asyncio.run(scenario()) == (True, False, True, True)


# --- the channel's handlers, with an in-memory socket.io stand-in -----------------------------------

class FakeSio:
    """Sessions, rooms and emits of python-socketio's AsyncServer, in memory."""

    def __init__(self, real):
        self.handlers = real.handlers["/"]
        self.sessions: Dict[str, Dict[str, Any]] = {}
        self.rooms: Dict[str, set] = {}
        self.emitted: List[tuple] = []
        self.disconnected: List[str] = []
        real.get_session = self.get_session
        real.save_session = self.save_session
        real.enter_room = self.enter_room
        real.emit = self.emit
        real.disconnect = self.disconnect
        real.manager.get_participants = self.get_participants

    def get_participants(self, namespace, room):
        for sid in sorted(self.rooms.get(room, ())):
            yield sid, f"eio-{sid}"

    async def get_session(self, sid, namespace=None):
        return dict(self.sessions.setdefault(sid, {}))

    async def save_session(self, sid, session, namespace=None):
        self.sessions[sid] = dict(session)

    async def enter_room(self, sid, room, namespace=None):
        self.rooms.setdefault(room, set()).add(sid)

    async def emit(self, event, data=None, room=None, namespace=None, **kwargs):
        self.emitted.append((event, data, room))

    async def disconnect(self, sid, namespace=None):
        self.disconnected.append(sid)

    async def call(self, event, *args):
        return await self.handlers[event](*args)

    def confirmed(self, sid):
        return [d for e, d, r in self.emitted if e == "session_confirm" and r == sid][-1]


def make_channel(**options):
    received = []

    async def on_new_message(message):
        received.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")

    ch = WidgetInput(origins=[PAGE, "http://127.0.0.1:8000"], secret=SECRET, **options)
    ch.blueprint(on_new_message)
    fake = FakeSio(ch.sio)
    fake.received = received
    return ch, fake


@pytest.fixture
def channel():
    return make_channel()


def run(coro):
    return asyncio.run(coro)


def test_name_and_credentials(monkeypatch):
    assert WidgetInput.name() == "socketio"
    monkeypatch.setenv(widget.ORIGINS_ENV, "https://www.example.gov.uk, http://127.0.0.1:8000")
    ch = WidgetInput.from_credentials({"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered"})
    assert ch.origins == {"https://www.example.gov.uk", "http://127.0.0.1:8000"}
    assert ch.origin_allowed("https://www.example.gov.uk") and ch.origin_allowed("https://WWW.example.gov.uk:443")
    assert not ch.origin_allowed("https://evil.example") and not ch.origin_allowed(None)
    assert WidgetInput.from_credentials({"origins": ["https://b.gov.uk"]}).origins == {"https://b.gov.uk"}


def test_with_no_origins_configured_everything_is_refused(monkeypatch):
    monkeypatch.delenv(widget.ORIGINS_ENV, raising=False)
    ch = WidgetInput.from_credentials(None)
    assert ch.origins == frozenset() and not ch.origin_allowed("http://127.0.0.1:8000")


def test_connect_refuses_other_origins_and_a_missing_origin(channel):
    ch, sio = channel
    for origin in ("https://evil.example", None, "null"):
        environ = {"HTTP_ORIGIN": origin} if origin else {}
        with pytest.raises(ConnectionRefusedError):
            run(sio.call("connect", "sid1", environ, None))
    run(sio.call("connect", "sid1", {"HTTP_ORIGIN": PAGE}, None))
    assert sio.sessions["sid1"] == {"origin": PAGE, "address": None}


def test_a_session_is_issued_by_the_server_and_claims_are_ignored(channel):
    ch, sio = channel
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", {"session_id": "chosen-by-me"}))
    confirm = sio.confirmed("s1")
    assert confirm["resumed"] is False and confirm["session_id"] != "chosen-by-me"
    sender = ch.tokens.sender_for_token(confirm["session_id"])
    assert sio.sessions["s1"]["sender_id"] == sender and "s1" in sio.rooms[sender]
    # A message naming another conversation is still this socket's.
    ack = run(sio.call("user_uttered", "s1", {"message": "hi", "session_id": "web-someone-else", "id": "m1",
                                              "metadata": {"invitation": "x" * 43, "admin": True}}))
    assert ack == {"ok": True, "id": "m1", "seq": 1}
    message = sio.received[-1]
    assert message.sender_id == sender and message.input_channel == "socketio"
    assert message.metadata == {"widget_message_id": "m1"}  # nothing the client claimed
    event, data, room = sio.emitted[-1]
    assert (event, room, data["text"], data["seq"]) == ("bot_uttered", sender, "echo: hi", 1)


def test_resuming_replays_what_was_missed_and_only_that(channel):
    ch, sio = channel
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", None))
    token = sio.confirmed("s1")["session_id"]
    for i in range(3):
        run(sio.call("user_uttered", "s1", {"message": f"m{i}", "id": f"id{i}"}))
    epoch = sio.confirmed("s1")["epoch"]
    run(sio.call("connect", "s2", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s2", {"session_id": token, "epoch": epoch, "last_seq": 1}))
    confirm = sio.confirmed("s2")
    assert confirm["resumed"] is True and confirm["session_id"] == token
    assert [m["text"] for m in confirm["messages"]] == ["echo: m1", "echo: m2"]
    # A client holding numbers from another epoch gets everything again.
    run(sio.call("session_request", "s2", {"session_id": token, "epoch": "stale", "last_seq": 3}))
    assert len(sio.confirmed("s2")["messages"]) == 3
    sync = run(sio.call("sync", "s2", {"epoch": epoch, "last_seq": 2}))
    assert [m["text"] for m in sync["messages"]] == ["echo: m2"]


def test_a_repeated_message_id_is_processed_once(channel):
    ch, sio = channel
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", None))
    first = run(sio.call("user_uttered", "s1", {"message": "hello", "id": "same"}))
    again = run(sio.call("user_uttered", "s1", {"message": "hello", "id": "same"}))
    assert first["ok"] and not first.get("duplicate") and again["duplicate"] is True
    assert [m.text for m in sio.received] == ["hello"]


@pytest.mark.parametrize("data, error", [
    ({"message": None}, "bad_message"),
    ({"message": ["a"]}, "bad_message"),
    ({"message": "x" * (widget.MAX_MESSAGE_CHARS + 1)}, "too_long"),
    ({"message": "hi", "id": "../../etc"}, "bad_id"),
    ({"message": "hi", "id": "x" * 65}, "bad_id"),
    ("not a dict", "bad_message"),
])
def test_bad_messages_get_a_reason_and_reach_no_one(channel, data, error):
    ch, sio = channel
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", None))
    ack = run(sio.call("user_uttered", "s1", data))
    assert ack["ok"] is False and ack["error"] == error
    assert sio.received == []


def test_messages_before_a_session_are_refused(channel):
    ch, sio = channel
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    assert run(sio.call("user_uttered", "s1", {"message": "hi"})) == {"ok": False, "error": "no_session"}
    assert run(sio.call("sync", "s1", {})) == {"ok": False, "error": "no_session"}


def test_the_invitation_is_kept_with_the_session_and_sent_as_metadata(channel):
    ch, sio = channel
    invitation = secrets.token_urlsafe(32)
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", {"invitation": invitation}))
    token = sio.confirmed("s1")["session_id"]
    run(sio.call("user_uttered", "s1", {"message": "hi"}))
    # After a reconnect (the browser no longer sends it) it still travels.
    run(sio.call("connect", "s2", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s2", {"session_id": token}))
    run(sio.call("user_uttered", "s2", {"message": "again"}))
    assert [m.metadata.get("invitation") for m in sio.received] == [invitation] * 3
    # Redeemed once, straight after the first message, as a typed code would be.
    assert [m.text for m in sio.received] == [
        "hi", '/inform_invite_code{"invite_code": "%s"}' % invitation, "again"]


def test_the_invitation_payload_is_the_typed_code_path():
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    from bot.actions.parsing import invitation_candidate
    from bot.channels.widget import invitation_payload

    token = secrets.token_urlsafe(32)
    # How Rasa reads a "/intent{...}" message (no NLU runs on it).
    parsed = YAMLStoryReader.unpack_regex_message(Message(data={"text": invitation_payload(token)}))
    assert parsed.get("intent")["name"] == "inform_invite_code"
    assert [e["value"] for e in parsed.get("entities")] == [token]
    assert invitation_candidate(invitation_payload(token)) == token
    with pytest.raises(ValueError):
        invitation_payload('x"}, {"evil": 1')


def test_a_malformed_invitation_is_ignored(channel):
    ch, sio = channel
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", {"invitation": "<script>"}))
    run(sio.call("user_uttered", "s1", {"message": "hi"}))
    assert "invitation" not in sio.received[-1].metadata


def test_leave_revokes_the_session_and_forgets_its_messages(channel):
    ch, sio = channel
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", None))
    token = sio.confirmed("s1")["session_id"]
    sender = ch.tokens.sender_for_token(token)
    run(sio.call("user_uttered", "s1", {"message": "hi"}))
    run(sio.call("leave", "s1"))
    assert sio.disconnected == ["s1"] and ch.tokens.verify(token) is None and sender not in ch.hub
    run(sio.call("connect", "s2", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s2", {"session_id": token}))
    assert sio.confirmed("s2")["resumed"] is False


def test_a_failing_bot_still_answers_the_widget(channel):
    ch, sio = channel

    async def broken(message):
        raise RuntimeError("boom")

    ch.blueprint(broken)
    sio = FakeSio(ch.sio)
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", None))
    ack = run(sio.call("user_uttered", "s1", {"message": "hi", "id": "m1"}))
    assert ack["ok"] is False and ack["error"] == "server"


def test_output_numbers_buttons_and_custom_payloads():
    class Recorder:
        def __init__(self):
            self.emitted = []

        async def emit(self, event, data=None, room=None, **kwargs):
            self.emitted.append((event, data, room))

    sio, hub = Recorder(), WidgetHub()
    out = WidgetOutput(sio, "bot_uttered", hub)
    run(out.send_text_with_buttons("web-1", "Pick one", [{"title": "Yes", "payload": "/affirm"}]))
    run(out.send_custom_json("web-1", {"handoff": "joined", "name": "Sam"}))
    run(out.send_text_message("web-1", "one\n\ntwo"))
    data = [d for _, d, _ in sio.emitted]
    assert data[0]["quick_replies"] == [{"content_type": "text", "title": "Yes", "payload": "/affirm"}]
    assert data[1]["custom"] == {"handoff": "joined", "name": "Sam"}
    assert [d.get("text") for d in data[2:]] == ["one", "two"]
    assert [d["seq"] for d in data] == [1, 2, 3, 4]
    assert all(room == "web-1" for _, _, room in sio.emitted)
    assert [m["seq"] for m in hub.since("web-1", 2)] == [3, 4]


def test_a_flood_of_messages_is_slowed_down_and_never_reaches_rasa(channel):
    ch, sio = channel
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", None))
    acks = [run(sio.call("user_uttered", "s1", {"message": f"m{n}", "id": f"id-{n}"})) for n in range(ch.burst + 3)]
    assert all(a["ok"] for a in acks[:ch.burst])
    refused = acks[ch.burst:]
    assert all(a == {"ok": False, "id": a["id"], "error": "slow_down", "retry_after": a["retry_after"]}
               and a["retry_after"] >= 1 for a in refused)
    assert [m.text for m in sio.received] == [f"m{n}" for n in range(ch.burst)]
    # A refused message was not marked handled: sent again later (same id), it is answered.
    conversation = next(iter(ch.hub._conversations.values()))
    conversation.allowance_at -= 60  # a minute later
    again = run(sio.call("user_uttered", "s1", {"message": "m10", "id": "id-10"}))
    assert again["ok"] and "duplicate" not in again and sio.received[-1].text == "m10"
    # Re-sending an answered message after a drop is not counted against the limit.
    conversation.allowance = 0.0
    assert run(sio.call("user_uttered", "s1", {"message": "m0", "id": "id-0"}))["duplicate"] is True


# --- issue 10: quick exit survives a restart and ends every socket; new sessions are limited ----

@pytest.fixture
def records(monkeypatch, tmp_path):
    from bot.records.db import dispose_engines
    from bot.records.schema import upgrade_to_head

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'msp.db'}")
    upgrade_to_head()
    yield widget.RevocationStore()
    dispose_engines()


def test_a_revoked_session_stays_revoked_after_a_restart(records):
    ch, sio = make_channel(revocations=records)
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", None))
    token = sio.confirmed("s1")["session_id"]
    run(sio.call("leave", "s1"))
    # A new process (same secret, nothing in memory) reads the revocation from the records.
    again, sio2 = make_channel(revocations=widget.RevocationStore())
    assert again.tokens.verify(token) is None
    run(sio2.call("connect", "s9", {"HTTP_ORIGIN": PAGE}, None))
    run(sio2.call("session_request", "s9", {"session_id": token}))
    assert sio2.confirmed("s9")["resumed"] is False and sio2.confirmed("s9")["session_id"] != token
    # Only a keyed hash is stored, never the token, its nonce or the conversation id.
    from bot.records import session_scope
    from bot.records.models import WidgetRevocation

    with session_scope(read_only=True) as session:
        stored = [row.session_hash for row in session.query(WidgetRevocation).all()]
    nonce = token.split(".")[0]
    assert len(stored) == 1 and nonce not in stored[0] and token not in stored[0]


def test_leave_disconnects_every_socket_joined_to_the_session(channel):
    ch, sio = channel
    for sid in ("s1", "s2"):
        run(sio.call("connect", sid, {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", None))
    token = sio.confirmed("s1")["session_id"]
    run(sio.call("session_request", "s2", {"session_id": token}))  # a second tab or device
    run(sio.call("leave", "s1"))
    assert sorted(sio.disconnected) == ["s1", "s2"]
    # Whatever the second socket still sends goes nowhere.
    assert run(sio.call("user_uttered", "s2", {"message": "still here?"})) == {
        "ok": False, "error": "session_ended"}
    assert run(sio.call("sync", "s2", {})) == {"ok": False, "error": "session_ended"}
    assert sio.received == []


def test_a_revocation_made_elsewhere_stops_the_next_message(records):
    ch, sio = make_channel(revocations=records)
    run(sio.call("connect", "s1", {"HTTP_ORIGIN": PAGE}, None))
    run(sio.call("session_request", "s1", None))
    token = sio.confirmed("s1")["session_id"]
    assert run(sio.call("user_uttered", "s1", {"message": "hi"}))["ok"] is True
    # Another instance of the server handled the quick exit.
    other, _ = make_channel(revocations=widget.RevocationStore())
    other.tokens.revoke(other.tokens.verify(token))
    assert run(sio.call("user_uttered", "s1", {"message": "hello?"}))["error"] == "session_ended"
    assert [m.text for m in sio.received] == ["hi"]


def test_new_sessions_are_limited_per_address_and_for_everyone():
    clock = Clock()
    limit = widget.NewSessionLimit(per_minute=6, burst=3, total_per_minute=60, total_burst=5, clock=clock)
    assert [limit.take("10.0.0.1") for _ in range(4)] == [0, 0, 0, 10.0]
    assert [limit.take("10.0.0.2") for _ in range(2)] == [0, 0]
    assert limit.take("10.0.0.3") == pytest.approx(1.0)  # everyone's bucket is empty now
    clock.now += 10
    assert limit.take("10.0.0.1") == 0


def test_a_burst_of_new_sessions_is_refused_with_the_time_to_wait():
    ch, sio = make_channel(new_sessions=widget.NewSessionLimit(per_minute=20, burst=10))
    environ = {"HTTP_ORIGIN": PAGE}
    for n in range(100):
        run(sio.call("connect", f"s{n}", environ, None))
        run(sio.call("session_request", f"s{n}", None))
    issued = [e for e, d, r in sio.emitted if e == "session_confirm"]
    refused = [d for e, d, r in sio.emitted if e == "session_refused"]
    assert len(issued) == 10 and len(refused) == 90
    assert refused[0] == {"error": "busy", "retry_after": 3}
    # A refused socket has no session: its messages go nowhere.
    assert run(sio.call("user_uttered", "s99", {"message": "hi"})) == {"ok": False, "error": "no_session"}
    # Resuming an existing session is not a new session: never refused.
    token = sio.confirmed("s0")["session_id"]
    run(sio.call("connect", "r1", environ, None))
    run(sio.call("session_request", "r1", {"session_id": token}))
    assert sio.confirmed("r1")["resumed"] is True
