"""Real Chromium against the real portal process (``python -m bot.portal`` on a loopback port, as
``make run`` starts it): sign in with password and TOTP, then read a transcript that holds hostile
HTML. The script must not run, the markup must show as text, and the page must break no CSP rule.
Signing out ends the session.

The session cookie keeps ``Secure`` (and its ``__Host-`` name) here: Chromium stores Secure
cookies from http://127.0.0.1, so the test runs the portal exactly as ``make run`` does. The
fixtures (``live``, ``chromium``) are in conftest.py; the reports' charts and CSV are in
test_browser_reports.py, axe-core on every page in test_browser_axe.py.
"""
from __future__ import annotations

import pytest

from bot.portal import credentials
from tests.portal.helpers import PASSWORD
from tests.portal.live import Watched
from tests.portal.world import HOSTILE

pytestmark = pytest.mark.browser


def test_sign_in_with_totp_and_read_a_hostile_transcript(live, chromium):
    lead = live.world.accounts["lee.lead"]
    live.world.allow_code_again(lead)
    context = chromium.new_context(locale="en-GB")
    watched = Watched(context.new_page(), live.url)
    page = watched.page

    page.goto(live.url + "/conversations/web-hostile")
    assert page.url.endswith("/auth/login")
    page.get_by_label("Username").fill(lead.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/auth/code")
    page.get_by_label("The 6-digit code").fill(credentials.totp_now(lead.totp_secret))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live.url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Lee Lead"

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
    assert not watched.errors(), watched.errors()  # no CSP report, no dialog, every asset from the portal

    # Signing out ends the session: going back shows the sign-in page, not the transcript.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/auth/login?signed_out=1")
    page.goto(live.url + "/conversations/web-hostile")
    assert page.url.endswith("/auth/login")
    context.close()
