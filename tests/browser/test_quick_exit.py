"""Quick exit (GOV.UK "Exit this page"): by button and by Shift pressed three times.

Within a second the widget closes its socket (telling the server to end the
session first), wipes its storage and DOM, covers the page and replaces it with
a neutral site, so Back does not return to it. A probe injected by the test
reports, from inside the page, what was left at the moment of the exit.
"""
from __future__ import annotations

import json
import time


PROBE = """
(() => {
  // Test instrumentation, injected by Playwright (not part of the page): note the
  // moment the person acts, and what is left at the moment the widget goes.
  let acted = null;
  for (const type of ['pointerdown', 'keydown']) {
    addEventListener(type, () => { acted = performance.now(); }, true);
  }
  const report = (event) => console.debug('msp-probe ' + JSON.stringify({
    event,
    ms: acted === null ? null : performance.now() - acted,
    widget: !!document.getElementById('msp-widget'),
    storage: sessionStorage.length + localStorage.length,
    cover: (document.querySelector('.msp-exit-cover') || {}).textContent || null,
    title: document.title,
    chatText: /financial/i.test(document.body ? document.body.innerText : ''),
  }));
  addEventListener('DOMContentLoaded', () => {
    new MutationObserver(() => {
      if (!document.getElementById('msp-widget') && document.querySelector('.msp-exit-cover')) report('exit');
    }).observe(document.body, {childList: true});
  });
})();
"""


def _probe(chat):
    """Reports from inside the chat page: at the exit, and as the page goes."""
    reports = []

    def on_console(message):
        if message.text.startswith("msp-probe "):
            reports.append(json.loads(message.text[len("msp-probe "):]))

    def slow_neutral_page(route):
        # Keep the old page a moment longer, so its last console message gets out.
        time.sleep(0.5)
        route.continue_()

    chat.page.on("console", on_console)
    chat.page.add_init_script(PROBE)
    chat.page.route(chat.site.neutral, slow_neutral_page)
    return reports


def _converse(chat):
    reports = _probe(chat)
    chat.goto().open()
    chat.send("what is financial abuse")
    assert chat.state()["transcript"]
    return reports


def _check_exit(chat, reports, token):
    site = chat.site
    chat.page.wait_for_url(site.neutral, timeout=2000)
    exit_report = next(r for r in reports if r["event"] == "exit")
    # Straight after the click or key press the widget, its storage and the chat text
    # are gone and the page is covered, ...
    assert exit_report["ms"] is not None and exit_report["ms"] < 1000, exit_report
    assert exit_report["storage"] == 0 and not exit_report["chatText"], exit_report
    assert exit_report["cover"] == "Loading." and exit_report["title"] == "Loading"
    # The neutral page has replaced it; this origin's storage in this tab is empty.
    assert chat.page.evaluate("sessionStorage.length + localStorage.length") == 0
    chat.screenshot("neutral-page")
    # The widget told the server to end the session before closing the socket.
    assert _session_is_revoked(site, token)
    # Back does not return to the chat page: it was replaced, not left behind.
    chat.page.go_back()
    assert chat.page.url == "about:blank"  # where this tab was before the council page
    chat.page.go_forward()
    assert chat.page.url == site.neutral


def test_leave_this_page_button(chat):
    reports = _converse(chat)
    token = chat.token()
    chat.page.click(".msp-exit--header")
    _check_exit(chat, reports, token)


def test_leave_this_page_button_while_the_chat_is_closed(chat):
    reports = _probe(chat)
    chat.goto()
    chat.page.get_by_role("button", name="Leave this page").click()
    chat.page.wait_for_url(chat.site.neutral, timeout=3000)
    assert next(r for r in reports if r["event"] == "exit")["ms"] < 1000


def test_shift_three_times_while_typing(chat):
    reports = _converse(chat)
    token = chat.token()
    chat.page.focus("#msp-input")
    # Shift used for capitals and Shift+Tab is not a "press".
    chat.page.keyboard.type("Hello There ")
    chat.page.keyboard.press("Shift+A")
    chat.page.keyboard.press("Shift+Tab")
    chat.page.keyboard.press("Shift+Tab")
    chat.page.wait_for_timeout(200)
    assert chat.page.url == chat.site.demo and chat.page.is_hidden(".msp-shift-hint")
    chat.page.focus("#msp-input")
    chat.page.keyboard.press("Shift")
    chat.page.keyboard.press("Shift")
    assert chat.page.inner_text(".msp-shift-hint") == "Shift, press 1 more time to leave this page."
    chat.screenshot("shift-twice")
    chat.page.keyboard.press("Shift")
    _check_exit(chat, reports, token)


def test_shift_count_starts_again_after_five_seconds(chat):
    chat.goto()
    chat.page.keyboard.press("Shift")
    chat.page.keyboard.press("Shift")
    assert "1 more time" in chat.page.inner_text(".msp-shift-hint")
    chat.page.wait_for_timeout(5300)
    assert chat.page.is_hidden(".msp-shift-hint")
    chat.page.keyboard.press("Shift")
    chat.page.wait_for_timeout(200)
    assert chat.page.url == chat.site.demo
    assert "2 more times" in chat.page.inner_text(".msp-shift-hint")


def test_exit_replaces_the_page_in_under_a_second_end_to_end(chat):
    """From the key press to the neutral page loaded, as the test sees it."""
    chat.goto().open()
    chat.page.focus("#msp-input")
    started = time.monotonic()
    for _ in range(3):
        chat.page.keyboard.press("Shift")
    chat.page.wait_for_url(chat.site.neutral, timeout=1000)
    assert time.monotonic() - started < 1.0


def _session_is_revoked(site, token: str) -> bool:
    """After the exit the old session token opens nothing: the server issues a new one."""
    from tests.browser.sio import Client, run

    async def probe():
        async with Client(site.stack.rasa_url, site.origin) as client:
            return await client.session(session_id=token)

    data = run(probe)
    return data["resumed"] is False and data["session_id"] != token
