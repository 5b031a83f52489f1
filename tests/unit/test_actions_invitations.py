"""action_redeem_invitation against a fresh SQLite database per test."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.invitations import ActionRedeemInvitation
from bot.actions.parsing import invitation_candidate
from bot.records import create_enquiry, create_invitation, session_scope
from bot.records.db import dispose_engines
from bot.records.models import utcnow
from bot.records.schema import upgrade_to_head


@pytest.fixture(autouse=True)
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'msp.db'}")
    monkeypatch.delenv("MSP_INVITATION_SECRET", raising=False)
    upgrade_to_head()
    yield
    dispose_engines()


@pytest.fixture
def dispatcher():
    return CollectingDispatcher()


def make_tracker(text, sender="conv-1", entities=None, intent="inform_invite_code"):
    return Tracker(
        sender_id=sender,
        slots={},
        latest_message={"text": text, "intent": {"name": intent}, "entities": entities or []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def issue(days=14, now=None):
    with session_scope() as session:
        enquiry = create_enquiry(session, "SG-TEST-1")
        issued = create_invitation(session, enquiry.id, days=days, now=now)
        return enquiry.id, issued.code, issued.link()


def run(tracker, dispatcher):
    return ActionRedeemInvitation().run(dispatcher, tracker, {})


def test_a_code_in_a_sentence_links_the_conversation(dispatcher):
    enquiry_id, code, _ = issue()
    events = run(make_tracker(f"my code is {code.lower()}"), dispatcher)
    assert events == [SlotSet("invite_status", "ok"), SlotSet("enquiry_id", enquiry_id)]
    # The rules answer (utter_invite_linked): the action itself says nothing,
    # so nothing about the enquiry can leak from here.
    assert dispatcher.messages == []


def test_code_without_dash_and_a_pasted_link_both_work(dispatcher):
    enquiry_id, code, link = issue()
    assert run(make_tracker(code.replace("-", "")), dispatcher)[0] == SlotSet("invite_status", "ok")
    # The same conversation redeeming again (a repeated message) is still fine.
    assert run(make_tracker(f"here it is {link}"), dispatcher)[0] == SlotSet("invite_status", "ok")
    assert dispatcher.messages == []


def test_the_link_alone_works(dispatcher):
    enquiry_id, _, link = issue()
    assert run(make_tracker(link, sender="other"), dispatcher) == [
        SlotSet("invite_status", "ok"), SlotSet("enquiry_id", enquiry_id)]


def test_a_pasted_link_wins_over_a_code_like_piece_of_it(dispatcher):
    enquiry_id, _, link = issue()
    # The regex entity can pick eight code-like characters out of the token.
    entities = [{"entity": "invite_code", "value": link.split("=", 1)[1][:8]}]
    assert run(make_tracker(link, sender="pasted", entities=entities), dispatcher) == [
        SlotSet("invite_status", "ok"), SlotSet("enquiry_id", enquiry_id)]


def test_a_used_code_is_refused_for_another_conversation(dispatcher):
    _, code, _ = issue()
    run(make_tracker(code, sender="first"), dispatcher)
    assert run(make_tracker(code, sender="second"), dispatcher) == [SlotSet("invite_status", "used")]
    assert dispatcher.messages == []


def test_an_expired_code_is_refused(dispatcher):
    _, code, _ = issue(days=1, now=utcnow() - timedelta(days=2))
    assert run(make_tracker(code), dispatcher) == [SlotSet("invite_status", "expired")]


def test_a_withdrawn_code_is_refused_as_run_out(dispatcher):
    """Withdrawn by staff when they re-issued a feedback link: "run out, your worker can send a new one"."""
    from bot.records.invitations import revoke_invitation
    from bot.records.models import Invitation

    _, code, link = issue()
    with session_scope() as session:
        (invitation_id,) = session.query(Invitation.id).one()
        revoke_invitation(session, invitation_id)
    for given in (code, link):
        assert run(make_tracker(given), dispatcher) == [SlotSet("invite_status", "expired")]
    assert dispatcher.messages == []


def test_unknown_and_malformed_codes_say_unknown(dispatcher):
    issue()
    assert run(make_tracker("XR5T-9PLW"), dispatcher) == [SlotSet("invite_status", "unknown")]
    assert run(make_tracker("my code is banana"), dispatcher) == [SlotSet("invite_status", "unknown")]


def test_guessing_is_rate_limited(dispatcher):
    _, code, _ = issue()
    for guess in ("XR5T-9PLW", "XR5T-9PLX", "XR5T-9PLY", "XR5T-9PLZ", "XR5T-9PL2"):
        assert run(make_tracker(guess), dispatcher) == [SlotSet("invite_status", "unknown")]
    # Even the right code waits until the window has passed.
    assert run(make_tracker(code), dispatcher) == [SlotSet("invite_status", "rate_limited")]


def test_the_entity_is_used_when_the_text_has_no_code_shape(dispatcher):
    enquiry_id, code, _ = issue()
    tracker = make_tracker("code please", entities=[{"entity": "invite_code", "value": code}])
    assert run(tracker, dispatcher)[0] == SlotSet("invite_status", "ok")


@pytest.mark.parametrize("text, expected", [
    ("my code is abcd-efgh", "abcd-efgh"),
    ("ABCD EFGH", "ABCD EFGH"),
    ("the code is 7kqm3xpd thanks", "7kqm3xpd"),
    ("hello there", "hello there"),
])
def test_invitation_candidate(text, expected):
    assert invitation_candidate(text) == expected


def test_an_unreachable_database_is_said_plainly_not_called_an_unknown_code(monkeypatch, dispatcher, tmp_path):
    dispose_engines()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing-dir' / 'msp.db'}")
    events = ActionRedeemInvitation().run(dispatcher, make_tracker("my code is XR5T-9PLW"), {})
    assert events == [SlotSet("invite_status", "unavailable")]
    assert dispatcher.messages == []
