"""The staff CLI: create, invite, show; clear errors, never a traceback."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main, terminal_safe
from bot.records import (
    add_participant,
    change_outcome,
    get_enquiry_by_reference,
    record_outcome,
    redeem_code,
    redeem_token,
    session_scope,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_invite_show(db_url, capsys):
    code, out, err = run(capsys, "enquiry", "create", "--reference", "SG-2024-001",
                         "--worker", "Sam Worker", "--safe-to-text", "yes",
                         "--safe-number", "07700 900123", "--safe-times", "weekdays after 6pm")
    assert code == 0, err
    assert "Created enquiry SG-2024-001" in out
    with session_scope() as session:
        enquiry = get_enquiry_by_reference(session, "SG-2024-001")
        assert enquiry.assigned_worker == "Sam Worker"
        assert enquiry.safe_to_text is True and enquiry.safe_number == "+447700900123"
        assert enquiry.safe_times == "weekdays after 6pm"

    code, out, err = run(capsys, "enquiry", "invite", "SG-2024-001", "--days", "7")
    assert code == 0, err
    link = re.search(r"Link:\s+(\S+)", out).group(1)
    short = re.search(r"Short code:\s+(\S+)", out).group(1)
    assert link.startswith("http://localhost:8000/#invite=")
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", short)
    assert "(7 days)" in out
    with session_scope() as session:
        result = redeem_code(session, short, client_key="phone")
        assert result.ok
        assert redeem_token(session, link.split("=", 1)[1], client_key="web").reason == "used"

    with session_scope() as session:
        enquiry = get_enquiry_by_reference(session, "SG-2024-001")
        person = add_participant(session, enquiry.id, "person")
        first = record_outcome(session, enquiry.id, "Make him stop <b>now</b> 😀",
                               participant_id=person.id, recorded_by="assistant", channel="web",
                               category="stop_abuse_feel_safer")
        change_outcome(session, first.id, text="Make him stop, and feel safe 😀",
                       recorded_by="assistant", channel="web")
    code, out, err = run(capsys, "enquiry", "show", "SG-2024-001")
    assert code == 0, err
    assert "Current outcomes (1)" in out
    assert "Outcome history, oldest first (2 versions)" in out
    assert out.index("Make him stop <b>now</b> 😀") < out.rindex("Make him stop, and feel safe 😀")
    assert "v1 recorded" in out and "v2 changed" in out
    assert "For the abuse to stop and to feel safer" in out
    assert "safe to text: yes" in out and "used" in out


def test_public_url_from_environment(db_url, capsys, monkeypatch):
    monkeypatch.setenv("MSP_PUBLIC_URL", "https://chat.example.gov.uk")
    assert run(capsys, "enquiry", "create", "--reference", "R1")[0] == 0
    code, out, _ = run(capsys, "enquiry", "invite", "R1")
    assert code == 0 and "https://chat.example.gov.uk/#invite=" in out and "(14 days)" in out


@pytest.mark.parametrize("argv,message", [
    (["enquiry", "invite", "NOPE"], "no enquiry with reference 'NOPE'"),
    (["enquiry", "show", "NOPE"], "no enquiry with reference 'NOPE'"),
    (["enquiry", "create", "--reference", "   "], "reference is empty"),
    (["enquiry", "create", "--reference", "X", "--safe-to-text", "yes"], "safe number"),
    (["enquiry", "create", "--reference", "X", "--safe-number", "12"], "phone number"),
    (["enquiry", "create", "--reference", "R" * 65], "the most is 64"),
])
def test_bad_requests_exit_1_with_one_clear_line(sqlite_db, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_duplicate_reference(sqlite_db, capsys):
    assert run(capsys, "enquiry", "create", "--reference", "DUP")[0] == 0
    code, _, err = run(capsys, "enquiry", "create", "--reference", "DUP")
    assert code == 1 and "already exists" in err


@pytest.mark.parametrize("argv", [
    [],
    ["enquiry"],
    ["enquiry", "create"],
    ["enquiry", "create", "--reference", "X", "--safe-to-text", "perhaps"],
    ["enquiry", "invite", "X", "--days", "0"],
    ["enquiry", "invite", "X", "--days", "many"],
    ["report", "sg4a", "--from", "yesterday"],
    ["enquiry", "frobnicate"],
])
def test_usage_errors_exit_2(sqlite_db, capsys, argv):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    _, err = capsys.readouterr()
    assert "error:" in err and "Traceback" not in err


def test_closed_enquiry_cannot_be_invited(sqlite_db, capsys):
    run(capsys, "enquiry", "create", "--reference", "C1")
    assert run(capsys, "enquiry", "close", "C1")[0] == 0
    code, _, err = run(capsys, "enquiry", "invite", "C1")
    assert code == 1 and "closed" in err


def test_missing_tables_explained(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    code, _, err = run(capsys, "enquiry", "show", "X")
    assert code == 1 and "msp db upgrade" in err


def test_db_upgrade_and_current(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    code, out, _ = run(capsys, "db", "current")
    assert code == 0 and "revision none" in out and "needs upgrade" in out
    code, out, _ = run(capsys, "db", "upgrade")
    from bot.records.schema import head_revision

    assert code == 0 and f"at revision {head_revision()}." in out and head_revision() != "0004_feedback"
    code, out, _ = run(capsys, "db", "current")
    assert "up to date" in out


def test_report_sg4a(sqlite_db, capsys):
    run(capsys, "enquiry", "create", "--reference", "A")
    run(capsys, "enquiry", "close", "A")
    code, out, _ = run(capsys, "report", "sg4a")
    assert code == 0
    assert "Not recorded: 1" in out and "Total: 1" in out
    code, out, _ = run(capsys, "report", "sg4a", "--published")
    assert code == 0 and "Not recorded: *" in out and "Total" not in out
    code, _, err = run(capsys, "report", "sg4a", "--from", "2025-01-01", "--to", "2024-01-01")
    assert code == 1 and "--from must be before --to" in err


def test_untrusted_text_cannot_drive_the_terminal(sqlite_db, capsys):
    assert terminal_safe("red \x1b[31m bell \x07 cr \r rtl \u202e ok 😀 عربى") == \
        "red \\x1b[31m bell \\x07 cr \\x0d rtl \\u202e ok 😀 عربى"
    run(capsys, "enquiry", "create", "--reference", "T1")
    with session_scope() as session:
        enquiry = get_enquiry_by_reference(session, "T1")
        person = add_participant(session, enquiry.id, "person")
        record_outcome(session, enquiry.id, "nice\x1b]0;owned\x07 words", participant_id=person.id,
                       recorded_by="assistant", channel="web")
    _, out, _ = run(capsys, "enquiry", "show", "T1")
    assert "\x1b" not in out and "nice\\x1b]0;owned\\x07 words" in out


def _subprocess_env(database_url):
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("MSP_DEBUG", None)
    return env


def test_cli_as_a_program(sqlite_url):
    env = _subprocess_env(sqlite_url)

    def msp(*argv):
        return subprocess.run([sys.executable, "-m", "bot.cli", *argv], env=env,
                              capture_output=True, text=True, timeout=120, cwd="/")

    upgrade = msp("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    created = msp("enquiry", "create", "--reference", "P-1", "--worker", "Ann")
    assert created.returncode == 0, created.stderr
    invited = msp("enquiry", "invite", "P-1")
    assert invited.returncode == 0 and "#invite=" in invited.stdout
    missing = msp("enquiry", "show", "P-404")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "no enquiry with reference 'P-404'" in missing.stderr
    shown = msp("enquiry", "show", "P-1")
    assert shown.returncode == 0 and "Worker:   Ann" in shown.stdout


def test_cli_reports_an_unreachable_database_without_traceback(tmp_path):
    env = _subprocess_env("postgresql+psycopg2://nobody:secret@127.0.0.1:1/none")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "enquiry", "show", "X"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "cannot use the records database" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_feedback_request_by_web_and_refused_sms(sqlite_db, capsys):
    run(capsys, "enquiry", "create", "--reference", "FB-1", "--safe-to-text", "no")
    code, out, err = run(capsys, "enquiry", "feedback", "FB-1", "--by", "web")
    assert code == 1 and "still open" in err and "Nothing was sent" in err and "Traceback" not in err
    run(capsys, "enquiry", "close", "FB-1")
    code, out, err = run(capsys, "enquiry", "feedback", "FB-1", "--by", "sms")
    assert code == 1 and "not marked safe to text" in err
    from bot.records.models import SmsOutbox
    with session_scope() as session:
        assert session.query(SmsOutbox).count() == 0
    code, out, err = run(capsys, "enquiry", "feedback", "FB-1", "--by", "web")
    assert code == 0, err
    short = re.search(r"Short code:\s+(\S+)", out).group(1)
    with session_scope() as session:
        assert redeem_code(session, short, client_key="phone").ok
    code, out, err = run(capsys, "enquiry", "feedback", "FB-1", "--by", "web")
    assert code == 1 and "already asked" in err


def test_feedback_link_reissued(db_url, capsys):
    from bot.records import feedback

    run(capsys, "enquiry", "create", "--reference", "FB-RE", "--safe-to-text", "no")
    code, _, err = run(capsys, "enquiry", "feedback", "FB-RE", "--reissue")
    assert code == 1 and "No feedback has been asked for yet" in err and "Nothing was changed" in err
    run(capsys, "enquiry", "close", "FB-RE")
    code, out, err = run(capsys, "enquiry", "feedback", "FB-RE", "--by", "web")
    assert code == 0, err
    first = re.search(r"Short code:\s+(\S+)", out).group(1)
    survey_id = int(re.search(r"survey (\d+)", out).group(1))
    with session_scope() as session:
        assert redeem_code(session, first, client_key="web-1").ok
        feedback.record_answer(session, survey_id, "goals", "yes", text="yes", channel="web")
    code, out, err = run(capsys, "enquiry", "feedback", "FB-RE", "--reissue")
    assert code == 0, err
    assert f"(survey {survey_id})" in out and "The earlier link and code no longer work." in out
    assert "carries on where they left off (1 answer kept)" in out and "cannot be shown again" in out
    link = re.search(r"Link:\s+(\S+)", out).group(1)
    with session_scope() as session:
        assert redeem_code(session, first, client_key="web-2").reason == "revoked"
        opened = redeem_token(session, link.split("=", 1)[1], client_key="web-2")
        assert opened.ok and feedback.survey_for_invitation(session, opened.invitation_id).id == survey_id
        feedback.finish(session, survey_id, "completed")
    code, _, err = run(capsys, "enquiry", "feedback", "FB-RE", "--reissue")
    assert code == 1 and "The survey is completed" in err and "Traceback" not in err
    code, out, _ = run(capsys, "enquiry", "show", "FB-RE")
    assert "withdrawn" in out and "web: link re-issued, 1 answer kept" in out


def test_feedback_needs_by_or_reissue_not_both(sqlite_db, capsys):
    for argv in (["enquiry", "feedback", "X"], ["enquiry", "feedback", "X", "--by", "web", "--reissue"]):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
        assert "--reissue" in capsys.readouterr()[1]


def test_feedback_request_by_sms_inside_safe_times(sqlite_db, capsys):
    run(capsys, "enquiry", "create", "--reference", "FB-2", "--safe-to-text", "yes",
        "--safe-number", "07700 900123", "--safe-times", "every day 00:00-24:00")
    run(capsys, "enquiry", "close", "FB-2")
    code, out, err = run(capsys, "enquiry", "feedback", "FB-2", "--by", "sms")
    assert code == 0, err
    assert "queued to the safe number" in out and "07700" not in out and "+44" not in out
    from bot.records.models import SmsOutbox
    with session_scope() as session:
        rows = session.query(SmsOutbox).all()
        assert [r.kind for r in rows] == ["survey_invite"]


def test_show_and_report_feedback(sqlite_db, capsys):
    from datetime import timedelta

    from bot.records import close_enquiry, create_enquiry, feedback, record_review
    from bot.records.models import utcnow
    from bot.surveys.request import request_feedback

    keys = []
    with session_scope() as session:
        for n in range(6):
            enquiry = create_enquiry(session, f"FB-R{n}")
            person = add_participant(session, enquiry.id, "person")
            row = record_outcome(session, enquiry.id, f"Outcome \x1b[31m{n}", participant_id=person.id,
                                 recorded_by="assistant", channel="web")
            keys.append(row.outcome_key)
            close_enquiry(session, enquiry.id, when=utcnow() - timedelta(days=1))
            survey_id = request_feedback(session, enquiry.id, channel="web", requested_by="Sam").survey_id
            feedback.record_answer(session, survey_id, "goals", "yes" if n < 5 else "no", text=f"yep {n}",
                                   channel="web", source_ref=f"r{n}")
            feedback.record_answer(session, survey_id, "safe_change", "better", text="better", channel="web")
            feedback.record_answer(session, survey_id, "outcome", "fully", text="1", channel="web",
                                   outcome_key=row.outcome_key)
            if n == 0:
                record_review(session, enquiry.id, "not_achieved", recorded_by="Sam", channel="staff",
                              outcome_key=row.outcome_key)
                feedback.finish(session, survey_id, "completed")
    code, out, err = run(capsys, "enquiry", "show", "FB-R0")
    assert code == 0, err
    assert "Feedback survey" in out and "completed" in out and "goals: yes" in out and "yep 0" in out
    assert "outcome 1: fully" in out and "\x1b" not in out
    assert "fully (their own view" in out and "not_achieved (worker's judgement" in out
    code, out, err = run(capsys, "report", "feedback")
    assert code == 0, err
    assert "Got the goals they wanted:\n  Yes: 5\n  Partly: 0\n  No: 1" in out
    assert "  Better: 6" in out
    assert "in the person's own view?\n  Fully achieved: 6" in out
    code, out, err = run(capsys, "report", "feedback", "--published")
    assert "Got the goals they wanted:\n  Yes: 5\n  Partly: *\n  No: *" in out
    assert "  Better: 5" in out
    code, out, err = run(capsys, "report", "sg4a")
    assert "  Not achieved: 1" in out and "  Fully achieved: 0" in out
