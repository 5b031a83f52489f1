"""Invitation -> outcomes form -> database, over REST with the real servers."""
from __future__ import annotations

import uuid

import pytest

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


@pytest.fixture
def url(stack):
    return stack.env()["DATABASE_URL"]


def new_invitation(url):
    with session_scope(url) as session:
        enquiry = create_enquiry(session, f"SG-E2E-{uuid.uuid4().hex[:8]}")
        issued = create_invitation(session, enquiry.id)
        return enquiry.id, issued.code


def test_outcomes_are_recorded_exactly_as_typed(stack, sender, url):
    enquiry_id, code = new_invitation(url)
    linked = joined(stack.send(sender, f"my code is {code.lower()}"))
    assert "That code worked" in linked and "for yourself, or for someone else" in linked
    assert "SG-E2E" not in linked  # nothing about the enquiry is shown
    assert "write down" in joined(stack.send(sender, "For myself"))
    assert "What would you like to happen?" in joined(stack.send(sender, "yes"))

    read_back = joined(stack.send(sender, MIXED))
    assert MIXED in read_back and "Is that right?" in read_back
    # "No": asked again, nothing recorded yet.
    assert "tell me again" in joined(stack.send(sender, "no"))
    assert MIXED in joined(stack.send(sender, MIXED))
    assert "anything else" in joined(stack.send(sender, "yes"))
    assert "What else" in joined(stack.send(sender, "yes"))

    too_long = joined(stack.send(sender, LONG + "x"))
    assert "2,000" in too_long
    assert LONG in joined(stack.send(sender, LONG))
    assert "anything else" in joined(stack.send(sender, "yes"))
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
    enquiry_id, code = new_invitation(url)
    stack.send(sender, code)
    stack.send(sender, "For myself")
    stack.send(sender, "yes")
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
