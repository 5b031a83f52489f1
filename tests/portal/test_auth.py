"""Signing in: password then TOTP, enrolment, recovery codes, lock-out with back-off,
sessions (rotation, sign-out, password change, idle time-out), CSRF and cookies."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.portal import credentials
from bot.records import session_scope, staff
from bot.records.models import StaffLoginFailure, StaffSession, StaffUser, utcnow
from tests.portal.helpers import PASSWORD, audit_rows, csrf_of


def cookie_value(response, name="__Host-msp_portal"):
    for header in response.headers.get_all("Set-Cookie"):
        if header.startswith(name + "="):
            return header.split(";", 1)[0].split("=", 1)[1]
    return None


def copy_cookie(app, source):
    """A second client holding a copy of ``source``'s session cookie (a stolen or copied cookie)."""
    other = app.test_client()
    cookie = source.get_cookie("__Host-msp_portal")
    assert cookie is not None
    other.set_cookie("__Host-msp_portal", cookie.value, secure=True, httponly=True, samesite="Strict")
    return other


# --- password, then the second factor ---------------------------------------------------


def test_sign_in_needs_password_and_totp(app, client, auth, make_account, records_url):
    account = make_account("lead")
    assert client.get("/").status_code == 302
    response = auth.password(client, account.username, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/code")
    # Password alone opens nothing.
    for path in ("/", "/conversations/", "/auth/password"):
        page = client.get(path)
        assert page.status_code == 302 and page.headers["Location"].endswith("/auth/code"), path
    response = auth.code(client, credentials.totp_now(account.totp_secret))
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    home = client.get("/")
    assert home.status_code == 200 and "Hello, Lead" in home.get_data(as_text=True)
    actions = [r["action"] for r in audit_rows(records_url)]
    assert actions[:2] == ["login.password_ok", "login.ok"]


def test_unknown_name_wrong_password_and_deactivated_account_get_the_same_answer(client, auth, make_account,
                                                                                   records_url):
    account = make_account("lead")
    gone = make_account("lead")
    with session_scope(records_url) as db:
        db.get(StaffUser, gone.id).active = False
    answers = []
    for username, password in ((account.username, "not the password at all"), ("nobody-here", PASSWORD),
                               (gone.username, PASSWORD)):
        response = auth.password(client, username, password)
        text = response.get_data(as_text=True)
        answers.append((response.status_code, re.search(r'<p class="error"[^>]*>([^<]*)<', text).group(1)))
    assert answers[0] == answers[1] == answers[2] == (200, "The username or password is not right.")
    assert client.get("/").status_code == 302


def test_a_totp_code_is_accepted_once(app, auth, make_account):
    account = make_account("lead")
    code = credentials.totp_now(account.totp_secret)
    first = app.test_client()
    assert auth.password(first, account.username, PASSWORD).status_code == 302
    assert auth.code(first, code).status_code == 302
    second = app.test_client()
    assert auth.password(second, account.username, PASSWORD).status_code == 302
    replay = auth.code(second, code)
    assert replay.status_code == 200 and "That code is not right" in replay.get_data(as_text=True)
    assert second.get("/").status_code == 302


def test_wrong_totp_code_is_refused(client, auth, make_account):
    account = make_account("lead")
    auth.password(client, account.username, PASSWORD)
    right = credentials.totp_now(account.totp_secret)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    response = auth.code(client, wrong)
    assert "That code is not right" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_enrolment_qr_code_and_recovery_codes(app, client, auth, make_account, records_url):
    account = make_account("practitioner", enrolled=False)
    response = auth.password(client, account.username, PASSWORD)
    assert response.headers["Location"].endswith("/auth/enrol")
    assert client.get("/").headers["Location"].endswith("/auth/enrol")  # nothing else until enrolled
    page = client.get("/auth/enrol")
    text = page.get_data(as_text=True)
    secret = re.search(r'<code class="secret">([^<]+)</code>', text).group(1).replace(" ", "")
    qr = client.get("/auth/enrol/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    svg = qr.get_data(as_text=True)
    assert svg.startswith("<?xml") and "<svg" in svg and "<script" not in svg and "style=" not in svg
    bad = client.post("/auth/enrol", data={"csrf_token": csrf_of(page), "code": "000000" if
                                           credentials.totp_now(secret) != "000000" else "111111"})
    assert "That code is not right" in bad.get_data(as_text=True)
    done = client.post("/auth/enrol", data={"csrf_token": csrf_of(page), "code": credentials.totp_now(secret)})
    codes = re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/").status_code == 200
    with session_scope(records_url, read_only=True) as db:
        user = db.get(StaffUser, account.id)
        assert user.enrolled and secret not in user.totp_secret  # stored encrypted (test_totp_keys.py)
        assert staff.totp_secret(user, app.config["PORTAL"].totp_box()) == secret
        from bot.records.models import StaffRecoveryCode

        stored = {r.code_hash for r in db.execute(select(StaffRecoveryCode)).scalars()}
    assert all(code not in " ".join(stored) for code in codes)  # only hashes are kept
    assert stored == {credentials.recovery_code_hash(c) for c in codes}

    # A recovery code signs in once instead of the app's code.
    other = app.test_client()
    auth.password(other, account.username, PASSWORD)
    used = auth.code(other, codes[3].lower())
    assert used.status_code == 200 and "You have 9 left" in used.get_data(as_text=True)
    assert other.get("/").status_code == 200
    again = app.test_client()
    auth.password(again, account.username, PASSWORD)
    assert "That code is not right" in auth.code(again, codes[3]).get_data(as_text=True)


# --- lock-out and back-off -------------------------------------------------------------------


def _age_failures(records_url, seconds):
    """Move every recorded failure ``seconds`` into the past (time passing)."""
    with session_scope(records_url) as db:
        for row in db.execute(select(StaffLoginFailure)).scalars():
            row.attempted_at = row.attempted_at - timedelta(seconds=seconds)


def _fail(client, auth, username, times, **kwargs):
    for _ in range(times):
        response = auth.password(client, username, "wrong password here", **kwargs)
        assert response.status_code in (200, 429)
    return response


def test_lockout_per_account_with_back_off(app, auth, make_account, records_url):
    account = make_account("lead")
    attacker = app.test_client()
    _fail(attacker, auth, account.username, 5)
    # The right password, from another address, is refused while the account waits.
    owner = app.test_client()
    refused = auth.password(owner, account.username, PASSWORD, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert refused.status_code == 429
    assert "Signing in is paused" in refused.get_data(as_text=True)
    assert "1 minute" in refused.get_data(as_text=True)
    # An unknown name locks the same way (no way to tell which names exist).
    _fail(attacker, auth, "nobody-at-all", 5, environ_base={"REMOTE_ADDR": "10.1.1.1"})
    unknown = auth.password(attacker, "nobody-at-all", PASSWORD, environ_base={"REMOTE_ADDR": "10.2.2.2"})
    assert unknown.status_code == 429

    # Once the wait is over, one more failure waits twice as long.
    _age_failures(records_url, 31)
    assert auth.password(attacker, account.username, "wrong again, sorry").status_code == 200
    wait = auth.password(owner, account.username, PASSWORD, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert wait.status_code == 429
    _age_failures(records_url, 31)
    assert auth.password(owner, account.username, PASSWORD,
                         environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 429  # 60 s, not 30
    _age_failures(records_url, 30)
    ok = auth.password(owner, account.username, PASSWORD, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert ok.status_code == 302
    assert [r["outcome"] for r in audit_rows(records_url, "login.refused")] == ["refused"] * 4


def test_lockout_per_client_address(app, auth, make_account):
    account = make_account("lead")
    spray = app.test_client()
    for n in range(20):  # one failure each for 20 names: no account reaches its own limit
        auth.password(spray, f"name{n:02d}", "wrong password here", environ_base={"REMOTE_ADDR": "10.7.7.7"})
    refused = auth.password(spray, account.username, PASSWORD, environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert refused.status_code == 429
    elsewhere = app.test_client()
    assert auth.password(elsewhere, account.username, PASSWORD,
                         environ_base={"REMOTE_ADDR": "10.8.8.8"}).status_code == 302


def test_wrong_codes_count_towards_the_lockout(app, auth, make_account):
    account = make_account("lead")
    client = app.test_client()
    auth.password(client, account.username, PASSWORD)
    right = credentials.totp_now(account.totp_secret)
    wrong = f"{(int(right) + 500000) % 1000000:06d}"
    for _ in range(5):
        auth.code(client, wrong)
    assert auth.code(client, right).status_code == 429


def test_backoff_doubles_and_is_capped():
    from datetime import datetime, timezone

    backoff = credentials.Backoff(after=3, window=timedelta(minutes=15), base=timedelta(seconds=30),
                                  maximum=timedelta(minutes=5))
    now = datetime(2025, 1, 1, 12, tzinfo=timezone.utc)
    at = [now - timedelta(seconds=1)]
    assert backoff.wait(at * 2, now) is None
    assert backoff.wait(at * 3, now) == timedelta(seconds=29)
    assert backoff.wait(at * 4, now) == timedelta(seconds=59)
    assert backoff.wait(at * 12, now) == timedelta(minutes=5) - timedelta(seconds=1)
    old = [now - timedelta(minutes=16)] * 10
    assert backoff.wait(old, now) is None


# --- sessions -----------------------------------------------------------------------------------


def test_session_is_rotated_at_each_sign_in_step(client, auth, make_account):
    account = make_account("lead")
    first = client.get("/auth/login")
    anonymous = cookie_value(first)
    response = auth.password(client, account.username, PASSWORD)
    after_password = cookie_value(response)
    auth.allow_code_again(account)
    page = client.get("/auth/code")
    response = client.post("/auth/code", data={"csrf_token": csrf_of(page),
                                               "code": credentials.totp_now(account.totp_secret)})
    signed_in = cookie_value(response)
    assert len({anonymous, after_password, signed_in}) == 3 and None not in {anonymous, after_password, signed_in}


def test_sign_out_ends_every_copy_of_the_session(app, auth, signed_in, records_url):
    client, account = signed_in("lead")
    thief = copy_cookie(app, client)
    assert thief.get("/").status_code == 200  # a copied cookie is the session...
    response = client.post("/auth/logout", data={"csrf_token": auth.csrf(client)})
    assert response.status_code == 302 and "signed_out=1" in response.headers["Location"]
    assert thief.get("/").status_code == 302  # ...until it ends
    assert client.get("/").status_code == 302
    with session_scope(records_url, read_only=True) as db:
        assert db.execute(select(StaffSession).where(StaffSession.user_id == account.id)).first() is None


def test_password_change_ends_every_other_session(app, auth, signed_in, records_url):
    client, account = signed_in("practitioner")
    copy = copy_cookie(app, client)
    elsewhere = app.test_client()
    auth.login(elsewhere, account)
    page = client.get("/auth/password")
    new = "amber quarry whistle ladder"
    response = client.post("/auth/password", data={"csrf_token": csrf_of(page), "current": PASSWORD, "new": new,
                                                   "repeat": new})
    assert response.status_code == 200 and "Password changed" in response.get_data(as_text=True)
    assert copy.get("/").status_code == 302
    assert elsewhere.get("/").status_code == 302
    assert client.get("/").status_code == 200  # this browser carries on, in a new session
    fresh = app.test_client()
    assert auth.password(fresh, account.username, PASSWORD).get_data(as_text=True).count("not right") == 1
    assert auth.password(fresh, account.username, new).status_code == 302


def test_password_change_refuses_a_common_or_short_password(signed_in, auth):
    client, account = signed_in("lead")
    for new, message in (("Password2024!", "too common"), ("short one", "at least 12"),
                         (f"{account.username} is my name", "must not contain your username")):
        page = client.get("/auth/password")
        response = client.post("/auth/password", data={"csrf_token": csrf_of(page), "current": PASSWORD,
                                                       "new": new, "repeat": new})
        assert message in response.get_data(as_text=True), new
    assert client.get("/").status_code == 200


def test_idle_timeout(app, signed_in, records_url):
    client, account = signed_in("lead")
    with session_scope(records_url) as db:
        db.execute(update(StaffSession).where(StaffSession.user_id == account.id)
                   .values(last_seen_at=utcnow() - timedelta(minutes=14)))
    assert client.get("/").status_code == 200  # 14 minutes: still there (and now touched)
    with session_scope(records_url) as db:
        db.execute(update(StaffSession).where(StaffSession.user_id == account.id)
                   .values(last_seen_at=utcnow() - timedelta(minutes=15, seconds=1)))
    response = client.get("/")
    assert response.status_code == 302
    login = client.get(response.headers["Location"])
    assert "signed out after 15 minutes without activity" in login.get_data(as_text=True)


def test_idle_timeout_is_a_setting(records_url, tracker_path, make_account, auth):
    from bot.portal import create_app
    from bot.portal.config import test_config

    app = create_app(test_config(database_url=records_url, tracker_url=f"sqlite:///{tracker_path}",
                                 idle_minutes=2))
    account = make_account("lead")
    client = app.test_client()
    auth.login(client, account)
    with session_scope(records_url) as db:
        db.execute(update(StaffSession).where(StaffSession.user_id == account.id)
                   .values(last_seen_at=utcnow() - timedelta(minutes=2, seconds=1)))
    assert client.get("/").status_code == 302


# --- CSRF and cookies ----------------------------------------------------------------------------


def test_every_post_needs_this_sessions_csrf_token(app, auth, signed_in):
    client, account = signed_in("admin")
    other, _ = signed_in("admin")
    foreign = auth.csrf(other)
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "x" * 43}, {"csrf_token": foreign}):
        response = client.post("/admin/invitations/new", data=dict(data, role="lead"))
        assert response.status_code == 400
        assert "This form has expired or did not come from this portal" in response.get_data(as_text=True)
    ok = client.post("/admin/invitations/new", data={"csrf_token": auth.csrf(client), "role": "lead"})
    assert ok.status_code == 200 and "Invitation link" in ok.get_data(as_text=True)
    # The sign-in form too: no session, no token.
    fresh = app.test_client()
    assert fresh.post("/auth/login", data={"username": account.username, "password": PASSWORD}).status_code == 400


def test_every_form_carries_a_csrf_token(app, signed_in):
    client, _ = signed_in("admin")
    for path in ("/", "/admin/users", "/admin/invitations/new", "/auth/password"):
        text = client.get(path).get_data(as_text=True)
        forms = re.findall(r"<form\b[^>]*>.*?</form>", text, re.S)
        assert forms, path
        for form in forms:
            if 'method="get"' in form:
                continue
            assert 'name="csrf_token"' in form, (path, form[:200])


def test_cookie_flags(client):
    response = client.get("/auth/login")
    header = [h for h in response.headers.get_all("Set-Cookie") if h.startswith("__Host-msp_portal=")][0]
    parts = {p.strip().split("=")[0].lower() for p in header.split(";")}
    assert {"secure", "httponly", "path", "samesite"} <= parts
    assert "SameSite=Strict" in header and "Path=/" in header and "Domain" not in header
    assert "Max-Age" not in header and "Expires" not in header  # ends with the browser


def test_cookie_secure_may_be_off_only_on_loopback():
    from bot.portal.config import ConfigError, PortalConfig, test_config

    assert test_config(cookie_secure=False, host="127.0.0.1").cookie_name == "msp_portal"
    with pytest.raises(ConfigError):
        test_config(cookie_secure=False, host="0.0.0.0")
    with pytest.raises(ConfigError):
        PortalConfig.from_env({"MSP_PORTAL_COOKIE_SECURE": "no", "MSP_PORTAL_HOST": "192.0.2.10"})
    assert PortalConfig.from_env({}).cookie_secure is True


# --- invitations -----------------------------------------------------------------------------------


def _invite(client, auth, role="practitioner", team="North", days="3"):
    response = client.post("/admin/invitations/new", data={"csrf_token": auth.csrf(client), "role": role,
                                                           "team": team, "days": days})
    link = re.search(r'id="invitation-link">([^<]+)<', response.get_data(as_text=True)).group(1)
    return "/" + link.split("/", 3)[3]


def _accept(app, path, username="new.worker", password="amber quarry whistle ladder", repeat=None):
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    response = client.post(path, data={"csrf_token": csrf_of(page), "username": username,
                                       "display_name": "New Worker", "password": password,
                                       "repeat": repeat or password})
    return client, response


def test_invitation_creates_an_account_once(app, auth, signed_in, records_url):
    admin, _ = signed_in("admin")
    path = _invite(admin, auth)
    client, response = _accept(app, path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/enrol")
    with session_scope(records_url, read_only=True) as db:
        user = db.execute(select(StaffUser).where(StaffUser.username == "new.worker")).scalar_one()
        assert (user.role, user.team, user.enrolled) == ("practitioner", "North", False)
    assert app.test_client().get(path).status_code == 404
    assert [r["action"] for r in audit_rows(records_url, "account.created")] == ["account.created"]


def test_invitation_refuses_weak_passwords_and_expires(app, auth, signed_in, records_url):
    admin, _ = signed_in("admin")
    path = _invite(admin, auth)
    _, weak = _accept(app, path, password="password12345")
    assert "too common" in weak.get_data(as_text=True)
    _, mismatch = _accept(app, path, repeat="something else entirely")
    assert "not the same" in mismatch.get_data(as_text=True)
    from bot.records.models import StaffInvitation

    with session_scope(records_url) as db:
        db.execute(update(StaffInvitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert app.test_client().get(path).status_code == 404
    assert app.test_client().get("/auth/invite/not-a-real-token").status_code == 404


def test_deactivation_and_second_factor_reset_end_the_accounts_sessions(app, auth, signed_in):
    admin, admin_account = signed_in("admin")
    worker, worker_account = signed_in("practitioner")
    response = admin.post(f"/admin/users/{worker_account.id}/reset-second-factor",
                          data={"csrf_token": auth.csrf(admin)})
    assert response.status_code == 302
    assert worker.get("/").status_code == 302
    again = app.test_client()
    assert auth.password(again, worker_account.username, PASSWORD).headers["Location"].endswith("/auth/enrol")
    response = admin.post(f"/admin/users/{worker_account.id}/deactivate", data={"csrf_token": auth.csrf(admin)})
    assert response.status_code == 302
    assert again.get("/auth/enrol").status_code == 302
    refused = auth.password(app.test_client(), worker_account.username, PASSWORD)
    assert "The username or password is not right." in refused.get_data(as_text=True)
    own = admin.post(f"/admin/users/{admin_account.id}/deactivate", data={"csrf_token": auth.csrf(admin)})
    assert own.status_code == 400 and "your own account" in own.get_data(as_text=True)
