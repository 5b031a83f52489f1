"""Reminders and expiry, with a clock the test moves: at most two, spaced, in safe times, never after the end."""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from bot.records import feedback
from bot.records import sms as sms_records
from bot.records.enquiries import add_participant, close_enquiry, create_enquiry
from bot.records.models import SmsOutbox
from bot.settings import Settings
from bot.surveys import texts
from bot.surveys.request import request_feedback
from bot.surveys.scheduler import run_once

UTC = timezone.utc
MONDAY_11 = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
SETTINGS = Settings()  # reminders 72 h apart, at most 2; window 56 days
ROOT = Path(__file__).resolve().parents[2]


def sms_survey(session, reference="SG-REM", safe_times="Mon-Fri 10:00-16:00", number="07700 900123"):
    enquiry = create_enquiry(session, reference, safe_to_text=True, safe_number=number,
                             safe_times=safe_times)
    add_participant(session, enquiry.id, "person")
    close_enquiry(session, enquiry.id, when=MONDAY_11 - timedelta(days=1))
    result = request_feedback(session, enquiry.id, channel="sms", requested_by="Sam", now=MONDAY_11,
                              settings=SETTINGS)
    assert result.ok, result.reason
    return result.survey_id


def kinds(session):
    return [(row.kind, row.source_ref) for row in session.execute(select(SmsOutbox).order_by(SmsOutbox.id)).scalars()]


def test_two_reminders_at_most_spaced_and_only_in_safe_times(db_session):
    survey_id = sms_survey(db_session)
    assert run_once(db_session, now=MONDAY_11 + timedelta(hours=71), settings=SETTINGS).reminded == []
    # 72 h after Monday 11:00 is Thursday 11:00, inside Mon-Fri 10:00-16:00.
    thursday = MONDAY_11 + timedelta(hours=72)
    assert run_once(db_session, now=thursday, settings=SETTINGS).reminded == [survey_id]
    assert run_once(db_session, now=thursday + timedelta(minutes=5), settings=SETTINGS).reminded == []
    # 72 h later is Sunday 11:00: outside Mon-Fri, held until Monday 10:00.
    sunday = thursday + timedelta(hours=72)
    tick = run_once(db_session, now=sunday, settings=SETTINGS)
    assert tick.reminded == [] and tick.held == [survey_id]
    monday = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    assert run_once(db_session, now=monday, settings=SETTINGS).reminded == [survey_id]
    assert run_once(db_session, now=monday + timedelta(days=10), settings=SETTINGS).reminded == []
    assert kinds(db_session) == [("survey_invite", f"survey:{survey_id}:invite"),
                                 ("survey_reminder", f"survey:{survey_id}:reminder:1"),
                                 ("survey_reminder", f"survey:{survey_id}:reminder:2")]
    body = db_session.execute(select(SmsOutbox.body).where(SmsOutbox.kind == "survey_reminder")).scalars().first()
    assert body == texts.render("survey_reminder", settings=SETTINGS)
    survey = feedback.require_survey(db_session, survey_id)
    assert survey.reminders_sent == 2 and survey.status == "sent"


def test_no_reminder_after_an_answer_stop_or_expiry(db_session):
    answered = sms_survey(db_session, "SG-REM-A")
    feedback.record_answer(db_session, answered, "goals", "yes", text="yes", channel="sms")
    later = MONDAY_11 + timedelta(hours=72)
    tick = run_once(db_session, now=later, settings=SETTINGS)
    assert answered not in tick.reminded
    # STOP from the number: the survey ends and nothing more is queued.
    enquiry = create_enquiry(db_session, "SG-REM-C", safe_to_text=True, safe_number="07700 900999",
                             safe_times="every day 00:00-24:00")
    add_participant(db_session, enquiry.id, "person")
    close_enquiry(db_session, enquiry.id, when=MONDAY_11)
    third = request_feedback(db_session, enquiry.id, channel="sms", requested_by="Sam", now=MONDAY_11,
                             settings=SETTINGS).survey_id
    number = sms_records.find_number(db_session, "07700 900999")
    sms_records.record_opt(db_session, number.id, "out", "stop")
    tick = run_once(db_session, now=later, settings=SETTINGS)
    assert third not in tick.reminded and third in tick.held
    # Expiry at the end of the window: expired, and no reminder after.
    end = MONDAY_11 + timedelta(days=56)
    tick = run_once(db_session, now=end, settings=SETTINGS)
    assert third in tick.expired and answered in tick.expired
    assert feedback.require_survey(db_session, third).status == "expired"
    assert run_once(db_session, now=end + timedelta(days=4), settings=SETTINGS).reminded == []


def test_settings_change_the_spacing_and_the_count(db_session):
    survey_id = sms_survey(db_session, safe_times="every day 00:00-24:00")
    one = dataclasses.replace(SETTINGS, feedback_reminder_hours="1", feedback_max_reminders="1")
    assert run_once(db_session, now=MONDAY_11 + timedelta(hours=1), settings=one).reminded == [survey_id]
    assert run_once(db_session, now=MONDAY_11 + timedelta(hours=5), settings=one).reminded == []


def test_the_scheduler_process_survives_restarts_without_sending_twice(sqlite_db, tmp_path):
    from bot.records import session_scope

    with session_scope() as session:
        survey_id = sms_survey(session, safe_times="every day 00:00-24:00")
    env = dict(os.environ, DATABASE_URL=sqlite_db, MSP_SURVEY_POLL_SECONDS="0.2",
               MSP_SCHEDULER_NOW=(MONDAY_11 + timedelta(hours=73)).isoformat(),
               PYTHONPATH=str(ROOT))
    for _ in range(2):  # started, killed hard, started again
        proc = subprocess.Popen([sys.executable, "-m", "bot.surveys.scheduler"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with session_scope(read_only=True) as session:
                if feedback.require_survey(session, survey_id).reminders_sent:
                    break
            time.sleep(0.2)
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    with session_scope(read_only=True) as session:
        assert [k for k, _ in kinds(session)] == ["survey_invite", "survey_reminder"]
        assert feedback.require_survey(session, survey_id).reminders_sent == 1
