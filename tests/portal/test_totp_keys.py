"""TOTP secrets are encrypted at rest (``bot.records.totp_keys``): what is stored, signing in with it,
a missing or wrong key (a clear message, never a stack trace), and key rotation."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.portal import create_app, credentials
from bot.portal.config import ConfigError, PortalConfig, test_config as make_config
from bot.records import session_scope, staff
from bot.records import totp_keys
from bot.records.models import StaffLoginFailure, StaffSession, StaffUser
from bot.records.totp_keys import TotpBox, TotpKeyError, TotpKeyMissing, TotpKeyWrong, new_key
from scripts.stack import ROOT, base_env
from tests.portal.helpers import PASSWORD, audit_rows, csrf_of


def _stored(records_url, table="staff_users", column="totp_secret"):
    """The column as the database holds it (SQL, not the ORM)."""
    with session_scope(records_url, read_only=True) as db:
        return [row[0] for row in db.execute(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"))]


def test_the_stored_column_does_not_hold_the_secret(make_account, records_url, tmp_path):
    account = make_account("lead")
    [stored] = _stored(records_url)
    assert stored.startswith("totp1:") and account.totp_secret not in stored
    assert re.fullmatch(r"totp1:[0-9a-f]{8}:[A-Za-z0-9_-]+", stored)
    # Nor anywhere in the database's files (the WAL included).
    for path in tmp_path.glob("msp.db*"):
        assert account.totp_secret.encode() not in path.read_bytes(), path.name


def test_sign_in_still_works_with_the_encrypted_secret(app, client, auth, make_account):
    account = make_account("practitioner")
    auth.password(client, account.username, PASSWORD)
    response = auth.code(client, credentials.totp_now(account.totp_secret))
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.get("/").status_code == 200


def test_enrolment_keeps_the_secret_encrypted_while_it_is_set_up(app, client, auth, make_account, records_url):
    account = make_account("lead", enrolled=False)
    auth.password(client, account.username, PASSWORD)
    page = client.get("/auth/enrol")
    secret = re.search(r'<code class="secret">([^<]+)</code>', page.get_data(as_text=True)).group(1).replace(" ", "")
    [pending] = _stored(records_url, "staff_sessions", "pending_totp_secret")
    assert pending.startswith("totp1:") and secret not in pending
    assert client.get("/auth/enrol/qr.svg").status_code == 200  # the QR code is made from the decrypted secret
    client.post("/auth/enrol", data={"csrf_token": csrf_of(page), "code": credentials.totp_now(secret)})
    [stored] = _stored(records_url)
    assert stored.startswith("totp1:") and secret not in stored
    with session_scope(records_url, read_only=True) as db:
        assert staff.totp_secret(db.get(StaffUser, account.id), app.config["PORTAL"].totp_box()) == secret


def test_a_secret_copied_to_another_account_does_not_open(make_account, records_url, config):
    first, second = make_account("lead"), make_account("lead")
    box = config.totp_box()
    with session_scope(records_url) as db:
        db.get(StaffUser, second.id).totp_secret = db.get(StaffUser, first.id).totp_secret
    with session_scope(records_url, read_only=True) as db:
        with pytest.raises(TotpKeyWrong, match="belongs to another account"):
            staff.totp_secret(db.get(StaffUser, second.id), box)


def test_a_wrong_key_gives_a_clear_page_and_counts_no_failure(make_account, records_url, tracker_path):
    account = make_account("lead")  # encrypted with test_config()'s key
    other = create_app(make_config(database_url=records_url, tracker_url=f"sqlite:///{tracker_path}",
                                   totp_keys=(new_key(),)))
    client = other.test_client()
    token = csrf_of(client.get("/auth/login"))
    client.post("/auth/login", data={"csrf_token": token, "username": account.username, "password": PASSWORD})
    page = client.get("/auth/code")
    response = client.post("/auth/code", data={"csrf_token": csrf_of(page),
                                               "code": credentials.totp_now(account.totp_secret)})
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Your second factor cannot be checked just now" in body
    assert "the key it was stored with is not the key the portal has" in body
    assert "Traceback" not in body and "totp1:" not in body and account.totp_secret not in body
    assert client.get("/").status_code == 302  # not signed in
    refused = audit_rows(records_url, "login.refused")
    assert refused and json.loads(refused[-1]["detail"])["reason"] == "totp key"
    assert refused[-1]["outcome"] == "failed"
    with session_scope(records_url, read_only=True) as db:
        assert db.execute(select(StaffLoginFailure)).first() is None  # not the person's fault


def test_a_recovery_code_still_signs_in_when_the_key_does_not_fit(make_account, records_url, tracker_path):
    account = make_account("lead")
    codes = credentials.new_recovery_codes()
    with session_scope(records_url) as db:
        staff.replace_recovery_codes(db, account.id, [credentials.recovery_code_hash(c) for c in codes])
    other = create_app(make_config(database_url=records_url, tracker_url=f"sqlite:///{tracker_path}",
                                   totp_keys=(new_key(),)))
    client = other.test_client()
    token = csrf_of(client.get("/auth/login"))
    client.post("/auth/login", data={"csrf_token": token, "username": account.username, "password": PASSWORD})
    page = client.get("/auth/code")
    response = client.post("/auth/code", data={"csrf_token": csrf_of(page), "code": codes[0]})
    assert response.status_code == 200 and "Signed in with a recovery code" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200


def test_rotation_newest_key_first_and_sign_in_re_encrypts(make_account, records_url, tracker_path, auth, config):
    account = make_account("auditor")
    old = config.totp_keys[0]
    new = new_key()
    rotated = create_app(make_config(database_url=records_url, tracker_url=f"sqlite:///{tracker_path}",
                                     totp_keys=(new, old)))
    [before] = _stored(records_url)
    assert totp_keys.stored_key_id(before) == TotpBox((old,)).newest
    client = rotated.test_client()
    auth.login(client, account)  # the old key still opens it...
    [after] = _stored(records_url)
    assert totp_keys.stored_key_id(after) == TotpBox((new,)).newest != totp_keys.stored_key_id(before)
    with session_scope(records_url, read_only=True) as db:  # ...and it is now the new key's
        assert staff.totp_secret(db.get(StaffUser, account.id), TotpBox((new,))) == account.totp_secret


def test_msp_totp_rotate_re_encrypts_every_secret(make_account, records_url, config, monkeypatch, capsys):
    from bot.cli import main

    accounts = [make_account("lead"), make_account("practitioner")]
    new = new_key()
    monkeypatch.setenv("DATABASE_URL", records_url)
    monkeypatch.setenv("MSP_TOTP_KEYS", f"{new},{config.totp_keys[0]}")
    assert main(["totp", "rotate"]) == 0
    out = capsys.readouterr().out
    assert "re-encrypted with key" in out and ": 2 " in out and "can be removed" in out
    monkeypatch.setenv("MSP_TOTP_KEYS", new)  # the old key gone: every secret still opens
    with session_scope(records_url, read_only=True) as db:
        box = TotpBox((new,))
        assert [staff.totp_secret(db.get(StaffUser, a.id), box) for a in accounts] == [a.totp_secret for a in accounts]
    monkeypatch.setenv("MSP_TOTP_KEYS", new_key())  # a key that made none of them
    assert main(["totp", "rotate"]) == 1
    assert "2 account(s) have a secret none of the keys opens" in capsys.readouterr().err


# --- the key's settings ---------------------------------------------------------------------------


def test_keys_from_the_environment_or_the_file(tmp_path, monkeypatch):
    one, two = new_key(), new_key()
    assert totp_keys.load_keys({"MSP_TOTP_KEYS": f" {one}, {two} "}) == (one, two)
    key_file = tmp_path / "totp_key"
    key_file.write_text(f"# newest first\n{two}\n\n{one}\n")
    key_file.chmod(0o600)
    assert totp_keys.load_keys({"MSP_TOTP_KEY_FILE": str(key_file)}) == (two, one)
    assert totp_keys.load_keys({"MSP_TOTP_KEY_FILE": str(key_file), "MSP_TOTP_KEYS": one}) == (one,)
    monkeypatch.setattr(totp_keys, "DEFAULT_KEY_FILE", tmp_path / "absent")
    assert totp_keys.load_keys({}) == ()  # nothing configured: the portal refuses to start (below)


@pytest.mark.parametrize("setting, message", [
    ({"MSP_TOTP_KEYS": "not-a-key"}, "MSP_TOTP_KEYS (key 1) is not a key"),
    ({"MSP_TOTP_KEYS": "c2hvcnQ="}, "is not a key: a key is 32 random bytes"),
    ({"MSP_TOTP_KEY_FILE": "/nonexistent/totp_key"}, "/nonexistent/totp_key (MSP_TOTP_KEY_FILE) does not exist"),
])
def test_a_bad_key_setting_is_said_in_one_line(setting, message):
    with pytest.raises(TotpKeyError, match=re.escape(message)):
        totp_keys.load_keys(setting)
    with pytest.raises(ConfigError, match=re.escape(message)):
        PortalConfig.from_env(setting)


def test_a_key_file_others_can_read_is_refused(tmp_path):
    key_file = tmp_path / "totp_key"
    key_file.write_text(new_key() + "\n")
    key_file.chmod(0o644)
    with pytest.raises(TotpKeyError, match="can be read by other users: chmod 600"):
        totp_keys.load_keys({"MSP_TOTP_KEY_FILE": str(key_file)})


def test_the_app_will_not_start_without_a_key(records_url):
    with pytest.raises(ConfigError, match="no key for the second-factor \\(TOTP\\) secrets: set MSP_TOTP_KEYS"):
        create_app(make_config(database_url=records_url, totp_keys=()))
    with pytest.raises(TotpKeyMissing):
        TotpBox(())


def _portal_process(env_changes, tmp_path):
    env = base_env()
    for name in ("MSP_TOTP_KEYS", "MSP_TOTP_KEY_FILE"):
        env.pop(name, None)
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'process.db'}", PORTAL_PORT="1", **env_changes)
    return subprocess.run([sys.executable, "-m", "bot.portal", "--port", "9"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_portal_process_says_why_it_will_not_start_without_a_key(tmp_path):
    result = _portal_process({"MSP_TOTP_KEY_FILE": str(tmp_path / "no-such-key")}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"portal: the TOTP key file {tmp_path / 'no-such-key'} (MSP_TOTP_KEY_FILE) "
                                     "does not exist. `msp totp new-key` prints a new key; `make run` makes "
                                     "var/totp_key itself.")
    assert "Traceback" not in result.stderr + result.stdout


def test_the_portal_warns_at_start_of_secrets_its_keys_cannot_open(make_account, records_url, config):
    from bot.portal.__main__ import key_warnings

    make_account("lead")
    make_account("lead")
    assert key_warnings(config) == []
    other = make_config(database_url=records_url, totp_keys=(new_key(),))
    [warning] = key_warnings(other)
    kid = TotpBox(config.totp_keys).newest
    assert f"encrypted with key(s) the portal does not have: {kid} (2 accounts)" in warning
