"""Rule-based redaction of personal details, for auditors (and, later, exports).

Phone numbers, email addresses, UK postcodes and NHS numbers are replaced by
their kind: ``[phone]``, ``[email]``, ``[postcode]``, ``[NHS number]``.
Everything else is left exactly as it was.

Not yet: names, postal addresses, dates of birth and bank details (issue 12
asks for spaCy rules and a small trained model for those, measured on a
labelled set written blind). Until then an auditor can still read a name.
"""
from __future__ import annotations

import re
from typing import Optional

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
