"""Local details reach replies from bot/settings.py, at reply time."""
import asyncio

from rasa.shared.core.trackers import DialogueStateTracker

import bot.components.settings_nlg as settings_nlg
from bot.settings import load_settings


def generate(domain, name, settings=None, monkeypatch=None):
    if settings is not None:
        monkeypatch.setattr(settings_nlg, "get_settings", lambda: settings)
    nlg = settings_nlg.SettingsNLG(domain=domain)
    tracker = DialogueStateTracker.from_events("t", [], slots=domain.slots)
    return asyncio.run(nlg.generate(name, tracker, "rest"))


def test_placeholders_are_filled_from_settings(domain):
    text = generate(domain, "utter_talk_to_person")["text"]
    defaults = load_settings({})
    assert defaults.council_phone in text and defaults.council_name in text
    assert "{" not in text


def test_a_changed_setting_reaches_the_reply(domain, monkeypatch):
    custom = load_settings({"MSP_COUNCIL_NAME": "Northshire Council", "MSP_COUNCIL_PHONE": "01632 960 777"})
    text = generate(domain, "utter_talk_to_person", custom, monkeypatch)["text"]
    assert "Northshire Council" in text and "01632 960 777" in text


def test_danger_reply_names_999_and_samaritans(domain):
    assert "999" in generate(domain, "utter_danger_now")["text"]
    suicide = generate(domain, "utter_danger_suicide")["text"]
    assert "999" in suicide and load_settings({}).samaritans_phone in suicide
