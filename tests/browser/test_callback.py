"""A call back out of hours with two real Chromium pages: a person in the widget on the demo council page, and a
worker signed in to the staff portal. The real Rasa server, action server and portal run on loopback.

Nobody can chat, so after the numbers the person is offered a call back; they answer with the widget's buttons
and their own words, one question at a time; the request is recorded word for word; the worker finds it under
Live chats, Call backs, and marks it as called. No console error or CSP report; axe finds nothing in the chat.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.records import callbacks, session_scope
from tests.browser.conftest import Chat, widget_and_portal_stack
from tests.browser.test_handoff import PASSWORD, _worker
from tests.portal.live import Watched, sign_in

NEVER_STAFFED = {"MSP_HANDOFF_DAYS": "Sat", "MSP_HANDOFF_HOURS": "00:00-00:01", "MSP_HANDOFF_BANK_HOLIDAYS": "none"}


@pytest.fixture(scope="module")
def closed_site(trained_model, tmp_path_factory, widget_built, chromium):
    yield from widget_and_portal_stack(trained_model, tmp_path_factory.mktemp("browser-callback-var"), NEVER_STAFFED)


def _say(chat, text, expect):
    before = len(chat.bot_texts())
    chat.send(text, wait=False)
    chat.page.wait_for_selector(f".msp-msg--bot .msp-body >> text={expect}")
    return chat.bot_texts()[before:]


def _choose(chat, title, expect):
    before = len(chat.bot_texts())
    chat.page.get_by_role("button", name=title, exact=True).last.click()
    chat.page.wait_for_selector(f".msp-msg--bot .msp-body >> text={expect}")
    return chat.bot_texts()[before:]


def test_out_of_hours_a_person_asks_for_a_call_back_in_the_widget_and_a_worker_marks_it_called(closed_site,
                                                                                                 browser):
    stack = closed_site
    portal = stack.portal_url.rstrip("/")
    url = stack.env()["DATABASE_URL"]
    secret = _worker(stack, "bea.worker", "Bea Long")

    person_context = browser.new_context(locale="en-GB")
    chat = Chat(person_context.new_page(), SimpleNamespace(demo=stack.demo_url), "callback-person")
    chat.goto().open()
    told = _say(chat, "I want to talk to a person", "Would you like a call back?")
    assert any("Nobody from the team can chat just now" in t for t in told), told
    _choose(chat, "Yes, call me back", "Is the call back for you, or for someone else?")
    _choose(chat, "For me", "Is it safe for us to phone you?")
    _choose(chat, "Yes", "What number should we call you on?")
    _say(chat, "my number is 12345", "does not look like a UK phone number")
    _say(chat, "07700 900123, my mobile", "When is it safe to call you?")
    _say(chat, "Tuesday after 2 <b>not before</b>", "may we leave a message?")
    _choose(chat, "No", "Who else might answer that phone?")
    done = _say(chat, "nobody", "I have asked the adult safeguarding team to call back")
    assert any("999" in t for t in done)
    assert chat.axe() == []
    # What the person typed is shown as text, never as markup.
    assert "Tuesday after 2 <b>not before</b>" in chat.user_texts()
    chat.screenshot("call-back-asked")

    with session_scope(url, read_only=True) as db:
        [row] = callbacks.list_requests(db)
        view = callbacks.request_view(db, row.id)
    assert (view.number, view.leave_message, view.handoff_id, view.asked_by) == ("+447700900123", False, None,
                                                                                 "person")
    assert dict((key, words) for key, _, words in view.answers) == {
        "safe_words": "Yes", "number_words": "07700 900123, my mobile",
        "safe_times": "Tuesday after 2 <b>not before</b>", "message_words": "No", "others_words": "nobody"}

    worker_context = browser.new_context(locale="en-GB")
    watched = Watched(worker_context.new_page(), portal)
    page = watched.page
    sign_in(page, portal, "bea.worker", PASSWORD, secret)
    page.get_by_role("link", name="Live chats").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Call backs").click()
    with page.expect_navigation():
        page.get_by_role("link", name=f"Call back {view.id}").click()
    assert page.is_visible("text=+447700900123")
    assert page.is_visible("text=Tuesday after 2 <b>not before</b>")
    with page.expect_navigation():
        page.get_by_role("button", name="Mark as called").click()
    assert page.is_visible("text=Recorded: called.")
    with session_scope(url, read_only=True) as db:
        assert callbacks.request_view(db, view.id).status == "called"

    assert not watched.errors(), watched.errors()
    assert not chat.console_errors, chat.console_errors
    person_context.close()
    worker_context.close()
