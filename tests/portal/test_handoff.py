"""The live handoff console with the test client: the queue, the event stream, one claim wins, only the
claimer writes, nothing is stored when the person could not be reached, every step audited.

No Rasa server runs here (``RASA_TOKEN`` unset): the path through Rasa's HTTP API to the person's socket is
tested with the real servers in ``tests/integration/test_handoff_e2e.py``.
"""
from __future__ import annotations

import pytest
from rasa.shared.core.events import UserUttered

from bot.records import handoffs, session_scope
from tests.portal.helpers import audit_rows, csrf_of, write_events


@pytest.fixture(autouse=True)
def _no_rasa(monkeypatch):
    for name in ("RASA_TOKEN", "RASA_TOKEN_FILE", "MSP_RASA_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def waiting(records_url, tracker):
    """A conversation that asked for a person: its handoff id."""
    write_events(tracker, "web-ask", [UserUttered("my neighbour shouts at me", {"name": "describe_psychological",
                                                                                  "confidence": 1.0},
                                                  message_id="m-1")])
    with session_scope(records_url) as db:
        handoff, _ = handoffs.request_handoff(db, "web-ask", "web")
        handoffs.add_message(db, handoff.id, "person", "can I talk to someone real", message_id="m-2")
        handoffs.add_message(db, handoff.id, "automatic", "If you are in danger now, call 999.", kind="danger")
        return handoff.id


def _post(client, path, **data):
    return client.post(path, data=dict(data, csrf_token=csrf_of(client.get("/"))))


def test_the_queue_shows_waiting_chats_with_their_alerts_and_is_audited(signed_in, waiting, records_url):
    client, _ = signed_in("practitioner")
    page = client.get("/handoff/").get_data(as_text=True)
    assert f"Chat {waiting}" in page and "1 automatic 999 reply" in page
    assert 'data-events="/handoff/events"' in page and "/static/handoff.js" in page
    fragment = client.get("/handoff/queue").get_data(as_text=True)
    assert f"Chat {waiting}" in fragment and "<html" not in fragment
    assert [r["target"] for r in audit_rows(records_url, "handoff.queue")][-1] == f"handoff:{waiting}"


def test_the_event_stream_says_changed(signed_in, waiting):
    client, _ = signed_in("lead")
    response = client.get("/handoff/events")
    assert response.mimetype == "text/event-stream"
    assert "event: changed\n" in response.get_data(as_text=True)


def test_the_conversation_so_far_and_the_messages_since(signed_in, waiting, records_url):
    client, _ = signed_in("practitioner")
    page = client.get(f"/handoff/{waiting}").get_data(as_text=True)
    assert "my neighbour shouts at me" in page  # before they asked, from the tracker store
    assert "can I talk to someone real" in page and "Alert: the assistant gave this reply by itself" in page
    assert "Claim this chat" in page and "Your message" not in page
    assert audit_rows(records_url, "handoff.view")[-1]["target"] == f"handoff:{waiting}"


def test_one_claim_wins_and_the_other_is_told_it_was_taken(signed_in, waiting, records_url):
    ann, ann_account = signed_in("practitioner")
    bob, _ = signed_in("lead")
    first = _post(ann, f"/handoff/{waiting}/claim")
    second = _post(bob, f"/handoff/{waiting}/claim")
    # Claimed, but with no Rasa server here the person could not be told.
    assert first.headers["Location"].endswith(f"/handoff/{waiting}?done=untold")
    assert second.headers["Location"].endswith(f"/handoff/{waiting}?done=taken")
    with session_scope(records_url, read_only=True) as db:
        row = handoffs.get_handoff(db, waiting)
        assert (row.status, row.claimed_by_id) == ("claimed", ann_account.id)
    outcomes = [(r["action"], r["outcome"]) for r in audit_rows(records_url) if r["action"] == "handoff.claim"]
    assert outcomes == [("handoff.claim", "ok"), ("handoff.claim", "refused")]
    page = ann.get(f"/handoff/{waiting}?done=untold").get_data(as_text=True)
    assert "the person could not be told" in page and "Your message" in page and "Hand back" in page
    assert "Your message" not in bob.get(f"/handoff/{waiting}").get_data(as_text=True)


def test_only_the_claimer_writes_and_nothing_is_stored_that_did_not_reach_the_person(signed_in, waiting,
                                                                                      records_url):
    ann, _ = signed_in("practitioner")
    bob, _ = signed_in("practitioner")
    assert _post(bob, f"/handoff/{waiting}/send", message="hello").status_code == 409  # not claimed yet
    _post(ann, f"/handoff/{waiting}/claim")
    assert _post(bob, f"/handoff/{waiting}/send", message="hello").status_code == 409
    assert _post(bob, f"/handoff/{waiting}/hand-back").status_code == 409
    failed = _post(ann, f"/handoff/{waiting}/send", message="Hello, I'm Ann.")
    assert failed.status_code == 503 and "was not sent" in failed.get_data(as_text=True)
    with session_scope(records_url, read_only=True) as db:
        assert [m.author for m in handoffs.messages(db, waiting)] == ["person", "automatic"]


def test_a_form_without_its_token_is_refused(signed_in, waiting, records_url):
    client, _ = signed_in("practitioner")
    assert client.post(f"/handoff/{waiting}/claim").status_code == 400
    with session_scope(records_url, read_only=True) as db:
        assert handoffs.get_handoff(db, waiting).status == "waiting"


def test_close_ends_it_for_everyone(signed_in, waiting, records_url):
    client, _ = signed_in("lead")
    assert _post(client, f"/handoff/{waiting}/close").headers["Location"].endswith("done=untold")
    assert _post(client, f"/handoff/{waiting}/close").status_code == 409
    assert f"Chat {waiting}" not in client.get("/handoff/queue").get_data(as_text=True)
    assert "Closed" in client.get(f"/handoff/{waiting}").get_data(as_text=True)


def test_the_console_script_is_served_from_the_portal(client):
    response = client.get("/static/handoff.js")
    assert response.status_code == 200 and "EventSource" in response.get_data(as_text=True)
