"""SMS through Twilio, end to end: the real Rasa server's channel, the real sender
process, the real ``twilio`` Client talking to a local Twilio peer over HTTP.

Inbound messages are signed by the test with Twilio's algorithm
(``tests/sms/twilio_peer.sign``), for the public URL a proxy would show
Twilio (``MSP_SMS_PUBLIC_URL``), and posted to the loopback port.
"""
from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import time
import uuid
from typing import Callable, Dict, List

import pytest

from bot.sms import texts
from scripts.stack import Stack, free_port, new_token
from tests.sms.twilio_peer import TwilioPeer, post_signed, sign

pytestmark = pytest.mark.integration

PUBLIC = "https://sms.example.test"
ACCOUNT = "AC" + secrets.token_hex(16)
TOKEN = secrets.token_hex(16)
OUR_NUMBER = "+447700900000"
PHONE = "01632 960 000"
TABLES = ("sms_numbers", "sms_inbound", "sms_opt_events", "sms_outbox", "sms_outbox_events")


@pytest.fixture(scope="module")
def peer():
    p = TwilioPeer(ACCOUNT, TOKEN, PUBLIC).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def sms_stack(trained_model, tmp_path_factory, peer):
    var_dir = tmp_path_factory.mktemp("sms-var")
    s = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(), var_dir=var_dir,
              token=new_token(), log_dir=var_dir / "logs", twilio_token=TOKEN, sms_sender=True,
              extra_env={"TWILIO_ACCOUNT_SID": ACCOUNT, "MSP_SMS_FROM": OUR_NUMBER,
                         "MSP_SMS_PUBLIC_URL": PUBLIC, "MSP_TWILIO_API_URL": peer.url,
                         "MSP_SMS_RETRY_SECONDS": "0.3", "MSP_SMS_MAX_ATTEMPTS": "4",
                         "MSP_SMS_LEASE_SECONDS": "2", "MSP_SMS_POLL_SECONDS": "0.1"})
    peer.local_url = s.rasa_url
    s.start()
    yield s
    s.stop()


def new_number() -> str:
    return "+4477009" + "".join(secrets.choice("0123456789") for _ in range(5))


def inbound(stack: Stack, frm: str, body: str, sid: str = "", signature=None, path="/webhooks/twilio/webhook"):
    params = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT, "From": frm,
              "To": OUR_NUMBER, "Body": body, "NumMedia": "0", "NumSegments": "1", "ApiVersion": "2010-04-01"}
    return post_signed(TOKEN, PUBLIC + path, stack.rasa_url + path, params, signature=signature), params


def query(stack: Stack, sql: str, args=()) -> List[tuple]:
    with sqlite3.connect(f"file:{stack.records_path}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, args).fetchall()


def counts(stack: Stack) -> Dict[str, int]:
    return {t: query(stack, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


def tracker_events(stack: Stack) -> int:
    if not stack.db_path.exists():
        return 0
    with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True, timeout=30) as db:
        return db.execute("SELECT count(*) FROM events").fetchone()[0]


def wait_for(cond: Callable[[], object], timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def outbox_for(stack: Stack, number: str) -> List[tuple]:
    return query(stack, "SELECT o.id, o.kind, o.state, o.attempts, o.twilio_sid, o.body FROM sms_outbox o "
                        "JOIN sms_numbers n ON n.id = o.number_id WHERE n.e164 = ? ORDER BY o.id", (number,))


def events(stack: Stack, outbox_id: int) -> List[str]:
    return [r[0] for r in query(stack, "SELECT event FROM sms_outbox_events WHERE outbox_id = ? ORDER BY id",
                                (outbox_id,))]


# --- 1. signatures -----------------------------------------------------------


def test_forged_missing_and_altered_signatures_get_403_and_store_nothing(sms_stack, peer):
    marker = "Forged message " + uuid.uuid4().hex
    before, before_events, before_sent = counts(sms_stack), tracker_events(sms_stack), len(peer.messages)
    number = new_number()
    path = "/webhooks/twilio/webhook"
    good = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT, "From": number, "To": OUR_NUMBER,
            "Body": marker}
    cases = {
        "missing": "",
        "wrong token": sign("not-the-token-" + TOKEN, PUBLIC + path, good),
        "garbage": "AAAA" + secrets.token_urlsafe(20),
        "signed for another URL": sign(TOKEN, "https://attacker.example" + path, good),
        "signed for the loopback URL, not the public one": sign(TOKEN, sms_stack.rasa_url + path, good),
    }
    for name, signature in cases.items():
        status, body = post_signed(TOKEN, PUBLIC + path, sms_stack.rasa_url + path, good, signature=signature)
        assert status == 403, name
        assert "Traceback" not in body
    # A real signature replayed with a changed body.
    original = dict(good, Body="HELP")
    signature = sign(TOKEN, PUBLIC + path, original)
    status, _ = post_signed(TOKEN, PUBLIC + path, sms_stack.rasa_url + path, dict(original, Body=marker),
                            signature=signature)
    assert status == 403
    status, _ = post_signed(TOKEN, PUBLIC + path, sms_stack.rasa_url + path, dict(original, From=new_number()),
                            signature=signature)
    assert status == 403
    # Status callbacks are checked too.
    cb = PUBLIC + "/webhooks/twilio/status?o=1"
    status, _ = post_signed(TOKEN, cb, sms_stack.rasa_url + "/webhooks/twilio/status?o=1",
                            {"MessageSid": "SM" + uuid.uuid4().hex, "MessageStatus": "delivered"},
                            signature=sign("wrong", cb, {"MessageSid": "x", "MessageStatus": "delivered"}))
    assert status == 403
    time.sleep(0.5)
    assert counts(sms_stack) == before
    assert tracker_events(sms_stack) == before_events
    assert len(peer.messages) == before_sent
    for log in (sms_stack.log_dir).glob("*.log"):
        assert marker not in log.read_text(errors="replace"), log.name


def test_a_correctly_signed_message_is_accepted_with_empty_twiml(sms_stack):
    (status, body), params = inbound(sms_stack, new_number(), "hello")
    assert status == 200
    assert body.replace(" ", "").endswith("<Response></Response>")
    assert query(sms_stack, "SELECT body FROM sms_inbound WHERE message_sid = ?", (params["MessageSid"],)) \
        == [("hello",)]


# --- 2. outbox and sender -----------------------------------------------------


def test_unknown_number_gets_a_neutral_reply_through_the_messages_api(sms_stack, peer):
    number = new_number()
    (status, _), _ = inbound(sms_stack, number, "Hi it's Jo, about what happened with my son")
    assert status == 200
    sent = wait_for(lambda: peer.sent_to(number), what="the reply at the Twilio peer")
    assert len(sent) == 1
    assert sent[0]["from"] == OUR_NUMBER
    assert sent[0]["body"] == texts.render("unknown")
    assert PHONE in sent[0]["body"]
    (row,) = wait_for(lambda: [r for r in outbox_for(sms_stack, number) if r[2] == "sent"], what="sent")
    assert row[4] == sent[0]["sid"]
    # Twilio's signed status callback reached the channel and was recorded.
    assert sent[0]["status_callback"] == f"{PUBLIC}/webhooks/twilio/status?o={row[0]}"
    wait_for(lambda: events(sms_stack, row[0]).count("status") == 2, what="status callbacks")
    # The sender records the send; on a busy machine Twilio's callback can
    # arrive first and record it ("reconciled"). Either way: sent once.
    assert events(sms_stack, row[0])[:2] == ["queued", "attempt"]
    assert events(sms_stack, row[0])[2] in ("sent", "reconciled")
    assert len(peer.sent_to(number)) == 1
    # Stored once, in E.164.
    assert query(sms_stack, "SELECT count(*) FROM sms_numbers WHERE e164 = ?", (number,)) == [(1,)]


def test_duplicate_message_sid_is_handled_once(sms_stack, peer):
    number, sid = new_number(), "SM" + uuid.uuid4().hex
    for _ in range(3):
        (status, _), _ = inbound(sms_stack, number, "anyone there?", sid=sid)
        assert status == 200
    wait_for(lambda: peer.sent_to(number), what="the reply")
    time.sleep(1.0)
    assert len(peer.sent_to(number)) == 1
    assert query(sms_stack, "SELECT count(*) FROM sms_inbound WHERE message_sid = ?", (sid,)) == [(1,)]
    assert len(outbox_for(sms_stack, number)) == 1


# --- 3. STOP, START, HELP ----------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", "stop", "Stopall", "UNSUBSCRIBE", "cancel", "End", "quit", " QUIT. "])
def test_stop_words_opt_out_with_no_reply(sms_stack, peer, word):
    number = new_number()
    (status, _), _ = inbound(sms_stack, number, word)
    assert status == 200
    assert query(sms_stack, "SELECT o.action FROM sms_opt_events o JOIN sms_numbers n ON n.id = o.number_id "
                            "WHERE n.e164 = ?", (number,)) == [("out",)]
    time.sleep(0.8)
    assert peer.sent_to(number) == []


def test_nothing_is_sent_after_stop_until_start_and_help_says_who_we_are(sms_stack, peer):
    number = new_number()
    inbound(sms_stack, number, "help")
    help_sms = wait_for(lambda: peer.sent_to(number), what="HELP reply")
    assert help_sms[0]["body"] == texts.render("help") and PHONE in help_sms[0]["body"]
    inbound(sms_stack, number, "Stop")
    for text in ("HELP", "what is this?", "info"):
        (status, _), _ = inbound(sms_stack, number, text)
        assert status == 200
    time.sleep(1.0)
    assert len(peer.sent_to(number)) == 1  # only the first HELP reply
    inbound(sms_stack, number, "START")
    wait_for(lambda: len(peer.sent_to(number)) == 2, what="START reply")
    assert peer.sent_to(number)[1]["body"] == texts.render("start")
    inbound(sms_stack, number, "HELP")
    wait_for(lambda: len(peer.sent_to(number)) == 3, what="HELP after START")
    opts = query(sms_stack, "SELECT o.action FROM sms_opt_events o JOIN sms_numbers n ON n.id = o.number_id "
                            "WHERE n.e164 = ? ORDER BY o.id", (number,))
    assert opts == [("out",), ("in",)]


def test_a_reply_queued_before_stop_is_not_sent_after_it(sms_stack, peer):
    number = new_number()
    peer.fail_next(1)  # the reply waits for a retry...
    inbound(sms_stack, number, "hello?")
    wait_for(lambda: ("POST", 500) in peer.requests, what="the failed send")
    inbound(sms_stack, number, "STOP")  # ...and STOP arrives meanwhile
    (row,) = wait_for(lambda: [r for r in outbox_for(sms_stack, number) if r[2] in ("suppressed", "sent")],
                      what="settled")
    assert row[2] == "suppressed"
    assert peer.sent_to(number) == []


# --- 4. failures -------------------------------------------------------------------


def test_twilio_500_then_recovering_sends_once(sms_stack, peer):
    number = new_number()
    peer.fail_next(2)
    inbound(sms_stack, number, "test")
    (row,) = wait_for(lambda: [r for r in outbox_for(sms_stack, number) if r[2] == "sent"], timeout=30,
                      what="sent after retries")
    assert row[3] == 3
    assert len(peer.sent_to(number)) == 1
    history = events(sms_stack, row[0])
    assert history[:6] == ["queued", "attempt", "retry", "attempt", "retry", "attempt"]
    # The peer's status callback can settle the row before the sender records
    # its own answer (a race the code handles on purpose): either way, once.
    assert history[6] in ("sent", "reconciled")


def test_twilio_down_for_good_ends_in_a_visible_failure(sms_stack, peer):
    number = new_number()
    peer.fail_next(4)
    inbound(sms_stack, number, "test")
    (row,) = wait_for(lambda: [r for r in outbox_for(sms_stack, number) if r[2] == "failed"], timeout=30,
                      what="failed")
    assert row[3] == 4
    assert query(sms_stack, "SELECT last_error FROM sms_outbox WHERE id = ?", (row[0],))[0][0].startswith(
        "Twilio answered 500")
    assert peer.sent_to(number) == []


def test_sender_killed_between_send_and_record_sends_once(sms_stack, peer):
    number = new_number()
    peer.send_callbacks = False  # so only the sender's own check with Twilio can settle it
    peer.hold()
    try:
        inbound(sms_stack, number, "hello")
        assert peer.wait_held(20), "the sender never reached Twilio"
        proc = sms_stack.procs["sms"]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        peer.release()
        time.sleep(0.5)
        (row,) = outbox_for(sms_stack, number)
        assert row[2] == "sending" and row[4] is None  # Twilio has it; our record does not
        assert len(peer.sent_to(number)) == 1
        sms_stack.respawn("sms")
        (row,) = wait_for(lambda: [r for r in outbox_for(sms_stack, number) if r[2] == "sent"], timeout=30,
                          what="reconciled")
        assert row[4] == peer.sent_to(number)[0]["sid"]
        assert "reconciled" in events(sms_stack, row[0])
        time.sleep(1.0)
        assert len(peer.sent_to(number)) == 1
        # The sender still sends new messages afterwards.
        other = new_number()
        inbound(sms_stack, other, "hi")
        wait_for(lambda: peer.sent_to(other), what="a later reply")
    finally:
        peer.release()
        peer.send_callbacks = True


def test_logs_hold_no_phone_number_or_text(sms_stack, peer):
    number = new_number()
    words = "My name is Zebedee Quartermaine " + uuid.uuid4().hex[:8]
    inbound(sms_stack, number, words)
    wait_for(lambda: peer.sent_to(number), what="reply")
    time.sleep(0.5)
    digits = number[1:]
    for log in sms_stack.log_dir.glob("*.log"):
        content = log.read_text(errors="replace")
        assert digits not in content and digits[2:] not in content, log.name
        assert "Zebedee" not in content and "Quartermaine" not in content, log.name
