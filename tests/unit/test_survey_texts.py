"""The survey's own SMS texts: one GSM-7 segment, nothing a stranger reading the phone could learn."""
from __future__ import annotations

import dataclasses

import pytest

from bot.settings import Settings
from bot.sms.texts import count_segments
from bot.surveys import texts

FORBIDDEN = ("abuse", "safeguard", "harm", "neglect", "enquiry", "social work", "police", "council",
             "survey")


@pytest.mark.parametrize("kind", sorted(texts.ALL_TEXTS))
def test_neutral_and_one_segment(kind):
    text = texts.render(kind, settings=Settings())
    assert (count_segments(text).encoding, count_segments(text).segments) == ("GSM-7", 1)
    assert Settings().sms_sender_name in text and "STOP" in text
    assert not any(word in text.lower() for word in FORBIDDEN), text


@pytest.mark.parametrize("kind", sorted(texts.ALL_TEXTS))
def test_council_name_only_when_the_record_allows(kind):
    named = texts.render(kind, name_allowed=True, settings=Settings())
    assert Settings().council_name in named and count_segments(named).segments == 1
    assert Settings().council_name not in texts.render(kind, name_allowed=False, settings=Settings())
    # A council with a long name still gets one segment, or the test says so.
    long = dataclasses.replace(Settings(), council_name="Royal Borough of Kensington and Chelsea")
    assert count_segments(texts.render(kind, name_allowed=True, settings=long)).segments == 1


def sms_variations(domain):
    for name, items in domain.responses.items():
        for item in items:
            if item.get("channel") == "twilio":
                yield name, item


def test_every_survey_sms_from_rasa_is_one_segment_and_neutral(domain):
    values = dict(Settings().as_dict(), fb_outcome_text="For him to stop ringing me")
    seen = set()
    for name, item in sms_variations(domain):
        seen.add(name)
        text = item["text"].format(**values)
        segments = count_segments(text)
        assert (segments.encoding, segments.segments) == ("GSM-7", 1), (name, len(text), text)
        assert Settings().council_name not in text, name
        assert not any(word in text.lower() for word in FORBIDDEN if word != "council"), (name, text)
        assert "buttons" not in item, name
    # Every question of the form, the opening and the ending have SMS wording.
    required = {f"utter_ask_feedback_form_{slot}" for slot in
                ("fb_goals", "fb_say", "fb_listened", "fb_acted", "fb_safe", "fb_happier", "fb_safe_now",
                 "fb_safe_change", "fb_outcome", "fb_anything_else")}
    assert required | {"utter_feedback_opening", "utter_feedback_done"} <= seen


def test_every_conditional_case_has_its_own_sms_wording(domain):
    """Rasa prefers a plain SMS variation to a conditional web one: each condition needs an SMS one."""
    for name in [n for n in domain.responses if n.startswith(("utter_ask_feedback_form_", "utter_feedback_"))]:
        items = domain.responses[name]
        web_conditions = {str(i.get("condition")) for i in items if i.get("condition") and not i.get("channel")}
        sms_conditions = {str(i.get("condition")) for i in items if i.get("condition") and i.get("channel") == "twilio"}
        assert web_conditions == sms_conditions, name
