"""The server drops the connection: the widget reconnects and nothing is lost or shown twice.

The page talks to Rasa through a proxy (``proxy.py``) that can lose everything
the server sends and then cut every connection, as a flaky mobile network or
a restarting load balancer would.
"""
from __future__ import annotations

import re
import time

from tests.browser.conftest import wait_until


def _bot_texts_in_tracker(site, sender):
    """Bot messages as the widget should show them (Rasa's socket.io output splits on blank lines)."""
    texts = []
    for event in site.tracker(sender)["events"]:
        if event["event"] == "bot" and event.get("text"):
            texts += [part.strip() for part in event["text"].strip().split("\n\n")]
    return texts


def _user_texts_in_tracker(site, sender):
    return [e["text"] for e in site.tracker(sender)["events"] if e["event"] == "user"]


def _normalise(text):
    """Compare words only: the widget shows "- item" lines as a list."""
    return " ".join(re.sub(r"(?m)^\s*[-•*]\s+", "", text).split())


def test_replies_lost_in_a_drop_are_replayed_once_and_pending_messages_sent_once(chat, site):
    chat.goto().open()
    sender = chat.sender()
    accepted = site.proxy.accepted
    shown_before = len(chat.bot_texts())

    # 1. The server's replies are lost on the way: the person's message arrives,
    #    the bot answers, but neither the answer nor the acknowledgement gets back.
    site.proxy.blackhole()
    chat.send("what is financial abuse", wait=False)
    assert wait_until(lambda: "what is financial abuse" in _user_texts_in_tracker(site, sender)
                      and len(_bot_texts_in_tracker(site, sender)) > shown_before)
    time.sleep(1.0)  # the bot has finished answering
    assert len(chat.bot_texts()) == shown_before  # nothing arrived
    assert chat.page.is_visible(".msp-typing")

    # 2. The server drops the connection and stays away for a moment.
    site.proxy.drop(down=True)
    chat.page.wait_for_selector(".msp-status:not([hidden])")
    status = chat.page.inner_text(".msp-status")
    assert "connection was lost" in status
    # Something typed while offline is kept and marked as not sent yet.
    chat.send("thank you", wait=False)
    chat.page.wait_for_selector(".msp-msg--user.msp-msg--pending")
    assert "Not sent yet" in chat.page.inner_text(".msp-msg--pending")
    chat.screenshot("offline")
    time.sleep(1.5)

    # 3. The server is back: the widget reconnects by itself.
    site.proxy.up()
    chat.page.wait_for_function("() => document.querySelector('.msp').dataset.connection === 'online'")
    chat.wait_idle(min_bot=shown_before + 2)
    assert site.proxy.accepted > accepted
    assert chat.page.is_hidden(".msp-status")
    assert chat.page.query_selector(".msp-msg--pending") is None
    chat.screenshot("reconnected")
    assert chat.token() and chat.sender() == sender  # the same conversation

    # Each message was processed once, and the widget shows exactly what the bot said, in order.
    said = _user_texts_in_tracker(site, sender)
    assert said.count("what is financial abuse") == 1 and said.count("thank you") == 1
    assert said[-2:] == ["what is financial abuse", "thank you"]
    assert chat.user_texts()[-2:] == ["what is financial abuse", "thank you"]
    expected = [_normalise(t) for t in _bot_texts_in_tracker(site, sender)]
    shown = [_normalise(t) for t in chat.bot_texts()]
    assert shown == expected


def test_a_reload_after_a_drop_resumes_without_repeats(chat, site):
    chat.goto().open()
    chat.send("what is neglect")
    site.proxy.drop(down=True)
    chat.page.wait_for_selector(".msp-status:not([hidden])")
    site.proxy.up()
    chat.page.reload()
    chat.page.wait_for_function("() => document.querySelector('.msp').dataset.connection === 'online'")
    time.sleep(0.5)
    sender = chat.sender()
    expected = [_normalise(t) for t in _bot_texts_in_tracker(site, sender)]
    assert [_normalise(t) for t in chat.bot_texts()] == expected
