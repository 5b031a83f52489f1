"""Real Chromium against the real portal process (``python -m bot.portal`` on a loopback port, as
``make run`` starts it): sign in with password and TOTP, then read a transcript that holds hostile
HTML. The script must not run, the markup must show as text, and the page must break no CSP rule.
Then open a report: its chart is drawn, and its CSV downloads with the figures of the records made here.

The session cookie keeps ``Secure`` (and its ``__Host-`` name) here: Chromium stores Secure
cookies from http://127.0.0.1, so the test runs the portal exactly as ``make run`` does.
"""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot.portal import credentials
from bot.portal.config import Argon2Params
from bot.records import add_participant, close_enquiry, create_enquiry, record_outcome, session_scope, staff
from bot.records.outcomes import record_asked
from bot.records.schema import upgrade_to_head
from scripts.stack import ROOT, UMASK, base_env, free_port, portal_command
from tests.portal.helpers import PASSWORD, write_events

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("MSP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOSTILE = ('<script>window.__pwned = 1; alert("pwned")</script><img src=x onerror="window.__pwned=2">'
           '<style>body{display:none}</style> & more')


@pytest.fixture
def portal(tmp_path, tracker_path, tracker):
    """The portal process on a free loopback port, with a lead's account and one hostile conversation."""
    records = f"sqlite:///{tmp_path / 'portal-msp.db'}"
    upgrade_to_head(records)
    secret = credentials.new_totp_secret()
    with session_scope(records) as db:
        user = staff.create_user(db, "browser.lead", display_name="Browser Lead", role="lead",
                                 password_hash=credentials.hash_password(PASSWORD, Argon2Params()))
        staff.enrol_totp(db, user, secret, 0)
        for n in range(3):  # for the reports: 2 enquiries with an outcome, 1 asked with nothing said
            enquiry = create_enquiry(db, f"SG-BROWSER-{n}")
            person = add_participant(db, enquiry.id, "person")
            if n < 2:
                record_outcome(db, enquiry.id, "To feel safe", participant_id=person.id, recorded_by="assistant",
                               channel="web")
            else:
                record_asked(db, enquiry.id, "yes", recorded_by="w", channel="staff")
            close_enquiry(db, enquiry.id)
    write_events(tracker, "web-hostile", [
        UserUttered(HOSTILE, {"name": "greet", "confidence": 1.0}, message_id="b1", input_channel="socketio"),
        ActionExecuted("utter_greet"),
        BotUttered("Hello <b>there</b>", {}, {"utter_action": "utter_greet"}),
    ])
    port = free_port()
    env = base_env()
    env.update(DATABASE_URL=records, MSP_TRACKER_DB=str(tracker_path), PORTAL_PORT=str(port))
    env.pop("MSP_PORTAL_COOKIE_SECURE", None)
    log = open(tmp_path / "portal.log", "wb")
    process = subprocess.Popen(portal_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True, umask=UMASK)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.close()
            pytest.fail(f"the portal did not start: {(tmp_path / 'portal.log').read_text()[-2000:]}")
        time.sleep(0.2)
    try:
        yield {"url": url, "secret": secret}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        log.close()


@pytest.fixture
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_sign_in_with_totp_and_read_a_hostile_transcript(portal, browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems, dialogs = [], []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    outside = []
    page.on("request", lambda r: r.url.startswith(portal["url"]) or outside.append(r.url))

    page.goto(portal["url"] + "/conversations/web-hostile")
    assert page.url.endswith("/auth/login")
    page.get_by_label("Username").fill("browser.lead")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/auth/code")
    page.get_by_label("The 6-digit code").fill(credentials.totp_now(portal["secret"]))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(portal["url"] + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Browser Lead"

    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["__Host-msp_portal"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"
    assert "msp_portal" not in page.evaluate("document.cookie")

    page.get_by_role("link", name="Conversations").first.click()
    page.get_by_role("link", name="web-hostile").click()
    page.wait_for_url("**/conversations/web-hostile")
    texts = page.eval_on_selector_all(".msg .text", "els => els.map(e => e.textContent)")
    assert texts == [HOSTILE, "Hello <b>there</b>"]
    assert page.evaluate("window.__pwned === undefined")
    assert page.eval_on_selector_all("main script, main img, main style, main b", "els => els.length") == 0
    assert page.is_visible("body") and page.is_visible("text=Transcript")
    assert not dialogs, dialogs
    assert not problems, problems
    assert not outside, outside  # every asset from the portal itself

    # A report: the chart is drawn (SVG from the portal, no script), and its CSV downloads.
    page.get_by_role("link", name="Reports").first.click()
    page.get_by_role("link", name="SG4a: Making Safeguarding Personal").click()
    page.wait_for_url("**/reports/sg4a")
    chart = page.locator("svg[role=img]").first
    assert chart.is_visible() and chart.bounding_box()["width"] > 100
    assert page.locator("svg[role=img] title").first.text_content() == \
        "Was the person (or their representative) asked about their desired outcomes?"
    assert page.locator("svg[role=img] rect").first.bounding_box()["width"] > 100  # the longest bar
    with page.expect_download() as info:
        page.get_by_role("link", name="Download these figures as CSV").click()
    download = info.value
    assert download.suggested_filename == "msp-sg4a-start-now-unsuppressed.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    values = {r["Row"]: r["Value"] for r in rows}
    assert values["Yes they were asked and outcomes were expressed"] == "2"
    assert values["Yes they were asked but no outcomes were expressed"] == "1"
    assert not dialogs and not problems and not outside, (dialogs, problems, outside)

    # Signing out ends the session: going back shows the sign-in page, not the transcript.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/auth/login?signed_out=1")
    page.goto(portal["url"] + "/conversations/web-hostile")
    assert page.url.endswith("/auth/login")
    context.close()
