"""Erasure of one conversation on request (admin.erase, admin.erase_confirm): administrators only,
a confirmation step, CSRF, audited (who, when, which id, why), and no case content on any page."""
from __future__ import annotations

import pytest
from rasa.shared.core.events import BotUttered, UserUttered

from bot.records import transcripts
from tests.portal.helpers import audit_rows, csrf_of, write_events

SECRET_WORDS = "my brother takes my pension every friday"


@pytest.fixture
def conversation(tracker):
    write_events(tracker, "web-erase-me", [
        UserUttered(SECRET_WORDS, {"name": "inform_harm", "confidence": 1.0}, message_id="e1"),
        BotUttered("I'm sorry that is happening. You can call Exampleshire Council."),
    ])
    write_events(tracker, "web-keep-me", [UserUttered("hello", {"name": "greet", "confidence": 1.0}, message_id="k1")])
    return "web-erase-me"


def stored(config):
    with transcripts.connect(config.tracker_url) as connection:
        return set(transcripts.all_sender_ids(connection))


def test_an_administrator_erases_a_conversation_after_confirming_without_seeing_it(
        signed_in, conversation, config, records_url):
    client, admin = signed_in("admin")
    pages = [client.get("/admin/erase")]
    token = csrf_of(pages[0])
    pages.append(client.post("/admin/erase", data={"csrf_token": token, "sender_id": conversation,
                                                    "reason": "Asked by phone, request DSR-7"}))
    confirm = pages[-1].get_data(as_text=True)
    assert pages[-1].status_code == 200 and "Confirm the erasure" in confirm
    assert conversation in confirm and "2 stored events" in confirm
    # Not ticked: nothing happens, and the page says why.
    pages.append(client.post("/admin/erase/confirm", data={"csrf_token": token, "sender_id": conversation,
                                                           "reason": "Asked by phone, request DSR-7"}))
    assert pages[-1].status_code == 200 and "Tick the box" in pages[-1].get_data(as_text=True)
    assert conversation in stored(config)
    done = client.post("/admin/erase/confirm", data={"csrf_token": token, "sender_id": conversation,
                                                     "reason": "Asked by phone, request DSR-7", "confirm": "yes"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/erase?done=1")
    pages.append(client.get("/admin/erase?done=1"))
    assert "The conversation is erased" in pages[-1].get_data(as_text=True)
    assert stored(config) == {"web-keep-me"}
    for page in pages:  # the administrator never saw a word of it
        body = page.get_data(as_text=True)
        assert SECRET_WORDS not in body and "pension" not in body and "sorry that is happening" not in body

    checked, = audit_rows(records_url, "conversation.erase_checked")
    erased, = audit_rows(records_url, "conversation.erased")
    for row in (checked, erased):
        assert (row["username"], row["role"], row["target"], row["client"]) == \
            (admin.username, "admin", f"conversation:{conversation}", "127.0.0.1")
    assert "DSR-7" in erased["detail"] and "pension" not in erased["detail"]


def test_after_erasure_the_transcript_is_gone_for_everyone(signed_in, conversation, config):
    admin, _ = signed_in("admin")
    lead, _ = signed_in("lead")
    assert lead.get(f"/conversations/{conversation}").status_code == 200
    token = csrf_of(admin.get("/admin/erase"))
    admin.post("/admin/erase/confirm", data={"csrf_token": token, "sender_id": conversation, "reason": "DSR-8",
                                             "confirm": "yes"})
    assert lead.get(f"/conversations/{conversation}").status_code == 404


def test_an_administrator_cannot_read_the_transcript(signed_in, conversation):
    client, _ = signed_in("admin")
    response = client.get(f"/conversations/{conversation}")
    assert response.status_code == 403 and SECRET_WORDS not in response.get_data(as_text=True)
    assert SECRET_WORDS not in client.get("/conversations/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["practitioner", "lead", "auditor"])
def test_only_administrators_may_erase(signed_in, conversation, config, role, records_url):
    client, _ = signed_in(role)
    token = csrf_of(client.get("/"))
    form = {"csrf_token": token, "sender_id": conversation, "reason": "x", "confirm": "yes"}
    assert client.get("/admin/erase").status_code == 403
    assert client.post("/admin/erase", data=form).status_code == 403
    assert client.post("/admin/erase/confirm", data=form).status_code == 403
    assert conversation in stored(config)
    assert audit_rows(records_url, "conversation.erased") == []


def test_erasure_needs_the_forms_csrf_token_and_a_known_id_and_a_reason(signed_in, conversation, config):
    client, _ = signed_in("admin")
    token = csrf_of(client.get("/admin/erase"))
    no_csrf = client.post("/admin/erase/confirm", data={"sender_id": conversation, "reason": "x", "confirm": "yes"})
    assert no_csrf.status_code == 400 and conversation in stored(config)
    unknown = client.post("/admin/erase", data={"csrf_token": token, "sender_id": "web-nobody", "reason": "x"})
    assert unknown.status_code == 200 and "no conversation with that id" in unknown.get_data(as_text=True)
    bad = client.post("/admin/erase", data={"csrf_token": token, "sender_id": "<script>", "reason": "x"})
    assert bad.status_code == 200 and "only letters, digits" in bad.get_data(as_text=True)
    no_reason = client.post("/admin/erase", data={"csrf_token": token, "sender_id": conversation, "reason": " "})
    assert no_reason.status_code == 200 and "Reason is missing" in no_reason.get_data(as_text=True)
    gone = client.post("/admin/erase/confirm", data={"csrf_token": token, "sender_id": "web-nobody",
                                                     "reason": "x", "confirm": "yes"})
    assert gone.status_code == 404
    assert conversation in stored(config)
