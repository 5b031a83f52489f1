"""Redaction of personal details, for auditors and exports.

``redact(text)`` replaces each personal detail by its kind: ``[name]``,
``[phone]``, ``[email]``, ``[address]``, ``[postcode]``, ``[date of birth]``,
``[NHS number]``, ``[bank details]``. ``spans(text)`` says where they are, as
``(start, end, kind)`` with the kinds of ``KINDS``. Everything else is left
exactly as it was.

Two parts, both deterministic at run time:

* **Rules** (``bot.text.redact_rules``: regular expressions with the context
  words around them) for the kinds with a shape: phone numbers, emails,
  postcodes, NHS numbers, bank details, dates of birth (a date only when
  "born", "DOB", "date of birth" or "birthday" is next to it, or a full date
  with a year before 1990), and the plainest names ("Mrs Patel", "my name is
  ...") and street addresses ("14 Mill Lane").
* **A small trained model** (``bot.text.redact_model``: a spaCy ``ner``
  component in a blank English pipeline, trained from the project's own
  generated messages at set-up, ``make train``) for names and addresses the
  rules cannot reach: "my son darren", "bill next door", "she lives on beech
  grove now". It is loaded once per process.

When two findings overlap, the one with the clearer shape wins (email, NHS
number, bank details, phone, date of birth, postcode, address, name); an
address that runs into a postcode keeps the part before it.

A page or an export that shows several texts takes ``redactor(texts)``: it
reads them all at once and fails before anything is shown. There is no
rules-only fallback: without the trained model every call raises
``ModelMissing`` (``bot.text.redact_model``), because rules alone would show
an auditor most names.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

from bot.text import redact_rules as rules

KINDS = ("name", "phone", "email", "address", "postcode", "dob", "nhs", "bank")
LABELS = {
    "name": "[name]", "phone": "[phone]", "email": "[email]", "address": "[address]",
    "postcode": "[postcode]", "dob": "[date of birth]", "nhs": "[NHS number]", "bank": "[bank details]",
}
# Earlier wins an overlap.
PRIORITY = ("email", "nhs", "bank", "phone", "dob", "postcode", "address", "name")

Span = Tuple[int, int, str]


def _resolve(text: str, found: List[Span]) -> List[Span]:
    """Non-overlapping spans, by ``PRIORITY``; an address is trimmed, not dropped."""
    rank = {kind: i for i, kind in enumerate(PRIORITY)}
    taken: List[Span] = []
    for start, end, kind in sorted(set(found), key=lambda s: (rank[s[2]], s[0], -s[1])):
        clashes = [t for t in taken if t[0] < end and start < t[1]]
        if clashes and kind == "address":
            # Keep the part before the first clash ("14 Mill Lane, LS6 2AB").
            end = min(t[0] for t in clashes)
            while end > start and not text[end - 1].isalnum():
                end -= 1
            if end - start < 4 or any(t[0] < end and start < t[1] for t in taken):
                continue
        elif clashes:
            continue
        taken.append((start, end, kind))
    return sorted(taken)


def spans(text: Optional[str]) -> List[Span]:
    """Where the personal details in ``text`` are: ``(start, end, kind)``, sorted, not overlapping."""
    return spans_of_all([text])[0]


def spans_of_all(texts: Sequence[Optional[str]]) -> List[List[Span]]:
    """``spans`` of many texts at once (the model reads them in batches: about twice as fast)."""
    from bot.text import redact_model

    todo = [i for i, text in enumerate(texts) if text and text.strip()]
    learned = redact_model.find_all([texts[i] for i in todo])
    out: List[List[Span]] = [[] for _ in texts]
    for i, found in zip(todo, learned):
        text = texts[i]
        found = _settled(text, _with_town(text, found))
        out[i] = _resolve(text, rules.clean_names(text, rules.find(text) + found))
    return out


# Letters that introduce a detail, never a name ("IBAN GB29 ...").
_ACRONYMS = {"iban", "bic", "swift", "nhs", "dob", "pin", "cvv", "gp", "uk", "id", "ni"}
# A flat or room number alone is not an address ("the man in flat 6").
_BARE_UNIT = re.compile(r"^(?:flat|room|unit|ward|bay|bed|block)\s+\w{1,4}$", re.IGNORECASE)
# "Mark her son ...", "Bill next door ...": a first name that is also a word,
# at the start, then who they are.
_NAME_THEN_WHO = re.compile(r"^(?P<name>[A-Z][a-z]+)\s+(?:(?:her|his|their|my|our)\s+(?P<kin>[\w-]+)|next door)\b")


# A day and a month together ("3rd of May", "may the 3rd", "May 2024").
_DAY_AND_MONTH = re.compile(rf"\b(?:{rules._DAY}(?: of)?[ -]{rules._MONTH}|{rules._MONTH} (?:the )?{rules._DAY}|"
                            rf"{rules._MONTH},? (?:19|20)\d{{2}})\b", re.IGNORECASE)


def _settled(text: str, found: List[Span]) -> List[Span]:
    """The model's findings after four fixed checks, so that what it learned in
    one training run does not decide them: an acronym is not a name, a bare flat
    or room number is not an address, a month beside a day is not a name, and a known first name at the start
    followed by who the person is ("Mark her son") is a name."""
    out = []
    for start, end, kind in found:
        piece = text[start:end].strip()
        if kind == "name" and piece.lower() in _ACRONYMS and piece.isupper():
            continue
        if kind == "address" and _BARE_UNIT.match(piece):
            continue
        if kind == "name" and any(m.start() <= start and end <= m.end() for m in _DAY_AND_MONTH.finditer(text)):
            # "the 3rd of may", "May 3rd": a month in a date, not a name
            continue
        out.append((start, end, kind))
    match = _NAME_THEN_WHO.match(text)
    if match:
        lex = rules.lexicon()
        name = match.group("name").lower()
        kin = (match.group("kin") or "").lower()
        known = name in lex["ambiguous_names"] or name in lex["extra_first_names"]
        if known and (not kin or kin in lex["kin_words"]):
            out.append((match.start("name"), match.end("name"), "name"))
    return out


def _with_town(text: str, found: List[Span]) -> List[Span]:
    """An address the model found stops before ", Leeds": a known town right after it joins it
    (deterministic, whatever the model's training run learned about where addresses end)."""
    towns = rules.lexicon()["towns"]
    out = []
    for start, end, kind in found:
        if kind == "address":
            match = _TOWN_AFTER.match(text, end)
            if match:
                words = match.group("town").split()
                # "Leeds and ...": two words that are not a town, then the first alone ("Hebden Bridge").
                for n in (2, 1):
                    if len(words) >= n and " ".join(words[:n]).lower() in towns:
                        end = match.start("town") + len(" ".join(words[:n]))
                        break
        out.append((start, end, kind))
    return out


_TOWN_AFTER = re.compile(r",?\s+(?P<town>[A-Za-z]+(?: [A-Za-z]+)?)\b")


def _replace(text: Optional[str], found: List[Span]) -> str:
    if not text:
        return text or ""
    out = []
    last = 0
    for start, end, kind in found:
        out.append(text[last:start])
        out.append(LABELS[kind])
        last = end
    out.append(text[last:])
    return "".join(out)


def redact(text: Optional[str]) -> str:
    """``text`` with every personal detail replaced by its kind ("[name]", "[phone]" ...)."""
    return _replace(text, spans(text))


def redact_all(texts: Sequence[Optional[str]]) -> List[str]:
    """``redact`` of many texts at once (a transcript page)."""
    return [_replace(text, found) for text, found in zip(texts, spans_of_all(texts))]


def redactor(texts: Iterable[Optional[str]]) -> Callable[[Optional[str]], Optional[str]]:
    """``redact`` for one page: the ``texts`` it will show are redacted now, in batches.

    The function returned gives each of them redacted (any other text is
    redacted when asked; an empty text or ``None`` comes back as it is).
    Raises ``ModelMissing`` here, before any of the page is made, when the
    trained model is not on this machine.
    """
    from bot.text import redact_model

    redact_model.get_nlp()
    todo = list(dict.fromkeys(text for text in texts if text))
    done = dict(zip(todo, redact_all(todo)))

    def shown(text: Optional[str]) -> Optional[str]:
        if not text:
            return text
        return done[text] if text in done else redact(text)

    return shown
