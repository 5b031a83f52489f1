"""Understanding unseen phrasing, over REST against the real servers (issue 9)."""
from __future__ import annotations

import json

import pytest

from bot.settings import get_settings

pytestmark = pytest.mark.integration
S = get_settings()


def texts(messages):
    return [m.get("text", "") for m in messages]


def payloads(messages):
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def test_disguised_danger_gets_the_999_reply_and_is_stored_verbatim(stack, sender):
    # Cyrillic look-alike letters, a zero-width space and a soft hyphen.
    raw = "he is h\u0456tt\u0456ng me r\u200bight now and he has a kni\u00adfe"
    replies = stack.send(sender, raw)
    assert texts(replies)[0].startswith("If you or anyone else is in danger now, call 999")
    tracker = stack.tracker(sender)
    said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert said[-1] == raw


def test_a_wrong_kind_is_never_named_when_unsure_and_choices_are_offered(stack, sender):
    replies = stack.send(sender, "something bad is happening to me and i dont know who to tell")
    first = texts(replies)[0]
    assert first.startswith("Thank you for telling me.")
    assert "This may be" not in " ".join(texts(replies))
    assert "/ask_types_of_abuse" in payloads(replies)


def test_harm_words_never_get_out_of_scope(stack, sender):
    replies = stack.send(sender, "my carer pushed me over and now im scared of her")
    joined = " ".join(texts(replies))
    assert "can't help with that" not in joined


def test_danger_to_someone_else_says_what_to_do_for_them(stack, sender):
    replies = stack.send(sender, "my neighbour has collapsed on the floor and isn't breathing")
    assert texts(replies)[0].startswith("If someone is in danger now, call 999 for them")


def test_carer_strain_gets_carer_support(stack, sender):
    replies = stack.send(sender, "im a carer for my mum and im exhausted, i cant cope any more")
    assert any(S.carers_org_phone in t for t in texts(replies))


RAMBLING = ("We have been married forty years and it has always been up and down. Tonight he has taken "
            "the car keys and the big knife from the drawer and says he will finish it. He is in the garden "
            "now and I am upstairs with the door shut.")


@pytest.mark.parametrize("text", [
    RAMBLING,
    # (the rules now read "dementia ... can't find her" over the whole message, so this one is told differently)
    "my grandad is out in the garden in his pyjamas in the snow and wont come in, hes got alzheimers",
])
def test_danger_the_rules_do_not_reach_gets_the_999_reply(stack, sender, text):
    from bot.text.danger import detect

    assert detect(text).kind is None  # only the learned detector sees it
    replies = stack.send(sender, text)
    assert "call 999" in texts(replies)[0].split("\n")[0]
    parse = [e for e in stack.tracker(sender)["events"] if e["event"] == "user"][-1]["parse_data"]
    assert parse["safety_net"]["source"] == "learned"
