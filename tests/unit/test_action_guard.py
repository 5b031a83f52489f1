"""The reply sent when the action server cannot answer (bot/components/action_guard.py).

That it is sent, over the real servers with the action server killed, is in
tests/integration/test_staying_up.py; here: its words, and the Rasa internals
it wraps (pinned, so an upgrade fails loudly).
"""
from __future__ import annotations

import inspect

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor

import bot.components  # noqa: F401 (installs it)
from bot.components import action_guard
from bot.settings import load_settings
from bot.text.readability import check


def test_installed_when_the_components_are_imported():
    assert RemoteAction.run is action_guard.remote_run
    assert MessageProcessor._run_action is action_guard.run_action


def test_rasa_version_and_the_wrapped_signatures_are_the_ones_it_was_written_for():
    assert rasa.__version__.startswith("3.6."), rasa.__version__
    assert list(inspect.signature(action_guard._ORIGINAL_RUN_ACTION).parameters) == [
        "self", "action", "tracker", "output_channel", "nlg", "prediction"]
    assert list(inspect.signature(action_guard._ORIGINAL_REMOTE_RUN).parameters) == [
        "self", "output_channel", "nlg", "tracker", "domain"]
    assert hasattr(MessageProcessor, "execute_side_effects")


def test_the_reply_gives_the_councils_number_and_999_and_reads_easily():
    settings = load_settings({"MSP_COUNCIL_NAME": "Testshire Council", "MSP_COUNCIL_PHONE": "01632 960 999"})
    text = action_guard.unavailable_text(settings)
    assert "Testshire Council" in text and "01632 960 999" in text
    assert "call 999" in text and "Nothing you typed is lost" in text
    assert check(text) == []
    assert check(action_guard.unavailable_text()) == []


def test_the_time_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(action_guard.TIMEOUT_ENV, raising=False)
    assert action_guard.action_timeout() == action_guard.DEFAULT_TIMEOUT
    monkeypatch.setenv(action_guard.TIMEOUT_ENV, "7.5")
    assert action_guard.action_timeout() == 7.5
    for bad in ("soon", "0", "-3"):
        monkeypatch.setenv(action_guard.TIMEOUT_ENV, bad)
        assert action_guard.action_timeout() == action_guard.DEFAULT_TIMEOUT
