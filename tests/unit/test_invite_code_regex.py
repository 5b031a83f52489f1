"""The invitation-code pattern the NLU pipeline uses: codes yes, words never.

"what is self-neglect" was once answered as a code (four letters, a dash, four
letters); a word joined by a dash must never be taken for a code, so codes
always carry a digit.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.records.invitations import format_code, generate_code

ROOT = Path(__file__).resolve().parents[2]


def pattern():
    data = yaml.safe_load((ROOT / "bot" / "data" / "nlu" / "outcomes.yml").read_text())
    (entry,) = [e for e in data["nlu"] if e.get("regex") == "invite_code"]
    (line,) = [l for l in entry["examples"].splitlines() if l.strip()]
    return re.compile(line.strip()[2:], re.IGNORECASE)


@pytest.mark.parametrize("text", [
    "what is self-neglect", "Could you tell me about self-neglect?", "I want to self-harm",
    "my son-in-law takes her money", "is baby-sitting work", "abcd-efgh", "meanwhile",
])
def test_words_are_not_codes(text):
    assert pattern().search(text) is None


@pytest.mark.parametrize("text, code", [
    ("my code is 7KQM-3XPD", "7KQM-3XPD"), ("xr5t9plw", "xr5t9plw"), ("code r5ty\u2013uvw6 thanks", "r5ty\u2013uvw6"),
])
def test_codes_are_found(text, code):
    assert pattern().search(text).group(0) == code


def test_every_generated_code_has_a_digit_and_matches():
    regex = pattern()
    for _ in range(2000):
        code = generate_code()
        assert any(ch.isdigit() for ch in code)
        assert regex.fullmatch(format_code(code)) and regex.fullmatch(code)
