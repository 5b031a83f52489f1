"""Issue 10, items 2, 3 and 4, against the real Rasa and action servers (REST and socket.io).

2. Reading back outcomes needs the invitation of this visit; a used code never works again.
3. Quick exit ends the session for good: after a restart, and on every socket joined to it.
4. Guessing codes with a new sender id each time meets a limit for everyone; a burst of new
   widget sessions is refused.

The tests run in file order: the flood of wrong codes (item 4) comes after the tests
that need short codes to work.
"""
from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
import uuid

import pytest

from bot.records import create_enquiry, create_invitation, outcome_history, session_scope
from bot.settings import get_settings
from scripts.stack import Stack, free_port, new_token
from tests.browser.sio import Client, run

pytestmark = pytest.mark.integration
S = get_settings()
ORIGIN = "http://127.0.0.1:9"  # a page origin on the allow-list (no page is needed here)
SECRET = "integration-" + secrets.token_hex(16)
WORDS = "I want my son to stop taking my pension. Call Mary on 07700 900123."


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("var-security")
    s = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(), var_dir=var_dir,
              token=new_token(), log_dir=var_dir / "logs", widget_origins=[ORIGIN], rest_token=new_token(),
              extra_env={"MSP_WIDGET_SECRET": SECRET})
    s.start()
    yield s
    s.stop()


@pytest.fixture
def url(stack):
    return stack.env()["DATABASE_URL"]


def joined(messages):
    return "\n".join(m.get("text", "") for m in messages)


def new_invitation(url, enquiry_id=None):
    with session_scope(url) as session:
        if enquiry_id is None:
            enquiry_id = create_enquiry(session, f"SG-SEC-{uuid.uuid4().hex[:8]}").id
        issued = create_invitation(session, enquiry_id)
        return enquiry_id, issued.code, issued.link()


def record_words(stack, sender, code, words=WORDS):
    """First visit: link with the code, say what they want, finish."""
    assert "now linked" in joined(stack.send(sender, code))
    stack.send(sender, "For myself")
    assert "What would you like to happen?" in joined(stack.send(sender, "yes"))
    assert words in joined(stack.send(sender, words))
    reply = joined(stack.send(sender, "yes"))
    if "yearly figures" in reply:
        reply = joined(stack.send(sender, "Skip this"))
    assert "anything else" in reply
    stack.send(sender, "no")
    stack.send(sender, "A letter")


def idle(stack, sender, seconds):
    """As if the conversation had been idle for ``seconds``: every stored event moved back in time.

    Rasa decides whether a session has expired from the timestamp of the last user
    message it loads from the tracker store, so the next message starts a new session."""
    with sqlite3.connect(stack.db_path, timeout=30) as db:
        db.execute(
            "UPDATE events SET timestamp = timestamp - ?, data = json_set(data, '$.timestamp', "
            "json_extract(data, '$.timestamp') - ?) WHERE sender_id = ?", (seconds, seconds, sender))


# --- item 2 ---------------------------------------------------------------------------------------

def test_after_the_session_lapses_the_used_code_reads_nothing_back(stack, sender, url):
    enquiry_id, code, _ = new_invitation(url)
    record_words(stack, sender, code)
    idle(stack, sender, 2 * 3600)  # Rasa sessions expire after 60 idle minutes

    # Whoever now holds this conversation (the person, or someone who reached it) sends
    # the old code again: it has been used, and nothing is read back.
    again = joined(stack.send(sender, code))
    assert "already been used" in again and S.council_phone in again
    later = joined(stack.send(sender, "For myself"))
    assert "07700" not in later and "pension" not in later and "Welcome back" not in later
    # Not from another sender either.
    assert "already been used" in joined(stack.send(f"{sender}-other", code))


def test_a_new_invitation_for_the_new_visit_reads_back_the_words(stack, sender, url):
    enquiry_id, code, _ = new_invitation(url)
    record_words(stack, sender, code)
    idle(stack, sender, 2 * 3600)
    _, fresh, _ = new_invitation(url, enquiry_id)
    assert "now linked" in joined(stack.send(sender, fresh))
    review = joined(stack.send(sender, "For myself"))
    assert "Welcome back" in review and WORDS in review
    with session_scope(url, read_only=True) as session:
        assert [r.text for r in outcome_history(session, enquiry_id)] == [WORDS]


# --- item 3 ---------------------------------------------------------------------------------------

async def _session(url, **data):
    client = Client(url, ORIGIN)
    await client.__aenter__()
    return client, await client.session(**data)


def test_quick_exit_still_holds_after_the_server_restarts(stack):
    async def leave():
        client, confirmed = await _session(stack.rasa_url)
        await client.say("what is financial abuse")
        await client.drain()
        await client.emit("leave")
        await asyncio.wait_for(client.closed.wait(), 10)
        await client.__aexit__(None, None, None)
        return confirmed["session_id"]

    token = run(leave)
    # Restart the Rasa server (a deploy, a crash): nothing in its memory survives.
    proc = stack.procs["rasa"]
    proc.terminate()
    proc.wait(30)
    stack.respawn("rasa")
    stack.wait_ready(180)

    async def resume():
        client, confirmed = await _session(stack.rasa_url, session_id=token, epoch="x", last_seq=0)
        await client.__aexit__(None, None, None)
        return confirmed

    confirmed = run(resume)
    assert confirmed["resumed"] is False and confirmed["session_id"] != token
    assert confirmed["messages"] == []


def test_quick_exit_disconnects_every_socket_joined_to_the_session(stack):
    async def scenario():
        first, confirmed = await _session(stack.rasa_url)
        token = confirmed["session_id"]
        await first.say("hello")
        await first.drain()
        second, again = await _session(stack.rasa_url, session_id=token, epoch=confirmed["epoch"], last_seq=0)
        assert again["resumed"] is True
        await first.emit("leave")
        await asyncio.wait_for(second.closed.wait(), 10)  # the server closed the other socket too
        try:
            await second.emit("user_uttered", {"message": "are you still there?"})
        except Exception:  # noqa: BLE001 - the socket is closed, as it should be
            pass
        await first.__aexit__(None, None, None)
        await second.__aexit__(None, None, None)
        return token

    token = run(scenario)
    from bot.channels.widget import SessionTokens

    sender = SessionTokens(SECRET.encode(), 3600).sender_id(token.split(".")[0])
    texts = [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    assert texts == ["hello"]


# --- item 4 ---------------------------------------------------------------------------------------

def test_a_burst_of_new_widget_sessions_is_refused(stack):
    async def burst():
        async with Client(stack.rasa_url, ORIGIN) as client:
            started = time.monotonic()
            for _ in range(100):
                await client.emit("session_request", {})
            answers = [await asyncio.wait_for(client.confirm.get(), 10) for _ in range(100)]
            return answers, time.monotonic() - started

    answers, seconds = run(burst)
    issued = [a for a in answers if not a.get("refused")]
    refused = [a for a in answers if a.get("refused")]
    assert len(issued) <= 12 and len(refused) >= 88, (len(issued), seconds)
    assert all(a["error"] == "busy" and a["retry_after"] >= 1 for a in refused)


def test_rotating_sender_ids_does_not_escape_the_code_limit(stack, url):
    """One guesser, a new sender id for every wrong code (REST lets the client choose it)."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from bot.records.models import CodeFailure, utcnow

    with session_scope(url, read_only=True) as session:  # wrong codes earlier in this module
        before = session.execute(select(func.count(CodeFailure.id)).where(
            CodeFailure.attempted_at > utcnow() - timedelta(minutes=5))).scalar_one()
    allowed = 30 - before  # the default: 30 wrong codes in 5 minutes, from everyone together
    replies = []
    for n in range(40):
        guess = "".join(secrets.choice("23456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8))
        replies.append(joined(stack.send(f"rest-guesser-{uuid.uuid4().hex}", f"my code is {guess}")))
    assert 0 < allowed <= 30
    assert all("couldn't find that code" in r for r in replies[:allowed])
    assert all("too many tries" in r for r in replies[allowed:]), replies[allowed:]
    # While the flood lasts, a real code from anyone waits too; the link (unguessable) works.
    enquiry_id, code, link = new_invitation(url)
    assert "too many tries" in joined(stack.send(f"rest-person-{uuid.uuid4().hex}", code))
    assert "now linked" in joined(stack.send(f"rest-person-{uuid.uuid4().hex}", link))
