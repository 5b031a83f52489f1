"""Contact preferences and assignments kept as history (migration 0007), the enquiry read model,
the outcome groups report, the publication rule as a setting, and the msp commands that use them."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from bot.cli import main
from bot.records import add_participant, change_outcome, create_enquiry, record_outcome, withdraw_outcome
from bot.records.db import make_engine, session_scope
from bot.records.enquiries import (
    assign_enquiry,
    assignment_history,
    close_enquiry,
    contact_history,
    list_enquiries,
    set_contact_preferences,
)
from bot.records.enquiry_view import enquiry_detail
from bot.records.errors import AppendOnlyError, InvalidValue
from bot.records.models import ContactPreferenceVersion, EnquiryAssignment, utcnow
from bot.records.outcomes import record_review
from bot.records.reporting import (
    NO_GROUP,
    PublicationRule,
    outcome_group_figures,
    publication_rule,
    report_csv,
    report_sections,
)
from bot.records.schema import downgrade, upgrade_to_head
from bot.settings import load_settings


def test_contact_preferences_and_assignments_are_appended_never_overwritten(db_session):
    enquiry = create_enquiry(db_session, "HIST-1", assigned_worker="sam", recorded_by="lead.one")
    set_contact_preferences(db_session, enquiry.id, safe_to_text=True, safe_number="07700 900123",
                            safe_times="Mon-Fri 10:00-16:00", recorded_by="sam")
    set_contact_preferences(db_session, enquiry.id, safe_to_text=False, recorded_by="lead.one")
    with pytest.raises(InvalidValue, match="Nothing to change"):
        set_contact_preferences(db_session, enquiry.id, safe_to_text=False, recorded_by="sam")
    assign_enquiry(db_session, enquiry.id, "alex", assigned_by="lead.one")
    assign_enquiry(db_session, enquiry.id, None, assigned_by="lead.one")
    with pytest.raises(InvalidValue, match="already assigned"):
        assign_enquiry(db_session, enquiry.id, None, assigned_by="lead.one")
    db_session.commit()

    versions = contact_history(db_session, enquiry.id)
    assert [(v.safe_to_text, v.safe_number, v.recorded_by) for v in versions] == [
        (False, None, "lead.one"), (True, "+447700900123", "sam"), (False, "+447700900123", "lead.one")]
    assert enquiry.safe_to_text is False and enquiry.safe_number == "+447700900123"
    assert [(a.worker, a.assigned_by) for a in assignment_history(db_session, enquiry.id)] == [
        ("sam", "lead.one"), ("alex", "lead.one"), (None, "lead.one")]
    assert enquiry.assigned_worker is None

    versions[0].safe_number = "+447700900999"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    with pytest.raises(AppendOnlyError):
        db_session.execute(update(EnquiryAssignment).values(worker="x"))
    db_session.rollback()


def test_the_database_refuses_changes_to_the_history(db_url):
    with session_scope(db_url) as session:
        create_enquiry(session, "HIST-DB", assigned_worker="sam")
    engine = make_engine(db_url)  # a bare engine: no ORM or Core guard, only the triggers
    try:
        for table in ("contact_preference_versions", "enquiry_assignments"):
            for statement in (f"UPDATE {table} SET enquiry_id = enquiry_id", f"DELETE FROM {table}"):
                with pytest.raises(Exception, match="append-only"):
                    with engine.begin() as connection:
                        connection.execute(text(statement))
    finally:
        engine.dispose()


def test_migration_0007_keeps_what_older_enquiries_hold(sqlite_url):
    upgrade_to_head(sqlite_url)
    downgrade(sqlite_url, "0006_portal")
    engine = make_engine(sqlite_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO enquiries (reference, status, opened_at, assigned_worker, safe_to_text, safe_number, "
                "safe_times, preferred_contact, created_at, sms_name_allowed) VALUES ('OLD-1', 'open', "
                "'2026-01-01 00:00:00', 'sam', 1, '+447700900123', '6-8pm', 'sms', '2026-01-01 00:00:00', 0)"))
    finally:
        engine.dispose()
    upgrade_to_head(sqlite_url)
    with session_scope(sqlite_url, read_only=True) as session:
        versions = session.execute(select(ContactPreferenceVersion)).scalars().all()
        assignments = session.execute(select(EnquiryAssignment)).scalars().all()
        assert [(v.safe_number, v.safe_times, v.preferred_contact, v.recorded_by) for v in versions] == [
            ("+447700900123", "6-8pm", "sms", "before history (0007)")]
        assert [(a.worker, a.assigned_by) for a in assignments] == [("sam", "before history (0007)")]


def test_list_enquiries_filters_by_worker_status_and_reference(sqlite_session):
    for ref, worker in (("L-1", "Sam"), ("L-2", "alex"), ("X-3", "sam"), ("L_4", None)):
        create_enquiry(sqlite_session, ref, assigned_worker=worker)
    close_enquiry(sqlite_session, list_enquiries(sqlite_session, reference="X-3").rows[0].id)
    assert [e.reference for e in list_enquiries(sqlite_session, workers={"sam"}).rows] == ["X-3", "L-1"]
    assert list_enquiries(sqlite_session, workers=set()).total == 0
    assert [e.reference for e in list_enquiries(sqlite_session, status="closed").rows] == ["X-3"]
    assert [e.reference for e in list_enquiries(sqlite_session, reference="_").rows] == ["L_4"]
    page = list_enquiries(sqlite_session, limit=2, offset=2)
    assert page.total == 4 and [e.reference for e in page.rows] == ["L-2", "L-1"]
    with pytest.raises(InvalidValue):
        list_enquiries(sqlite_session, status="lost")


def test_outcome_groups_count_the_latest_version_and_the_workers_review(sqlite_session):
    enquiry = create_enquiry(sqlite_session, "G-1")
    person = add_participant(sqlite_session, enquiry.id, "person")
    by = {"participant_id": person.id, "recorded_by": "t", "channel": "web"}
    safer = record_outcome(sqlite_session, enquiry.id, "I want it to stop", category="stop_abuse_feel_safer", **by)
    moved = record_outcome(sqlite_session, enquiry.id, "More friends", category="make_friends", **by)
    change_outcome(sqlite_session, moved.id, category="get_support", recorded_by="t", channel="staff")
    gone = record_outcome(sqlite_session, enquiry.id, "Police", category="police_prosecute", **by)
    withdraw_outcome(sqlite_session, gone.id, recorded_by="t", channel="web")
    record_outcome(sqlite_session, enquiry.id, "No group", **by)
    record_review(sqlite_session, enquiry.id, "not_achieved", outcome_key=safer.outcome_key, recorded_by="w",
                  channel="staff")
    record_review(sqlite_session, enquiry.id, "fully", outcome_key=safer.outcome_key, recorded_by="w",
                  channel="staff")
    record_review(sqlite_session, enquiry.id, "partially", outcome_key=moved.outcome_key, recorded_by="p",
                  channel="web", view="person")  # the person's view is not the worker's: not counted
    open_one = create_enquiry(sqlite_session, "G-2")  # still open: not counted
    record_outcome(sqlite_session, open_one.id, "Open", category="make_friends",
                   participant_id=add_participant(sqlite_session, open_one.id, "person").id,
                   recorded_by="t", channel="web")
    close_enquiry(sqlite_session, enquiry.id)

    figures = outcome_group_figures(sqlite_session)
    assert figures.enquiries == 1 and figures.withdrawn == 1
    assert figures.groups["For the abuse to stop and to feel safer"] == (1, 1, 0, 0, 0)
    assert figures.groups["To get whatever support is available"] == (1, 0, 0, 0, 1)
    assert figures.groups["To make more friends"] == (0, 0, 0, 0, 0)
    assert figures.groups[NO_GROUP] == (1, 0, 0, 0, 1)
    tomorrow = utcnow() + timedelta(days=1)
    assert outcome_group_figures(sqlite_session, concluded_from=tomorrow).groups[NO_GROUP] == (0, 0, 0, 0, 0)


def test_publication_rule_is_a_setting():
    assert publication_rule(load_settings({})) == PublicationRule(5, 5)
    rule = publication_rule(load_settings({"MSP_REPORT_SUPPRESS_BELOW": "10", "MSP_REPORT_ROUND_TO": "1"}))
    assert [rule.show(n) for n in (0, 9, 10, 11)] == ["*", "*", "10", "11"]
    assert "below 10" in rule.describe() and "not rounded" in rule.describe()
    assert [PublicationRule().show(n) for n in (4, 5, 7, 8, 12, 13)] == ["*", "5", "5", "10", "10", "15"]
    with pytest.raises(ValueError, match="MSP_REPORT_ROUND_TO"):
        publication_rule(load_settings({"MSP_REPORT_ROUND_TO": "five"}))
    with pytest.raises(ValueError):
        PublicationRule(5, 0)


def test_csv_holds_every_figure_in_sac_order(sqlite_session):
    for n in range(7):
        enquiry = create_enquiry(sqlite_session, f"C-{n}")
        if n < 6:
            record_outcome(sqlite_session, enquiry.id, "Safe", recorded_by="t", channel="web",
                           participant_id=add_participant(sqlite_session, enquiry.id, "person").id)
        close_enquiry(sqlite_session, enquiry.id)
    sections = report_sections(sqlite_session, "sg4a")
    raw = list(csv.reader(io.StringIO(report_csv("sg4a", sections, published=False))))
    published = list(csv.reader(io.StringIO(report_csv("sg4a", sections, published=True))))
    assert raw[0] == ["Table", "Period from", "Period to", "Figures", "Section", "Row", "Column", "Value"]
    assert [r[5] for r in raw[1:]] == [label for s in sections for label, _ in s.rows]
    values = {r[5]: r[7] for r in raw[1:]}
    shown = {r[5]: r[7] for r in published[1:]}
    assert values["Yes they were asked and outcomes were expressed"] == "6"
    assert shown["Yes they were asked and outcomes were expressed"] == "5"
    assert values["Not recorded"] == "1" and shown["Not recorded"] == "*"
    assert raw[1][3].startswith("unsuppressed") and published[1][3].startswith("published")


def test_msp_enquiry_contact_assign_and_show_history(sqlite_db, capsys, monkeypatch):
    monkeypatch.setenv("USER", "cli.worker")
    assert main(["enquiry", "create", "--reference", "CLI-H", "--worker", "sam"]) == 0
    assert main(["enquiry", "contact", "CLI-H", "--safe-to-text", "yes", "--safe-number", "07700900123"]) == 0
    assert main(["enquiry", "assign", "CLI-H", "--worker", "alex"]) == 0
    capsys.readouterr()
    assert main(["enquiry", "contact", "CLI-H", "--safe-to-text", "yes"]) == 1
    assert "Nothing to change" in capsys.readouterr().err
    assert main(["enquiry", "show", "CLI-H"]) == 0
    out = capsys.readouterr().out
    assert "Contact preferences, oldest first:" in out and "Assignments, oldest first:" in out
    contact = out.split("Contact preferences, oldest first:")[1].split("Assignments")[0]
    assert contact.count("(by cli.worker)") == 2 and "+447700900123" in contact
    assert "sam (by cli.worker)" in out and "alex (by cli.worker)" in out
    with session_scope(read_only=True) as session:
        from bot.records import get_enquiry_by_reference

        detail = enquiry_detail(session, get_enquiry_by_reference(session, "CLI-H").id)
        assert [c.safe_to_text for c in detail.contacts] == [False, True]
        assert detail.enquiry.assigned_worker == "alex"
