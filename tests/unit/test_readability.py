"""Tests for bot.text.readability: counts worked out by hand."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.text.readability import (
    Readability,
    analyse,
    check,
    count_syllables,
    fill_placeholders,
    get_nlp,
)

ROOT = Path(__file__).resolve().parents[2]


# --- syllables --------------------------------------------------------------


@pytest.mark.parametrize(
    "word, expected",
    [
        ("the", 1),
        ("abuse", 2),  # a-buse: silent final e
        ("safeguarding", 3),  # safe-guard-ing: compound after a silent e
        ("neglect", 2),
        ("people", 2),  # peo-ple: -le after a consonant is a syllable
        ("council", 2),
        ("police", 2),
        ("someone", 2),
        ("everyone", 3),
        ("safety", 2),
        ("carefully", 3),
        ("table", 2),
        ("whole", 1),
        ("centre", 2),
        ("asked", 1),  # -ed after a consonant is silent
        ("wanted", 2),  # ... but not after t or d
        ("handled", 2),
        ("worried", 2),
        ("homes", 1),  # -es is silent ...
        ("changes", 2),  # ... but not after a hissing sound
        ("abuses", 3),
        ("violence", 3),
        ("sexual", 3),
        ("being", 2),
        ("psychological", 5),
        ("discriminatory", 6),
        ("organisational", 6),
        ("NHS", 3),  # said letter by letter
        ("CQC", 3),
        ("a", 1),
        ("rhythm", 1),  # no vowel group counted: still at least one
    ],
)
def test_count_syllables(word, expected):
    assert count_syllables(word) == expected


# --- counting -----------------------------------------------------------------


def test_analyse_known_text():
    # People(2) have(1) a(1) right(1) to(1) be(1) safe(1): 7 words, 8 syllables
    # Abuse(2) and(1) neglect(2) are(1) never(2) your(1) fault(1): 7 words, 10
    result = analyse("People have a right to be safe. Abuse and neglect are never your fault.")
    assert result == Readability(
        sentences=2,
        words=14,
        syllables=18,
        longest_sentence_words=7,
        avg_sentence_words=7.0,
        # 206.835 - 1.015 * 14/2 - 84.6 * 18/14 = 90.96
        flesch_reading_ease=91.0,
    )


def test_contraction_is_one_word():
    # You(1) didn't(2: did-n't) do(1) it(1); don't(1) worry(2)
    result = analyse("You didn't do it. Don’t worry.")
    assert (result.sentences, result.words, result.syllables) == (2, 6, 8)


def test_line_breaks_and_bullets_end_sentences():
    text = "Signs to look for:\n- bruises\n- fear of a person\n• money going missing"
    result = analyse(text)
    assert result.sentences == 4
    # Signs to look for (4) / bruises (1) / fear of a person (4) / money going missing (3)
    assert result.words == 12
    assert result.longest_sentence_words == 4


def test_blank_lines_and_lone_bullets_are_not_sentences():
    result = analyse("Hello.\n\n•\n- \nGoodbye.")
    assert result.sentences == 2
    assert result.words == 2


@pytest.mark.parametrize(
    "text",
    [
        "Call 01632 960 000 today.",
        "Call 0808 2000 247 today.",
        "Call 999 today.",
        "Visit www.example.gov.uk/report-adult-abuse today.",
        "Visit https://www.example.gov.uk/report-adult-abuse today.",
        "Email safeguarding.adults@example.gov.uk today.",
    ],
)
def test_numbers_urls_and_emails_are_one_short_word(text):
    result = analyse(text)
    # Call/Visit/Email (1 or 2 syllables) + the unit (1) + today (2)
    assert result.words == 3
    assert result.syllables == count_syllables(text.split()[0]) + 1 + 2
    assert result.sentences == 1


def test_a_phone_number_does_not_spoil_the_score():
    plain = analyse("If you are worried, you can call us on 01632 960 000 at any time.")
    assert plain.flesch_reading_ease > 80
    assert check("If you are worried, you can call us on 01632 960 000 at any time.") == []


def test_empty_text():
    assert analyse("") == Readability(0, 0, 0, 0, 0.0, 0.0)
    assert analyse("  \n ") == Readability(0, 0, 0, 0, 0.0, 0.0)
    assert check("") == ["The text has no words."]


# --- check ----------------------------------------------------------------------


def test_simple_text_passes():
    text = (
        "You are not to blame. It is good that you told us. "
        "We can help you think about what to do next."
    )
    assert check(text) == []


def test_long_sentence_fails():
    text = (
        "If you think that someone you know is being hurt or harmed by a person "
        "they live with or see often then you can call us and we will listen to you."
    )
    result = analyse(text)
    assert result.longest_sentence_words == 32
    problems = check(text)
    assert any("32 words" in p and "most allowed 25" in p for p in problems)


def test_long_sentence_limit_is_configurable():
    text = "You can call us at any time of the day or night."
    assert check(text) == []
    assert check(text, max_sentence_words=5, max_avg_sentence_words=20)[0].startswith(
        "A sentence has 12 words"
    )


def test_long_average_fails():
    # Two sentences of 20 words: each under 25, average 20 over 15.
    sentence = "You can talk to us about what is going on and we will listen to you and help you now. "
    assert analyse(sentence).words == 20
    problems = check(sentence * 2)
    assert len(problems) == 1
    assert "average 20.0 words" in problems[0]


def test_hard_text_fails_flesch():
    text = (
        "Organisational safeguarding necessitates multidisciplinary collaboration. "
        "Comprehensive documentation facilitates accountability. "
        "Proportionality considerations determine intervention."
    )
    result = analyse(text)
    assert result.words >= 12
    assert result.flesch_reading_ease < 0
    problems = check(text)
    assert len(problems) == 1
    assert problems[0].startswith("Flesch reading ease is")


def test_flesch_not_checked_on_tiny_texts():
    text = "Organisational considerations."
    assert analyse(text).flesch_reading_ease < 60
    assert check(text) == []
    assert check(text, min_words_for_flesch=2) != []


# --- placeholders -----------------------------------------------------------------


def test_fill_placeholders():
    text = 'Call {council_name} on {council_phone}. {unknown} /ask_signs{"abuse_kind":"physical"}'
    filled = fill_placeholders(
        text, {"council_name": "Exampleshire Council", "council_phone": "01632 960 000"}
    )
    assert filled == (
        'Call Exampleshire Council on 01632 960 000. {unknown} /ask_signs{"abuse_kind":"physical"}'
    )


def test_filled_placeholder_is_counted_as_read():
    text = fill_placeholders("Call {council_phone}.", {"council_phone": "01632 960 000"})
    assert analyse(text).words == 2


# --- the pipeline -----------------------------------------------------------------


def test_get_nlp_is_cached_and_has_a_sentencizer():
    nlp = get_nlp()
    assert nlp is get_nlp()
    assert nlp.pipe_names == ["sentencizer"]


def test_import_does_not_load_spacy():
    code = "import sys, bot.text.readability; print('spacy' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
