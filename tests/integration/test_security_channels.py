"""Issue 10, items 1, 5 and 6: who can reach a conversation, and what a body may be.

Real servers on loopback, over HTTP and socket.io (the widget's own protocol).
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from typing import Optional, Tuple

import pytest

from scripts.stack import Stack, free_port, new_token
from tests.browser import sio

pytestmark = pytest.mark.integration

SECRET = "channel-tests-" + uuid.uuid4().hex
ORIGIN = "http://127.0.0.1:9"  # only ever an Origin header here: nothing listens there
LIMIT = 16 * 1024


@pytest.fixture(scope="module")
def sec_stack(trained_model, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("channels-var")
    s = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(),
              var_dir=var_dir, token=new_token(), log_dir=var_dir / "logs", rest_token=new_token(),
              widget_origins=[ORIGIN], extra_env={"MSP_WIDGET_SECRET": SECRET})
    s.start()
    yield s
    s.stop()


def post(url: str, body: bytes, headers: Optional[dict] = None) -> Tuple[int, object]:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def raw_post(stack: Stack, path: str, headers: dict, chunks, content_length: Optional[int] = None):
    """POST over a plain socket, stopping as soon as the server answers: (status, JSON body).

    A client that sends a whole 5 MB body to a server that has already refused
    it gets a reset; this one sends the head and then the body in pieces,
    reading the answer as soon as there is one, as a careful client would.
    """
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{stack.rasa_port}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head.append(f"Content-Length: {content_length}" if content_length is not None else "Transfer-Encoding: chunked")
    with socket.create_connection(("127.0.0.1", stack.rasa_port), timeout=30) as conn:
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        conn.settimeout(0.05)
        answer = b""
        sent = 0
        for chunk in chunks:
            try:
                answer += conn.recv(65536)
                break  # the server answered before the whole body was sent
            except socket.timeout:
                pass
            try:
                conn.sendall(chunk if content_length is not None
                             else f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        conn.settimeout(30)
        try:
            while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
                more = conn.recv(65536)
                if not more:
                    break
                answer += more
        except (ConnectionResetError, socket.timeout):
            pass
    status = int(answer.split(b" ", 2)[1])
    return status, json.loads(answer.split(b"\r\n\r\n", 1)[1] or b"null"), sent


def _length(answer: bytes) -> int:
    match = [line for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
             if line.lower().startswith(b"content-length:")]
    return int(match[0].split(b":")[1]) if match else 0


def rest(stack: Stack, payload, *, token: Optional[str] = "ours", raw: Optional[bytes] = None):
    headers = {}
    if token == "ours":
        headers["Authorization"] = f"Bearer {stack.rest_token}"
    elif token is not None:
        headers["Authorization"] = token
    body = raw if raw is not None else json.dumps(payload).encode()
    return post(f"{stack.rasa_url}/webhooks/rest/webhook", body, headers)


def tracker_events(stack: Stack, sender: str) -> list:
    return stack.tracker(sender)["events"]


def user_texts(stack: Stack, sender: str) -> list:
    return [e.get("text") for e in tracker_events(stack, sender) if e["event"] == "user"]


def new_sender() -> str:
    return f"rest-sec-{uuid.uuid4().hex}"


# --- item 1: REST needs a credential, and stays in its own namespace --------------------------

@pytest.mark.parametrize("auth", [None, "Bearer wrong-token-0123456789", "Basic dXNlcjpwYXNz", "Bearer", "ours-bare"])
def test_rest_needs_the_token(sec_stack, auth):
    sender = new_sender()
    if auth == "ours-bare":
        auth = sec_stack.rest_token  # the token without "Bearer"
    status, body = rest(sec_stack, {"sender": sender, "message": "hello"}, token=auth)
    assert status == 401, body
    assert body["error"] == "not_authorised" and "Bearer" in body["message"]
    assert user_texts(sec_stack, sender) == []


def test_rest_with_the_token_works(sec_stack):
    sender = new_sender()
    status, body = rest(sec_stack, {"sender": sender, "message": "what is neglect"})
    assert status == 200 and body and "text" in body[0]
    assert user_texts(sec_stack, sender) == ["what is neglect"]  # stored under exactly this id


@pytest.mark.parametrize("payload, code", [
    ({"message": "hello"}, "no_sender"),
    ({"sender": None, "message": "hello"}, "no_sender"),
    ({"sender": "", "message": "hello"}, "bad_sender"),
    ({"sender": 42, "message": "hello"}, "bad_sender"),
    ({"sender": ["rest-a"], "message": "hello"}, "bad_sender"),
    ({"sender": "rest-has space", "message": "hello"}, "bad_sender"),
    ({"sender": "rest-" + "x" * 101, "message": "hello"}, "bad_sender"),
    ({"sender": "rest-../../x", "message": "hello"}, "bad_sender"),
    ({"sender": "default", "message": "hello"}, "bad_sender"),
])
def test_a_missing_or_malformed_sender_is_refused(sec_stack, payload, code):
    status, body = rest(sec_stack, payload)
    assert status == 400, body
    assert body["error"] == code and body["message"]
    # Nothing went to the shared "default" conversation.
    assert user_texts(sec_stack, "default") == []


def _widget_conversation(stack: Stack) -> Tuple[str, str]:
    """A real widget conversation (socket.io): its session token and its sender id."""
    async def scenario():
        async with sio.Client(stack.rasa_url, ORIGIN) as client:
            token = (await client.session())["session_id"]
            ack = await client.say("my number is 01632 960 999")
            assert ack["ok"], ack
            return token

    token = sio.run(scenario)
    from bot.channels.widget import SessionTokens

    return token, SessionTokens(SECRET.encode(), 3600).sender_for_token(token)


def test_rest_cannot_reach_a_widget_conversation(sec_stack):
    _, web_sender = _widget_conversation(sec_stack)
    assert web_sender.startswith("web-")
    before = tracker_events(sec_stack, web_sender)
    for claimed in (web_sender, "WEB-" + web_sender[4:]):
        status, body = rest(sec_stack, {"sender": claimed, "message": "read my outcomes back"})
        assert status == 400 and body["error"] == "bad_sender", body
    # Claiming to be the widget's channel changes nothing either.
    status, body = rest(sec_stack, {"sender": web_sender, "message": "hello", "input_channel": "socketio"})
    assert status == 400
    assert tracker_events(sec_stack, web_sender) == before


def test_rest_cannot_claim_another_input_channel(sec_stack):
    sender = new_sender()
    status, body = rest(sec_stack, {"sender": sender, "message": "hello", "input_channel": "socketio"})
    assert status == 400 and body["error"] == "bad_input_channel", body
    assert rest(sec_stack, {"sender": sender, "message": "hello", "input_channel": "rest"})[0] == 200
    users = [e for e in tracker_events(sec_stack, sender) if e["event"] == "user"]
    assert [e["input_channel"] for e in users] == ["rest"]


def test_the_widget_cannot_name_a_rest_conversation(sec_stack):
    sender = new_sender()
    assert rest(sec_stack, {"sender": sender, "message": "hello"})[0] == 200

    async def scenario():
        async with sio.Client(sec_stack.rasa_url, ORIGIN) as client:
            confirm = await client.session(session_id=sender)
            assert confirm["resumed"] is False  # a fresh widget session, not the REST one
            ack = await client.say("intrusion", session_id=sender, sender=sender, sender_id=sender)
            assert ack["ok"], ack

    sio.run(scenario)
    assert user_texts(sec_stack, sender) == ["hello"]


def test_rest_is_switched_off_without_a_token(trained_model, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("rest-off-var")
    s = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(),
              var_dir=var_dir, token=new_token(), log_dir=var_dir / "logs")
    s.start()
    try:
        for auth in (None, "Bearer anything-at-all-0123456789"):
            status, body = post(s.rest_url, json.dumps({"sender": new_sender(), "message": "hi"}).encode(),
                                {"Authorization": auth} if auth else {})
            assert status == 403 and body["error"] == "rest_off" and "MSP_REST_TOKEN" in body["message"]
    finally:
        s.stop()


# --- item 5: bodies over 16 KB are refused before they are read ------------------------------

def test_a_huge_rest_body_is_refused_before_anything_is_stored(sec_stack):
    sender = new_sender()
    status, body = rest(sec_stack, {"sender": sender, "message": "x" * (LIMIT - 30)})
    assert status == 413, body
    assert body["error"] == "too_large" and "16 KB" in body["message"]
    # 5 MB, as the attack did: refused on its head, long before the body could be read.
    huge = json.dumps({"sender": sender, "message": "x" * (5 * 1024 * 1024)}).encode()
    pieces = [huge[i:i + 65536] for i in range(0, len(huge), 65536)]
    auth = {"Authorization": f"Bearer {sec_stack.rest_token}"}
    for length in (len(huge), None):  # with Content-Length, and chunked
        status, body, sent = raw_post(sec_stack, "/webhooks/rest/webhook", auth, pieces, length)
        assert status == 413 and body["error"] == "too_large", body
        assert sent < 1024 * 1024, f"the server let {sent} bytes in before refusing"
    assert user_texts(sec_stack, sender) == []
    # The server is fine and the conversation works.
    assert rest(sec_stack, {"sender": sender, "message": "hello"})[0] == 200


def test_a_long_text_under_the_body_limit_still_gets_the_kind_reply(sec_stack):
    sender = new_sender()
    text = "My neighbour needs help. " * 600  # 15,000 characters: over 2,000, under 16 KB
    status, body = rest(sec_stack, {"sender": sender, "message": text})
    assert status == 200
    replies = "\n".join(m.get("text", "") for m in body)
    assert "too long" in replies and "2,000" in replies
    assert user_texts(sec_stack, sender) == [text.strip()]


@pytest.mark.parametrize("path", ["/model/parse", "/conversations/{sender}/messages",
                                  "/conversations/{sender}/tracker/events"])
def test_a_huge_http_api_body_is_refused(sec_stack, path):
    sender = new_sender()
    url = f"{sec_stack.rasa_url}{path.format(sender=sender)}?token={sec_stack.token}"
    text = "y" * (LIMIT + 100)
    payload = ({"text": text} if "parse" in path else {"text": text, "sender": "user"} if "messages" in path
               else [{"event": "user", "text": text}])
    status, body = post(url, json.dumps(payload).encode())
    assert status == 413, body
    assert body["error"] == "too_large"
    assert user_texts(sec_stack, sender) == []


def test_a_huge_widget_message_closes_the_socket_unread(sec_stack):
    async def scenario():
        async with sio.Client(sec_stack.rasa_url, ORIGIN) as client:
            token = (await client.session())["session_id"]
            await client.emit("user_uttered", {"message": "z" * (LIMIT + 100), "id": "huge-1"})
            await client.closed.wait()
            return token, client.ws.close_code

    token, close_code = sio.run(scenario)
    assert close_code == 1009  # WebSocket "message too big"
    from bot.channels.widget import SessionTokens

    sender = SessionTokens(SECRET.encode(), 3600).sender_for_token(token)
    assert user_texts(sec_stack, sender) == []


def test_a_huge_long_polling_body_is_refused(sec_stack):
    # engine.io's HTTP long-polling transport: the limit holds there too.
    opening = urllib.request.Request(f"{sec_stack.rasa_url}/socket.io/?EIO=4&transport=polling",
                                     headers={"Origin": ORIGIN})
    with urllib.request.urlopen(opening, timeout=10) as resp:
        opened = json.loads(resp.read().decode()[1:])
    status, body = post(f"{sec_stack.rasa_url}/socket.io/?EIO=4&transport=polling&sid={opened['sid']}",
                        b"4" + b"2" * (LIMIT + 100), {"Origin": ORIGIN, "Content-Type": "text/plain"})
    assert status == 413, body


# --- item 6: JSON that is not an object, and messages that are not strings --------------------

@pytest.mark.parametrize("raw, code", [
    (b"", "empty_body"),
    (b"   ", "empty_body"),
    (b"[]", "not_an_object"),
    (b'["rest-a", "hello"]', "not_an_object"),
    (b'"hello"', "not_an_object"),
    (b"42", "not_an_object"),
    (b"null", "not_an_object"),
    (b"true", "not_an_object"),
    (b"{", "not_json"),
    (b"\xff\xfe{}", "not_json"),
])
def test_a_body_that_is_not_a_json_object_gets_400_with_a_reason(sec_stack, raw, code):
    status, body = rest(sec_stack, None, raw=raw)
    assert status == 400, body
    assert body["error"] == code and "JSON" in body["message"], body


@pytest.mark.parametrize("message, code", [
    (42, "bad_message"), (1.5, "bad_message"), (True, "bad_message"),
    (["hello"], "bad_message"), ({"text": "hello"}, "bad_message"), (None, "no_message"),
])
def test_a_message_that_is_not_a_string_gets_400_with_a_reason(sec_stack, message, code):
    sender = new_sender()
    status, body = rest(sec_stack, {"sender": sender, "message": message})
    assert status == 400, body
    assert body["error"] == code and "string" in body["message"]
    assert user_texts(sec_stack, sender) == []


def test_a_missing_message_or_bad_metadata_gets_400(sec_stack):
    status, body = rest(sec_stack, {"sender": new_sender()})
    assert status == 400 and body["error"] == "no_message"
    status, body = rest(sec_stack, {"sender": new_sender(), "message": "hi", "metadata": "x"})
    assert status == 400 and body["error"] == "bad_metadata"


def test_the_server_is_healthy_after_all_that(sec_stack):
    assert sec_stack.alive()
    sender = new_sender()
    assert rest(sec_stack, {"sender": sender, "message": "", "metadata": {"from": "test"}})[0] == 200
    assert user_texts(sec_stack, sender) == [""]

