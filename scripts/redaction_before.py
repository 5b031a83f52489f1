"""The portal's redaction before issue 12's spaCy work, kept only to measure "before" figures.

A copy of ``bot/text/redact.py`` as it was on main at 81489e3 (and 106bde3):
regular expressions for phone numbers, emails, UK postcodes and NHS numbers;
no names, addresses, dates of birth or bank details. Nothing in the product
uses it. ``spans`` finds where its replacements fell, so that
``bot.text.redact_eval`` counts it exactly as it counts the new redaction:

    .venv/bin/python -m bot.text.redact_eval --spans scripts.redaction_before:spans FILE...
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

EMAIL = "[email]"
PHONE = "[phone]"
POSTCODE = "[postcode]"
NHS = "[NHS number]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Ten digits in NHS layout (3 3 4) or run together.
_NHS = re.compile(r"(?<![\d+])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
# A run of digits, spaces, dashes, dots and brackets that may be a phone number.
_PHONE = re.compile(r"(?<![\w+])(?:\+|\b00)?\(?\d[\d ().-]{6,20}\d(?!\w)")
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ](?:\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRV-Y])"
    r" ?\d[ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)


def _nhs_check_digit_ok(digits: str) -> bool:
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _nhs(match: "re.Match[str]") -> str:
    digits = "".join(match.groups())
    spaced = match.group(0) != digits
    # Written 3-3-4, or ten digits with a valid check digit (modulus 11).
    if (spaced and not digits.startswith("0")) or _nhs_check_digit_ok(digits):
        return NHS
    return match.group(0)


def _phone(match: "re.Match[str]") -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if text.startswith("+") or text.startswith("00"):
        return PHONE if 8 <= len(digits) <= 15 else text
    if digits.startswith("0") and 10 <= len(digits) <= 11:
        return PHONE
    return text


def redact(text: Optional[str]) -> str:
    """``text`` with phone numbers, emails, postcodes and NHS numbers replaced by their kind."""
    if not text:
        return text or ""
    text = _EMAIL.sub(EMAIL, text)
    text = _NHS.sub(_nhs, text)
    text = _PHONE.sub(_phone, text)
    text = _POSTCODE.sub(POSTCODE, text)
    return text


_KIND_OF_LABEL = {EMAIL: "email", PHONE: "phone", POSTCODE: "postcode", NHS: "nhs"}
_LABEL = re.compile("|".join(re.escape(label) for label in _KIND_OF_LABEL))


def spans(text: Optional[str]) -> List[Tuple[int, int, str]]:
    """Where ``redact`` replaced something in ``text``: ``(start, end, kind)``, sorted."""
    if not text:
        return []
    out = redact(text)
    labels = _LABEL.findall(out)
    if not labels:
        return []
    pieces = _LABEL.split(out)
    # The text between the replacements is kept as it was: match it, and what lies between is a span.
    pattern = "".join(re.escape(piece) + ("(.+?)" if i < len(labels) else "") for i, piece in enumerate(pieces))
    match = re.fullmatch(pattern, text, re.DOTALL)
    if match is None:  # a label written in the text itself: nothing can be said of it
        return []
    return [(match.start(i + 1), match.end(i + 1), _KIND_OF_LABEL[label]) for i, label in enumerate(labels)]
