"""Every response is plain, complete and takes local details from settings.

The readability bar (bot/text/readability.py, defaults of check()):
- no sentence over 25 words: long sentences are the main barrier for people
  with low literacy or a learning disability, and for screen-reader users;
- an average of at most 15 words a sentence: Easy Read and GOV.UK guidance aim
  for short sentences, and 15 is roughly the average in plain-English writing;
- Flesch reading ease of at least 60 ("plain English", readable by most
  13-15 year olds), checked where a reply has at least 12 words because the
  formula is unstable on a handful of words.
"""
from __future__ import annotations

import re
import string

import pytest

from bot.settings import Settings
from bot.text.readability import analyse, check, fill_placeholders

SETTINGS = Settings().as_dict()
PHONE_LIKE = re.compile(r"\b0\d{2,4}[\s\d]{5,}\b|\b\d{3}\s?\d{3}\s?\d{3,4}\b")
ALLOWED_LITERAL_NUMBERS = {"999", "55", "2,000"}


def variations(domain):
    for name, items in domain.responses.items():
        for i, item in enumerate(items):
            if item.get("text"):
                yield pytest.param(name, item, id=f"{name}[{i}]")


def _placeholders(text):
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_every_response_has_text(domain):
    for name, items in domain.responses.items():
        assert items and all(item.get("text") for item in items), name


def test_every_placeholder_is_a_setting_and_no_slot_shadows_a_setting(domain):
    slot_names = {s.name for s in domain.slots}
    assert not slot_names & set(SETTINGS)
    for name, items in domain.responses.items():
        for item in items:
            unknown = _placeholders(item["text"]) - set(SETTINGS) - slot_names
            assert not unknown, f"{name} uses unknown placeholders {unknown}"


def test_no_phone_number_is_typed_into_a_response(domain):
    for name, items in domain.responses.items():
        for item in items:
            found = PHONE_LIKE.findall(item["text"])
            assert not found, f"{name} has a literal number {found}: use a setting"


def test_readability_bar_holds_for_every_response(domain):
    failures = {}
    for name, items in domain.responses.items():
        for i, item in enumerate(items):
            text = fill_placeholders(item["text"], SETTINGS)
            problems = check(text)
            if problems:
                failures[f"{name}[{i}]"] = problems
    assert not failures, failures


def test_the_whole_domain_reads_easily(domain):
    texts = [fill_placeholders(i["text"], SETTINGS) for items in domain.responses.values() for i in items]
    whole = analyse("\n".join(texts))
    assert whole.flesch_reading_ease >= 65, whole
    assert whole.avg_sentence_words <= 13, whole


def test_checker_rejects_a_hard_reply():
    hard = ("Notwithstanding the aforementioned considerations, the local authority's statutory "
            "safeguarding obligations necessitate comprehensive multi-agency investigation "
            "of allegations concerning organisational abuse within residential establishments.")
    assert check(hard)
