"""Plain-language checks for what the assistant says.

People using the assistant may have low literacy, a learning disability, be
upset, or be listening through a screen reader. Every response should be short
and easy to read, so this module measures a text and lists what makes it hard:

- ``analyse(text)`` returns the counts and the Flesch reading ease score;
- ``check(text)`` returns a list of problems (an empty list means it passes);
- ``fill_placeholders(text, values)`` fills ``{council_phone}``-style
  placeholders, so a response is checked as the person will read it.

How things are counted
----------------------
*Sentences* come from spaCy's rule-based ``sentencizer`` on a blank English
pipeline (no trained model is needed). A line break, and a bullet ``•``, also
start a new sentence: responses use short lists (``"\\n- ..."``), and each list
item is read as a unit of its own. A "sentence" with no words in it (a blank
line, a lone bullet) is not counted.

*Words* are tokens with at least one letter. A contraction is one word
("didn't", "it's"). A phone number ("01632 960 000"), a web address, an email
address, any other number and a clock time ("9am") each count as ONE word of
ONE syllable: a reader takes a number or an address in as a single unit (or
copies it), and counting "01632 960 000" as three long words, or a URL by its
letters, would make every response with a helpline in it look hard to read.
A hyphenated word counts as its parts ("self-neglect" is two words), because
spaCy's tokenizer splits it there.

*Syllables* use an English heuristic (vowel groups, silent final "e", "-le",
"-ed" and "-es" endings, common suffixes and compounds after a silent "e",
and a few vowel pairs that are said as two syllables), with a short list of
common exceptions, and never fewer than one per word. Initialisms in capitals
with no vowel or up to three letters ("NHS", "GP", "CQC") are said letter by
letter. It is a heuristic: good enough to rank texts, not a dictionary.

The Flesch reading ease score is
``206.835 - 1.015 * (words / sentences) - 84.6 * (syllables / words)``.
It is unreliable on very short texts, so ``check`` only applies it when a text
has at least ``min_words_for_flesch`` words.

Nothing heavy happens at import: spaCy is imported and the pipeline built the
first time ``get_nlp()`` is called, then cached.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, List, Mapping, Tuple

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = [
    "Readability",
    "analyse",
    "check",
    "count_syllables",
    "fill_placeholders",
    "get_nlp",
]

# ---------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def get_nlp() -> "Language":
    """A blank English pipeline with a sentencizer, built once per process."""
    import spacy  # imported here: importing spaCy is slow

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


# ---------------------------------------------------------------------------
# Units read as one word: phone numbers, addresses, numbers, times
# ---------------------------------------------------------------------------

_TRAILING_PUNCT = ".,;:!?)]}'\"’”"

_UNIT_RE = re.compile(
    r"""
      (?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
    | (?P<url>(?:https?://|www\.)[^\s<>"]+
           | \b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*
             \.(?:uk|com|org|net|gov|info|io|nhs)\b(?:/[^\s<>"]*)?)
    | (?P<time>(?<![\w.])\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm)\b)
    | (?P<number>(?<![\w.])\+?\d[\d()]*(?:[ -]\(?\d[\d()]*)*(?![\w]))
    """,
    re.VERBOSE | re.IGNORECASE,
)


def _unit_spans(text: str) -> List[Tuple[int, int]]:
    """Character spans of the phone numbers, URLs, emails, numbers and times."""
    spans = []
    for match in _UNIT_RE.finditer(text):
        start, end = match.span()
        if match.lastgroup in ("url", "email"):
            # "see www.example.gov.uk." - the full stop ends the sentence.
            while end > start and text[end - 1] in _TRAILING_PUNCT:
                end -= 1
        if end > start:
            spans.append((start, end))
    return spans


# ---------------------------------------------------------------------------
# Syllables
# ---------------------------------------------------------------------------

_VOWELS = "aeiouy"

# Common words the rules below get wrong.
_EXCEPTIONS = {
    "area": 3,
    "areas": 3,
    "business": 2,
    "create": 2,
    "created": 3,
    "creating": 3,
    "every": 2,
    "idea": 3,
    "ideas": 3,
    "marriage": 2,
    "science": 2,
    "poem": 2,
    "poems": 2,
    "video": 3,
    "videos": 3,
    "being": 2,
    "behaviour": 3,
    "behaviours": 3,
    "coercion": 3,
    "coercive": 3,
    "wednesday": 2,
    "wherever": 3,
    "cruel": 2,
    "fuel": 2,
}

# First parts of compounds that end in a silent "e" ("someone", "safeguarding").
_COMPOUND_HEADS = (
    "every", "any", "some", "where", "there", "home", "care", "safe", "time", "life",
    "house", "side", "base", "whole",
)

# Suffixes that keep the silent "e" of the stem ("safely", "movement").
_SUFFIXES = (("fully", 2), ("ments", 1), ("ment", 1), ("ness", 1), ("less", 1),
             ("ful", 1), ("ly", 1), ("ty", 1))

# Vowel pairs usually said as two syllables: one more than the vowel groups.
_ADD_ONE = [
    re.compile(p)
    for p in (
        r"[^ctsgx]ia",           # media, material (not social, initial, Asian)
        r"[^tscxgln]io",         # violence, period, radio (not nation, vision)
        r"[^qg]ua[^aeiou]|[^qg]ua$",  # usual, sexual, situation (not guard)
        r"[ld]ien",              # client, audience
        r"iet",                  # quiet, anxiety, society
        r"[aeiouy]ings?$",       # being, doing, going, worrying
        r"isms?$",               # racism
    )
]


def _is_consonant(ch: str) -> bool:
    return ch.isalpha() and ch not in _VOWELS


def _keeps_final_e_syllable(word: str, ending: str) -> bool:
    """'-le'/'-re' after another consonant is a syllable: table(s), centre(d)."""
    stem = word[: len(word) - len(ending)]  # "tabl" from "table"
    return (
        len(stem) >= 2
        and stem[-1] in "lr"
        and _is_consonant(stem[-2])
        and stem[-2] != stem[-1]
    )


def _base_syllables(word: str) -> int:
    """Vowel groups, less silent endings, plus split vowel pairs."""
    w = word.replace("qu", "qw")  # the u in "qu" is not a vowel
    count = len(re.findall(r"[aeiouy]+", w))
    if count > 1:
        if w.endswith("e") and _is_consonant(w[-2]):
            if not _keeps_final_e_syllable(w, "e"):
                count -= 1  # abuse, police, there
        elif w.endswith("ed") and len(w) > 3 and _is_consonant(w[-3]):
            if w[-3] not in "td" and not _keeps_final_e_syllable(w, "ed"):
                count -= 1  # used, asked, harmed (not wanted, needed, handled)
        elif w.endswith("es") and len(w) > 3 and _is_consonant(w[-3]):
            sibilant = w[-3] in "sxzcg" or w[-4:-2] in ("ch", "sh")
            if not sibilant and not _keeps_final_e_syllable(w, "es"):
                count -= 1  # homes, makes (not uses, changes, tables)
    count += sum(1 for pattern in _ADD_ONE if pattern.search(w))
    return count


def count_syllables(word: str) -> int:
    """Syllables in one English word (at least 1)."""
    letters = "".join(ch for ch in word if ch.isalpha())
    if not letters:
        return 1
    if letters.isupper() and len(letters) > 1 and (
        len(letters) <= 3 or not any(ch in "AEIOU" for ch in letters)
    ):
        # An initialism said letter by letter: NHS, GP, CQC.
        return sum(3 if ch == "W" else 1 for ch in letters)
    return max(1, _syllables(letters.lower()))


def _syllables(w: str) -> int:
    if w in _EXCEPTIONS:
        return _EXCEPTIONS[w]
    for suffix, extra in _SUFFIXES:
        stem = w[: -len(suffix)]
        if w.endswith(suffix) and len(stem) >= 3 and stem.endswith("e") and _is_consonant(stem[-2]):
            return _syllables(stem) + extra
    for head in _COMPOUND_HEADS:
        rest = w[len(head):]
        if w.startswith(head) and len(rest) >= 3 and not rest.startswith(("r", "s", "d")):
            return _syllables(head) + _syllables(rest)
    return max(1, _base_syllables(w))


# Contractions: spaCy splits "didn't" into "did" + "n't", "it's" into "it" + "'s".
_CLITICS = {"n't", "'s", "'re", "'ll", "'ve", "'m", "'d", "s", "nt"}
# "n't" adds a syllable after a consonant (did-n't) but not in don't, can't, won't.
_NT_NO_EXTRA = {"do", "ca", "wo", "are", "were", "ai", "sha"}


def _clitic_syllables(stem: str, clitic: str) -> int:
    stem = stem.lower()
    if clitic in ("n't", "nt"):
        return 0 if stem in _NT_NO_EXTRA else 1
    if clitic in ("'s", "s") and re.search(r"(?:[sxz]|[cs]h|[cgsz]e)$", stem):
        return 1  # the boss's, George's
    return 0


def _clitic_key(text: str) -> str:
    return text.lower().replace("\u2019", "'")


# ---------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Readability:
    sentences: int
    words: int
    syllables: int
    longest_sentence_words: int
    avg_sentence_words: float
    flesch_reading_ease: float


def _make_doc(text: str) -> Tuple["Doc", set]:
    """Tokenise, merge units into single tokens, mark line starts, split sentences."""
    from spacy.util import filter_spans

    nlp = get_nlp()
    doc = nlp.make_doc(text)
    spans = []
    for start, end in _unit_spans(text):
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    unit_starts = set()
    spans = filter_spans(spans)
    if spans:
        with doc.retokenize() as retokenizer:
            for span in spans:
                retokenizer.merge(span)
        unit_starts = {span.start_char for span in spans}
    after_newline = False
    for token in doc:
        if token.is_space:
            after_newline = after_newline or "\n" in token.text
            continue
        if after_newline or (token.text.startswith("\u2022") and token.i > 0):
            token.is_sent_start = True
        after_newline = "\n" in token.whitespace_
    for _name, component in nlp.pipeline:
        doc = component(doc)
    return doc, unit_starts


def _measure(text: str) -> Tuple[Readability, List[Tuple[str, int]]]:
    """The figures for ``text`` and each sentence with its word count."""
    if not text or not text.strip():
        return Readability(0, 0, 0, 0, 0.0, 0.0), []
    doc, unit_starts = _make_doc(text)
    total_syllables = 0
    per_sentence: List[Tuple[str, int]] = []
    for sent in doc.sents:
        words = 0
        previous = None  # the last word token, for contractions
        for token in sent:
            lowered = _clitic_key(token.text)
            if token.idx in unit_starts or token.like_url or token.like_email:
                words += 1
                total_syllables += 1
                previous = None
            elif (
                lowered in _CLITICS
                and previous is not None
                and previous.whitespace_ == ""
                and previous.i == token.i - 1
            ):
                total_syllables += _clitic_syllables(previous.text, lowered)
            elif any(ch.isalpha() for ch in token.text):
                words += 1
                total_syllables += count_syllables(token.text)
                previous = token
            elif any(ch.isdigit() for ch in token.text):
                words += 1  # a number on its own, read as a unit
                total_syllables += 1
                previous = None
            else:
                previous = None
        if words:
            per_sentence.append((sent.text.strip(), words))
    n_words = sum(w for _, w in per_sentence)
    n_sentences = len(per_sentence)
    if not n_words:
        return Readability(0, 0, 0, 0, 0.0, 0.0), []
    avg = n_words / n_sentences
    flesch = 206.835 - 1.015 * avg - 84.6 * (total_syllables / n_words)
    return (
        Readability(
            sentences=n_sentences,
            words=n_words,
            syllables=total_syllables,
            longest_sentence_words=max(w for _, w in per_sentence),
            avg_sentence_words=round(avg, 2),
            flesch_reading_ease=round(flesch, 1),
        ),
        per_sentence,
    )


def analyse(text: str) -> Readability:
    """Count sentences, words and syllables in ``text`` and score it."""
    return _measure(text)[0]


def check(
    text: str,
    max_sentence_words: int = 25,
    max_avg_sentence_words: float = 15,
    min_flesch: float = 60,
    min_words_for_flesch: int = 12,
) -> List[str]:
    """Problems that make ``text`` hard to read; an empty list means it passes.

    Fill placeholders first (``fill_placeholders``): the check is about what
    the person will read.
    """
    result, sentences = _measure(text)
    if result.words == 0:
        return ["The text has no words."]
    problems = []
    for sentence, words in sentences:
        if words > max_sentence_words:
            shown = sentence if len(sentence) <= 80 else sentence[:77] + "..."
            problems.append(
                f"A sentence has {words} words (most allowed {max_sentence_words}): {shown!r}"
            )
    if result.avg_sentence_words > max_avg_sentence_words:
        problems.append(
            f"Sentences average {result.avg_sentence_words:.1f} words "
            f"(most allowed {max_avg_sentence_words})."
        )
    if result.words >= min_words_for_flesch and result.flesch_reading_ease < min_flesch:
        problems.append(
            f"Flesch reading ease is {result.flesch_reading_ease:.1f} "
            f"(least allowed {min_flesch}): use shorter words and sentences."
        )
    return problems


_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill_placeholders(text: str, values: Mapping[str, Any]) -> str:
    """Replace each ``{name}`` whose name is in ``values``.

    Unknown placeholders are left as they are, so a missing setting shows up
    in the text instead of raising. Braces that are not a simple
    ``{identifier}`` (such as the JSON in a button payload) are untouched.
    """

    def replace(match: "re.Match[str]") -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER_RE.sub(replace, text)
