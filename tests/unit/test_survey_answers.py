"""Survey answers read deterministically: buttons, numbers, words, typos; unclear is never guessed."""
from __future__ import annotations

import pytest

from bot.records.feedback import QUESTION_VALUES
from bot.surveys.answers import (NUMBERED, STOP_WORDS, STOP_WORDS_ALSO_SAID_OF_LIFE, WORDS, is_nothing_more,
                                 learned_danger_set_aside, parse)


@pytest.mark.parametrize("text,value", [
    ("Yes", "yes"), ("yep", "yes"), ("Yeah!", "yes"), ("yess", "yes"), ("yse", "yes"), ("👍", "yes"),
    ("Um, yes please", "yes"), ("Yes they did listen", "yes"), ("Definately", "yes"), ("1", "yes"),
    ("Partly", "partly"), ("kind of", "partly"), ("kinda", "partly"), ("sort of", "partly"),
    ("partley", "partly"), ("parly", "partly"), ("a bit", "partly"), ("Yes, a bit", "partly"),
    ("yes and no", "partly"), ("2", "partly"), ("two", "partly"),
    ("No", "no"), ("nope", "no"), ("not really", "no"), ("Not at all.", "no"), ("nah", "no"),
    ("no, nobody rang me back", "no"), ("3", "no"), ("number 3", "no"),
    ("Don't know", "dont_know"), ("dunno", "dont_know"), ("not sure", "dont_know"), ("No idea", "dont_know"),
    ("idk", "dont_know"), ("4", "dont_know"),
    ("Prefer not to say", "prefer_not"), ("I'd rather not say", "prefer_not"), ("5", "prefer_not"),
])
def test_answers(text, value):
    assert parse("answer", text).value == value


@pytest.mark.parametrize("text", ["my cat is orange", "yes but not really", "6", "0", "", "   ", "?!",
                                  "maybe yes maybe no no", "yes stop", "the weather"])
def test_unclear_is_none(text):
    parsed = parse("answer", text)
    assert parsed.value is None and parsed.control is None and not parsed.clear


@pytest.mark.parametrize("text,control", [("skip", "skip"), ("Skip this", "skip"), ("next question", "skip"),
                                          ("stop", "stop"), ("I want to stop", "stop"), ("STOP please", "stop"),
                                          ("no more questions", "stop"), ("quit", "stop")])
def test_skip_and_stop(text, control):
    for kind in NUMBERED:
        parsed = parse(kind, text)
        assert parsed.control == control and parsed.value is None, (kind, text)


@pytest.mark.parametrize("kind,text,value", [
    ("safe_now", "1", "1"), ("safe_now", "not safe", "1"), ("safe_now", "a bit safe", "2"), ("safe_now", "ok", "3"),
    ("safe_now", "mostly safe", "4"), ("safe_now", "very safe", "5"), ("safe_now", "five", "5"),
    ("safe_now", "dunno", "dont_know"),
    ("safe_change", "Better", "better"), ("safe_change", "1", "better"), ("safe_change", "about the same", "same"),
    ("safe_change", "worse", "worse"), ("safe_change", "3", "worse"), ("safe_change", "beter", "better"),
    ("outcome", "Yes it did", "fully"), ("outcome", "fully", "fully"), ("outcome", "partly", "partly"),
    ("outcome", "kinda", "partly"), ("outcome", "no it didn't", "not"), ("outcome", "3", "not"),
    ("outcome", "4", "dont_know"), ("outcome", "no it never happened", "not"),
])
def test_other_kinds(kind, text, value):
    assert parse(kind, text).value == value


def test_every_value_is_one_the_records_take():
    record_kind = {"answer": "goals", "safe_now": "safe_now", "safe_change": "safe_change", "outcome": "outcome"}
    for kind, table in WORDS.items():
        allowed = set(QUESTION_VALUES[record_kind[kind]])
        assert set(table) <= allowed and set(NUMBERED[kind]) <= allowed, kind


def test_nothing_more():
    assert is_nothing_more("No thanks") and is_nothing_more("nothing") and is_nothing_more("that's all")
    assert is_nothing_more("No, that's all") and is_nothing_more("no thats it")
    assert not is_nothing_more("No one called me back for weeks")
    with pytest.raises(ValueError):
        parse("colour", "yes")


LEARNED = {"danger": "suicide", "who": "self", "source": "learned"}
RULES = {"danger": "suicide", "who": "self", "source": "rules", "matched": "end it all"}


@pytest.mark.parametrize("text", ["I want to stop", "I want to stop.", "i WANT to stop!!", "I’d like to stop",
                                  "Please stop", "um I want to stop please", "no more questions", "Enough"])
def test_a_stop_phrase_only_the_learned_detector_read_as_danger_is_set_aside(text):
    assert learned_danger_set_aside(text, LEARNED)
    assert learned_danger_set_aside(text, dict(LEARNED, danger="now"))


@pytest.mark.parametrize("text", ["I want to stop living", "I want to stop it all for good", "I want to end it all",
                                  "I don't want to carry on", "I dont want to carry on anymore", "stop stop stop",
                                  "I wnat to stop", "I want to stop. I can't do this any more", ""])
def test_anything_else_is_not_set_aside(text):
    assert not learned_danger_set_aside(text, LEARNED)


def test_what_the_rules_caught_is_never_set_aside():
    for text in ("I want to stop", "stop", "enough"):
        assert not learned_danger_set_aside(text, RULES)
        assert not learned_danger_set_aside(text, {"danger": None, "source": None})
        assert not learned_danger_set_aside(text, None)
        assert not learned_danger_set_aside(text, {})


def test_the_phrases_also_said_of_a_life_are_stop_phrases():
    assert set(STOP_WORDS_ALSO_SAID_OF_LIFE) <= set(STOP_WORDS)
    for phrase in STOP_WORDS_ALSO_SAID_OF_LIFE:
        assert parse("answer", phrase).control == "stop"  # they still stop the survey when nothing read danger
