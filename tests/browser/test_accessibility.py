"""WCAG 2.2 AA in real Chromium: axe-core finds nothing, closed, open and mid-conversation
(desktop and 320 px), and keyboard, focus, reduced motion, 200% text and the
large-text toggle work as a person needs them to."""
from __future__ import annotations

import time

import pytest


def _no_violations(chat, label):
    violations = chat.axe()
    chat.screenshot(f"axe-{label}")
    assert violations == [], "\n".join(f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
                                       for v in violations)


def _mid_conversation(chat, site):
    chat.goto().open()
    chat.choose(chat.replies()[0])
    chat.send("how do I report a concern")  # links
    site.push(chat.sender(), [{"event": "bot", "text": None,
                               "data": {"custom": {"handoff": "joined", "name": "Sam"}}}])
    chat.page.wait_for_selector(".msp-staff-banner:not([hidden])")
    chat.page.fill("#msp-input", "x" * 2100)  # the over-length error is showing
    chat.page.press("#msp-input", "Enter")
    chat.page.wait_for_selector("#msp-error:not([hidden])")


def test_axe_closed(chat):
    chat.goto()
    _no_violations(chat, "closed")


def test_axe_open(chat):
    chat.goto().open()
    _no_violations(chat, "open")


def test_axe_mid_conversation_and_large_text(chat, site):
    _mid_conversation(chat, site)
    _no_violations(chat, "mid-conversation")
    chat.page.get_by_role("button", name="Larger text").click()
    _no_violations(chat, "mid-conversation-large-text")


def test_axe_and_layout_at_320_px(make_chat, site):
    chat = make_chat(viewport={"width": 320, "height": 568}, is_mobile=True, has_touch=True, device_scale_factor=2)
    chat.goto()
    assert chat.page.evaluate("document.documentElement.scrollWidth") <= 320  # no sideways scrolling
    for selector in (".msp-launcher", ".msp-bar .msp-exit"):
        box = chat.page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320 and box["height"] >= 44, (selector, box)
    _no_violations(chat, "320-closed")
    chat.page.get_by_role("button", name="Chat with us").tap()
    chat.wait_idle(min_bot=1)
    chat.page.wait_for_timeout(300)  # the panel's short rise has finished
    panel = {k: round(v) for k, v in chat.page.locator("#msp-panel").bounding_box().items()}
    assert panel == {"x": 0, "y": 0, "width": 320, "height": 568}  # the chat takes the whole screen
    exit_box = chat.page.locator(".msp-exit--header").bounding_box()
    assert 0 <= exit_box["x"] and exit_box["x"] + exit_box["width"] <= 320 and exit_box["y"] < 200
    chat.choose(chat.replies()[0])
    chat.send("what is financial abuse")
    assert chat.page.evaluate("document.getElementById('msp-panel').scrollWidth") <= 320
    assert chat.page.evaluate("[...document.querySelectorAll('.msp-msg')].every(m => m.scrollWidth <= m.clientWidth + 1)")
    for selector in ("#msp-input", ".msp-send"):
        chat.page.locator(selector).scroll_into_view_if_needed()
        box = chat.page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, (selector, box)
    _no_violations(chat, "320-mid-conversation")


def test_keyboard_only(chat):
    chat.goto()
    page = chat.page
    # Tab through the council page until the launcher has focus.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.className") == "msp-launcher":
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "msp-input"
    chat.wait_idle(min_bot=1)
    # Type and send with the keyboard.
    page.keyboard.type("what is neglect")
    before = len(chat.bot_texts())
    page.keyboard.press("Enter")
    chat.wait_idle(min_bot=before + 1)
    assert chat.user_texts()[-1] == "what is neglect"
    # Every control in the panel can be reached with Tab, in a sensible order.
    names = []
    page.focus(".msp-exit--header")
    for _ in range(60):
        names.append(page.evaluate("(e => e.getAttribute('aria-label') || e.textContent.trim().slice(0, 30) || e.id)"
                                   "(document.activeElement)"))
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('msp-send')"):
            break
    assert names[:3] == ["Leave this page", "Larger text", "Close chat"], names
    assert "Conversation" in names  # the scrollable log, so it can be scrolled by keyboard
    assert names[-1] == "msp-input"
    # A quick reply can be chosen with the keyboard.
    if chat.replies():
        page.focus(".msp-reply")
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
        before = len(chat.bot_texts())
        page.keyboard.press("Enter")
        chat.wait_idle(min_bot=before + 1)
    # Escape closes the panel and gives focus back to the launcher.
    page.focus("#msp-input")
    page.keyboard.press("Escape")
    assert page.is_hidden("#msp-panel")
    assert page.evaluate("document.activeElement.className") == "msp-launcher"
    assert page.get_attribute(".msp-launcher", "aria-expanded") == "false"


def test_labels_live_regions_and_names(chat):
    chat.goto().open()
    page = chat.page
    assert page.get_by_label("Type your message").count() == 1
    assert page.get_attribute(".msp-log", "role") == "log"
    assert page.get_attribute(".msp-log", "aria-live") == "polite"
    assert page.get_attribute(".msp-status", "role") == "status"
    assert page.get_by_role("dialog", name="Safeguarding chat").is_visible()
    assert page.get_by_role("complementary", name="Safeguarding chat").count() == 1
    # The bot's words are inside the live region, so they are announced.
    assert page.evaluate("document.querySelector('.msp-log').contains(document.querySelector('.msp-msg--bot'))")


def test_reduced_motion_is_respected(make_chat):
    still = make_chat(reduced_motion="reduce").goto().open(wait_for_welcome=False)
    assert still.page.evaluate("getComputedStyle(document.getElementById('msp-panel')).animationName") == "none"
    moving = make_chat(reduced_motion="no-preference").goto().open(wait_for_welcome=False)
    assert moving.page.evaluate("getComputedStyle(document.getElementById('msp-panel')).animationName") == "msp-rise"


def test_text_at_200_percent_loses_nothing(chat):
    chat.goto()
    chat.page.evaluate("document.documentElement.style.fontSize = '200%'")
    chat.open()
    chat.send("what is financial abuse")
    time.sleep(0.3)
    page = chat.page
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.msp')).fontSize)") == 32
    assert page.evaluate("(p => p.scrollWidth <= p.clientWidth + 1)(document.getElementById('msp-panel'))")
    assert page.evaluate("[...document.querySelectorAll('.msp-msg')].every(m => m.scrollWidth <= m.clientWidth + 1)")
    viewport = page.viewport_size

    def on_screen(selector):
        box = page.locator(selector).last.bounding_box()
        return (0 <= box["x"] and box["x"] + box["width"] <= viewport["width"]
                and 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"])

    # Everything can be scrolled to, and the way out stays on screen meanwhile.
    for selector in ("#msp-input", ".msp-send", ".msp-footer", ".msp-msg--bot"):
        page.locator(selector).last.scroll_into_view_if_needed()
        if selector != ".msp-msg--bot":  # a long message may be taller than the space it has
            assert on_screen(selector), selector
        assert on_screen(".msp-exit--header"), f"the exit button scrolled away ({selector})"
    chat.screenshot("text-200-percent")
    _no_violations(chat, "text-200-percent")


def test_large_text_toggle_scales_the_widget_and_is_remembered_in_the_tab(chat):
    chat.goto().open()
    page = chat.page
    size = lambda: page.evaluate("parseFloat(getComputedStyle(document.querySelector('.msp-msg')).fontSize)")  # noqa: E731
    normal = size()
    button = page.get_by_role("button", name="Larger text")
    assert button.get_attribute("aria-pressed") == "false"
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    assert size() >= normal * 1.25
    chat.screenshot("large-text")
    page.reload()
    page.wait_for_selector(".msp-launcher")
    assert page.get_by_role("button", name="Larger text").get_attribute("aria-pressed") == "true"
    assert size() >= normal * 1.25
