"""The real portal process and real Chromium, for the portal's browser tests.

``LivePortal`` runs ``python -m bot.portal`` (as ``make run`` starts it) on a
free loopback port against a records database and a tracker store made for
the test run; ``Watched`` is one browser page with what went wrong on it
(console errors, page errors, dialogs, requests to anywhere but the portal);
``axe`` runs axe-core from npm (``web_widget/node_modules/axe-core``, injected
by the test, never served by the portal); ``unfocusable_indicators`` lists
elements that show nothing when they have the keyboard focus.

Chromium is Debian's (``/usr/bin/chromium`` or ``MSP_CHROMIUM``), as in
``tests/browser``; the session cookie keeps ``Secure`` and its ``__Host-``
name, because Chromium keeps Secure cookies from http://127.0.0.1.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from bot.portal import credentials
from scripts.stack import ROOT, UMASK, base_env, free_port, portal_command

CHROMIUM = os.environ.get("MSP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = ROOT / "web_widget" / "node_modules" / "axe-core" / "axe.min.js"


def launch_chromium(playwright):
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    if not AXE.exists():
        raise RuntimeError(f"axe-core is not installed at {AXE} (make widget installs the widget's npm packages)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class LivePortal:
    records_url: str
    tracker_path: Path
    totp_key: str
    log_path: Path
    url: str = ""
    process: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 60.0) -> "LivePortal":
        port = free_port()
        env = base_env()
        env.update(DATABASE_URL=self.records_url, MSP_TRACKER_DB=str(self.tracker_path), PORTAL_PORT=str(port),
                   MSP_TOTP_KEYS=self.totp_key)
        for name in ("MSP_PORTAL_COOKIE_SECURE", "MSP_TOTP_KEY_FILE", "MSP_TRACKER_URL"):
            env.pop(name, None)
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(portal_command(port), cwd=ROOT, env=env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True, umask=UMASK)
        log.close()  # the child has its own copy
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the portal did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


@dataclass
class Watched:
    """A page, and what went wrong on it since ``clear()``."""

    page: object
    origin: str
    problems: List[str] = field(default_factory=list)
    dialogs: List[str] = field(default_factory=list)
    outside: List[str] = field(default_factory=list)
    status: Optional[int] = None  # of the last page (document) loaded
    method: Optional[str] = None

    def __post_init__(self):
        page = self.page
        page.set_default_timeout(30_000)
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: r.url.startswith(self.origin) or r.url.startswith("data:")
                or self.outside.append(r.url))
        page.on("response", self._response)

    def _response(self, response) -> None:
        if response.request.resource_type == "document" and response.frame == self.page.main_frame:
            self.status = response.status
            self.method = response.request.method

    def clear(self) -> None:
        self.problems.clear()
        self.dialogs.clear()
        self.outside.clear()

    def errors(self, expected_status: Optional[int] = None) -> List[str]:
        """Console errors, page errors, dialogs and outside requests (the browser's own note that an
        error page came with its error status is not one)."""
        noted = f"the server responded with a status of {expected_status}"
        return ([p for p in self.problems if not (expected_status and noted in p)]
                + [f"dialog: {d}" for d in self.dialogs] + [f"request outside the portal: {u}" for u in self.outside])


#: Rules axe-core ships switched off that are switched on here: target size (WCAG 2.2 AA 2.5.8), ids used
#: twice, and two best practices. Only the AAA ones (enhanced contrast, identical links, meta refresh) and
#: the retired audio-caption stay off.
EXTRA_RULES = ("target-size", "duplicate-id", "duplicate-id-active", "aria-roledescription",
               "landmark-complementary-is-top-level")


def axe(page) -> List[dict]:
    """axe-core's violations on the whole page: every rule it runs by default (none switched off), and
    ``EXTRA_RULES``."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text("utf-8"))
    return page.evaluate(
        """async (extra) => {
            const rules = Object.fromEntries(extra.map(id => [id, {enabled: true}]));
            const result = await axe.run(document, {resultTypes: ['violations'], rules});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""", list(EXTRA_RULES))


def describe(violations: List[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations)


def unfocusable_indicators(page) -> List[str]:
    """Visible focusable elements that show no outline or shadow when focused (WCAG 2.4.7)."""
    return page.evaluate(
        """() => {
            const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
            const missing = [];
            for (const el of document.querySelectorAll(selector)) {
                if (el.disabled || el.tabIndex < 0) continue;
                el.focus();
                if (document.activeElement !== el || el.getClientRects().length === 0) continue;
                const s = getComputedStyle(el);
                const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
                if (!outline && s.boxShadow === 'none') {
                    missing.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' +
                                 (el.textContent || el.name || '').trim().slice(0, 40) + '"');
                }
            }
            if (document.activeElement) document.activeElement.blur();
            return missing;
        }""")


def sideways_at_320(page) -> List[str]:
    """At 320 CSS px wide (1280 px at 400% zoom) the page must not scroll sideways (WCAG 1.4.10):
    what sticks out, outside the tables' own scrolling boxes. The viewport is put back afterwards."""
    size = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        return page.evaluate(
            """() => {
                const width = document.documentElement.clientWidth;
                const out = [];
                for (const el of document.querySelectorAll('body *')) {
                    if (el.closest('.table-scroll') || el.closest('.skip')) continue;
                    const right = el.getBoundingClientRect().right;
                    if (right > width + 1) out.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(right)}`);
                }
                if (document.documentElement.scrollWidth > width + 1 && !out.length) out.push('the page scrolls sideways');
                return out.slice(0, 5);
            }""")
    finally:
        page.set_viewport_size(size)


def sign_in(page, base_url: str, username: str, password: str, secret: str) -> None:
    """Password, then the authenticator's code, through the real forms."""
    page.goto(base_url + "/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    page.get_by_label("The 6-digit code").fill(credentials.totp_now(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == base_url + "/", page.url
