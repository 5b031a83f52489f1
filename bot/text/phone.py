"""Phone numbers in one form: E.164 (``+447700900123``). Pure; no I/O."""
from __future__ import annotations

import re
from typing import Optional

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_SEPARATORS = re.compile(r"[\s().\-]")


def normalise_e164(raw: object, default_country_code: str = "44") -> Optional[str]:
    """``raw`` as E.164, or None if it is not a phone number.

    Twilio sends E.164 already; a UK national number (``07700 900123``) and
    the ``00`` international prefix are accepted too, with spaces, dots,
    dashes and brackets between digits.
    """
    if not isinstance(raw, str):
        return None
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0"):
        text = "+" + default_country_code + text[1:]
    return text if _E164.match(text) else None
