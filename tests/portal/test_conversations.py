"""Conversations: the list and its flags, filters and search; transcripts exactly as typed and always
escaped; who sees which conversation; redaction for auditors; every look audited."""
from __future__ import annotations

import html
import json
import re
import time

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from bot.records import session_scope
from bot.records.outcomes import record_outcome
from tests.portal.helpers import audit_rows, write_events

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes" \'single\''
T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


def user(text, intent="greet", message_id=None, ts=None, **net):
    parse = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": text,
             "safety_net": {"danger": None, "check": False, "input": None, **net}}
    return UserUttered(text, parse["intent"], [], parse, timestamp=ts, input_channel="socketio",
                       message_id=message_id)


def bot(text, response, ts=None, buttons=()):
    return [ActionExecuted(response, timestamp=ts),
            BotUttered(text, {"buttons": [{"title": b, "payload": "/x"} for b in buttons]},
                       {"utter_action": response}, timestamp=ts)]


@pytest.fixture
def conversations(tracker):
    """Four conversations with known flags, written through the real tracker store."""
    write_events(tracker, "web-danger", [
        ActionExecuted("action_session_start", timestamp=T0), SessionStarted(timestamp=T0),
        user("he is hitting me now", "inform_physical", "m-d1", T0 + 1, danger="now"),
        *bot("Call 999 now.", "utter_danger_now", T0 + 2),
        user("can I talk to a real person", "ask_talk_to_person", "m-d2", T0 + 3),
        *bot("You can talk to someone.", "utter_talk_to_person", T0 + 4),
    ])
    write_events(tracker, "web-hostile", [
        user(HOSTILE, "greet", "m-h1", T0 + 86400),
        *bot("Hello <b>there</b>", "utter_greet", T0 + 86401, buttons=["<i>Yes</i>"]),
        user("  two  spaces\nand a new line  ", "greet", "m-h2", T0 + 86402),
        user("", "nlu_fallback", "m-h3", T0 + 86403, input="empty"),
        *bot("Sorry, I could not read that.", "utter_ask_rephrase", T0 + 86404),
        SlotSet("fb_goals", "stop", timestamp=T0 + 86405),  # stopped the survey: no feedback given
    ])
    write_events(tracker, "sms-7", [
        user("my grandson Darren took my bank card, ring me on 07700 900123", "inform_financial", "m-s1", T0 + 2 * 86400),
        SlotSet("outcome_confirmed", True, timestamp=T0 + 2 * 86400 + 1),
        *bot("Thank you.", "utter_outcomes_done", T0 + 2 * 86400 + 2),
    ])
    write_events(tracker, "rest-plain", [
        user("what is self-neglect", "ask_self_neglect", "m-r1", T0 + 3 * 86400),
        *bot("Self-neglect is ... intent text", "utter_self_neglect", T0 + 3 * 86400 + 1),
        SlotSet("fb_say", "skipped", timestamp=T0 + 3 * 86400 + 2),  # an answer (a skip is recorded)
        SlotSet("fb_say", None, timestamp=T0 + 3 * 86400 + 3),
    ])
    return tracker


def rows_of(page_html):
    return re.findall(r'href="/conversations/([^"]+)"', page_html)


def test_list_shows_flags_derived_from_rasa_events(signed_in, conversations, records_url):
    client, _ = signed_in("lead")
    text = client.get("/conversations/").get_data(as_text=True)
    assert rows_of(text) == ["rest-plain", "sms-7", "web-hostile", "web-danger"]  # newest first
    assert "4 conversations" in text

    def flags(sender):
        response = client.get("/conversations/", query_string={"q": "", "flag": []})
        row = re.search(rf'<tr>(?:(?!</tr>).)*/conversations/{sender}".*?</tr>', response.get_data(as_text=True), re.S)
        return set(re.findall(r'class="flag flag-(\w+)"', row.group(0)))

    assert flags("web-danger") == {"danger", "person"}
    assert flags("web-hostile") == {"unreadable"}
    assert flags("sms-7") == {"outcomes"}
    assert flags("rest-plain") == {"feedback"}


@pytest.mark.parametrize("query, expected", [
    ({"flag": "danger"}, ["web-danger"]),
    ({"flag": ["danger", "person"]}, ["web-danger"]),
    ({"flag": ["danger", "unreadable"]}, []),
    ({"flag": "outcomes"}, ["sms-7"]),
    ({"flag": "feedback"}, ["rest-plain"]),
    ({"flag": ["feedback", "danger"]}, []),
    ({"channel": "sms"}, ["sms-7"]),
    ({"channel": "web"}, ["web-hostile", "web-danger"]),
    ({"from": "2026-01-02", "to": "2026-01-03"}, ["sms-7", "web-hostile"]),
    ({"to": "2026-01-01"}, ["web-danger"]),
    ({"q": "BANK CARD"}, ["sms-7"]),
    ({"q": "<script>"}, ["web-hostile"]),
    # Only the person's words count: not JSON keys, intent names or the assistant's replies.
    ({"q": "intent"}, []),
    ({"q": "parse_data"}, []),
    ({"q": "Call 999"}, []),
    ({"q": "self-neglect", "channel": "rest"}, ["rest-plain"]),
    ({"q": "%"}, []),
    ({"q": "_"}, []),
])
def test_filters_and_search(signed_in, conversations, query, expected):
    client, _ = signed_in("lead")
    response = client.get("/conversations/", query_string=query)
    assert response.status_code == 200
    assert rows_of(response.get_data(as_text=True)) == expected


def test_the_feedback_flag_knows_every_question_of_the_feedback_form():
    from bot.actions.feedback import FORM_SLOTS
    from bot.records.transcripts import FEEDBACK_SLOTS

    assert FEEDBACK_SLOTS == FORM_SLOTS


def test_bad_filters_get_a_clear_message(signed_in, conversations):
    client, _ = signed_in("lead")
    for query, message in (({"from": "2026-13-45"}, "must be a date written as YYYY-MM-DD"),
                           ({"channel": "fax"}, "Channel: choose one of"),
                           ({"flag": "nonsense"}, "Flags: choose from"),
                           ({"page": "-1"}, "Page must be from 1"),
                           ({"page": "1e9"}, "Page must be a whole number"),
                           ({"from": "2026-02-01", "to": "2026-01-01"}, "'From' must be on or before 'To'"),
                           ({"q": "x\x00y"}, "control character")):
        response = client.get("/conversations/", query_string=query)
        assert response.status_code == 400, query
        assert html.escape(message, quote=True) in response.get_data(as_text=True) or message in \
            html.unescape(response.get_data(as_text=True)), query


def test_transcript_shows_every_message_exactly_as_typed_and_escaped(signed_in, conversations):
    client, _ = signed_in("lead")
    response = client.get("/conversations/web-hostile")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>there</b>" not in page
    assert "<i>Yes</i>" not in page
    texts = [html.unescape(t) for t in re.findall(r'<div class="text">(.*?)</div>', page, re.S)]
    assert texts == [HOSTILE, "Hello <b>there</b>", "  two  spaces\nand a new line  ", "",
                     "Sorry, I could not read that."]
    assert "unreadable: empty" in page
    assert "Buttons: <span class=\"button-title\">&lt;i&gt;Yes&lt;/i&gt;</span>" in page
    assert page.count("<time>2026-01-02 00:00:0") == 5


def test_transcript_flags_danger_replies(signed_in, conversations):
    client, _ = signed_in("lead")
    page = client.get("/conversations/web-danger").get_data(as_text=True)
    assert "danger: now" in page and "danger reply" in page and "asked for a person" in page
    assert "New session 2026-01-01 00:00:00 UTC" in page


def test_outcomes_recorded_in_the_conversation_are_shown_beside_it(signed_in, conversations, records_url,
                                                                     enquiry_for):
    enquiry_id = enquiry_for("someone", "SG-77")
    with session_scope(records_url) as db:
        from bot.records import list_participants

        person = list_participants(db, enquiry_id)[0]
        record_outcome(db, enquiry_id, "For him to give my card back <b>now</b>", participant_id=person.id,
                       recorded_by="assistant", channel="sms", source_ref="m-s1")
    client, _ = signed_in("lead")
    page = client.get("/conversations/sms-7").get_data(as_text=True)
    assert "Enquiry SG-77, version 1 (active)" in page
    assert "For him to give my card back &lt;b&gt;now&lt;/b&gt;" in page


def test_unknown_conversation_is_not_found(signed_in, conversations):
    client, _ = signed_in("lead")
    assert client.get("/conversations/web-nothing-here").status_code == 404
    assert client.get("/conversations/" + "x" * 300).status_code == 404
    assert client.get("/conversations/a%20b").status_code == 404


def test_no_tracker_store_yet_is_an_empty_list_not_an_error(signed_in):
    client, _ = signed_in("lead")
    response = client.get("/conversations/")
    assert response.status_code == 200
    assert "No conversations can be shown" in response.get_data(as_text=True)
    assert client.get("/conversations/web-x").status_code == 404


# --- who sees what ---------------------------------------------------------------------------


def test_practitioners_see_only_conversations_linked_to_their_or_their_teams_enquiries(
        signed_in, make_account, conversations, enquiry_for, link_conversation, records_url):
    client, me = signed_in("practitioner", team="North")
    teammate = make_account("practitioner", team="North")
    make_account("practitioner", username="someone.else", team="South")
    link_conversation("web-danger", enquiry_for(me.username, "SG-1"))
    link_conversation("sms-7", enquiry_for(teammate.username.upper(), "SG-2"))
    link_conversation("web-hostile", enquiry_for("someone.else", "SG-3"))
    page = client.get("/conversations/").get_data(as_text=True)
    assert rows_of(page) == ["sms-7", "web-danger"]
    assert "SG-1" in page and "SG-2" in page and "SG-3" not in page
    assert client.get("/conversations/web-danger").status_code == 200
    assert client.get("/conversations/sms-7").status_code == 200
    for hidden in ("web-hostile", "rest-plain"):
        response = client.get(f"/conversations/{hidden}")
        assert response.status_code == 404
    # A search cannot reach past the scope either.
    assert rows_of(client.get("/conversations/", query_string={"q": "<script>"}).get_data(as_text=True)) == []
    refused = audit_rows(records_url, "conversation.view")
    assert [(r["target"], r["outcome"]) for r in refused[-2:]] == [
        ("conversation:web-hostile", "refused"), ("conversation:rest-plain", "refused")]


def test_a_practitioner_without_enquiries_sees_nothing(signed_in, conversations):
    client, _ = signed_in("practitioner")
    page = client.get("/conversations/").get_data(as_text=True)
    assert rows_of(page) == [] and "0 conversations" in page
    assert client.get("/conversations/web-danger").status_code == 404


def test_auditors_see_redacted_text(signed_in, conversations, make_account):
    auditor, _ = signed_in("auditor")
    page = auditor.get("/conversations/sms-7").get_data(as_text=True)
    assert "07700 900123" not in page and "Darren" not in page
    assert "my grandson [name] took my bank card, ring me on [phone]" in page
    lead, _ = signed_in("lead")
    shown = lead.get("/conversations/sms-7").get_data(as_text=True)
    assert "my grandson Darren took my bank card, ring me on 07700 900123" in shown


def test_administrators_see_no_case_content(signed_in, conversations):
    client, _ = signed_in("admin")
    assert client.get("/conversations/").status_code == 403
    assert client.get("/conversations/web-danger").status_code == 403


# --- audit ------------------------------------------------------------------------------------


def test_every_list_search_and_transcript_is_audited(signed_in, conversations, records_url):
    client, account = signed_in("lead")
    client.get("/conversations/", environ_base={"REMOTE_ADDR": "10.20.30.40"})
    client.get("/conversations/", query_string={"q": "bank card", "channel": "sms", "flag": "outcomes"})
    client.get("/conversations/web-hostile")
    listed = audit_rows(records_url, "conversation.list")[-1]
    assert listed["username"] == account.username and listed["role"] == "lead"
    assert listed["client"] == "10.20.30.40"
    assert listed["target"] == ",".join(f"conversation:{s}" for s in
                                        ["rest-plain", "sms-7", "web-hostile", "web-danger"])
    searched = audit_rows(records_url, "conversation.search")[-1]
    assert json.loads(searched["detail"]) == {"q": "bank card", "channel": "sms", "flag": ["outcomes"], "page": 1}
    assert searched["target"] == "conversation:sms-7"
    viewed = audit_rows(records_url, "conversation.view")[-1]
    assert viewed["target"] == "conversation:web-hostile" and viewed["outcome"] == "ok"
    assert time.time() - viewed["at"].timestamp() < 60
