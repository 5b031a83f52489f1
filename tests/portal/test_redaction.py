"""Redaction in the portal (issue 12): what auditors see on every page with free text, what the CSV
export holds, and what happens when the redaction model is missing (the pages that need it are
refused, the rest of the portal works, and it is logged). The redaction itself: tests/unit/test_redact.py."""
from __future__ import annotations

import csv
import html
import io
import logging
import time

import pytest
from rasa.shared.core.events import BotUttered, UserUttered

from bot.records import add_participant, record_outcome, session_scope
from bot.records.enquiries import close_enquiry, create_enquiry, set_contact_preferences
from bot.records.models import utcnow
from bot.records.outcomes import record_asked
from bot.text import redact_model
from tests.portal.helpers import audit_rows, write_events

T0 = time.time() - 3600
WORDS = "my son Darren Okafor took my card, he lives at 14 Mill Lane, ring me on 07700 900123"
SHOWN = "my son [name] took my card, he lives at [address], ring me on [phone]"


def body(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def conversation(tracker):
    write_events(tracker, "web-red", [
        UserUttered(WORDS, {"name": "inform_financial", "confidence": 1.0}, [], None, timestamp=T0,
                    input_channel="socketio", message_id="m-r1"),
        BotUttered("Thank you for telling us.", {}, {"utter_action": "utter_thanks"}, timestamp=T0 + 1),
    ])
    return "web-red"


@pytest.fixture
def enquiry(records_url, enquiry_for):
    target = enquiry_for(None, "SG-RED")
    with session_scope(records_url) as db:
        person = add_participant(db, target, "person", display_name="Margaret Ellis")
        record_outcome(db, target, WORDS, participant_id=person.id, recorded_by="assistant", channel="web")
        record_asked(db, target, "yes", recorded_by="sam.worker", channel="staff",
                     note="asked with her daughter Shirley Okafor there")
        set_contact_preferences(db, target, safe_to_text=True, safe_number="+44 (0)7700-900-123",
                                recorded_by="sam.worker")
    return target


def test_an_auditor_sees_the_transcript_redacted_and_a_lead_as_typed(signed_in, conversation, records_url):
    auditor, _ = signed_in("auditor")
    page = body(auditor.get(f"/conversations/{conversation}"))
    assert SHOWN in page
    assert not any(detail in page for detail in ("Darren", "Okafor", "Mill Lane", "07700"))
    assert '"redacted": true' in audit_rows(records_url, "conversation.view")[-1]["detail"]
    lead, _ = signed_in("lead")
    assert WORDS in body(lead.get(f"/conversations/{conversation}"))


def test_an_auditor_sees_the_enquiry_redacted(signed_in, enquiry):
    auditor, _ = signed_in("auditor")
    page = body(auditor.get(f"/enquiries/{enquiry}"))
    assert SHOWN in page and "asked with her daughter [name] there" in page
    assert not any(detail in page for detail in ("Darren", "Okafor", "Mill Lane", "07700", "Margaret", "Shirley"))
    # The safe number is hidden whole, whatever its layout.
    assert "<td>[phone]</td>" in page
    lead, _ = signed_in("lead")
    shown = body(lead.get(f"/enquiries/{enquiry}"))
    assert WORDS in shown and "+447700900123" in shown and "Shirley Okafor" in shown  # the number as stored


def test_the_audit_log_shows_search_terms_redacted(signed_in, conversation):
    lead, _ = signed_in("lead")
    lead.get("/conversations/", query_string={"q": "my son Darren Okafor"})
    auditor, _ = signed_in("auditor")
    page = body(auditor.get("/audit/", query_string={"action": "conversation.search"}))
    assert "conversation.search" in page
    assert "Darren" not in page and "Okafor" not in page and '"q": "my son [name]"' in page


def test_the_csv_export_holds_figures_and_fixed_labels_only(signed_in, records_url):
    """The only export (reports) is counts under labels of the code: no free text reaches it, so it needs
    no redaction. Every text cell of a CSV made from records full of personal words is also in the CSV
    of an empty database; a column of free text added later fails here (and must use bot.text.redact)."""
    lead, _ = signed_in("lead")

    def cells(report):
        rows = list(csv.reader(io.StringIO(lead.get(f"/reports/{report}.csv").get_data(as_text=True))))
        return {cell for row in rows for cell in row[:-1]}  # all but the value

    empty = {report: cells(report) for report in ("sg4a", "outcomes", "feedback")}
    with session_scope(records_url) as db:
        enquiry = create_enquiry(db, "SG-CSV")
        person = add_participant(db, enquiry.id, "person", display_name="Margaret Ellis")
        record_outcome(db, enquiry.id, WORDS, participant_id=person.id, recorded_by="assistant", channel="web")
        record_asked(db, enquiry.id, "yes", recorded_by="w", channel="staff", note="Darren Okafor was there")
        close_enquiry(db, enquiry.id, when=utcnow())
    for report, before in empty.items():
        after = cells(report)
        assert after <= before, report
        assert not any(word in cell for cell in after for word in ("Darren", "Margaret", "07700", "Mill Lane"))


# --- without the redaction model ------------------------------------------------------------------


@pytest.fixture
def no_model(monkeypatch, tmp_path):
    """As on a server where `make train` never ran: the model directory for this code and data is absent."""
    redact_model.get_nlp.cache_clear()
    monkeypatch.setattr(redact_model, "model_dir", lambda: redact_model.ROOT / "models" / "redaction-absent")
    yield
    redact_model.get_nlp.cache_clear()


def test_without_the_model_redacted_pages_are_refused_and_the_rest_works(signed_in, conversation, enquiry,
                                                                         records_url, no_model, caplog):
    auditor, _ = signed_in("auditor")
    for url in (f"/conversations/{conversation}", f"/enquiries/{enquiry}", "/audit/"):
        with caplog.at_level(logging.ERROR, logger="bot.portal.errors"):
            response = auditor.get(url)
        page = body(response)
        assert response.status_code == 503, url
        assert "personal details cannot be hidden" in page and "make train" in page
        assert "Darren" not in page and "07700" not in page and "Mill Lane" not in page
        assert "redaction model is missing" in caplog.text
    assert not audit_rows(records_url, "conversation.view")  # nothing was shown, so no view is recorded
    # Pages without free text, and every other role, are unaffected.
    assert auditor.get("/conversations/").status_code == 200
    assert auditor.get("/reports/sg4a").status_code == 200
    lead, _ = signed_in("lead")
    assert WORDS in body(lead.get(f"/conversations/{conversation}"))
    assert WORDS in body(lead.get(f"/enquiries/{enquiry}"))


def test_the_portal_loads_the_model_at_start_and_says_plainly_when_it_is_missing(no_model, caplog):
    from bot.portal.__main__ import _load_redaction

    with caplog.at_level(logging.INFO, logger="bot.portal"):
        _load_redaction()
    assert "redaction model is missing" in caplog.text and "make train" in caplog.text
    assert "auditors' redacted pages are refused" in caplog.text
