"""The enquiry pages: who sees which enquiry, every form with good and bad input (a clear message,
never a 500), histories that are appended and shown, invitations and feedback links shown once,
refused SMS requests with their reason, and the audit rows of every view and change."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.records import add_participant, change_outcome, record_outcome, session_scope, withdraw_outcome
from bot.records.enquiries import assignment_history, close_enquiry, contact_history, get_enquiry_by_reference
from bot.records.invitations import redeem_code
from bot.records.models import AskedRecord, FeedbackSurvey, OutcomeReview, SmsOutbox, utcnow
from bot.records.reporting import ASKED_EXPRESSED, FULLY, sg4a_figures
from tests.portal.helpers import audit_rows, csrf_of

CONTACT = {"safe_to_text": "no", "safe_number": "", "safe_times": "", "preferred_contact": "",
           "sms_name_allowed": "no"}


def post(client, url, data=None):
    """A form post with the session's CSRF token, as the browser sends it."""
    return client.post(url, data=dict(data or {}, csrf_token=csrf_of(client.get("/"))))


def body(response) -> str:
    """The page's text with entities read (an apostrophe is sent as &#39;)."""
    return html.unescape(response.get_data(as_text=True))


def enquiry_id(records_url, reference) -> int:
    with session_scope(records_url, read_only=True) as db:
        return get_enquiry_by_reference(db, reference).id


@pytest.fixture
def lead(signed_in):
    return signed_in("lead", username="lena.lead")


@pytest.fixture
def practitioner(signed_in):
    return signed_in("practitioner", username="pat.worker", team="North")


def test_a_practitioner_creates_an_enquiry_that_is_theirs(practitioner, records_url):
    client, account = practitioner
    page = client.get("/enquiries/new")
    assert page.status_code == 200 and "assigned to you" in body(page)
    response = post(client, "/enquiries/new", dict(CONTACT, reference="SG-NEW-1", safe_to_text="yes",
                                                   safe_number="07700 900123", safe_times="Mon-Fri 10:00-16:00",
                                                   preferred_contact="sms", worker="someone.else"))
    new_id = enquiry_id(records_url, "SG-NEW-1")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/enquiries/{new_id}?done=created")
    with session_scope(records_url, read_only=True) as db:
        enquiry = get_enquiry_by_reference(db, "SG-NEW-1")
        assert enquiry.assigned_worker == account.username  # not the worker the form named
        assert enquiry.safe_number == "+447700900123" and enquiry.preferred_contact == "sms"
        assert [(v.recorded_by, v.safe_to_text) for v in contact_history(db, new_id)] == [(account.username, True)]
    created = audit_rows(records_url, "enquiry.created")
    assert [(r["username"], r["target"]) for r in created] == [(account.username, f"enquiry:{new_id}")]
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200 and "The enquiry is created." in body(shown)


@pytest.mark.parametrize("form, message", [
    ({"reference": ""}, "The council's reference is missing."),
    ({"reference": "SG-\x07"}, "contains a control character"),
    ({"reference": "R" * 65}, "too long"),
    ({"reference": "SG-BAD", "safe_to_text": "yes"}, "without a safe number"),
    ({"reference": "SG-BAD", "safe_number": "12345"}, "does not look like a phone number"),
    ({"reference": "SG-BAD", "preferred_contact": "pigeon"}, "Preferred contact: choose one of"),
    ({"reference": "SG-BAD", "preferred_contact": "sms"}, "unless it is safe to text"),
    ({"reference": "SG-BAD", "safe_to_text": "maybe"}, "Safe to text: choose one of yes, no"),
    ({"reference": "SG-BAD", "worker": "nobody.here"}, "Worker: choose one of"),
])
def test_creating_with_bad_input_says_what_is_wrong_and_keeps_what_was_typed(lead, records_url, form, message):
    client, _ = lead
    response = post(client, "/enquiries/new", dict(CONTACT, **form))
    assert response.status_code == 400
    assert message in body(response), body(response)[:2000]
    assert 'role="alert"' in body(response)
    with session_scope(records_url, read_only=True) as db:
        assert get_enquiry_by_reference(db, "SG-BAD") is None


def test_a_reference_already_in_use_is_refused(lead, enquiry_for):
    client, _ = lead
    enquiry_for(None, "SG-TWICE")
    response = post(client, "/enquiries/new", dict(CONTACT, reference="SG-TWICE"))
    assert response.status_code == 400 and "already exists" in body(response)


def test_who_sees_which_enquiry(signed_in, make_account, enquiry_for, records_url):
    make_account("practitioner", username="tess.team", team="North")
    mine = enquiry_for("pat.worker", "SG-MINE")
    teams = enquiry_for("tess.team", "SG-TEAM")
    other = enquiry_for("olga.other", "SG-OTHER")
    pat, _ = signed_in("practitioner", username="pat.worker", team="North")
    listed = body(pat.get("/enquiries/"))
    assert "SG-MINE" in listed and "SG-TEAM" in listed and "SG-OTHER" not in listed
    assert pat.get(f"/enquiries/{teams}").status_code == 200
    assert pat.get(f"/enquiries/{other}").status_code == 404
    assert post(pat, f"/enquiries/{other}/close").status_code == 404
    refused = [r for r in audit_rows(records_url, "enquiry.view") if r["outcome"] == "refused"]
    assert [r["target"] for r in refused] == [f"enquiry:{other}", f"enquiry:{other}"]
    lead, _ = signed_in("lead")
    assert all(ref in body(lead.get("/enquiries/")) for ref in ("SG-MINE", "SG-TEAM", "SG-OTHER"))
    auditor, _ = signed_in("auditor")
    page = body(auditor.get(f"/enquiries/{mine}"))
    assert "SG-MINE" in page and "<form method=\"post\" action=\"/enquiries" not in page
    assert post(auditor, f"/enquiries/{mine}/close").status_code == 403
    admin, _ = signed_in("admin")
    assert admin.get("/enquiries/").status_code == 403 and admin.get(f"/enquiries/{mine}").status_code == 403
    listing = audit_rows(records_url, "enquiry.list")
    assert listing[0]["username"] == "pat.worker" and f"enquiry:{mine}" in listing[0]["target"]
    assert f"enquiry:{other}" not in listing[0]["target"]


def test_list_filters_and_bad_filters(lead, enquiry_for):
    client, _ = lead
    enquiry_for(None, "SG-F-1")
    closed = enquiry_for(None, "SG-F-2")
    post(client, f"/enquiries/{closed}/close")
    page = body(client.get("/enquiries/?status=closed"))
    assert "SG-F-2" in page and "SG-F-1" not in page
    assert "SG-F-1" in body(client.get("/enquiries/?reference=F-1"))
    bad = client.get("/enquiries/?status=lost")
    assert bad.status_code == 400 and "Status: choose one of open, closed" in body(bad)
    assert client.get("/enquiries/?page=0").status_code == 400


def test_contact_preferences_change_and_every_version_stays(practitioner, enquiry_for, records_url):
    client, account = practitioner
    target = enquiry_for(account.username, "SG-CONTACT")
    url = f"/enquiries/{target}/contact"
    first = post(client, url, dict(CONTACT, safe_to_text="yes", safe_number="07700 900111", safe_times="6-8pm"))
    assert first.status_code == 302 and first.headers["Location"].endswith("?done=contact")
    second = post(client, url, dict(CONTACT, safe_to_text="no", safe_number="07700 900222"))
    assert second.status_code == 302
    same = post(client, url, dict(CONTACT, safe_to_text="no", safe_number="07700 900222"))
    assert same.status_code == 400 and "Nothing to change" in body(same)
    bad = post(client, url, dict(CONTACT, safe_number="not a number"))
    assert bad.status_code == 400 and "does not look like a phone number" in body(bad)
    assert 'value="not a number"' in body(bad)  # what was typed is kept in the form
    with session_scope(records_url, read_only=True) as db:
        versions = [(v.safe_to_text, v.safe_number, v.safe_times) for v in contact_history(db, target)]
    assert versions == [
        (False, None, None), (True, "+447700900111", "6-8pm"), (False, "+447700900222", None)]
    page = body(client.get(f"/enquiries/{target}"))
    assert "+447700900111" in page and "+447700900222" in page and "6-8pm" in page
    assert len(audit_rows(records_url, "enquiry.contact_changed")) == 2


def test_a_lead_assigns_and_the_history_is_kept(lead, signed_in, make_account, enquiry_for, records_url):
    client, account = lead
    make_account("practitioner", username="new.owner")
    make_account("auditor", username="not.assignable")
    target = enquiry_for(None, "SG-ASSIGN")
    assert post(client, f"/enquiries/{target}/assign", {"worker": "new.owner"}).status_code == 302
    refused = post(client, f"/enquiries/{target}/assign", {"worker": "not.assignable"})
    assert refused.status_code == 400 and "Worker: choose one of" in body(refused)
    assert post(client, f"/enquiries/{target}/assign", {"worker": "new.owner"}).status_code == 400
    assert post(client, f"/enquiries/{target}/assign", {"worker": "-"}).status_code == 302
    with session_scope(records_url, read_only=True) as db:
        assert [(a.worker, a.assigned_by) for a in assignment_history(db, target)] == [
            ("new.owner", account.username), (None, account.username)]
    practitioner, _ = signed_in("practitioner")
    assert post(practitioner, f"/enquiries/{target}/assign", {"worker": "new.owner"}).status_code == 403


def test_every_version_of_every_outcome_with_who_and_which_channel(lead, signed_in, enquiry_for, records_url):
    target = enquiry_for(None, "SG-OUT")
    with session_scope(records_url) as db:
        rep = add_participant(db, target, "representative", display_name="Rita Daughter")
        first = record_outcome(db, target, "Call me on 07700 900123 <b>please</b>", participant_id=rep.id,
                               recorded_by="assistant", channel="web")
        change_outcome(db, first.id, text="I want to feel safe at home", category="stop_abuse_feel_safer",
                       recorded_by="sam.worker", channel="phone", reason="Said on the phone")
        other = record_outcome(db, target, "Police to act", participant_id=rep.id, recorded_by="assistant",
                               channel="sms")
        withdraw_outcome(db, other.id, recorded_by="assistant", channel="sms", reason="Changed my mind")
    client, _ = lead
    raw = client.get(f"/enquiries/{target}").get_data(as_text=True)
    assert "Call me on 07700 900123 &lt;b&gt;please&lt;/b&gt;" in raw  # escaped, never markup
    page = html.unescape(raw)
    for words in ("I want to feel safe at home", "Police to act", "Said on the phone", "Changed my mind",
                  "Rita Daughter", "sam.worker", "withdrawn", "changed", "recorded"):
        assert words in page, words
    rows = re.findall(r"<tr>\s*<td>(\d)</td>\s*<td>(\w+).*?</td>\s*<td class=\"text\">.*?</td>\s*<td>.*?</td>"
                      r"\s*<td>(.*?)</td>\s*<td>(\w+)</td>", page, re.S)
    assert [(v, a, by, ch) for v, a, by, ch in rows] == [
        ("1", "recorded", "assistant", "web"), ("2", "changed", "sam.worker", "phone"),
        ("1", "recorded", "assistant", "sms"), ("2", "withdrawn", "assistant", "sms")]
    view = audit_rows(records_url, "enquiry.view")[-1]
    assert view["target"] == f"enquiry:{target}" and '"redacted": false' in view["detail"]

    auditor, _ = signed_in("auditor")
    redacted = body(auditor.get(f"/enquiries/{target}"))
    assert "07700 900123" not in redacted and "[phone]" in redacted
    assert "Rita Daughter" not in redacted and "representative [name]" in redacted
    assert '"redacted": true' in audit_rows(records_url, "enquiry.view")[-1]["detail"]


def test_an_invitation_is_shown_once_and_works(practitioner, enquiry_for, records_url):
    client, account = practitioner
    target = enquiry_for(account.username, "SG-INVITE")
    response = post(client, f"/enquiries/{target}/invite", {"days": "3"})
    assert response.status_code == 200
    code = re.search(r'id="enquiry-code">([A-Z2-9]{4}-[A-Z2-9]{4})<', body(response)).group(1)
    link = re.search(r'id="enquiry-link">([^<]+)<', body(response)).group(1)
    assert link.startswith("http://localhost:8000/#invite=") and "shown only now" in body(response)
    page = body(client.get(f"/enquiries/{target}"))
    assert code not in page and link not in page and "open until" in page
    with session_scope(records_url) as db:
        assert redeem_code(db, code, client_key="web-test").ok
    rows = audit_rows(records_url, "enquiry.invitation_issued")
    assert len(rows) == 1 and rows[0]["target"].startswith(f"enquiry:{target},invitation:")
    assert code not in str(rows) and link not in str(rows)
    for days, message in (("0", "must be from 1 to 90"), ("x", "must be a whole number")):
        bad = post(client, f"/enquiries/{target}/invite", {"days": days})
        assert bad.status_code == 400 and message in body(bad)


def test_the_workers_sg4a_answers_are_recorded_and_counted(practitioner, enquiry_for, records_url):
    client, account = practitioner
    target = enquiry_for(account.username, "SG-4A")
    with session_scope(records_url) as db:
        person = add_participant(db, target, "person")
        outcome = record_outcome(db, target, "Feel safe", participant_id=person.id, recorded_by="assistant",
                                 channel="web")
    url = f"/enquiries/{target}/sg4a"
    empty = post(client, url, {"asked": "", "overall": ""})
    assert empty.status_code == 400 and "Nothing to record" in body(empty)
    bad = post(client, url, {"asked": "perhaps"})
    assert bad.status_code == 400 and "Were they asked: choose one of" in body(bad)
    good = post(client, url, {"asked": "yes", f"outcome-{outcome.outcome_key}": "partially",
                              "note": "Two lines\nof note"})
    assert good.status_code == 302 and good.headers["Location"].endswith("?done=sg4a")
    assert post(client, url, {"overall": "fully"}).status_code == 302
    assert post(client, f"/enquiries/{target}/close").status_code == 302
    with session_scope(records_url, read_only=True) as db:
        asked = [(a.answer, a.recorded_by, a.channel, a.note) for a in db.execute(select(AskedRecord)).scalars()]
        reviews = [(r.outcome_key, r.achievement, r.view)
                   for r in db.execute(select(OutcomeReview).order_by(OutcomeReview.id)).scalars()]
        figures = sg4a_figures(db)
    assert asked == [("yes", account.username, "staff", "Two lines\nof note")]
    assert reviews == [
        (outcome.outcome_key, "partially", "worker"), (None, "fully", "worker")]
    assert figures.asked[ASKED_EXPRESSED] == 1 and figures.achieved[FULLY] == 1
    assert len(audit_rows(records_url, "enquiry.sg4a_recorded")) == 2


def test_closing_twice_is_refused_plainly(lead, enquiry_for):
    client, _ = lead
    target = enquiry_for(None, "SG-CLOSE")
    assert post(client, f"/enquiries/{target}/close").status_code == 302
    again = post(client, f"/enquiries/{target}/close")
    assert again.status_code == 400 and "already closed" in body(again)
    assert post(client, f"/enquiries/{target}/invite", {"days": "3"}).status_code == 400


def _closed(records_url, enquiry_for, reference, *, days_ago: int = 0, **contact) -> int:
    target = enquiry_for("pat.worker", reference)
    with session_scope(records_url) as db:
        if contact:
            from bot.records.enquiries import set_contact_preferences

            set_contact_preferences(db, target, recorded_by="test", **contact)
        close_enquiry(db, target, when=utcnow() - timedelta(days=days_ago))
    return target


def _outbox(records_url) -> int:
    with session_scope(records_url, read_only=True) as db:
        return db.execute(select(func.count()).select_from(SmsOutbox)).scalar_one()


def _hours_from_now(hours: int) -> str:
    """Safe times of one hour that starts ``hours`` from now (council time), every day."""
    start = (datetime.now(ZoneInfo("Europe/London")).hour + hours) % 24
    return f"daily {start}:00-{start + 1}:00"


@pytest.mark.parametrize("contact, days_ago, reason", [
    ({}, 0, "The enquiry is not marked safe to text."),
    ({"safe_to_text": True, "safe_number": "07700 900123", "safe_times": _hours_from_now(12)}, 0,
     "It is outside the safe times on record"),
    ({"safe_to_text": True, "safe_number": "07700 900123", "safe_times": "weekdays after 6pm"}, 0,
     "The safe times on record cannot be read"),
    ({"safe_to_text": True, "safe_number": "07700 900123", "safe_times": "daily 0:00-24:00"}, 60,
     "It is more than 8 weeks since the enquiry closed"),
])
def test_a_refused_sms_request_shows_the_reason_and_sends_nothing(practitioner, enquiry_for, records_url,
                                                                    contact, days_ago, reason):
    client, _ = practitioner
    target = _closed(records_url, enquiry_for, "SG-SMS-NO", days_ago=days_ago, **contact)
    response = post(client, f"/enquiries/{target}/feedback", {"by": "sms"})
    assert response.status_code == 200
    text = body(response)
    assert "Feedback was not requested" in text and reason in text and "Nothing was sent." in text
    assert _outbox(records_url) == 0
    with session_scope(records_url, read_only=True) as db:
        assert db.execute(select(FeedbackSurvey.status)).scalars().all() == ["refused"]
    row = audit_rows(records_url, "enquiry.feedback_requested")[-1]
    assert row["outcome"] == "refused"


def test_feedback_by_sms_inside_safe_times_is_queued(practitioner, enquiry_for, records_url):
    client, _ = practitioner
    target = _closed(records_url, enquiry_for, "SG-SMS-OK", safe_to_text=True, safe_number="07700 900123",
                     safe_times="daily 0:00-24:00")
    response = post(client, f"/enquiries/{target}/feedback", {"by": "sms"})
    assert response.status_code == 302 and response.headers["Location"].endswith("?done=feedback-sms")
    assert _outbox(records_url) == 1
    assert "sent" in body(client.get(response.headers["Location"]))


def test_feedback_by_web_shows_the_link_once_and_a_second_request_is_refused(practitioner, enquiry_for,
                                                                            records_url):
    client, _ = practitioner
    target = enquiry_for("pat.worker", "SG-WEB")
    still_open = post(client, f"/enquiries/{target}/feedback", {"by": "web"})
    assert "The enquiry is still open: close it first." in body(still_open)
    with session_scope(records_url) as db:
        close_enquiry(db, target)
    response = post(client, f"/enquiries/{target}/feedback", {"by": "web"})
    assert response.status_code == 200 and "Feedback link" in body(response)
    code = re.search(r'id="enquiry-code">([A-Z2-9-]{9})<', body(response)).group(1)
    with session_scope(records_url) as db:
        assert redeem_code(db, code, client_key="web-feedback").ok
    again = post(client, f"/enquiries/{target}/feedback", {"by": "web"})
    assert "Feedback was already asked for" in body(again)
    for form, message in (({}, "Choose how to ask"), ({"by": "fax"}, "How to ask: choose one of web, sms"),
                          ({"by": "web", "participant": "999"}, "Choose who to ask")):
        bad = post(client, f"/enquiries/{target}/feedback", form)
        assert bad.status_code == 400 and message in body(bad)


def test_forms_without_the_csrf_token_are_refused(lead, enquiry_for, records_url):
    client, _ = lead
    target = enquiry_for(None, "SG-CSRF")
    response = client.post(f"/enquiries/{target}/close", data={})
    assert response.status_code == 400 and "did not come from this portal" in body(response)
    with session_scope(records_url, read_only=True) as db:
        assert get_enquiry_by_reference(db, "SG-CSRF").status == "open"
