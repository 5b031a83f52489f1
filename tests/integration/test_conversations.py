"""Whole conversations over REST against the real Rasa and action servers."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from bot.settings import get_settings

pytestmark = pytest.mark.integration
S = get_settings()


def texts(messages):
    return [m.get("text", "") for m in messages]


def joined(messages):
    return "\n".join(texts(messages))


def payloads(messages):
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def test_welcome_says_what_it_is_and_is_not(stack, sender):
    replies = stack.send(sender, "hello")
    text = joined(replies)
    assert "computer program, not a person" in text
    assert "999" in text and "not an emergency service" in text
    assert f"kept for {S.retention_days} days" in text
    assert "without your agreement" in text
    assert "/ask_talk_to_person" in payloads(replies)


def test_information_about_a_kind_then_signs_and_who_can_help(stack, sender):
    about = stack.send(sender, "what is financial abuse?")
    assert "/ask_signs{\"abuse_kind\":\"financial\"}" in payloads(about)
    signs = joined(stack.send(sender, '/ask_signs{"abuse_kind":"financial"}'))
    assert signs and signs != joined(about)
    # The kind is remembered: a typed follow-up is about money too.
    helpers = joined(stack.send(sender, "who can help with that?"))
    assert S.action_fraud_phone in helpers and S.council_phone in helpers


def test_describing_harm_gets_an_acknowledgement_and_the_safety_question(stack, sender):
    replies = stack.send(sender, "my grandson keeps my bank card and won't give it back")
    assert texts(replies)[-1] == "Is anyone in danger right now?"
    assert {"/inform_not_safe", "/inform_safe"} <= set(payloads(replies))
    options = stack.send(sender, "/inform_safe")
    assert "/ask_raise_concern" in payloads(options)


def test_danger_in_the_middle_of_another_topic_comes_first(stack, sender):
    stack.send(sender, "what is neglect")
    replies = stack.send(sender, "hes hitting me right now")
    assert texts(replies)[0].startswith("If you or anyone else is in danger now, call 999")
    assert S.emergency_bsl in texts(replies)[0]
    # ... and the conversation carries on afterwards.
    again = stack.send(sender, "what is self neglect")
    assert "999" not in texts(again)[0][:40]


def test_suicidal_intent_gets_999_and_samaritans(stack, sender):
    first = texts(stack.send(sender, "i dont want to live anymore"))[0]
    assert "999" in first and S.samaritans_phone in first


def test_suicidal_intent_about_someone_else_is_worded_for_them(stack, sender):
    first = texts(stack.send(sender, "my daughter just told me she wants to kill herself"))[0]
    assert "If they might act on this now" in first and S.samaritans_phone in first


def test_a_past_mention_does_not_raise_the_alarm(stack, sender):
    first = texts(stack.send(sender, "my dad was hit by a car years ago"))[0]
    assert "call 999" not in first


def test_two_misses_offer_a_person(stack, sender):
    first = stack.send(sender, "blorp fnarg wibble")
    assert "/ask_talk_to_person" in payloads(first)
    second = joined(stack.send(sender, "zzkx qqpl vrrm"))
    assert S.council_phone in second


BAD_INPUTS = {
    "empty": "",
    "whitespace": "   \n\t ",
    "ten_thousand": "a" * 10_000,
    "emoji": "😀🙏😢",
    "arabic": "أحتاج إلى مساعدة من فضلك",
    "chinese": "我需要帮助",
    "html": "<script>alert('x')</script><b>hi</b>",
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gets_a_kind_reply_and_the_server_stays_healthy(stack, sender, name):
    replies = stack.send(sender, BAD_INPUTS[name])
    text = joined(replies)
    assert text.strip(), f"no reply to {name}"
    for bad in ("Traceback", "Exception", "Error", "<script>"):
        assert bad not in text
    assert stack.alive()
    assert urllib.request.urlopen(f"{stack.rasa_url}/", timeout=5).status == 200


def test_a_long_message_is_refused_clearly_and_kept_verbatim(stack, sender):
    long_text = "My neighbour needs help. " * 400  # 10,000 characters
    replies = joined(stack.send(sender, long_text))
    assert "too long" in replies and "2,000" in replies
    stored = [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    # Rasa trims whitespace at either end of a message (UserMessage); every
    # character in between is kept.
    assert long_text.strip() in stored


def test_other_scripts_are_offered_an_interpreter(stack, sender):
    assert S.council_phone in joined(stack.send(sender, BAD_INPUTS["arabic"]))


def test_http_api_needs_the_token(stack, sender):
    stack.send(sender, "hello")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=10)
    assert err.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{stack.rasa_url}/conversations/{sender}/tracker?token=wrong", timeout=10)
    assert err.value.code == 401
    assert stack.tracker(sender)["sender_id"] == sender


def test_messages_are_stored_in_the_sql_tracker_store(stack, sender):
    import sqlite3

    stack.send(sender, "what is modern slavery")
    with sqlite3.connect(stack.db_path) as db:
        rows = db.execute("select data from events where sender_id = ? and type_name = 'user'", (sender,)).fetchall()
    assert any(json.loads(r[0])["text"] == "what is modern slavery" for r in rows)


def test_zz_replies_and_storage_survive_the_action_server_going_down(stack, sender):
    """Runs last in this module: it stops the action server."""
    stack.procs["actions"].terminate()
    stack.procs["actions"].wait(15)
    replies = stack.send(sender, "he is hitting me now")
    assert texts(replies)[0].startswith("If you or anyone else is in danger now, call 999")
    assert texts(stack.send(sender, "what is neglect"))
    stored = [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    assert stored == ["he is hitting me now", "what is neglect"]
