"""The reports: figures computed from records made here, as tables, server-side SVG charts and CSV;
the publication rule (a setting) for published figures, unsuppressed figures for leads only; every
view and download audited; bad periods get a clear message."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest

from bot.records import add_participant, record_outcome, session_scope
from bot.records.enquiries import close_enquiry, create_enquiry
from bot.records.models import utcnow
from bot.records.outcomes import record_asked, record_review
from bot.records.reporting import ASKED_EXPRESSED, ASKED_NOT_EXPRESSED, FULLY, NOT_RECORDED, PARTIALLY
from tests.portal.helpers import audit_rows


@pytest.fixture
def closed_enquiries(records_url):
    """12 enquiries closed two days ago: 8 with an outcome (6 reviewed fully, 2 partly), 3 asked with
    nothing said, 1 with nothing recorded; and one still open, which no report counts."""
    when = utcnow() - timedelta(days=2)
    with session_scope(records_url) as db:
        for n in range(12):
            enquiry = create_enquiry(db, f"R-{n}")
            person = add_participant(db, enquiry.id, "person")
            if n < 8:
                outcome = record_outcome(db, enquiry.id, f"Wish {n} 07700 900123", participant_id=person.id,
                                         recorded_by="assistant", channel="web",
                                         category="stop_abuse_feel_safer" if n < 7 else None)
                record_review(db, enquiry.id, "fully" if n < 6 else "partially", outcome_key=outcome.outcome_key,
                              recorded_by="w", channel="staff")
            elif n < 11:
                record_asked(db, enquiry.id, "yes", recorded_by="w", channel="staff")
            close_enquiry(db, enquiry.id, when=when)
        open_one = create_enquiry(db, "R-OPEN")
        record_outcome(db, open_one.id, "Open", participant_id=add_participant(db, open_one.id, "person").id,
                       recorded_by="assistant", channel="web")
    return when


def _csv(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_sg4a_as_table_chart_and_csv_from_the_records(signed_in, closed_enquiries, records_url):
    client, _ = signed_in("lead")
    page = client.get("/reports/sg4a")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Unsuppressed figures: for safeguarding leads only, not for publication." in text
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td></tr>', text))
    assert rows[ASKED_EXPRESSED] == "8" and rows[ASKED_NOT_EXPRESSED] == "3" and rows[NOT_RECORDED] == "1"
    assert rows[FULLY] == "6" and rows[PARTIALLY] == "2"
    svgs = re.findall(r"<svg .*?</svg>", text, re.S)
    assert len(svgs) == 2 and all('role="img"' in s and "<title" in s and "<desc" in s for s in svgs)
    assert f"{ASKED_EXPRESSED}: 8" in svgs[0]  # the description reads every value out
    widths = [int(w) for w in re.findall(r'<rect x="0" y="\d+" width="(\d+)"', svgs[1])]
    assert widths[0] == 470 and widths[1] == round(2 / 6 * 470) and widths[2] == 0

    download = client.get("/reports/sg4a.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert 'filename="msp-sg4a-start-now-unsuppressed.csv"' in download.headers["Content-Disposition"]
    lines = _csv(download)
    assert [(r["Row"], r["Value"]) for r in lines[:5]] == [
        (ASKED_EXPRESSED, "8"), (ASKED_NOT_EXPRESSED, "3"), ("No", "0"), ("Don't know", "0"), (NOT_RECORDED, "1")]
    assert [(r["Row"], r["Value"]) for r in lines[5:]] == [(FULLY, "6"), (PARTIALLY, "2"), ("Not achieved", "0")]
    assert all(r["Figures"].startswith("unsuppressed") for r in lines)
    views, exports = audit_rows(records_url, "report.view"), audit_rows(records_url, "report.export")
    assert [r["target"] for r in views] == ["report:sg4a"] and [r["target"] for r in exports] == ["report:sg4a"]
    assert '"published": false' in exports[0]["detail"]


def test_published_figures_follow_the_rule_and_auditors_get_nothing_else(signed_in, closed_enquiries,
                                                                         records_url):
    lead, _ = signed_in("lead")
    published = {r["Row"]: r["Value"] for r in _csv(lead.get("/reports/sg4a.csv?figures=published"))}
    assert published[ASKED_EXPRESSED] == "10" and published[FULLY] == "5"  # 8 -> 10, 6 -> 5
    assert published[ASKED_NOT_EXPRESSED] == "*" and published[PARTIALLY] == "*" and published["No"] == "*"
    page = html.unescape(lead.get("/reports/sg4a?figures=published").get_data(as_text=True))
    assert "Published figures: counts below 5 suppressed (*), others rounded to the nearest 5" in page
    assert "* (suppressed)" in page

    auditor, _ = signed_in("auditor")
    for url in ("/reports/sg4a.csv", "/reports/sg4a.csv?figures=unsuppressed"):
        rows = {r["Row"]: r["Value"] for r in _csv(auditor.get(url))}
        assert rows == published
    page = html.unescape(auditor.get("/reports/sg4a?figures=unsuppressed").get_data(as_text=True))
    assert "Published figures" in page and "Unsuppressed figures" not in page and ">8<" not in page
    assert '"published": true' in audit_rows(records_url, "report.view")[-1]["detail"]


def test_the_rule_is_a_setting(signed_in, closed_enquiries, monkeypatch):
    from bot.settings import get_settings

    monkeypatch.setenv("MSP_REPORT_SUPPRESS_BELOW", "3")
    monkeypatch.setenv("MSP_REPORT_ROUND_TO", "2")
    get_settings.cache_clear()
    try:
        lead, _ = signed_in("lead")
        rows = {r["Row"]: r["Value"] for r in _csv(lead.get("/reports/sg4a.csv?figures=published"))}
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert rows[ASKED_EXPRESSED] == "8" and rows[ASKED_NOT_EXPRESSED] == "4" and rows[NOT_RECORDED] == "*"


def test_the_period_chooses_the_enquiries(signed_in, closed_enquiries):
    lead, _ = signed_in("lead")
    closed_on = closed_enquiries.date()
    inside = _csv(lead.get(f"/reports/sg4a.csv?from={closed_on}&to={closed_on}"))
    after = _csv(lead.get(f"/reports/sg4a.csv?from={closed_on + timedelta(days=1)}"))
    assert sum(int(r["Value"]) for r in inside[:5]) == 12 and sum(int(r["Value"]) for r in after[:5]) == 0
    assert inside[0]["Period from"] == inside[0]["Period to"] == closed_on.isoformat()
    response = lead.get(f"/reports/sg4a.csv?from={closed_on}&to={closed_on}")
    assert f'msp-sg4a-{closed_on}-{closed_on}-unsuppressed.csv' in response.headers["Content-Disposition"]


@pytest.mark.parametrize("query, message", [
    ("from=2026-02-30", "From must be a date written as YYYY-MM-DD"),
    ("to=yesterday", "To must be a date"),
    ("from=2026-03-02&to=2026-03-01", "'From' must be on or before 'To'."),
    ("figures=all", "Figures: choose one of unsuppressed, published"),
])
def test_bad_periods_get_a_clear_message(signed_in, query, message):
    lead, _ = signed_in("lead")
    for path in ("/reports/sg4a", "/reports/outcomes.csv"):
        response = lead.get(f"{path}?{query}")
        assert response.status_code == 400 and message in html.unescape(response.get_data(as_text=True))
    assert lead.get("/reports/nothing").status_code == 404


def test_outcomes_by_group_and_feedback_reports(signed_in, closed_enquiries):
    lead, _ = signed_in("lead")
    rows = _csv(lead.get("/reports/outcomes.csv"))
    by = {(r["Row"], r["Column"]): r["Value"] for r in rows}
    assert by[("For the abuse to stop and to feel safer", "Current outcomes")] == "7"
    assert by[("For the abuse to stop and to feel safer", FULLY)] == "6"
    assert by[("For the abuse to stop and to feel safer", PARTIALLY)] == "1"
    assert by[("No group recorded", "Current outcomes")] == "1"
    page = lead.get("/reports/outcomes").get_data(as_text=True)
    assert page.count("<svg") == 1 and "Wish" not in page  # figures only, never anyone's words
    feedback = lead.get("/reports/feedback")
    assert feedback.status_code == 200 and feedback.get_data(as_text=True).count("<svg") == 10
    lines = _csv(lead.get("/reports/feedback.csv"))
    assert {r["Section"] for r in lines} >= {"Feedback surveys by status", "Felt listened to"}
