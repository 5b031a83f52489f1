"""Word lists for redaction: the lexicon (``data/redaction/lexicon.yml``) and the name lists.

Used by the rules (``bot.text.redact_rules``) and by the trained model
(``bot.text.redact_model``, which is trained again when this file changes).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, Set

import yaml

LEXICON = Path(__file__).parent / "data" / "redaction" / "lexicon.yml"


@lru_cache(maxsize=1)
def lexicon() -> Dict[str, FrozenSet[str]]:
    data = yaml.safe_load(LEXICON.read_text())
    return {key: frozenset(str(w).lower() for w in words) for key, words in data.items()}


# --- name lists -------------------------------------------------------------------------------
# Faker's person providers (a maintained package, pinned): names common in England and in the
# languages of the people who live there. Ours are added from the lexicon.
FIRST_NAME_LOCALES = ("en_GB", "en_IE", "en_US", "en_IN", "en_PK", "pl_PL", "ro_RO", "lt_LT", "pt_PT",
                      "yo_NG", "tw_GH")
LAST_NAME_LOCALES = ("en_GB", "en_IE", "en_IN", "en_PK", "yo_NG", "tw_GH")
# Our own English: the assistant's training messages, its replies and the danger detector's
# training data. A name written there in lower case at least this often is used as a word
# by the people who write to us (or by us).
ROOT = Path(__file__).resolve().parents[2]
PROJECT_TEXT = ROOT / "bot" / "data" / "nlu"
WORD_USES = 3
# Session 17: what redaction learns from our own English is a snapshot kept
# beside the lexicon, not read live from the NLU data, so that the redaction
# model (and the names the rules know as words) no longer moves every time a
# blind set joins the NLU training data. `python -m scripts.redaction_snapshot`
# takes a new snapshot on purpose (then measure the redaction sets again).
SNAPSHOT_DIR = Path(__file__).parent / "data" / "redaction"
PLAIN_MESSAGES_SNAPSHOT = SNAPSHOT_DIR / "plain_messages.txt"
WORDS_SNAPSHOT = SNAPSHOT_DIR / "project_words.txt"


def hand_written_nlu_files() -> list:
    """The NLU files we wrote ourselves, without those made from blind and helper
    sets (``written_*.yml``). The redaction model draws its plain messages (no
    personal details) from these only, since session 14: moving four blind sets
    into the training data changed its 1,000-message sample and it lost name
    recall (see tests/unit/test_redact.py). The plain *words* still come from
    every file (``project_text_files``)."""
    return [p for p in sorted(PROJECT_TEXT.glob("*.yml")) if not p.name.startswith("written_")]


def project_text_files() -> list:
    return sorted(PROJECT_TEXT.glob("*.yml")) + [ROOT / "domain.yml"] \
        + sorted((ROOT / "bot" / "text" / "data").glob("danger_train*.yml"))


def _ascii(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()


def _faker_names(attribute: str, locales: Iterable[str]) -> Set[str]:
    import importlib

    out: Set[str] = set()
    for locale in locales:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for name in getattr(provider, attribute, ()) or ():
            for part in re.split(r"[\s]+", str(name).lower()):
                out.update({part, _ascii(part)})
    return {n for n in out if len(n) > 1}


def live_project_words() -> Counter:
    """Lower-case words of our own English as the files hold them now (``project_text_files``)."""
    counts: Counter = Counter()
    for path in project_text_files():
        counts.update(re.findall(r"(?<![A-Za-z'])[a-z][a-z'-]*[a-z]", path.read_text()))
    return counts


def live_plain_message_texts() -> list:
    """Every example of the hand-written NLU files (mark-up removed), sorted, once each."""
    found = set()
    for path in hand_written_nlu_files():
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                text = re.sub(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})", r"\1", line.strip()[2:].strip())
                if text:
                    found.add(text)
    return sorted(found)


@lru_cache(maxsize=1)
def project_words() -> Counter:
    """Lower-case words of our own English used at least ``WORD_USES`` times, from the snapshot."""
    counts: Counter = Counter()
    for line in WORDS_SNAPSHOT.read_text().splitlines():
        if line and not line.startswith("#"):
            word, count = line.rsplit(" ", 1)
            counts[word] = int(count)
    return counts


def plain_message_texts() -> list:
    """The hand-written NLU examples redaction learns "no details" from, from the snapshot."""
    return [line for line in PLAIN_MESSAGES_SNAPSHOT.read_text().splitlines() if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def gazetteer() -> Dict[str, FrozenSet[str]]:
    """First names and surnames that are not also words, and the names that are."""
    lex = lexicon()
    first = _faker_names("first_names", FIRST_NAME_LOCALES) | _faker_names("first_names_female", ["en_GB"]) \
        | _faker_names("first_names_male", ["en_GB"]) | set(lex["extra_first_names"])
    last = _faker_names("last_names", LAST_NAME_LOCALES) | set(lex["extra_last_names"])
    used = {w for w, n in project_words().items() if n >= WORD_USES}
    ambiguous = set(lex["ambiguous_names"]) | ((first | last) & used) | lex["not_names"] | lex["stop_words"]
    return {"first": frozenset(first - ambiguous), "last": frozenset(last - ambiguous - first),
            "ambiguous": frozenset(ambiguous & (first | last | set(lex["ambiguous_names"])))}


def english_first_names() -> Set[str]:
    """First names common in England (Faker's en_GB and ours): most training names come from here."""
    return _faker_names("first_names_female", ["en_GB"]) | _faker_names("first_names_male", ["en_GB"]) \
        | set(lexicon()["extra_first_names"])


@lru_cache(maxsize=1)
def plain_words() -> FrozenSet[str]:
    """Words our writers use as words, that no list calls a name ("very", "drunk", "takes")."""
    names = gazetteer()
    words = {w for w, n in project_words().items() if n >= WORD_USES}
    return frozenset(words - names["first"] - names["last"] - lexicon()["ambiguous_names"])
