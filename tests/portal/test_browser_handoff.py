"""The live chats console in real Chromium against the real portal process: the queue and an open chat
update by themselves (Server-Sent Events, then the page's own script fetches the new HTML), with no
reload, no console error and no CSP report. What the person wrote shows as text, never as markup."""
from __future__ import annotations

import pytest

from bot.records import handoffs, session_scope
from tests.portal.helpers import PASSWORD
from tests.portal.live import Watched, sign_in

pytestmark = pytest.mark.browser


def test_the_queue_and_an_open_chat_update_without_a_reload(live, chromium):
    worker = live.world.accounts["pat.worker"]
    live.world.allow_code_again(worker)
    context = chromium.new_context(locale="en-GB")
    watched = Watched(context.new_page(), live.url)
    page = watched.page
    sign_in(page, live.url, worker.username, PASSWORD, worker.totp_secret)

    page.goto(live.url + "/handoff/")
    assert page.is_visible(f"text=Chat {live.world.ids['handoff']}")
    page.evaluate("window.__sameDocument = true")

    with session_scope(live.world.records_url) as db:
        new_id = handoffs.request_handoff(db, "web-browser-asks", "web")[0].id
    page.wait_for_selector(f"#handoff-queue >> text=Chat {new_id}", timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True  # updated in place, not reloaded

    page.goto(f"{live.url}/handoff/{new_id}")
    assert page.is_visible("text=No messages yet.")
    page.evaluate("window.__sameDocument = true")
    with session_scope(live.world.records_url) as db:
        handoffs.add_message(db, new_id, "person", "is anyone <b>there</b>?", message_id="m-browser-1")
    page.wait_for_selector("#handoff-messages >> text=is anyone <b>there</b>?", timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.eval_on_selector_all("#handoff-messages b", "els => els.length") == 0  # text, not markup
    assert not watched.errors(), watched.errors()
    context.close()
