"""The console with a texter's chat (test client): shown as "text message"; claim, the worker's words and
the end go into the SMS outbox with the message, once; never a revealing word, never to a number that has
replied STOP (the worker is told); a texter who left shows as left.

No Rasa server runs here: Rasa's copy of each text is best effort (the text goes anyway). The real path
(Rasa, the action server, the sender and a Twilio peer) is tested in
``tests/integration/test_handoff_sms_e2e.py``.
"""
from __future__ import annotations

import re

import pytest

from bot.records import handoffs, session_scope
from bot.records import sms as sms_records
from bot.records.models import SmsOutbox
from tests.portal.helpers import audit_rows, csrf_of


@pytest.fixture(autouse=True)
def _no_rasa(monkeypatch):
    for name in ("RASA_TOKEN", "RASA_TOKEN_FILE", "MSP_RASA_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def texting(records_url):
    """A texter waiting for a person: (handoff id, number id)."""
    with session_scope(records_url) as db:
        number = sms_records.get_or_create_number(db, "+447700900461")
        handoff, _ = handoffs.request_handoff(db, f"sms-{number.id}", "sms")
        handoffs.add_message(db, handoff.id, "person", "can I talk to a person", message_id="SM1")
        return handoff.id, number.id


def _post(client, path, **data):
    return client.post(path, data=dict(data, csrf_token=csrf_of(client.get("/"))))


def _outbox(url):
    with session_scope(url, read_only=True) as db:
        return [(r.kind, r.body, r.source_ref) for r in db.query(SmsOutbox).order_by(SmsOutbox.id)]


def _messages(url, handoff_id):
    with session_scope(url, read_only=True) as db:
        return [(m.author, m.text) for m in handoffs.messages(db, handoff_id)]


def test_a_texters_chat_is_claimed_written_in_and_handed_back_through_the_outbox(signed_in, texting, records_url):
    handoff_id, _ = texting
    ann, _ = signed_in("practitioner")  # "Practitioner 1": by first name, "Practitioner"
    assert "(text message)" in ann.get("/handoff/queue").get_data(as_text=True)
    assert "(text message)" in ann.get(f"/handoff/{handoff_id}").get_data(as_text=True)
    claimed = _post(ann, f"/handoff/{handoff_id}/claim")
    assert claimed.headers["Location"].endswith("done=claimed")  # queued: the text goes without Rasa
    words = "Hello, I'm Ann.   Is it safe to text now?"
    sent = _post(ann, f"/handoff/{handoff_id}/send", message=words)
    assert sent.headers["Location"].endswith("done=sent")
    outbox = _outbox(records_url)
    assert [(kind, body) for kind, body, _ in outbox] == [
        ("handoff", "Practitioner has joined this chat. You are now texting a person. If anyone is in danger now, call 999."),
        ("handoff", f"Practitioner: {words}")]
    assert outbox[0][2] == f"handoff:{handoff_id}:joined"
    assert _messages(records_url, handoff_id)[-1] == ("worker", words)  # verbatim, without the name
    back = _post(ann, f"/handoff/{handoff_id}/hand-back")
    assert back.headers["Location"].endswith("done=handed_back")
    last = _outbox(records_url)[-1]
    assert last[2] == f"handoff:{handoff_id}:ended" and "has left the chat" in last[1]
    assert [r["outcome"] for r in audit_rows(records_url) if r["action"] == "handoff.send"] == ["ok"]


def test_a_revealing_word_is_refused_and_nothing_is_stored_or_sent(signed_in, texting, records_url):
    handoff_id, _ = texting
    ann, _ = signed_in("practitioner")
    _post(ann, f"/handoff/{handoff_id}/claim")
    before = _outbox(records_url)
    refused = _post(ann, f"/handoff/{handoff_id}/send", message="We take abuse seriously.")
    assert refused.status_code == 400
    assert "never say &#34;abuse&#34;" in refused.get_data(as_text=True) or \
        'never say "abuse"' in refused.get_data(as_text=True)
    assert _outbox(records_url) == before
    assert [a for a, _ in _messages(records_url, handoff_id)] == ["person"]
    assert [r["outcome"] for r in audit_rows(records_url) if r["action"] == "handoff.send"] == ["refused"]


def test_a_number_that_replied_stop_is_sent_nothing_and_the_worker_is_told(signed_in, texting, records_url):
    handoff_id, number_id = texting
    ann, _ = signed_in("practitioner")
    _post(ann, f"/handoff/{handoff_id}/claim")
    before = _outbox(records_url)
    with session_scope(records_url) as db:
        sms_records.record_opt(db, number_id, "out", "stop")
    refused = _post(ann, f"/handoff/{handoff_id}/send", message="Are you there?")
    assert refused.status_code == 409 and "replied STOP" in refused.get_data(as_text=True)
    assert _outbox(records_url) == before
    assert [a for a, _ in _messages(records_url, handoff_id)] == ["person"]
    closed = _post(ann, f"/handoff/{handoff_id}/close")
    assert closed.headers["Location"].endswith("done=opted_out")
    page = ann.get(closed.headers["Location"]).get_data(as_text=True)
    assert "nothing was sent" in page
    assert _outbox(records_url) == before


def test_a_texter_who_left_shows_as_left(signed_in, texting, records_url):
    handoff_id, _ = texting
    with session_scope(records_url) as db:
        handoffs.end(db, handoff_id, "left")
    ann, _ = signed_in("practitioner")
    page = ann.get(f"/handoff/{handoff_id}").get_data(as_text=True)
    assert "The person left" in page and "Claim this chat" not in page


def test_a_form_sent_twice_is_texted_and_stored_once(signed_in, texting, records_url):
    handoff_id, _ = texting
    ann, _ = signed_in("practitioner")
    _post(ann, f"/handoff/{handoff_id}/claim")
    page = ann.get(f"/handoff/{handoff_id}").get_data(as_text=True)
    key = re.search(r'name="send_key" value="([^"]+)"', page).group(1)
    for _ in range(2):  # a double click, or the page sent again
        sent = _post(ann, f"/handoff/{handoff_id}/send", message="Are you safe to talk?", send_key=key)
        assert sent.headers["Location"].endswith("done=sent")
    # a new page has a new key: the same words again are a new message
    fresh = re.search(r'name="send_key" value="([^"]+)"', ann.get(f"/handoff/{handoff_id}").get_data(as_text=True))
    assert fresh.group(1) != key
    _post(ann, f"/handoff/{handoff_id}/send", message="Are you safe to talk?", send_key=fresh.group(1))
    assert [body for kind, body, _ in _outbox(records_url)][1:] == ["Practitioner: Are you safe to talk?"] * 2
    assert _messages(records_url, handoff_id)[-2:] == [("worker", "Are you safe to talk?")] * 2
    assert [r["outcome"] for r in audit_rows(records_url) if r["action"] == "handoff.send"] == ["ok", "refused", "ok"]
