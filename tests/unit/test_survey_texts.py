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
