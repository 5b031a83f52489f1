"""Invitation -> outcomes form -> database, over REST with the real servers."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.actions.outcome_categories import FALLBACK, suggest_category
from bot.records import (
    consent_history,
    create_enquiry,
    create_invitation,
    list_participants,
    outcome_history,
    session_scope,
)
from bot.settings import get_settings

pytestmark = pytest.mark.integration
S = get_settings()
MIXED = 'I want <b>him</b> to stop & <script>alert("x")</script> 😊 — and Zoë to visit. 请帮我 Привет'
LONG = ("I would like some help in the garden and with the shopping every week. " * 40)[:2000]


def joined(messages):
    return "\n".join(m.get("text", "") for m in messages)


def buttons(messages):
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


@pytest.fixture
def url(stack):
    return stack.env()["DATABASE_URL"]


def new_invitation(url, enquiry_id=None):
    with session_scope(url) as session:
        if enquiry_id is None:
            enquiry_id = create_enquiry(session, f"SG-E2E-{uuid.uuid4().hex[:8]}").id
        issued = create_invitation(session, enquiry_id)
        return enquiry_id, issued.code


def start(stack, sender, url, role="For myself"):
    """Link with a new invitation, answer who for, give consent; the enquiry's id."""
    enquiry_id, code = new_invitation(url)
    stack.send(sender, code)
    stack.send(sender, role)
    stack.send(sender, "yes")
    return enquiry_id


def confirm(stack, sender, words, group="Skip this"):
    """Say yes to the read-back; answer the suggested group, if one is suggested."""
    reply = joined(stack.send(sender, "yes"))
    if suggest_category(words) == FALLBACK:
        assert "saved that" in reply and "yearly figures" not in reply
        return reply
    assert "saved that" in reply and "yearly figures" in reply
    return joined(stack.send(sender, group))


def test_outcomes_are_recorded_exactly_as_typed(stack, sender, url):
    enquiry_id, code = new_invitation(url)
    linked = joined(stack.send(sender, f"my code is {code.lower()}"))
    assert "now linked" in linked and "for yourself, or for someone else" in linked
    assert "SG-E2E" not in linked  # nothing about the enquiry is shown
    assert "write down" in joined(stack.send(sender, "For myself"))
    assert "What would you like to happen?" in joined(stack.send(sender, "yes"))

    read_back = joined(stack.send(sender, MIXED))
    assert MIXED in read_back and "Is that right?" in read_back
    # "No": asked again, nothing recorded yet.
    assert "tell me again" in joined(stack.send(sender, "no"))
    assert MIXED in joined(stack.send(sender, MIXED))
    assert "anything else" in confirm(stack, sender, MIXED)
    assert "What else" in joined(stack.send(sender, "yes"))

    too_long = joined(stack.send(sender, LONG + "x"))
    assert "2,000" in too_long
    assert LONG in joined(stack.send(sender, LONG))
    assert "anything else" in confirm(stack, sender, LONG)
    assert "keep you up to date" in joined(stack.send(sender, "no"))
    done = joined(stack.send(sender, "A letter"))
    assert "what is possible" in done

    with session_scope(url, read_only=True) as session:
        rows = outcome_history(session, enquiry_id)
        assert [row.text for row in rows] == [MIXED, LONG]
        assert all(row.channel == "web" and row.recorded_by == "assistant" for row in rows)
        assert [p.role for p in list_participants(session, enquiry_id)] == ["person"]
        assert [c.decision for c in consent_history(session, enquiry_id)] == ["given"]


def test_representative_refuses_consent(stack, sender, url):
    enquiry_id, code = new_invitation(url)
    stack.send(sender, code)
    consent = joined(stack.send(sender, "For someone else"))
    assert "Thank you for helping them" in consent
    refused = joined(stack.send(sender, "no"))
    assert "won't write anything down" in refused and S.council_phone in refused
    with session_scope(url, read_only=True) as session:
        assert outcome_history(session, enquiry_id) == []
        assert [p.role for p in list_participants(session, enquiry_id)] == ["representative"]
        assert [c.decision for c in consent_history(session, enquiry_id)] == ["refused"]


def test_danger_in_the_form_comes_first_and_the_question_is_asked_again(stack, sender, url):
    enquiry_id = start(stack, sender, url)
    danger = joined(stack.send(sender, "he's hitting me right now"))
    assert danger.startswith("If you or anyone else is in danger now, call 999")
    again = joined(stack.send(sender, "ok"))
    assert "What would you like to happen?" in again
    assert "Is that right?" in joined(stack.send(sender, "I want to feel safe at home"))
    with session_scope(url, read_only=True) as session:
        assert outcome_history(session, enquiry_id) == []


def test_talk_to_a_person_in_the_form_then_carry_on(stack, sender, url):
    _, code = new_invitation(url)
    stack.send(sender, code)
    replies = joined(stack.send(sender, "I want to talk to a person"))
    assert S.council_phone in replies and "for yourself, or for someone else" in replies


def test_bad_codes_get_a_kind_message_and_a_person(stack, sender, url):
    unknown = joined(stack.send(sender, "my code is XR5T-9PLW"))
    assert "couldn't find that code" in unknown and S.council_phone in unknown
    _, code = new_invitation(url)
    stack.send(f"{sender}-first", code)
    used = joined(stack.send(sender, f"my code is {code}"))
    assert "already been used" in used and S.council_phone in used


def test_a_suggested_group_is_added_only_when_the_person_agrees(stack, sender, url):
    enquiry_id = start(stack, sender, url)
    words = "I want the police to prosecute him"
    stack.send(sender, words)
    reply = joined(stack.send(sender, "yes"))
    # Recorded like any other, with an honest note about what is possible.
    assert "police and the courts decide" in reply and "For the police to prosecute" in reply
    assert "anything else" in joined(stack.send(sender, "/affirm"))
    with session_scope(url, read_only=True) as session:
        rows = outcome_history(session, enquiry_id)
        assert [(r.version, r.text, r.category) for r in rows] == [
            (1, words, None), (2, words, "police_prosecute")]


def test_a_returning_person_hears_their_words_and_changes_and_withdraws(stack, sender, url):
    enquiry_id, code = new_invitation(url)
    first, second = "I want <i>him</i> gone 😊 — 请", "to see my friends"
    stack.send(sender, code)
    stack.send(sender, "For myself")
    stack.send(sender, "yes")
    for n, words in enumerate((first, second)):
        stack.send(sender, words)
        confirm(stack, sender, words)
        stack.send(sender, "yes" if n == 0 else "no")
    stack.send(sender, "A letter")

    # Later, a new invitation for the same enquiry, a new conversation.
    _, code = new_invitation(url, enquiry_id)
    later = f"{sender}-later"
    stack.send(later, code)
    replies = stack.send(later, "For myself")  # consent is on record: not asked again
    review = joined(replies)
    assert f'1. "{first}"\n2. "{second}"' in review and "Welcome back" in review
    assert buttons(replies) == ["Add something", "Change one", "Take one away", "Keep them as they are"]
    # "Which one?" is sent by the Rasa server, a button per outcome (its number as payload).
    replies = stack.send(later, "Change one")
    assert "Which one would you like to change?" in joined(replies)
    assert [(b["title"], b["payload"]) for m in replies for b in m.get("buttons") or []] == [
        ("1: I want <i>him</i> gone 😊 —…", "1"), (f"2: {second}", "2")]  # six words at most
    assert f'"{second}"' in joined(stack.send(later, "2"))
    assert "Is that right?" in joined(stack.send(later, "to see my friends every week"))
    assert "anything else" in confirm(stack, later, "to see my friends every week")
    assert "This is what is written down now" in joined(stack.send(later, "yes"))
    assert "Which one would you like to take away?" in joined(stack.send(later, "Take one away"))
    assert f'"{first}"' in joined(stack.send(later, "1"))
    assert "taken away" in joined(stack.send(later, "yes"))
    assert "saved just as you wrote them" in joined(stack.send(later, "no"))  # contact known: not asked

    with session_scope(url, read_only=True) as session:
        rows = [(r.version, r.status, r.text) for r in outcome_history(session, enquiry_id)]
        assert rows == [
            (1, "active", first),
            (1, "active", second),
            (2, "active", "to see my friends every week"),
            (2, "withdrawn", first),
        ]
        assert [c.decision for c in consent_history(session, enquiry_id)] == ["given"]


def test_two_messages_sent_at_once_record_no_duplicates(stack, sender, url):
    enquiry_id = start(stack, sender, url)
    words = "my cat to be looked after"
    stack.send(sender, words)
    # The person taps "yes" twice, or the phone sends it twice: both at once.
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(pool.map(lambda _: joined(stack.send(sender, "yes")), range(2)))
    assert all(replies)
    with session_scope(url, read_only=True) as session:
        rows = outcome_history(session, enquiry_id)
        # One outcome; the second "yes" answered the next question (a group, if one was
        # suggested, is a new version of the same outcome, not a second outcome).
        assert [r.text for r in rows if r.version == 1] == [words]
        assert {r.outcome_key for r in rows} == {rows[0].outcome_key}
        assert len(rows) == (1 if suggest_category(words) == FALLBACK else 2)
    # Both messages are in the conversation record, once each, in order.
    texts = [e.get("text") for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    assert texts[-2:] == ["yes", "yes"]
