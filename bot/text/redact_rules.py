"""The rule half of redaction (``bot.text.redact``): shapes and the words around them.

Each finder returns ``(start, end, kind)`` spans; ``bot.text.redact`` settles
overlaps. Word lists are data (``bot.text.redact_lexicon``), loaded once.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, List, Tuple

from bot.text.redact_lexicon import gazetteer, lexicon, plain_words

Span = Tuple[int, int, str]

I = re.IGNORECASE


# --- email ------------------------------------------------------------------------------------
_PROVIDERS = (r"(?:gmail|googlemail|hotmail|yahoo|ymail|outlook|live|icloud|aol|btinternet|sky|"
              r"virginmedia|talktalk|msn|mail|protonmail|ntlworld|blueyonder|tiscali|me)")
_EMAIL = re.compile(r"(?<![\w.%+'-])[A-Za-z0-9][A-Za-z0-9._%+'-]* ?@ ?(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}|" + _PROVIDERS + r")(?![\w@])", I)
_EMAIL_SPOKEN = re.compile(r"\b[a-z0-9][a-z0-9._-]*(?: dot [a-z0-9_-]+)* at " + _PROVIDERS
                           + r"(?: ?(?:dot|\.) ?(?:com|co|uk|net|org))+\b", I)


def emails(text: str) -> List[Span]:
    found = [(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]
    return found + [(m.start(), m.end(), "email") for m in _EMAIL_SPOKEN.finditer(text)]


# --- NHS number and phone ---------------------------------------------------------------------
_NHS = re.compile(r"(?<![\d+])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_NHS_CUE = re.compile(r"\bn\.?h\.?s\b|\bhealth (?:service )?(?:number|no)\b|\bnhs ?(?:no|num|number)", I)
_PHONE_CUE = re.compile(r"\b(?:mob|mobile|phone|fone|tel|telephone|ring|call|text|txt|whatsapp|landline|contact)\b", I)
_INTERNATIONAL = re.compile(r"(?:\+\s?\d{1,3}|\b00\s?\d{1,3})\s?(?:\(0\)\s?)?$")
# A run of digits, spaces, dashes, dots and brackets that may be a phone number.
_PHONE = re.compile(r"(?<![\w+])(?:\+\s?|\b00)?\(?\d[\d ().-]{6,20}\d(?!\w)")


def nhs_check_digit_ok(digits: str) -> bool:
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _before(text: str, start: int, width: int = 40) -> str:
    return text[max(0, start - width):start]


def nhs_numbers(text: str) -> List[Span]:
    found = []
    for m in _NHS.finditer(text):
        digits = "".join(m.groups())
        before = _before(text, m.start())
        if _INTERNATIONAL.search(text[:m.start()].rstrip() + " ") and not _NHS_CUE.search(before):
            continue
        cue = _NHS_CUE.search(before)
        spaced = m.group(0) != digits
        phone_cue = _PHONE_CUE.search(_before(text, m.start(), 25))
        if cue or (not phone_cue and ((spaced and not digits.startswith("0")) or nhs_check_digit_ok(digits))):
            found.append((m.start(), m.end(), "nhs"))
    return found


def phones(text: str) -> List[Span]:
    found = []
    for m in _PHONE.finditer(text):
        raw = m.group(0)
        start, end = m.start(), m.end()
        # A bracket that opened before the number but closes after it is not part of it.
        if raw.endswith(")") and "(" not in raw:
            end -= 1
        digits = re.sub(r"\D", "", raw)
        if raw.startswith("+") or raw.startswith("00"):
            ok = 8 <= len(digits) <= 15
        elif digits.startswith("0"):
            ok = 10 <= len(digits) <= 11
        else:
            # A mobile written without its 0 ("my number is 7700 900123").
            ok = len(digits) == 10 and digits.startswith("7") and bool(_PHONE_CUE.search(_before(text, start, 30)))
        if ok:
            found.append((start, end, "phone"))
    return found


# --- postcode ---------------------------------------------------------------------------------
_OUTWARD = r"(?:[A-PR-UWYZ](?:\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRV-Y]))"
_POSTCODE = re.compile(r"\b(?:GIR ?0AA|" + _OUTWARD + r" ?\d[A-Z]{2})\b", I)
_OUTWARD_ONLY = re.compile(r"\bpost ?code(?: is|:|=)?\s+(" + _OUTWARD + r")\b", I)
_NOT_INWARD = re.compile(r"\d(?:st|nd|rd|th|am|pm)$", I)


def postcodes(text: str) -> List[Span]:
    found = []
    for m in _POSTCODE.finditer(text):
        code = m.group(0)
        # "the m6 2nd time", "at4 3pm": an ordinal or a time, unless written in capitals.
        if _NOT_INWARD.search(code) and not code.isupper():
            continue
        found.append((m.start(), m.end(), "postcode"))
    for m in _OUTWARD_ONLY.finditer(text):
        found.append((m.start(1), m.end(1), "postcode"))
    return found


# --- bank details -----------------------------------------------------------------------------
_BANK_CUE = re.compile(r"\b(?:sort ?code|s/c|account|acc|acct|accnt|a/c|bank|banking|card|debit|credit|iban)\b", I)
_SORT_CUE = re.compile(r"\b(?:sort ?code|sort|s/c)\b", I)
_SORT = re.compile(r"(?<![\d-])\d{2}([- ]?)\d{2}\1\d{2}(?![\d-])")
_ACCOUNT = re.compile(r"(?<![\d-])(?:\d{8}|\d{4}[ -]\d{4}|\d{7})(?![\d-])")
_CARD = re.compile(r"(?<![\d+])\d{4}[ -]?\d{4,6}[ -]?\d{4,5}(?:[ -]?\d{1,4})?(?!\d)")
_CARD_END = re.compile(r"\b(?:ending(?: in| with)?|ends(?: in| with)?|last (?:4|four)(?: digits| numbers| numbers are| digits are)?)"
                       r"\s*:?\s*(\d{4})\b", I)
_SECURITY = re.compile(r"\b(?:cvv|cvc|cv2|security (?:code|number)|pin(?: ?(?:number|no|code))?)\b"
                       r"(?:\s+(?:is|was|number|no|of|on the back))*\s*[:=-]?\s*(\d{3,6})\b", I)
_IBAN = re.compile(r"\bGB\d{2} ?[A-Z]{4}(?: ?\d{4}){3} ?\d{2}\b", I)


def bank_details(text: str) -> List[Span]:
    found = []
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and not digits.startswith("0"):
            found.append((m.start(), m.end(), "bank"))
    sorts = [m for m in _SORT.finditer(text) if _SORT_CUE.search(_before(text, m.start(), 30))]
    found += [(m.start(), m.end(), "bank") for m in sorts]
    for m in _ACCOUNT.finditer(text):
        near_sort = any(0 <= m.start() - s.end() <= 25 or 0 <= s.start() - m.end() <= 25 for s in sorts)
        if near_sort or _BANK_CUE.search(_before(text, m.start(), 40)):
            found.append((m.start(), m.end(), "bank"))
    for pattern in (_CARD_END, _SECURITY):
        for m in pattern.finditer(text):
            if pattern is _SECURITY or _BANK_CUE.search(_before(text, m.start(), 40) + m.group(0)):
                found.append((m.start(1), m.end(1), "bank"))
    found += [(m.start(), m.end(), "bank") for m in _IBAN.finditer(text)]
    return found


# --- date of birth ----------------------------------------------------------------------------
_MONTH = (r"(?:jan(?:uary)?|feb(?:r?uary)?|febuary|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)?\d{2}"
_NUMERIC = r"[0-3]?\d\s?[/.\\-]\s?[01]?\d\s?[/.\\-]\s?" + _YEAR
_DATE = (rf"(?:{_NUMERIC}|[0-3]?\d [01]?\d (?:19|20)\d{{2}}|(?:19|20)\d{{2}}-[01]\d-[0-3]\d|"
         rf"{_DAY}(?: of)?[ -]{_MONTH}(?:,?[ -](?:19|20)?\d{{2}}(?!\d))?|"
         rf"{_MONTH} (?:the )?{_DAY}(?:,? (?:19|20)?\d{{2}}(?!\d))?|{_MONTH},? (?:19|20)\d{{2}})")
_DOB_CUE = r"\b(?:d\.?o\.?b\b\.?|date of birth|birth ?date|born|birthday|b'?day|bday)"
_FILLER = r"(?:[\s:=\-(,.']|\b(?:is|was|were|on|in|the|of|s|date|her|his|my|their|are|back)\b)*"
_DOB = re.compile(rf"{_DOB_CUE}{_FILLER}(?P<date>{_DATE}|(?:19|20)\d{{2}})(?![\d/])", I)
_FULL_DATE = re.compile(rf"(?<![\d/.-])(?:{_NUMERIC}|{_DAY}(?: of)? {_MONTH},? (?:19|20)\d{{2}}|"
                        rf"{_MONTH} {_DAY},? (?:19|20)\d{{2}}|(?:19|20)\d{{2}}-[01]\d-[0-3]\d)(?![\d/])", I)


def _year(date: str) -> int:
    """The year a date names (two digits read as 19xx or 20xx), 0 if none."""
    numbers = re.findall(r"\d+", date)
    years = [int(n) for n in numbers if len(n) == 4]
    if years:
        return years[0]
    if len(numbers) >= 3 and len(numbers[-1]) == 2:
        two = int(numbers[-1])
        return 1900 + two if two >= 30 else 2000 + two
    return 0


def dates_of_birth(text: str) -> List[Span]:
    found = [(m.start("date"), m.end("date"), "dob") for m in _DOB.finditer(text)]
    for m in _FULL_DATE.finditer(text):
        # A full date long ago is a birth date, not an appointment ("Jean Smith 14/02/1938").
        if 1900 <= _year(m.group(0)) < 1990:
            found.append((m.start(), m.end(), "dob"))
    return found


# --- addresses --------------------------------------------------------------------------------
# Street kinds that are also everyday words ("a 2 bed house", "the car park"): only in Title Case.
_WEAK = {"house", "side", "end", "bank", "yard", "path", "passage", "hill", "view", "green", "park",
         "gate", "walk", "way", "row", "rise", "tower", "towers", "buildings", "mansions", "villas",
         "cottages", "orchard", "meadow", "meadows", "chase", "vale", "hollow", "court", "end", "mount",
         "side", "spur", "lea", "nook", "brow", "approach", "bank", "circus", "grange", "heights"}
_WORD = r"[A-Za-z][A-Za-z'’.-]*"


@lru_cache(maxsize=1)
def _address_patterns():
    suffixes = sorted(lexicon()["street_suffixes"], key=len, reverse=True)
    suffix = "(?:" + "|".join(re.escape(s) for s in suffixes) + r")\.?"
    number = (r"(?:(?:flat|apt|apartment|unit|room)\s*\d+[a-z]?,?\s+)?(?:(?:no\.?|number)\s*)?"
              r"\d{1,4}[a-z]?(?:-\d{1,4})?,?")
    with_number = re.compile(rf"\b{number}\s+(?P<words>(?:{_WORD}\s+){{1,3}}?)(?P<suffix>{suffix})(?![\w'])", I)
    named = re.compile(rf"\b(?:on|at|in|off|of|to|from|and|near|along|opposite|past|via|lives|live|living|moved)\s+"
                       rf"(?P<street>(?P<words>(?:[A-Z][a-z'’]+\s+){{1,3}})(?P<suffix>(?i:{suffix})))(?![\w'])")
    building = re.compile(r"\b(?:flat|apt|apartment)\s*\d+[a-z]?,?\s+(?:[A-Za-z][a-z'’]+\s+){1,3}"
                          r"(?:court|house|mansions|towers|tower|lodge|heights|point|building|buildings|place|view)\b", I)
    # A capitalised word in its own case (the pattern is case-blind only for the known towns:
    # "Grove, Leeds and ..." must not take "and").
    town = re.compile(r",?\s+(?P<town>(?-i:[A-Z][a-z]+(?: [A-Z][a-z]+)?)|(?:" + "|".join(
        re.escape(t) for t in sorted(lexicon()["towns"], key=len, reverse=True)) + r"))\b", I)
    return with_number, named, building, town


def _plausible_street(words: str, suffix: str, strict: bool) -> bool:
    tokens = [w.strip(".,").lower() for w in words.split()]
    if tokens and tokens[0] == "the":  # "25 the crescent", "4 the willows"
        tokens = tokens[1:]
    elif not tokens:
        return False
    if any(t in lexicon()["stop_words"] or t.isdigit() for t in tokens):
        return False
    if suffix.lower().rstrip(".") in _WEAK or strict:
        return all(w[:1].isupper() for w in words.split() + [suffix] if w.lower() != "the")
    return True


def addresses(text: str) -> List[Span]:
    with_number, named, building, town = _address_patterns()
    found = []
    for m in with_number.finditer(text):
        if _plausible_street(m.group("words"), m.group("suffix"), strict=False):
            found.append((m.start(), _with_town(text, m.end(), town), "address"))
    for m in named.finditer(text):
        if _plausible_street(m.group("words"), m.group("suffix"), strict=True) \
                and m.group("suffix").lower().rstrip(".") not in _WEAK:
            found.append((m.start("street"), _with_town(text, m.end(), town), "address"))
    found += [(m.start(), m.end(), "address") for m in building.finditer(text)]
    return found


def _with_town(text: str, end: int, town: "re.Pattern[str]") -> int:
    """Extend an address over ", Leeds" (a known town, or a capitalised word after a comma)."""
    m = town.match(text, end)
    if not m:
        return end
    name = m.group("town")
    known = name.lower() in lexicon()["towns"]
    if known or (m.group(0).lstrip().startswith(",") or text[end:end + 1] == ",") and name[:1].isupper() \
            and name.lower() not in lexicon()["stop_words"] and name.lower() not in lexicon()["not_names"]:
        return m.end()
    return end


# --- names ------------------------------------------------------------------------------------
_NAME_WORD = r"[A-Za-z][a-z'’-]+|[A-Z][A-Z'’-]+"
_TITLE = re.compile(r"\b(?P<title>mr|mrs|ms|mx|dr|miss|doctor|nurse|sister|rev|reverend|cllr|pc|sgt)\b\.?\s+"
                    rf"(?P<name>(?:{_NAME_WORD})(?:\s+(?-i:[A-Z])[A-Za-z'’-]+)?)", I)
_INTRO = re.compile(r"\b(?:my name(?: is|s|'s|’s)?|name(?: is|:)|i am called|i'?m called|called|named|known as|call me|"
                    rf"signed|regards|from)\s*[,:-]?\s+(?P<name>(?:{_NAME_WORD})(?:\s+(?-i:[A-Z])[A-Za-z'’-]+)?)", I)
_LOOSE_TITLES = {"mr", "mrs", "ms", "mx", "dr"}
_KIN = re.compile(r"\b(?:my|our|her|his|their|your|the|me)\s+(?P<kin>[a-z-]+)\s*,?\s+"
                  rf"(?P<name>(?:{_NAME_WORD})(?:\s+(?-i:[A-Z])[A-Za-z'’-]+)?)", I)


def _name_span(m: "re.Match[str]") -> Span:
    """The name a rule matched: its first word, and a second one unless that is an everyday word."""
    words = m.group("name").split()
    stop = lexicon()["stop_words"]
    if len(words) > 1 and words[1].lower() not in plain_words() and words[1].lower() not in stop:
        return m.start("name"), m.end("name"), "name"
    return m.start("name"), m.start("name") + len(words[0]), "name"


def _never_a_name(word: str) -> bool:
    lex = lexicon()
    lowered = word.lower()
    return lowered in lex["stop_words"] or lowered in lex["not_names"] or lowered in lex["kin_words"]


def names(text: str) -> List[Span]:
    names_known = gazetteer()
    found = []
    for m in _TITLE.finditer(text):
        # "Mrs Patel", "dr khan"; "nurse", "sister" and "miss" only before a capital ("i miss going").
        first = m.group("name").split()[0]
        loose = m.group("title").lower() in _LOOSE_TITLES
        if not _never_a_name(first) and (loose or first[:1].isupper()):
            found.append(_name_span(m))
    for m in _KIN.finditer(text):
        # "my son Darren", "our kev": a capitalised word that is not an everyday word, or a known name.
        first = m.group("name").split()[0]
        if m.group("kin").lower() not in lexicon()["kin_words"] or _never_a_name(first):
            continue
        if (first[:1].isupper() and first.lower() not in plain_words()) or first.lower() in names_known["first"]:
            found.append(_name_span(m))
    for m in _INTRO.finditer(text):
        # "my name is ...", "called Kyle", "from Brenda" (a known name only, after "from").
        first = m.group("name").split()[0]
        lowered = first.lower()
        if _never_a_name(first) or (lowered in names_known["ambiguous"] and not first[:1].isupper()):
            continue
        cue = m.group(0)[: m.start("name") - m.start()].lower()
        known = lowered in names_known["first"]
        if cue.startswith(("signed", "regards", "from")) and not known:
            continue
        if not cue.startswith(("my name", "name")) and not (first[:1].isupper() or known):
            continue
        found.append(_name_span(m))
    return found


def clean_names(text: str, found: Iterable[Span]) -> List[Span]:
    """Names without a trailing "'s" or punctuation, and never a kin word or a service."""
    lex = lexicon()
    out = []
    for start, end, kind in found:
        if kind == "name":
            piece = text[start:end]
            cut = re.search(r"(?:['’]s|['’])$", piece)
            if cut:
                end -= len(cut.group(0))
            while end > start and not text[end - 1].isalnum():
                end -= 1
            while start < end and not text[start].isalnum():
                start += 1
            words = [w.lower() for w in re.findall(r"[\w'’-]+", text[start:end])]
            if not words or all(w in lex["not_names"] or w in lexicon()["stop_words"] for w in words):
                continue
        out.append((start, end, kind))
    return out


FINDERS = (emails, nhs_numbers, bank_details, phones, dates_of_birth, postcodes, addresses, names)


def find(text: str) -> List[Span]:
    """Every rule finding in ``text`` (overlaps included; ``bot.text.redact`` settles them)."""
    found: List[Span] = []
    for finder in FINDERS:
        found += finder(text)
    return found
