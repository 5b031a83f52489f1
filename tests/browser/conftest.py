"""Real Chromium against the real servers: the demo council page, the Rasa server
(with the widget channel) and the action server, started once per run.

The page reaches Rasa through a fault-injecting TCP proxy (``proxy.py``) so a
test can make the server drop the connection. Screenshots go to
``test-artifacts/browser/``. Chromium is Debian's package (``/usr/bin/chromium``,
or ``MSP_CHROMIUM``); without it the tests fail with a message saying what to
install.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

import pytest

from scripts.stack import ROOT, Stack, free_port, new_token
from tests.browser.proxy import FaultyProxy

ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("MSP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SECRET = "browser-tests-" + secrets.token_hex(16)


def widget_and_portal_stack(model, var_dir, env):
    """Rasa, actions, the demo page and the portal on loopback, with ``env`` added (a generator for a fixture)."""
    from bot.records.db import dispose_engines

    demo_port = free_port()
    stack = Stack(model=model, rasa_port=free_port(), actions_port=free_port(), var_dir=var_dir,
                  token=new_token(), log_dir=var_dir / "logs", demo_port=demo_port, portal_port=free_port(),
                  widget_origins=[f"http://127.0.0.1:{demo_port}"], extra_env=dict(env, MSP_WIDGET_SECRET=SECRET))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
        dispose_engines()
AXE = ROOT / "web_widget" / "node_modules" / "axe-core" / "axe.min.js"
REPLY_TIMEOUT = 30_000  # ms; two shared cores


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives real Chromium against the real servers")


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _unavailable(reason: str):
    # Never skipped: a missing browser is a failure with a clear message
    # (.ci/run installs Debian's chromium; locally: apt-get install -y chromium).
    pytest.fail(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session", autouse=True)
def fresh_artifacts():
    """Screenshots from this run only."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def widget_built() -> None:
    if not (ROOT / "web_widget" / "dist" / "msp-widget.js").exists():
        pytest.fail("the widget is not built: run `make widget`")


@dataclass
class Site:
    stack: Stack
    proxy: FaultyProxy

    @property
    def demo(self) -> str:
        return self.stack.demo_url

    @property
    def neutral(self) -> str:
        return self.stack.demo_url + "neutral.html"

    @property
    def origin(self) -> str:
        return self.stack.demo_url.rstrip("/")

    def sender_for(self, token: str) -> str:
        from bot.channels.widget import SessionTokens

        sender = SessionTokens(SECRET.encode(), 3600).sender_for_token(token)
        assert sender, "the page's session token does not verify"
        return sender

    def tracker(self, sender: str) -> dict:
        return self.stack.tracker(sender)

    def push(self, sender: str, events: List[dict]) -> None:
        """Append events through the token-protected HTTP API, sending bot messages to the widget
        (how the staff portal will relay a worker's messages)."""
        url = (f"{self.stack.rasa_url}/conversations/{sender}/tracker/events?token={self.stack.token}"
               "&output_channel=socketio&execute_side_effects=true")
        req = urllib.request.Request(url, data=json.dumps(events).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200


# Package scope: the servers and the browser (whose sync API keeps an event loop
# running in this thread) are gone before any other test directory runs.
@pytest.fixture(scope="package")
def site(request, tmp_path_factory, widget_built, chromium):
    # MSP_BROWSER_MODEL=models/<file>.tar.gz reuses a trained model while working
    # on the widget alone; by default the run's shared, content-hashed model.
    model = os.environ.get("MSP_BROWSER_MODEL")
    trained_model = Path(model).resolve() if model else request.getfixturevalue("trained_model")
    var_dir = tmp_path_factory.mktemp("browser-var")
    rasa_port, demo_port = free_port(), free_port()
    proxy = FaultyProxy(rasa_port)
    stack = Stack(
        model=trained_model, rasa_port=rasa_port, actions_port=free_port(), var_dir=var_dir,
        token=new_token(), log_dir=var_dir / "logs",
        demo_port=demo_port,
        widget_origins=[f"http://127.0.0.1:{demo_port}"],  # not http://localhost:<port>
        demo_exit_url=f"http://127.0.0.1:{demo_port}/neutral.html",
        widget_server_url=proxy.url,
        # Every browser context here is a new chat from one address (127.0.0.1), many a
        # minute; the default per-address limit on new sessions (20 a minute) is for the
        # public. tests/integration/test_security.py tests that limit.
        extra_env={"MSP_WIDGET_SECRET": SECRET, "MSP_WIDGET_NEW_SESSIONS_PER_MINUTE": "600"},
    )
    _stop_on_sigterm()
    stack.start()
    try:
        yield Site(stack, proxy)
    finally:
        stack.stop()
        proxy.close()


def _stop_on_sigterm() -> None:
    """Turn SIGTERM (e.g. from `timeout`) into KeyboardInterrupt, so the servers are stopped."""
    import signal

    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def interrupt(signum, frame):  # noqa: ARG001
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, interrupt)


@pytest.fixture(scope="package")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Chat:
    """The demo page and its widget, as a person would use them."""

    def __init__(self, page, site: Site, name: str):
        self.page = page
        self.site = site
        self.name = name
        self.console_errors: List[str] = []
        self.shots = 0
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.console_errors.append(f"page error: {e}"))
        page.set_default_timeout(REPLY_TIMEOUT)

    # --- navigation ---
    def goto(self, url: Optional[str] = None) -> "Chat":
        self.page.goto(url or self.site.demo)
        self.page.wait_for_selector(".msp-launcher")
        return self

    def open(self, wait_for_welcome: bool = True) -> "Chat":
        self.page.click(".msp-launcher")
        if wait_for_welcome:
            self.wait_idle(min_bot=1)
        return self

    # --- reading ---
    def texts(self, kind: str) -> List[str]:
        return self.page.eval_on_selector_all(
            f".msp-msg--{kind} .msp-body", "els => els.map(e => e.innerText.trim())")

    def bot_texts(self) -> List[str]:
        return self.texts("bot")

    def user_texts(self) -> List[str]:
        return self.texts("user")

    def replies(self) -> List[str]:
        return self.page.eval_on_selector_all(".msp-reply", "els => els.map(e => e.textContent)")

    def state(self) -> dict:
        return self.page.evaluate("JSON.parse(sessionStorage.getItem('msp-chat') || 'null')")

    def token(self) -> str:
        return self.state()["token"]

    def sender(self) -> str:
        return self.site.sender_for(self.token())

    # --- waiting ---
    def wait_idle(self, min_bot: int = 0, timeout: int = REPLY_TIMEOUT) -> None:
        """Until at least ``min_bot`` bot messages are shown and nothing is awaiting an answer."""
        self.page.wait_for_function(
            """(n) => {
                const s = JSON.parse(sessionStorage.getItem('msp-chat') || 'null');
                return s && s.token && s.pending.length === 0 &&
                    document.querySelectorAll('.msp-msg--bot').length >= n;
            }""", arg=min_bot, timeout=timeout)

    def wait_for_bot_count(self, n: int) -> None:
        self.page.wait_for_function("(n) => document.querySelectorAll('.msp-msg--bot').length >= n", arg=n)

    # --- acting ---
    def send(self, text: str, wait: bool = True) -> List[str]:
        before = len(self.bot_texts())
        self.page.fill("#msp-input", text)
        self.page.press("#msp-input", "Enter")
        if wait:
            self.wait_idle(min_bot=before + 1)
        return self.bot_texts()[before:]

    def choose(self, title: str) -> List[str]:
        before = len(self.bot_texts())
        self.page.get_by_role("button", name=title, exact=True).click()
        self.wait_idle(min_bot=before + 1)
        return self.bot_texts()[before:]

    def screenshot(self, label: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.name}-{self.shots:02d}-{label}")
        path = ARTIFACTS / f"{safe}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def axe(self, context: str = "document") -> List[dict]:
        """axe-core (from npm, injected here, not served) on the page: its violations."""
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(AXE.read_text("utf-8"))
        return self.page.evaluate(
            """async (context) => {
                const result = await axe.run(context === 'document' ? document : document.querySelector(context), {
                    resultTypes: ['violations'],
                });
                return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
            }""", context)

    def csp_errors(self) -> List[str]:
        return [e for e in self.console_errors if "Content Security Policy" in e or "Trusted Type" in e]


@pytest.fixture
def make_chat(browser, site, request):
    """make_chat(**context_options) -> Chat in a fresh browser context (fresh storage)."""
    contexts = []
    chats: List[Chat] = []

    def make(**options) -> Chat:
        opts = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB"}
        opts.update(options)
        context = browser.new_context(**opts)
        contexts.append(context)
        chat = Chat(context.new_page(), site, request.node.name)
        chats.append(chat)
        return chat

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for chat in chats:
        if failed:
            try:
                chat.screenshot("failure")
            except Exception:  # noqa: BLE001
                pass
    for context in contexts:
        context.close()
    for chat in chats:
        assert not chat.csp_errors(), chat.csp_errors()
        assert not [e for e in chat.console_errors if "page error" in e], chat.console_errors


@pytest.fixture
def chat(make_chat) -> Chat:
    return make_chat()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
