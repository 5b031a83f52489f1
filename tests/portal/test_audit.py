"""The audit log: append-only in the ORM, in Core and in the database itself (SQLite triggers,
PostgreSQL triggers), on both backends; auditors read and filter it; the portal on PostgreSQL."""
from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update

from bot.records import audit as audit_records
from bot.records import session_scope
from bot.records.errors import AppendOnlyError
from bot.records.models import AuditEvent, utcnow
from bot.records.schema import upgrade_to_head
from tests.portal.helpers import audit_rows


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database("audit")
    upgrade_to_head(url)
    return url


def _one_row(url) -> int:
    with session_scope(url) as db:
        return audit_records.record(db, "conversation.view", username="someone", target="conversation:web-1",
                                    detail={"q": "bank"}, client="10.0.0.1").id


def test_orm_and_core_refuse_to_change_or_delete_audit_rows(any_db):
    row_id = _one_row(any_db)
    with pytest.raises(AppendOnlyError):
        with session_scope(any_db) as db:
            db.get(AuditEvent, row_id).action = "nothing.to.see"
    with pytest.raises(AppendOnlyError):
        with session_scope(any_db) as db:
            db.delete(db.get(AuditEvent, row_id))
    with pytest.raises(AppendOnlyError):
        with session_scope(any_db) as db:
            db.execute(update(AuditEvent).values(target=None))
    with pytest.raises(AppendOnlyError):
        with session_scope(any_db) as db:
            db.execute(delete(AuditEvent))
    with session_scope(any_db, read_only=True) as db:
        row = db.get(AuditEvent, row_id)
        assert (row.action, row.target) == ("conversation.view", "conversation:web-1")


def test_the_database_refuses_too_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade_to_head(url)
    _one_row(url)
    connection = sqlite3.connect(str(tmp_path / "audit.db"))
    try:
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="audit_log is append-only"):
                connection.execute(statement)
        connection.execute("INSERT INTO audit_log (at, action, outcome) VALUES ('2026-01-01 00:00:00', 'x', 'ok')")
        connection.commit()
        assert connection.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 2
    finally:
        connection.close()


def test_the_database_refuses_too_postgresql(postgres):
    import psycopg2

    url = postgres.create_database("audit")
    upgrade_to_head(url)
    _one_row(url)
    name = url.rsplit("/", 1)[1]
    connection = psycopg2.connect(host="127.0.0.1", port=postgres.port, user="msp_test",
                                  password=postgres.password, dbname=name)
    try:
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with connection.cursor() as cursor:
                with pytest.raises(psycopg2.IntegrityError, match="audit_log is append-only"):
                    cursor.execute(statement)
            connection.rollback()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), min(action) FROM audit_log")
            assert cursor.fetchone() == (1, "conversation.view")
    finally:
        connection.close()


def test_auditors_filter_the_log_and_see_search_terms_redacted(signed_in, records_url, conversations_for_audit):
    lead, lead_account = signed_in("lead")
    lead.get("/conversations/", query_string={"q": "07700 900123"})
    lead.get("/conversations/web-a")
    auditor, auditor_account = signed_in("auditor")
    page = auditor.get("/audit/", query_string={"username": lead_account.username, "action": "conversation."})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "conversation.search" in text and "conversation.view" in text and "login.ok" not in text
    assert "07700 900123" not in text and "[phone]" in text
    only_view = auditor.get("/audit/", query_string={"target": "conversation:web-a",
                                                     "action": "conversation.view"}).get_data(as_text=True)
    assert only_view.count("<td>conversation.view</td>") == 1
    today = utcnow().date()
    future = auditor.get("/audit/", query_string={"from": (today + timedelta(days=1)).isoformat()})
    assert "0 rows" in future.get_data(as_text=True)
    # Reading the log is itself audited, with the filters used.
    looked = audit_rows(records_url, "audit.view")
    assert looked[-1]["username"] == auditor_account.username
    assert json.loads(looked[-1]["detail"])["from"] == (today + timedelta(days=1)).isoformat()


@pytest.fixture
def conversations_for_audit(tracker):
    from rasa.shared.core.events import UserUttered

    from tests.portal.helpers import write_events

    write_events(tracker, "web-a", [UserUttered("ring me on 07700 900123", {"name": "greet", "confidence": 1.0},
                                                message_id="a1")])
    return tracker


def test_only_auditors_read_the_log(signed_in):
    for role in ("practitioner", "lead", "admin"):
        client, _ = signed_in(role)
        assert client.get("/audit/").status_code == 403


def test_refused_pages_are_audited(signed_in, records_url):
    client, account = signed_in("admin")
    client.get("/conversations/")
    row = audit_rows(records_url, "access.refused")[-1]
    assert (row["username"], row["outcome"], row["target"]) == (account.username, "refused",
                                                                  "page:conversations.index")


def test_the_portal_on_postgresql(postgres, tmp_path, tracker, make_account_on, auth_on):
    """Sign in, read a transcript, audit rows written: with the records on PostgreSQL."""
    from rasa.shared.core.events import UserUttered

    from bot.portal import create_app
    from bot.portal.config import test_config
    from tests.portal.helpers import write_events

    url = postgres.create_database("portal")
    upgrade_to_head(url)
    write_events(tracker, "web-pg", [UserUttered("<b>hello</b>", {"name": "greet", "confidence": 1.0},
                                                 message_id="pg1")])
    app = create_app(test_config(database_url=url, tracker_url=f"sqlite:///{tmp_path / 'tracker.db'}"))
    account = make_account_on(url, "lead")
    client = app.test_client()
    auth_on(app, url).login(client, account)
    page = client.get("/conversations/web-pg")
    assert page.status_code == 200 and "&lt;b&gt;hello&lt;/b&gt;" in page.get_data(as_text=True)
    with session_scope(url, read_only=True) as db:
        actions = [r.action for r in db.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]
        triggers = {r[0] for r in db.execute(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal"))}
    assert actions == ["login.password_ok", "login.ok", "conversation.view"]
    assert triggers == {"audit_log_append_only", "audit_log_no_truncate"}


@pytest.fixture
def make_account_on(config):
    from bot.portal import credentials
    from bot.records import staff
    from tests.portal.conftest import Account
    from tests.portal.helpers import PASSWORD

    def make(url, role):
        secret = credentials.new_totp_secret()
        with session_scope(url) as db:
            user = staff.create_user(db, f"{role}.pg", display_name="On PostgreSQL", role=role,
                                     password_hash=credentials.hash_password(PASSWORD, config.argon2))
            staff.enrol_totp(db, user, secret, 0, box=config.totp_box())
            return Account(user.id, user.username, role, PASSWORD, secret)
    return make


@pytest.fixture
def auth_on():
    from tests.portal.conftest import Auth

    return lambda app, url: Auth(app, url)
