"""Live handoff end to end: the real Rasa server, action server and staff portal on loopback, a widget user
over socket.io, and two members of staff signed in to the portal over HTTP.

A person asks for a person in staffed hours and is queued; the console's event stream says so; two workers
press Claim at once and exactly one gets the chat; the person is told who joined; the worker's words reach
the person's socket through Rasa's HTTP API; what the person writes is stored verbatim and the assistant says
nothing; danger mid-handoff still gets the 999 reply at once, stored as automatic (the worker's alert); hand
back tells the person and the assistant answers again. Nobody claiming in time: the person is told and offered
a call back; saying yes takes them out of the queue into the call-back questions, whose answers are recorded
word for word, linked to the handoff, emailed to the duty team as a link only, and marked as called in the portal.
"""
from __future__ import annotations

import asyncio
import re
import threading
import time

import pytest
import requests

from bot.records import callbacks, handoffs, session_scope, staff
from bot.records.db import dispose_engines
from scripts.stack import Stack, free_port, new_token
from tests.browser.sio import Client, run

pytestmark = pytest.mark.integration

ALWAYS_STAFFED = {"MSP_HANDOFF_DAYS": "Mon-Sun", "MSP_HANDOFF_HOURS": "00:00-24:00",
                  "MSP_HANDOFF_BANK_HOLIDAYS": "none"}
PASSWORD = "a long enough password 7"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SEND_KEY = re.compile(r'name="send_key" value="([^"]+)"')
DUTY = "duty@example.gov.uk"


@pytest.fixture(scope="module")
def duty_relay():
    """A local SMTP server (aiosmtpd) standing in for the council's relay."""
    from tests.advocacy.provider_peer import SmtpProvider

    peer = SmtpProvider().start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def system(trained_model, tmp_path_factory, duty_relay):
    var_dir = tmp_path_factory.mktemp("handoff-var")
    origin = f"http://127.0.0.1:{free_port()}"
    relay = {"MSP_ADVOCACY_SMTP_HOST": "127.0.0.1", "MSP_ADVOCACY_SMTP_PORT": str(duty_relay.port),
             "MSP_ADVOCACY_SMTP_STARTTLS": "no", "MSP_ADVOCACY_FROM": "msp@example.gov.uk",
             "MSP_HANDOFF_DUTY_EMAIL": DUTY}
    stack = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(), var_dir=var_dir,
                  token=new_token(), log_dir=var_dir / "logs", portal_port=free_port(), widget_origins=[origin],
                  handoff_timeouts=True,
                  # Nobody claims in 18 s, or a worker leaves the person unanswered 18 s: the person is told
                  # (the other tests claim and answer within a few seconds).
                  # A fixed widget secret: a session token stays good across a restart of the Rasa server.
                  extra_env=dict(ALWAYS_STAFFED, MSP_PORTAL_COOKIE_SECURE="no",
                                 MSP_HANDOFF_CLAIM_TIMEOUT_MINUTES="0.3", MSP_HANDOFF_ANSWER_TIMEOUT_MINUTES="0.3",
                                 MSP_WIDGET_SECRET=new_token(),
                                 # A page closed for 8 s (90 s by default) ends a live handoff as "left".
                                 MSP_WIDGET_LEFT_AFTER_SECONDS="8", **relay))
    stack.start()
    try:
        yield stack, origin, duty_relay
    finally:
        stack.stop()
        dispose_engines()


def _account(stack, username, display_name):
    from bot.portal import credentials
    from bot.portal.config import Argon2Params
    from bot.records.totp_keys import TotpBox

    key = (stack.var_dir / "totp_key").read_text().strip()
    secret = credentials.new_totp_secret()
    with session_scope(stack.env()["DATABASE_URL"]) as db:
        user = staff.create_user(db, username, display_name=display_name, role="practitioner",
                                 password_hash=credentials.hash_password(PASSWORD, Argon2Params()))
        staff.enrol_totp(db, user, secret, 0, box=TotpBox((key,)))
    return secret


def _sign_in(stack, username, secret) -> requests.Session:
    from bot.portal import credentials

    web = requests.Session()
    base = stack.portal_url.rstrip("/")
    token = CSRF.search(web.get(f"{base}/auth/login").text).group(1)
    answer = web.post(f"{base}/auth/login", data={"csrf_token": token, "username": username, "password": PASSWORD},
                      allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/auth/code")
    token = CSRF.search(web.get(f"{base}/auth/code").text).group(1)
    answer = web.post(f"{base}/auth/code", data={"csrf_token": token, "code": credentials.totp_now(secret)},
                      allow_redirects=False)
    assert answer.status_code == 302, answer.text[:300]
    return web


def _csrf(stack, web) -> str:
    return CSRF.search(web.get(stack.portal_url).text).group(1)


def _first_event(stack, web, timeout=20.0) -> str:
    """The first Server-Sent Event of the console's stream."""
    with web.get(f"{stack.portal_url}handoff/events", stream=True, timeout=timeout) as response:
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event:"):
                return line.split(":", 1)[1].strip()
    return ""


def _texts(messages):
    return [m.get("text") or "" for m in messages]


def _live(url, handoff_id):
    with session_scope(url, read_only=True) as db:
        row = handoffs.get_handoff(db, handoff_id)
        return row.status, [(m.author, m.text) for m in handoffs.messages(db, handoff_id)]


async def _wait_for(client, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            message = await asyncio.wait_for(client.bot.get(), max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        seen.append(message)
        if predicate(message):
            return message, seen
    raise AssertionError(f"no such message; got {seen}")


def test_a_widget_user_asks_for_a_person_a_worker_claims_and_chats_then_hands_back(system):
    stack, origin, relay = system
    url = stack.env()["DATABASE_URL"]
    ann_secret, bob_secret = _account(stack, "ann.worker", "Ann Smith"), _account(stack, "bob.worker", "Bob Jones")
    ann, bob = _sign_in(stack, "ann.worker", ann_secret), _sign_in(stack, "bob.worker", bob_secret)
    base = stack.portal_url.rstrip("/")
    state = {}

    async def scenario():
        async with Client(stack.rasa_url, origin) as person:
            await person.session()
            await person.say("hello")
            await person.drain()

            await person.say("can I talk to a person please")
            asked = _texts(await person.drain())
            assert any("I have asked a member of the adult safeguarding team" in t and "999" in t for t in asked), \
                asked
            with session_scope(url, read_only=True) as db:
                [row] = handoffs.queue(db)
            state["id"] = row.id
            assert row.status == "waiting"

            # The duty team is emailed: a link to the portal, nothing the person wrote, no conversation id.
            deadline = time.monotonic() + 20
            while not relay.to(DUTY) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            [mail] = relay.to(DUTY)
            body = mail["message"].get_content()
            assert f"{stack.portal_url}handoff/{row.id}" in body
            with session_scope(url, read_only=True) as db:
                sender_id = handoffs.get_handoff(db, row.id).sender_id
            assert sender_id not in body and "person please" not in body

            # The console: the queue lists it, and its event stream says something changed.
            page = await asyncio.to_thread(ann.get, f"{base}/handoff/")
            assert page.status_code == 200 and f"Chat {row.id}" in page.text
            assert "script-src 'self'" in page.headers["Content-Security-Policy"]
            assert await asyncio.to_thread(_first_event, stack, ann) == "changed"

            # Two workers press Claim at the same moment: exactly one gets the chat.
            tokens = {"ann": _csrf(stack, ann), "bob": _csrf(stack, bob)}
            barrier = threading.Barrier(2)
            answers = {}

            def claim(name, web):
                barrier.wait()
                answers[name] = web.post(f"{base}/handoff/{row.id}/claim", data={"csrf_token": tokens[name]},
                                         allow_redirects=False).headers["Location"]

            workers = [threading.Thread(target=claim, args=item) for item in (("ann", ann), ("bob", bob))]
            for w in workers:
                w.start()
            await asyncio.to_thread(lambda: [w.join(60) for w in workers])
            outcomes = sorted(location.rsplit("done=", 1)[1] for location in answers.values())
            assert outcomes == ["claimed", "taken"], answers
            winner_name = "ann" if answers["ann"].endswith("done=claimed") else "bob"
            winner = ann if winner_name == "ann" else bob
            first_name = "Ann" if winner_name == "ann" else "Bob"

            joined, _ = await _wait_for(person, lambda m: (m.get("custom") or {}).get("handoff") == "joined")
            assert joined["custom"]["name"] == first_name

            # The worker writes; the person's socket gets it, marked as staff.
            # The form is sent twice at once (a double click, from a second
            # connection with the same login) and once more afterwards (a
            # re-sent page): the person gets it once, and it is stored once.
            words = f"Hello, I'm {first_name} from the adult safeguarding team. How can I help?"
            page = await asyncio.to_thread(winner.get, f"{base}/handoff/{row.id}")
            form = {"csrf_token": CSRF.search(page.text).group(1), "message": words,
                    "send_key": SEND_KEY.search(page.text).group(1)}
            twin = requests.Session()
            twin.cookies.update(winner.cookies)
            both = await asyncio.gather(*(asyncio.to_thread(web.post, f"{base}/handoff/{row.id}/send", data=form,
                                                            allow_redirects=False) for web in (winner, twin)))
            again = await asyncio.to_thread(winner.post, f"{base}/handoff/{row.id}/send", data=form,
                                            allow_redirects=False)
            for sent in (*both, again):
                assert sent.status_code == 302 and sent.headers["Location"].endswith("done=sent")
            message, _ = await _wait_for(person, lambda m: (m.get("custom") or {}).get("from") == "staff")
            assert message["custom"] == {"from": "staff", "name": first_name, "text": words}
            assert not [m for m in await person.drain(1.5) if (m.get("custom") or {}).get("from") == "staff"]
            with session_scope(url, read_only=True) as db:
                assert [m.text for m in handoffs.messages(db, row.id) if m.author == "worker"] == [words]
            # The loser cannot write in it.
            refused = await asyncio.to_thread((bob if winner is ann else ann).post, f"{base}/handoff/{row.id}/send",
                                              data={"csrf_token": _csrf(stack, bob if winner is ann else ann),
                                                    "message": "me too"})
            assert refused.status_code == 409

            # The person answers: stored word for word, and the assistant says nothing.
            ack = await person.say("my son has my bank card and   won't give it back")
            assert ack["ok"] is True
            assert await person.drain(1.5) == []
            await person.say("what is financial abuse")  # a question the assistant would answer: not now
            assert await person.drain(1.5) == []

            # Danger in the middle of the handoff: the 999 reply at once.
            await person.say("he's hitting me right now")
            danger = _texts(await person.drain())
            assert any("999" in t for t in danger), danger

            # The worker's conversation view shows it all, with the automatic reply as an alert.
            view = await asyncio.to_thread(winner.get, f"{base}/handoff/{row.id}/messages")
            assert "Alert: the assistant gave this reply by itself" in view.text
            assert "won&#39;t give it back" in view.text

            # Hand back: the person is told, and the assistant answers again.
            back = await asyncio.to_thread(winner.post, f"{base}/handoff/{row.id}/hand-back",
                                           data={"csrf_token": _csrf(stack, winner)}, allow_redirects=False)
            assert back.headers["Location"].endswith("done=handed_back")
            await _wait_for(person, lambda m: (m.get("custom") or {}).get("handoff") == "left")
            await person.say("what is financial abuse")
            answer = _texts(await person.drain())
            assert any("money" in t.lower() or "financial" in t.lower() for t in answer), answer

    run(scenario, timeout=240)
    status, messages = _live(url, state["id"])
    assert status == "handed_back"
    authors = [a for a, _ in messages]
    assert authors[0] == "person" and "worker" in authors and "automatic" in authors
    texts = [t for _, t in messages]
    assert "my son has my bank card and   won't give it back" in texts  # verbatim, inner spaces kept
    assert "what is financial abuse" in texts and "he's hitting me right now" in texts
    automatic = [t for a, t in messages if a == "automatic"]
    assert automatic and all("999" in t for t in automatic[:1])


def test_the_worker_sees_that_the_person_left(system):
    stack, origin, relay = system
    url = stack.env()["DATABASE_URL"]
    secret = _account(stack, "cat.worker", "Cat Brown")
    cat = _sign_in(stack, "cat.worker", secret)
    base = stack.portal_url.rstrip("/")

    async def scenario():
        async with Client(stack.rasa_url, origin) as person:
            await person.session()
            await person.say("I want to talk to a person")
            await person.drain()
            with session_scope(url, read_only=True) as db:
                [row] = [r for r in handoffs.queue(db) if r.status == "waiting"]
            await person.emit("leave")  # "Leave this page" / Shift three times
            await asyncio.wait_for(person.closed.wait(), 10)
            return row.id

    handoff_id = run(scenario, timeout=120)
    deadline = time.monotonic() + 10
    while _live(url, handoff_id)[0] != "left" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _live(url, handoff_id)[0] == "left"
    page = cat.get(f"{base}/handoff/{handoff_id}")
    assert "The person left" in page.text and "Claim this chat" not in page.text


def test_closing_the_page_ends_the_handoff_as_left_but_a_reload_does_not(system):
    stack, origin, relay = system
    url = stack.env()["DATABASE_URL"]
    hal = _sign_in(stack, "hal.worker", _account(stack, "hal.worker", "Hal Reed"))
    base = stack.portal_url.rstrip("/")
    state = {}

    async def ask():
        async with Client(stack.rasa_url, origin) as person:
            state["token"] = (await person.session())["session_id"]
            await person.say("can I talk to someone please")
            await person.drain()
            with session_scope(url, read_only=True) as db:
                [row] = [r for r in handoffs.queue(db) if r.status == "waiting"]
            state["id"] = row.id
        # The socket closes here without "leave": a reload, or the page closed.

    async def reload():
        async with Client(stack.rasa_url, origin) as person:
            assert (await person.session(session_id=state["token"]))["resumed"] is True
            await asyncio.sleep(11)  # longer than the 8 s: the page is open again, so nobody left
            assert _live(url, state["id"])[0] == "waiting"

    run(ask, timeout=60)
    run(reload, timeout=60)
    # Now the page stays closed.
    deadline = time.monotonic() + 30
    while _live(url, state["id"])[0] != "left" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _live(url, state["id"])[0] == "left"
    page = hal.get(f"{base}/handoff/{state['id']}")
    assert "The person left" in page.text and "Claim this chat" not in page.text


def test_nobody_claims_in_time_the_person_is_told_once_and_can_keep_waiting(system):
    stack, origin, relay = system
    url = stack.env()["DATABASE_URL"]
    secret = _account(stack, "dan.worker", "Dan Green")
    dan = _sign_in(stack, "dan.worker", secret)
    base = stack.portal_url.rstrip("/")

    async def scenario():
        async with Client(stack.rasa_url, origin) as person:
            await person.session()
            await person.say("can I speak to a human please")
            await person.drain()
            with session_scope(url, read_only=True) as db:
                [row] = [r for r in handoffs.queue(db) if r.status == "waiting"]
            started = time.monotonic()
            notice, _ = await _wait_for(person, lambda m: "nobody from the team is free" in (m.get("text") or ""),
                                        timeout=45)
            waited = time.monotonic() - started
            assert "keep waiting" in notice["text"] and "999" in notice["text"]
            assert await person.drain(7) == []  # once only (the watcher looks every 5 s)
            # Still in the queue: a worker can still claim it, and the person hears they joined.
            claimed = await asyncio.to_thread(dan.post, f"{base}/handoff/{row.id}/claim",
                                              data={"csrf_token": _csrf(stack, dan)}, allow_redirects=False)
            assert claimed.headers["Location"].endswith("done=claimed")
            await _wait_for(person, lambda m: (m.get("custom") or {}).get("handoff") == "joined")
            return row.id, waited

    handoff_id, waited = run(scenario, timeout=180)
    assert waited < 40
    status, messages = _live(url, handoff_id)
    assert status == "claimed"
    assert [a for a, t in messages if "nobody from the team is free" in t] == ["automatic"]


def _wait_rasa_ready(stack, timeout=180.0):
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{stack.rasa_url}/status?token={stack.token}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("the Rasa server did not come back")


def _age_conversation(stack, sender_id, seconds):
    """Make every stored event of the conversation ``seconds`` older (as if the person had been idle)."""
    import sqlite3

    with sqlite3.connect(stack.db_path, timeout=30) as db:
        db.execute("UPDATE events SET timestamp = timestamp - ?, "
                   "data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - ?) "
                   "WHERE sender_id = ?", (seconds, seconds, sender_id))


def test_a_handoff_survives_a_restart_of_the_rasa_server_and_a_new_session(system):
    stack, origin, relay = system
    url = stack.env()["DATABASE_URL"]
    eve = _sign_in(stack, "eve.worker", _account(stack, "eve.worker", "Eve White"))
    base = stack.portal_url.rstrip("/")
    state = {}

    async def before_restart():
        async with Client(stack.rasa_url, origin) as person:
            state["token"] = (await person.session())["session_id"]
            await person.say("I need to talk to a real person")
            await person.drain()
            with session_scope(url, read_only=True) as db:
                [row] = [r for r in handoffs.queue(db) if r.status == "waiting"]
                state["id"], state["sender"] = row.id, handoffs.get_handoff(db, row.id).sender_id
            claimed = await asyncio.to_thread(eve.post, f"{base}/handoff/{row.id}/claim",
                                              data={"csrf_token": _csrf(stack, eve)}, allow_redirects=False)
            assert claimed.headers["Location"].endswith("done=claimed")
            await _wait_for(person, lambda m: (m.get("custom") or {}).get("handoff") == "joined")
            sent = await asyncio.to_thread(eve.post, f"{base}/handoff/{row.id}/send",
                                           data={"csrf_token": _csrf(stack, eve), "message": "Hello, I'm Eve."},
                                           allow_redirects=False)
            assert sent.headers["Location"].endswith("done=sent")
            await _wait_for(person, lambda m: (m.get("custom") or {}).get("from") == "staff")

    async def silent_then_reached(words, reply):
        async with Client(stack.rasa_url, origin) as person:
            resumed = await person.session(session_id=state["token"])
            assert resumed["resumed"] is True
            await person.drain(1)
            assert (await person.say(words))["ok"] is True
            assert await person.drain(2) == []  # still with the worker: the assistant says nothing
            sent = await asyncio.to_thread(eve.post, f"{base}/handoff/{state['id']}/send",
                                           data={"csrf_token": _csrf(stack, eve), "message": reply},
                                           allow_redirects=False)
            assert sent.headers["Location"].endswith("done=sent")
            message, _ = await _wait_for(person, lambda m: (m.get("custom") or {}).get("from") == "staff")
            assert message["custom"]["text"] == reply

    run(before_restart, timeout=120)
    stack.procs["rasa"].terminate()
    stack.procs["rasa"].wait(30)
    stack.respawn("rasa")
    _wait_rasa_ready(stack)
    run(lambda: silent_then_reached("are you still there?", "Yes, I'm still here."), timeout=120)

    # Two hours idle: Rasa starts a new session with empty slots; our action_session_start puts the
    # handoff back from the records, so the assistant still does not butt in.
    _age_conversation(stack, state["sender"], 2 * 3600)
    run(lambda: silent_then_reached("sorry, I had to go out", "Welcome back."), timeout=120)
    tracker = stack.tracker(state["sender"])
    assert tracker["slots"]["handoff"] == "claimed"
    assert [e["event"] for e in tracker["events"]].count("session_started") == 2  # the first, and the new one
    status, messages = _live(url, state["id"])
    assert status == "claimed"
    person_words = [t for a, t in messages if a == "person"]
    assert "are you still there?" in person_words and "sorry, I had to go out" in person_words


def test_a_worker_who_does_not_answer_leaves_the_person_told_not_ignored(system):
    stack, origin, relay = system
    url = stack.env()["DATABASE_URL"]
    fay = _sign_in(stack, "fay.worker", _account(stack, "fay.worker", "Fay Black"))
    base = stack.portal_url.rstrip("/")

    async def scenario():
        async with Client(stack.rasa_url, origin) as person:
            await person.session()
            await person.say("can I talk to a person")
            await person.drain()
            with session_scope(url, read_only=True) as db:
                [row] = [r for r in handoffs.queue(db) if r.status == "waiting"]
            await asyncio.to_thread(fay.post, f"{base}/handoff/{row.id}/claim", data={"csrf_token": _csrf(stack, fay)})
            await asyncio.to_thread(fay.post, f"{base}/handoff/{row.id}/send",
                                    data={"csrf_token": _csrf(stack, fay), "message": "Hello, I'm Fay."})
            await _wait_for(person, lambda m: (m.get("custom") or {}).get("from") == "staff")
            await person.say("my carer shouts at me")
            notice, _ = await _wait_for(person, lambda m: "has not answered yet" in (m.get("text") or ""), timeout=45)
            assert "999" in notice["text"]
            assert await person.drain(7) == []  # once for that message
            return row.id

    handoff_id = run(scenario, timeout=180)
    status, messages = _live(url, handoff_id)
    assert status == "claimed"
    assert [a for a, t in messages][-2:] == ["person", "automatic"]


async def _answer(person, words, expect, timeout=20.0):
    """Say ``words`` and wait for the reply that contains ``expect``; every reply's text up to it."""
    await person.say(words)
    message, seen = await _wait_for(person, lambda m: expect in (m.get("text") or ""), timeout=timeout)
    return message, _texts(seen)


def test_nobody_claims_in_time_the_person_asks_for_a_call_back_which_is_recorded_and_sent_to_the_duty_team(system):
    stack, origin, relay = system
    url = stack.env()["DATABASE_URL"]
    gus = _sign_in(stack, "gus.worker", _account(stack, "gus.worker", "Gus Grey"))
    base = stack.portal_url.rstrip("/")

    async def scenario():
        async with Client(stack.rasa_url, origin) as person:
            await person.session()
            await person.say("can I talk to a person please")
            await person.drain()
            with session_scope(url, read_only=True) as db:
                [row] = [r for r in handoffs.queue(db) if r.status == "waiting"]
            notice, _ = await _wait_for(person, lambda m: "Would you like a call back?" in (m.get("text") or ""),
                                        timeout=45)
            assert "keep waiting" in notice["text"] and "999" in notice["text"]
            assert [r["payload"] for r in notice.get("quick_replies") or []] == ["/affirm", "/deny"]

            # "Yes, call me back": out of the queue, and the first question.
            await _answer(person, "/affirm", "Is the call back for you, or for someone else?")
            assert _live(url, row.id)[0] == "callback_requested"
            await _answer(person, "For me", "Is it safe for us to phone you?")
            # Danger still comes first, then the question again.
            _, danger = await _answer(person, "he's hitting me right now", "999")
            assert any("999" in t for t in danger)
            await person.drain(1)
            await _answer(person, "ok", "Is it safe for us to phone you?")
            await _answer(person, "yes, he's at work till 5", "What number should we call you on?")
            await _answer(person, "my number is 12345", "does not look like a UK phone number")
            await _answer(person, "my mobile is 07700 900123", "When is it safe to call you?")
            await _answer(person, "weekday mornings,  not after 3", "may we leave a message?")
            await _answer(person, "no", "Who else might answer that phone?")
            await _answer(person, "nobody, it's my own phone", "I have asked the adult safeguarding team to call back")
            return row.id

    handoff_id = run(scenario, timeout=240)
    with session_scope(url, read_only=True) as db:
        [request] = [r for r in callbacks.list_requests(db) if r.handoff_id == handoff_id]
        view = callbacks.request_view(db, request.id)
    assert {key: words for key, _, words in view.answers} == {
        "safe_words": "yes, he's at work till 5", "number_words": "my mobile is 07700 900123",
        "safe_times": "weekday mornings,  not after 3", "message_words": "no",
        "others_words": "nobody, it's my own phone"}
    assert (view.number, view.leave_message, view.asked_by, view.channel, view.status) == (
        "+447700900123", False, "person", "web", "requested")

    # The duty team's email: a link to the request, nothing the person said.
    deadline = time.monotonic() + 20
    mails = []
    while not mails and time.monotonic() < deadline:
        mails = [m for m in relay.to(DUTY) if f"(request {view.id})" in m["message"]["Subject"]]
        time.sleep(0.2)
    [mail] = mails
    body = mail["message"].get_content()
    assert f"{stack.portal_url}handoff/callbacks/{view.id}" in body
    assert "07700" not in body and "+44" not in body and "weekday" not in body and view.sender_id not in body

    # A worker sees it in the portal and marks it as called.
    page = gus.get(f"{base}/handoff/callbacks/{view.id}")
    assert page.status_code == 200 and "+447700900123" in page.text and "weekday mornings,  not after 3" in page.text
    marked = gus.post(f"{base}/handoff/callbacks/{view.id}/outcome",
                      data={"csrf_token": _csrf(stack, gus), "outcome": "called"}, allow_redirects=False)
    assert marked.headers["Location"].endswith(f"/handoff/callbacks/{view.id}?done=called")
    with session_scope(url, read_only=True) as db:
        assert callbacks.request_view(db, view.id).status == "called"
