"""Migration 0010: the TOTP secrets stored before it are encrypted, on SQLite and PostgreSQL; without a key
it stops with one clear line and changes nothing; the downgrade decrypts them again."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.records import totp_keys
from bot.records.db import make_engine
from bot.records.schema import current_revision, downgrade, upgrade, upgrade_to_head
from bot.records.totp_keys import TotpBox, TotpKeyMissing, new_key

BEFORE = "0009_invitation_revoked"
PLAIN = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PENDING = "KRUGS4ZANFZSAYJAORSXG5BAONSWG4TF"


@pytest.fixture(params=["sqlite", "postgresql"])
def url_before(request):
    """A database at 0009 with one enrolled account (plain secret) and one enrolment in progress."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    upgrade(url, BEFORE)
    _run(url, "INSERT INTO staff_users (id, username, display_name, role, password_hash, password_changed_at, "
              "totp_secret, totp_enrolled_at, active, created_at) VALUES (7, 'ada', 'Ada', 'admin', 'x', "
              "CURRENT_TIMESTAMP, :secret, CURRENT_TIMESTAMP, :yes, CURRENT_TIMESTAMP), "
              "(8, 'bob', 'Bob', 'lead', 'x', CURRENT_TIMESTAMP, NULL, NULL, :yes, CURRENT_TIMESTAMP)",
         secret=PLAIN, yes=True)
    _run(url, "INSERT INTO staff_sessions (token_hash, user_id, stage, csrf_token, pending_totp_secret, created_at, "
              "last_seen_at, expires_at) VALUES ('t', 8, 'enrol', 'c', :pending, CURRENT_TIMESTAMP, "
              "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", pending=PENDING)
    return url


def _run(url, sql, **values):
    engine = make_engine(url, for_migrations=True)
    try:
        with engine.begin() as connection:
            return connection.execute(text(sql), values).fetchall() if sql.startswith("SELECT") else \
                connection.execute(text(sql), values)
    finally:
        engine.dispose()


def _values(url):
    user = _run(url, "SELECT totp_secret FROM staff_users WHERE id = 7")[0][0]
    pending = _run(url, "SELECT pending_totp_secret FROM staff_sessions")[0][0]
    return user, pending


def test_existing_plain_secrets_are_encrypted(url_before, monkeypatch):
    key = new_key()
    monkeypatch.setenv("MSP_TOTP_KEYS", key)
    upgrade_to_head(url_before)
    user, pending = _values(url_before)
    assert user.startswith("totp1:") and PLAIN not in user
    assert pending.startswith("totp1:") and PENDING not in pending
    box = TotpBox((key,))
    assert box.open(user, 7) == PLAIN and box.open(pending, 8) == PENDING

    downgrade(url_before, BEFORE)  # and back: the older schema holds them as they were
    assert _values(url_before) == (PLAIN, PENDING)


def test_without_a_key_the_migration_stops_and_changes_nothing(url_before, monkeypatch, tmp_path):
    monkeypatch.setattr(totp_keys, "DEFAULT_KEY_FILE", tmp_path / "absent")
    with pytest.raises(TotpKeyMissing) as error:
        upgrade_to_head(url_before)
    assert str(error.value).startswith("2 second-factor secret(s) must be encrypted, and there is no key for the "
                                       "second-factor (TOTP) secrets: set MSP_TOTP_KEYS, or put a key in")
    assert str(error.value).endswith("Then run `msp db upgrade` again.")
    assert current_revision(url_before) == BEFORE
    assert _values(url_before) == (PLAIN, PENDING)


def test_a_database_without_secrets_needs_no_key(sqlite_url, monkeypatch, tmp_path):
    monkeypatch.setattr(totp_keys, "DEFAULT_KEY_FILE", tmp_path / "absent")
    upgrade_to_head(sqlite_url)  # make test, a fresh install: no key asked for


def test_msp_db_upgrade_says_it_in_one_line(sqlite_url, tmp_path):
    import subprocess
    import sys

    from scripts.stack import ROOT, base_env

    upgrade(sqlite_url, BEFORE)
    _run(sqlite_url, "INSERT INTO staff_users (username, display_name, role, password_hash, password_changed_at, "
                     "totp_secret, active, created_at) VALUES ('ada', 'Ada', 'admin', 'x', CURRENT_TIMESTAMP, "
                     ":secret, 1, CURRENT_TIMESTAMP)", secret=PLAIN)
    env = base_env()
    env.pop("MSP_TOTP_KEYS", None)
    env.update(DATABASE_URL=sqlite_url, MSP_TOTP_KEY_FILE=str(tmp_path / "no-key"))
    result = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("msp:")]
    assert lines == [f"msp: error: 1 second-factor secret(s) must be encrypted, but the TOTP key file "
                     f"{tmp_path / 'no-key'} (MSP_TOTP_KEY_FILE) does not exist. `msp totp new-key` prints a new "
                     "key; `make run` makes var/totp_key itself. Then run `msp db upgrade` again."]
    assert "Traceback" not in result.stderr
