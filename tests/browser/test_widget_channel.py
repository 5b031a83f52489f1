"""The widget's socket.io channel on the real Rasa server: who may connect, and
that a client can neither choose, read nor write another person's session.

The browser cases use real Chromium; the protocol cases a bare Socket.IO client
(``sio.py``) that can send what a browser would never send.
"""
from __future__ import annotations

import secrets

import pytest

from tests.browser.sio import Client, Refused, run


def _user_events(site, sender):
    return [e for e in site.tracker(sender)["events"] if e["event"] == "user"]


def test_a_page_on_another_origin_is_refused(chat, site):
    # Same server, same page, but http://localhost:<port> is not on the allow-list.
    other = site.demo.replace("127.0.0.1", "localhost")
    chat.goto(other)
    chat.page.click(".msp-launcher")
    chat.page.wait_for_function("() => document.querySelector('.msp').dataset.connection === 'offline'",
                                timeout=20_000)
    assert "cannot connect" in chat.page.inner_text(".msp-status")
    assert "999" in chat.page.inner_text(".msp-status")
    assert chat.bot_texts() == []
    assert (chat.state() or {}).get("token") is None  # no session was ever issued
    chat.screenshot("refused-origin")
    # The refusal came from the server, not from the page's own policy.
    assert not chat.csp_errors()


def test_connections_without_an_allowed_origin_are_refused(site):
    async def attempt(origin):
        try:
            async with Client(site.stack.rasa_url, origin) as client:
                return (await client.session())["session_id"]
        except Refused as exc:
            return f"refused: {exc}"

    assert run(lambda: attempt("https://evil.example")).startswith("refused: HTTP 400")
    assert run(lambda: attempt(site.origin.replace("127.0.0.1", "localhost"))).startswith("refused")
    assert run(lambda: attempt(None)).startswith("refused")  # no Origin header at all
    assert not run(lambda: attempt(site.origin)).startswith("refused")


def test_the_server_issues_the_session_and_ignores_ids_from_the_client(site):
    async def scenario():
        async with Client(site.stack.rasa_url, site.origin) as a:
            first = await a.session()
            token_a = first["session_id"]
            assert first["resumed"] is False
            ack = await a.say("hello")
            assert ack["ok"] is True
            await a.drain()
        async with Client(site.stack.rasa_url, site.origin) as b:
            sender_a = site.sender_for(token_a)
            # Made-up, tampered and borrowed ids get a new session of their own.
            for claimed in ("my-own-id", sender_a, token_a[:-1] + ("A" if token_a[-1] != "A" else "B"),
                            secrets.token_urlsafe(32)):
                got = await b.session(session_id=claimed)
                assert got["resumed"] is False and got["session_id"] not in (claimed, token_a)
            token_b = got["session_id"]
            # Messages naming someone else's session still go to this socket's own.
            ack = await b.say("intrusion", session_id=token_a, sender=sender_a, sender_id=sender_a)
            assert ack["ok"] is True
            replies = await b.drain()
            return token_a, token_b, replies

    token_a, token_b, replies = run(scenario)
    sender_a, sender_b = site.sender_for(token_a), site.sender_for(token_b)
    assert sender_a != sender_b
    assert [e["text"] for e in _user_events(site, sender_a)] == ["hello"]
    assert [e["text"] for e in _user_events(site, sender_b)] == ["intrusion"]
    assert replies and all(r["seq"] >= 1 and r["ts"] > 0 for r in replies)


def test_a_token_resumes_only_its_own_conversation_and_replays_what_was_missed(site):
    async def scenario():
        async with Client(site.stack.rasa_url, site.origin) as a:
            token = (await a.session())["session_id"]
            await a.say("hello")
            seen = await a.drain()
        async with Client(site.stack.rasa_url, site.origin) as again:
            resumed = await again.session(session_id=token, epoch=seen[0]["epoch"], last_seq=1)
        return token, seen, resumed

    token, seen, resumed = run(scenario)
    assert resumed["resumed"] is True and resumed["session_id"] == token
    assert [m["seq"] for m in resumed["messages"]] == [m["seq"] for m in seen[1:]]
    assert [m.get("text") for m in resumed["messages"]] == [m.get("text") for m in seen[1:]]


def test_a_repeated_message_id_is_answered_once(site):
    async def scenario():
        async with Client(site.stack.rasa_url, site.origin) as a:
            token = (await a.session())["session_id"]
            first = await a.say("what is neglect", id="m-1")
            replies = await a.drain()
            again = await a.say("what is neglect", id="m-1")
            replies_again = await a.drain()
        return token, first, replies, again, replies_again

    token, first, replies, again, replies_again = run(scenario)
    assert first["ok"] and not first.get("duplicate")
    assert again["ok"] and again["duplicate"] is True
    assert replies and replies_again == []
    assert [e["text"] for e in _user_events(site, site.sender_for(token))].count("what is neglect") == 1


@pytest.mark.parametrize("payload, error", [
    ({"message": 42}, "bad_message"),
    ({"message": "x" * 10_001}, "too_long"),
    ({"message": "hi", "id": "not an id!"}, "bad_id"),
])
def test_malformed_messages_are_refused_with_a_reason(site, payload, error):
    async def scenario():
        async with Client(site.stack.rasa_url, site.origin) as a:
            before = await a.call("user_uttered", {"message": "hello"})  # no session yet
            await a.session()
            return before, await a.call("user_uttered", payload)

    before, ack = run(scenario)
    assert before == {"ok": False, "error": "no_session"}
    assert ack["ok"] is False and ack["error"] == error


def test_the_invitation_in_the_link_travels_with_the_session(chat, site):
    invitation = secrets.token_urlsafe(32)
    chat.page.goto(f"{site.demo}#invite={invitation}")
    chat.page.wait_for_selector("#msp-panel:not([hidden])")  # an invitation opens the chat
    chat.wait_idle(min_bot=1)
    assert "invite" not in chat.page.url  # taken out of the address bar and this history entry
    assert invitation not in chat.page.evaluate("sessionStorage.getItem('msp-chat')")
    chat.send("hello")
    events = _user_events(site, chat.sender())
    assert all(e["metadata"].get("invitation") == invitation for e in events)
    # Rasa keeps the first message's metadata as the session's, in the session_started_metadata slot.
    slots = [e["value"] for e in site.tracker(chat.sender())["events"]
             if e["event"] == "slot" and e["name"] == "session_started_metadata"]
    assert slots and slots[0]["invitation"] == invitation
