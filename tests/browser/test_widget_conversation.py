"""A whole conversation in the widget on the demo council page, in real Chromium."""
from __future__ import annotations

import time

from tests.browser.conftest import wait_until


def test_page_has_a_strict_csp_and_the_widget_needs_nothing_inline(chat, site):
    response = chat.page.goto(site.demo)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "require-trusted-types-for 'script'" in csp
    chat.page.wait_for_selector(".msp-launcher")
    # The council page embeds it with one script tag; no inline script or style anywhere
    # (the fixture also fails the test on any CSP or Trusted Types violation).
    source = response.text()
    assert source.count("<script") == 1 and 'src="/widget/msp-widget.js"' in source
    assert "style=" not in source and "<style" not in source
    assert chat.page.evaluate("[...document.scripts].filter(s => !s.src).length") == 0
    # Nothing connects, and nothing is stored, until the person opens the chat.
    assert chat.page.evaluate("sessionStorage.length + localStorage.length") == 0
    chat.screenshot("closed")


def test_full_conversation_with_buttons_links_and_the_999_reply(chat, site):
    sockets = []
    chat.page.on("websocket", lambda ws: sockets.append(ws.url))
    chat.goto()
    assert sockets == []  # no connection before the chat is opened
    chat.page.click(".msp-launcher")
    assert chat.page.get_attribute(".msp-launcher", "aria-expanded") == "true"
    assert chat.page.evaluate("document.activeElement.id") == "msp-input"
    chat.wait_idle(min_bot=1)
    assert len(sockets) == 1 and sockets[0].startswith(site.proxy.url.replace("http", "ws"))

    # The welcome (sent by the widget as a hidden /greet) with its buttons.
    welcome = " ".join(chat.bot_texts())
    assert "999" in welcome and "not a person" in welcome
    assert chat.user_texts() == []  # "/greet" is never shown
    buttons = chat.replies()
    assert len(buttons) >= 3, buttons
    assert chat.page.get_by_role("group", name="Choose an answer, or type your own").is_visible()
    chat.screenshot("welcome")

    # Every message has a visible sender and a machine-readable time.
    metas = chat.page.eval_on_selector_all(".msp-msg", "els => els.map(e => [e.querySelector('.msp-who').textContent,"
                                                       " e.querySelector('time').getAttribute('datetime')])")
    assert all(who in ("Assistant", "You") and when.endswith("Z") for who, when in metas)

    # Click a quick reply: its title appears as the person's message, the bot answers.
    first = buttons[0]
    payload = {r["title"]: r["payload"] for e in chat.state()["transcript"] for r in e.get("replies", [])}[first]
    answer = chat.choose(first)
    assert chat.user_texts() == [first]
    assert answer and all(text for text in answer)
    assert chat.page.evaluate("document.activeElement.id") == "msp-input"
    chat.screenshot("after-button")

    # Reporting a concern: a web link (new tab, said so) and a phone link.
    answer = chat.send("how do I report a concern")
    assert any("report" in text.lower() for text in answer), answer
    links = chat.page.eval_on_selector_all(
        ".msp-msg--bot:last-of-type a, .msp-msg--bot a",
        "els => els.map(a => [a.getAttribute('href'), a.target, a.rel, a.textContent])")
    web = [l for l in links if l[0].startswith("https://")]
    phone = [l for l in links if l[0].startswith("tel:")]
    assert web and all(l[1] == "_blank" and "noopener" in l[2] and "opens in a new tab" in l[3] for l in web)
    assert phone

    # Danger, described in the person's words: the 999 reply comes first.
    answer = chat.send("he is hitting me now")
    assert "999" in answer[0], answer
    chat.screenshot("danger-reply")
    assert chat.user_texts()[-1] == "he is hitting me now"

    # The tracker holds exactly what was said, once each, with no client-chosen id.
    sender = chat.sender()
    assert sender.startswith("web-")
    events = site.tracker(sender)["events"]
    said = [e["text"] for e in events if e["event"] == "user"]
    assert said == ["/greet", payload, "how do I report a concern", "he is hitting me now"]
    assert all(e.get("input_channel") == "socketio" for e in events if e["event"] == "user")


def test_typing_indicator_shows_while_waiting_and_hides_after(chat):
    chat.goto().open()
    chat.page.evaluate("""() => {
        window.__typingSeen = false;
        const t = document.querySelector('.msp-typing');
        new MutationObserver(() => { if (!t.hidden) window.__typingSeen = true; })
            .observe(t, {attributes: true, attributeFilter: ['hidden']});
    }""")
    chat.send("what is financial abuse")
    assert chat.page.evaluate("window.__typingSeen") is True
    assert chat.page.is_hidden(".msp-typing")


def test_a_message_over_2000_characters_is_explained_not_sent(chat):
    chat.goto().open()
    before_user = chat.user_texts()
    chat.page.fill("#msp-input", "a" * 1990)
    assert chat.page.inner_text("#msp-count") == "You have 10 characters left"
    chat.page.fill("#msp-input", "a" * 2150)
    assert chat.page.inner_text("#msp-count") == "You have 150 characters too many"
    chat.page.press("#msp-input", "Enter")
    error = chat.page.inner_text("#msp-error")
    assert "too long" in error and "2,150" in error and "2,000" in error
    assert chat.page.get_attribute("#msp-input", "aria-invalid") == "true"
    assert "msp-error" in chat.page.get_attribute("#msp-input", "aria-describedby")
    assert chat.page.input_value("#msp-input") == "a" * 2150  # nothing lost
    assert chat.user_texts() == before_user  # nothing sent
    chat.screenshot("too-long")
    # Shortening it clears the error, and exactly 2,000 characters go through.
    chat.page.fill("#msp-input", "a" * 2000)
    assert chat.page.is_hidden("#msp-error")
    chat.send("a" * 2000)  # counts the replies before pressing Enter, then waits for one more
    assert chat.user_texts()[-1] == "a" * 2000


def test_a_flood_of_messages_is_told_to_slow_down(chat):
    chat.goto().open()
    # The welcome used one message; 12 more at once go past the burst of 10.
    for n in range(12):
        chat.send(f"hello {n}", wait=False)
    chat.page.wait_for_function(
        "() => [...document.querySelectorAll('.msp-msg')].some(e => e.innerText.includes('too many messages'))")
    chat.wait_idle()
    notes = [t for t in chat.texts("system") if "too many messages" in t]
    assert notes and all("seconds" in t and "999" in t for t in notes)
    assert chat.user_texts()[-1] == "hello 11"  # what they typed stays on screen
    chat.screenshot("slow-down")


def test_member_of_staff_joining_is_shown(chat, site):
    chat.goto().open()
    sender = chat.sender()
    n = len(chat.bot_texts())
    site.push(sender, [{"event": "bot", "text": None, "data": {"custom": {"handoff": "joined", "name": "Sam"}}}])
    chat.page.wait_for_selector(".msp-staff-banner:not([hidden])")
    assert chat.page.inner_text(".msp-staff-banner") == "You are talking to Sam (staff)."
    notices = chat.texts("system")
    assert notices[-1] == "Sam, a member of staff, has joined the chat. You are now talking to a person."
    site.push(sender, [{"event": "bot", "text": None,
                        "data": {"custom": {"from": "staff", "name": "Sam", "text": "Hello, I'm Sam. How can I help?"}}}])
    chat.page.wait_for_selector(".msp-msg--staff")
    assert chat.texts("staff") == ["Hello, I'm Sam. How can I help?"]
    assert chat.page.inner_text(".msp-msg--staff .msp-who") == "Sam (staff)"
    chat.screenshot("staff-joined")
    site.push(sender, [{"event": "bot", "text": None, "data": {"custom": {"handoff": "left"}}}])
    chat.page.wait_for_selector(".msp-staff-banner", state="hidden")
    assert "has left" in chat.texts("system")[-1]
    assert len(chat.bot_texts()) == n


def test_nothing_is_previewed_or_counted_while_the_chat_is_closed(chat, site):
    chat.goto().open()
    sender = chat.sender()
    title = chat.page.title()
    chat.page.get_by_role("button", name="Close chat").click()
    assert chat.page.evaluate("document.activeElement.className") == "msp-launcher"
    launcher = chat.page.inner_text(".msp-launcher")
    n = len(chat.bot_texts())
    site.push(sender, [{"event": "bot", "text": "A message that arrives while the chat is closed."}])
    chat.wait_for_bot_count(n + 1)  # it is received (so nothing is lost) ...
    time.sleep(0.3)
    assert chat.page.is_hidden("#msp-panel")  # ... but not shown, announced, counted or previewed
    assert chat.page.inner_text(".msp-launcher") == launcher
    assert chat.page.title() == title
    visible_text = chat.page.evaluate("document.body.innerText")
    assert "arrives while the chat is closed" not in visible_text
    chat.screenshot("closed-with-new-message")
    chat.page.click(".msp-launcher")
    assert chat.bot_texts()[-1] == "A message that arrives while the chat is closed."


def test_reload_in_the_same_tab_keeps_the_conversation_once(chat):
    chat.goto().open()
    chat.send("what is neglect")
    before_bot, before_user, token = chat.bot_texts(), chat.user_texts(), chat.token()
    chat.page.reload()
    chat.page.wait_for_selector(".msp-launcher")
    assert chat.page.is_visible("#msp-panel")  # it was open
    chat.page.wait_for_function("() => document.querySelector('.msp').dataset.connection === 'online'")
    time.sleep(0.5)
    assert chat.token() == token
    assert chat.bot_texts() == before_bot and chat.user_texts() == before_user  # no repeats, no new welcome
    # A fresh tab (new session storage) starts a new conversation.
    assert wait_until(lambda: chat.state()["pending"] == [])
