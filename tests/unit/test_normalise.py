"""Tricks that hide words are undone before any understanding (issue 10, item 10)."""
from __future__ import annotations

import pytest

from bot.text.danger import check_input, detect
from bot.text.normalise import for_understanding

HIDDEN = [
    # zero-width space, zero-width joiner, word joiner, soft hyphen, BOM
    ("he is k\u200bill\u200ding me", "he is killing me"),
    ("he has a kni\u2060fe", "he has a knife"),
    ("he is stab\u00adbing her", "he is stabbing her"),
    ("\ufeffhe is hitting me", "he is hitting me"),
    # Cyrillic and Greek look-alikes inside English words
    ("he is h\u0456tt\u0456ng me", "he is hitting me"),
    ("he has a kn\u0456f\u0435", "he has a knife"),
    ("\u0397\u0395 \u0399\u0405 \u0421\u041dOKING ME", "HE IS CHOKING ME"),
    # full-width and mathematical letters, combining marks
    ("\uff48\uff45 \uff49\uff53 \uff48\uff49\uff54\uff54\uff49\uff4e\uff47 \uff4d\uff45", "he is hitting me"),
    ("\U0001d421\U0001d41e is hitting me", "he is hitting me"),
    ("he is h\u0336i\u0336t\u0336t\u0336i\u0336n\u0336g\u0336 me", "he is hitting me"),
    # digits for letters inside words
    ("he is k1ll1ng me", "he is killing me"),
]


@pytest.mark.parametrize("text,clean", HIDDEN)
def test_hidden_words_are_restored(text, clean):
    assert for_understanding(text) == clean


@pytest.mark.parametrize("text,clean", HIDDEN)
def test_the_danger_rules_see_through_the_disguise(text, clean):
    assert detect(clean).kind == "now"
    assert detect(for_understanding(text)).kind == "now"


def test_another_language_keeps_its_letters():
    russian = "\u041c\u043d\u0435 \u043d\u0443\u0436\u043d\u0430 \u043f\u043e\u043c\u043e\u0449\u044c"
    assert for_understanding(russian) == russian
    assert check_input(for_understanding(russian)) == "other_script"


def test_invitation_codes_are_not_changed():
    for code in ("XR5T-9PLW", "xr5t9plw", "AB3D-EF1H", "k7m4-p9q2"):
        assert for_understanding(code) == code


@pytest.mark.parametrize("text", ["hello", "my grandson keeps my bank card", "2 of them came b4 tea", "07700 900123", "\U0001f60a thanks"])
def test_ordinary_text_is_unchanged(text):
    assert for_understanding(text) == text
