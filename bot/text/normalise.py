"""One normaliser for everything that tries to understand a message.

What a person typed is stored verbatim (the tracker keeps the channel's text);
this is the text the danger rules, the sentence encoder and the classifier
read. It undoes the tricks that hide words from them, on purpose or by a
phone's keyboard:

* Unicode NFKC: full-width letters, ligatures, mathematical bold and other
  compatibility forms become plain letters ("ｈｅｌｐ" -> "help");
* format characters (Unicode category Cf) are removed: zero-width spaces and
  joiners, soft hyphens, word joiners, byte-order marks, bidi controls
  ("k\u200bill" -> "kill", "stab\u00adbing" -> "stabbing");
* combining marks on Latin letters are removed ("h̶i̶t̶" -> "hit", "kïll" -> "kill");
* look-alike letters from Cyrillic and Greek are folded to Latin inside words
  that also have Latin letters, or everywhere when the message is mostly Latin
  ("hеlр" with a Cyrillic е and р -> "help"); a message written in Russian or
  Greek keeps its own letters, so "another language" is still recognised;
* digits standing for letters between two letters, only where that spells a
  word that matters for safety ("k1ll", "h3lp"): an invitation code such as
  "XR5T-9PLW" must reach the code reader unchanged.

Pure, fast, no dependencies beyond the standard library.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Cyrillic and Greek letters that look like Latin ones (Unicode's confusables,
# the ones that matter for English words).
CONFUSABLES = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
    "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "к": "k", "м": "m", "т": "t", "н": "h", "п": "n", "г": "r", "ɡ": "g", "ӏ": "l",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D", "Ԍ": "G",
    "Ӏ": "I", "Ү": "Y",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "η": "n", "ω": "w",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin look-alikes outside ASCII
    "ı": "i", "ȷ": "j", "ł": "l", "ſ": "s",
}
DIGIT_LETTERS = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g"}

_WORD = re.compile(r"\w+", re.UNICODE)
_DIGIT_IN_WORD = re.compile(r"(?<=[a-zA-Z])[01345789](?=[a-zA-Z])")


def _is_latin(ch: str) -> bool:
    return "LATIN" in unicodedata.name(ch, "")


def _strip_format(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _strip_marks_on_latin(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    out = []
    for ch in decomposed:
        if unicodedata.category(ch) == "Mn" and out and (_is_latin(out[-1]) or out[-1].isascii()):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _mostly_latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    latin = sum(1 for ch in letters if _is_latin(ch))
    # Letters of another script that look like no Latin letter ("ж", "щ"):
    # a message with them is written in that language, not disguised.
    native = sum(1 for ch in letters if not _is_latin(ch) and ch not in CONFUSABLES)
    return latin > 0 and native / len(letters) < 0.1


@lru_cache(maxsize=1)
def _safety_words() -> frozenset:
    from bot.text.danger import KEY_WORDS

    return frozenset(KEY_WORDS) | frozenset(
        "kill killed kills help hit hits hurt die dead dying knife knives stab stabbed rape raped suicide "
        "attack beat punch choke danger police scared fire gun pills blood bleed abuse abused".split()
    )


def for_understanding(text: str) -> str:
    """The text the understanding reads (never what is stored)."""
    if not text:
        return text or ""
    text = unicodedata.normalize("NFKC", text)
    text = _strip_format(text)
    fold_everywhere = _mostly_latin(text)

    def fix(match: "re.Match[str]") -> str:
        word = match.group(0)
        has_latin = any(_is_latin(ch) for ch in word)
        if fold_everywhere or has_latin:
            word = "".join(CONFUSABLES.get(ch, ch) for ch in word)
        if any(_is_latin(ch) for ch in word):
            word = _strip_marks_on_latin(word)
            folded = _DIGIT_IN_WORD.sub(lambda m: DIGIT_LETTERS[m.group(0)], word)
            if folded != word and folded.lower() in _safety_words():
                word = folded
        return word

    # \w does not include combining marks in every case: take them with the word.
    return re.sub(r"[\w\u0300-\u036f\u0483-\u0489]+", fix, text)
