"""Live handoff with three real Chromium pages: a person in the widget on the demo council page, and two
workers signed in to the staff portal. The real Rasa server, action server and portal run on loopback.

Both workers have the live queue open before the person asks; the person asks for a person and is told
what happens next; the chat appears in both workers' queues without a reload; both open it; one claims it
and writes, and the other, claiming from the page they had open, is told someone else claimed it first;
the person sees who joined and the worker's words marked as staff; the person's reply appears in the
worker's open chat without a reload; hand back tells the person the assistant is back.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.records import handoffs, session_scope, staff
from tests.browser.conftest import Chat, widget_and_portal_stack
from tests.portal.live import Watched, sign_in

ALWAYS_STAFFED = {"MSP_HANDOFF_DAYS": "Mon-Sun", "MSP_HANDOFF_HOURS": "00:00-24:00",
                  "MSP_HANDOFF_BANK_HOLIDAYS": "none"}
PASSWORD = "a long enough password 7"


@pytest.fixture(scope="module")
def handoff_site(trained_model, tmp_path_factory, widget_built, chromium):
    yield from widget_and_portal_stack(trained_model, tmp_path_factory.mktemp("browser-handoff-var"), ALWAYS_STAFFED)


def _worker(stack, username, display_name):
    from bot.portal import credentials
    from bot.portal.config import Argon2Params
    from bot.records.totp_keys import TotpBox

    key = (stack.var_dir / "totp_key").read_text().strip()
    secret = credentials.new_totp_secret()
    with session_scope(stack.env()["DATABASE_URL"]) as db:
        user = staff.create_user(db, username, display_name=display_name, role="practitioner",
                                 password_hash=credentials.hash_password(PASSWORD, Argon2Params()))
        staff.enrol_totp(db, user, secret, 0, box=TotpBox((key,)))
    return secret


def test_a_person_in_the_widget_and_two_workers_in_the_portal(handoff_site, browser):
    stack = handoff_site
    portal = stack.portal_url.rstrip("/")
    secret = _worker(stack, "ann.worker", "Ann Smith")
    other_secret = _worker(stack, "ben.worker", "Ben Jones")

    # Both workers are on the live queue before anyone asks.
    worker_context = browser.new_context(locale="en-GB")
    watched = Watched(worker_context.new_page(), portal)
    page = watched.page
    sign_in(page, portal, "ann.worker", PASSWORD, secret)
    page.get_by_role("link", name="Live chats").click()
    other_context = browser.new_context(locale="en-GB")
    other_watched = Watched(other_context.new_page(), portal)
    other = other_watched.page
    sign_in(other, portal, "ben.worker", PASSWORD, other_secret)
    other.get_by_role("link", name="Live chats").click()

    person_context = browser.new_context(locale="en-GB")
    chat = Chat(person_context.new_page(), SimpleNamespace(demo=stack.demo_url), "handoff-person")
    chat.goto().open()
    told = chat.send("I want to talk to a person")
    assert any("I have asked a member of the adult safeguarding team" in t for t in told), told

    with session_scope(stack.env()["DATABASE_URL"], read_only=True) as db:
        [row] = handoffs.queue(db)
    # Pushed to both queues: no reload.
    for worker_page in (page, other):
        worker_page.get_by_role("link", name=f"Chat {row.id}").wait_for(timeout=20_000)
    for worker_page in (page, other):
        with worker_page.expect_navigation():
            worker_page.get_by_role("link", name=f"Chat {row.id}").click()
        assert worker_page.is_visible("text=I want to talk to a person")
    with page.expect_navigation():
        page.get_by_role("button", name="Claim this chat").click()
    assert page.is_visible("text=You have joined the chat. The person has been told.")
    # Ben claims from the page he had open: refused, and told why.
    with other.expect_navigation():
        other.get_by_role("button", name="Claim this chat").click()
    assert other.is_visible("text=Someone else claimed this chat first.")
    with session_scope(stack.env()["DATABASE_URL"], read_only=True) as db:
        claimed = handoffs.get_handoff(db, row.id)
        assert claimed.status == "claimed" and claimed.claimed_by.display_name == "Ann Smith"

    chat.page.wait_for_selector(".msp-staff-banner:not([hidden])")
    assert chat.page.inner_text(".msp-staff-banner") == "You are talking to Ann (staff)."

    page.get_by_label("Your message").fill("Hello, I'm Ann. I'm here to help.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    chat.page.wait_for_selector(".msp-msg--staff")
    assert chat.texts("staff") == ["Hello, I'm Ann. I'm here to help."]

    bot_before = len(chat.bot_texts())
    chat.send("thank you. my son has my bank card", wait=False)
    # The worker's open chat shows it by itself; the assistant says nothing.
    page.wait_for_selector("#handoff-messages >> text=thank you. my son has my bank card", timeout=20_000)
    chat.wait_idle(min_bot=bot_before)
    assert len(chat.bot_texts()) == bot_before

    with page.expect_navigation():
        page.get_by_role("button", name="Hand back to the assistant").click()
    chat.page.wait_for_selector(".msp-staff-banner", state="hidden")
    assert "talking to the automated helper again" in chat.texts("system")[-1]
    answer = chat.send("what is financial abuse")
    assert answer and any("money" in t.lower() or "financial" in t.lower() for t in answer), answer
    chat.screenshot("handed-back")

    # Only Ann joined: nothing the person saw names Ben.
    assert "Ben" not in " ".join(chat.texts("system") + chat.texts("staff") + chat.bot_texts())

    assert not watched.errors(), watched.errors()
    assert not other_watched.errors(), other_watched.errors()
    assert not chat.console_errors, chat.console_errors
    person_context.close()
    worker_context.close()
    other_context.close()
