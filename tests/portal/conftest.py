"""Fixtures for the staff portal: a fresh records database and tracker store per test, the app,
its test client, staff accounts of every role, and signing in (password, then TOTP).

Conversations are written through the project's real tracker store class
(``bot.components.tracker_store.WALSQLTrackerStore``, Rasa's SQL store), so
the portal reads exactly the rows Rasa writes.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
RECORDS_TESTS = HERE.parent / "records"
if str(RECORDS_TESTS) not in sys.path:
    sys.path.insert(0, str(RECORDS_TESTS))

from bot.portal import create_app, credentials  # noqa: E402
from bot.portal.config import test_config  # noqa: E402
from bot.records import add_participant, create_enquiry, session_scope, staff  # noqa: E402
from bot.records.db import dispose_engines  # noqa: E402
from bot.records.schema import upgrade_to_head  # noqa: E402
from bot.records.transcripts import dispose_tracker_engines  # noqa: E402

from tests.portal.helpers import PASSWORD, csrf_of  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _redaction(redaction_model):
    """Auditors' pages are redacted with the trained model (refused without it: test_redaction_missing)."""
    return redaction_model


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused-default.db'}")
    for name in ("MSP_TRACKER_URL", "MSP_TRACKER_DB", "MSP_INVITATION_SECRET", "MSP_DEBUG", "MSP_TOTP_KEYS",
                 "MSP_TOTP_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    yield
    dispose_engines()
    dispose_tracker_engines()


@pytest.fixture
def records_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'msp.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture
def tracker_path(tmp_path) -> Path:
    return tmp_path / "tracker.db"


@pytest.fixture
def tracker(tracker_path):
    """The real tracker store on a fresh SQLite file."""
    from bot.components.tracker_store import WALSQLTrackerStore

    store = WALSQLTrackerStore(dialect="sqlite", db=str(tracker_path))
    yield store
    store.engine.dispose()


@pytest.fixture
def config(records_url, tracker_path):
    return test_config(database_url=records_url, tracker_url=f"sqlite:///{tracker_path}")


@pytest.fixture
def app(config):
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class Account:
    id: int
    username: str
    role: str
    password: str
    totp_secret: Optional[str]
    team: Optional[str] = None


@pytest.fixture
def make_account(records_url, config):
    """make_account(role, username=None, team=None, enrolled=True) -> Account (password PASSWORD)."""
    counter = {"n": 0}

    def make(role: str, username: Optional[str] = None, team: Optional[str] = None,
             enrolled: bool = True, password: str = PASSWORD) -> Account:
        counter["n"] += 1
        username = username or f"{role}{counter['n']}"
        secret = credentials.new_totp_secret() if enrolled else None
        with session_scope(records_url) as db:
            user = staff.create_user(db, username, display_name=f"{role.title()} {counter['n']}", role=role,
                                     team=team, password_hash=credentials.hash_password(password, config.argon2))
            if enrolled:
                staff.enrol_totp(db, user, secret, 0, box=config.totp_box())
            user_id = user.id
        return Account(user_id, username, role, password, secret, team)

    return make


@dataclass
class Auth:
    """Signing in and out with a test client, the way a browser does."""

    app: object
    records_url: str

    def start(self, client):
        return csrf_of(client.get("/auth/login"))

    def password(self, client, username: str, password: str, **kwargs):
        token = self.start(client)
        return client.post("/auth/login", data={"csrf_token": token, "username": username, "password": password},
                           **kwargs)

    def code(self, client, code: str, **kwargs):
        page = client.get("/auth/code")
        return client.post("/auth/code", data={"csrf_token": csrf_of(page), "code": code}, **kwargs)

    def allow_code_again(self, account: Account) -> None:
        """Forget the last TOTP step used, so a test may sign one account in twice within 30 s.
        (The portal refuses a code used before: see test_auth.py.)"""
        from sqlalchemy import update

        from bot.records.models import StaffUser

        with session_scope(self.records_url) as db:
            db.execute(update(StaffUser).where(StaffUser.id == account.id).values(totp_last_step=None))

    def login(self, client, account: Account):
        self.allow_code_again(account)
        response = self.password(client, account.username, account.password)
        assert response.status_code == 302 and response.headers["Location"].endswith("/auth/code"), \
            response.get_data(as_text=True)[:500]
        response = self.code(client, credentials.totp_now(account.totp_secret))
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    def csrf(self, client) -> str:
        """The CSRF token of the client's signed-in session (from the sign-out form)."""
        return csrf_of(client.get("/"))


@pytest.fixture
def auth(app, records_url) -> Auth:
    return Auth(app, records_url)


@pytest.fixture
def signed_in(app, auth, make_account):
    """signed_in(role, **account options) -> (client, account), signed in with password and TOTP."""
    def make(role: str, **options):
        account = make_account(role, **options)
        client = app.test_client()
        auth.login(client, account)
        return client, account
    return make


@pytest.fixture
def enquiry_for(records_url):
    """enquiry_for(worker, reference) -> enquiry id, with a person taking part."""
    def make(worker: Optional[str], reference: str) -> int:
        with session_scope(records_url) as db:
            enquiry = create_enquiry(db, reference, assigned_worker=worker)
            add_participant(db, enquiry.id, "person")
            return enquiry.id
    return make


@pytest.fixture
def link_conversation(records_url):
    """link_conversation(sender_id, enquiry_id): what redeeming an invitation in that chat records."""
    from datetime import timedelta

    from bot.records.invitations import create_invitation, hash_client
    from bot.records.models import InvitationLink, utcnow

    def link(sender_id: str, enquiry_id: int) -> None:
        with session_scope(records_url) as db:
            issued = create_invitation(db, enquiry_id, days=1)
            db.add(InvitationLink(invitation_id=issued.invitation.id, enquiry_id=enquiry_id,
                                  conversation_hash=hash_client(sender_id), session_ref="s",
                                  expires_at=utcnow() + timedelta(hours=1)))
    return link


# --- real Chromium against the real portal process (test_browser*.py) -------------------------------


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium through Playwright, once per test module (a missing browser fails, with what to
    install). Not longer: Playwright's sync API keeps an event loop running, and the other portal tests
    write conversations with asyncio.run()."""
    from playwright.sync_api import sync_playwright

    from tests.portal.live import launch_chromium

    with sync_playwright() as playwright:
        try:
            browser = launch_chromium(playwright)
        except RuntimeError as error:
            pytest.fail(str(error))
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    """The portal process on a free loopback port with every kind of record (tests/portal/world.py).
    ``live.url``, ``live.world``; shared by the browser tests of the run, which each make what they change."""
    from types import SimpleNamespace

    from bot.records.db import dispose_engines as dispose
    from bot.records.totp_keys import TotpBox, new_key
    from tests.portal.live import LivePortal
    from tests.portal.world import seed

    where = tmp_path_factory.mktemp("live-portal")
    records = f"sqlite:///{where / 'msp.db'}"
    upgrade_to_head(records)
    key = new_key()
    world = seed(records, where / "tracker.db", TotpBox((key,)))
    portal = LivePortal(records, where / "tracker.db", key, where / "portal.log")
    try:
        portal.start()
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield SimpleNamespace(url=portal.url, world=world, portal=portal)
    finally:
        portal.stop()
        dispose()
