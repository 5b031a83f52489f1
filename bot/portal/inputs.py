"""Reading what a request sends: query strings and forms, checked, with a clear message when wrong.

Every value a view takes from the request goes through one of these. A bad
value raises ``BadInput``, which the portal answers with a 400 page that says
what was wrong (``bot.portal.errors``), never a stack trace.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, List, Mapping, Optional, Sequence

from flask import request


#: A conversation (Rasa sender) id as the portal accepts it in a path or a form.
SENDER_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,255}$")


class BadInput(Exception):
    """A request value the portal cannot use; ``str()`` is the message for staff."""

    status = 400


def _source(form: bool) -> Mapping:
    return request.form if form else request.args


def clean_text(value: object, *, label: str, max_chars: int, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{label}: expected text.")
    if len(value) > max_chars:
        raise BadInput(f"{label} is too long: at most {max_chars} characters.")
    for ch in value:
        if ch in "\r\n\t" and multiline:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in "\u2028\u2029":
            raise BadInput(f"{label} contains a control character; please type it again.")
    return value


def text(name: str, *, label: str, max_chars: int = 200, form: bool = False,
         required: bool = False, strip: bool = True, multiline: bool = False) -> Optional[str]:
    raw = _source(form).get(name)
    if raw is None or (strip and not raw.strip()):
        if required:
            raise BadInput(f"{label} is missing.")
        return None
    value = clean_text(raw, label=label, max_chars=max_chars, multiline=multiline)
    return value.strip() if strip else value


def secret(name: str, *, label: str, max_chars: int = 1024) -> str:
    """A password or code from the form, exactly as typed (not stripped); '' when absent."""
    raw = request.form.get(name)
    if raw is None:
        return ""
    if len(raw) > max_chars:
        raise BadInput(f"{label} is too long.")
    return raw


def integer(name: str, *, label: str, default: int, minimum: int, maximum: int, form: bool = False) -> int:
    raw = _source(form).get(name)
    if raw is None or not raw.strip():
        return default
    raw = raw.strip()
    if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 12:
        raise BadInput(f"{label} must be a whole number.")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise BadInput(f"{label} must be from {minimum} to {maximum}.")
    return value


def choice(name: str, choices: Sequence[str], *, label: str, form: bool = False,
           default: Optional[str] = None) -> Optional[str]:
    raw = _source(form).get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise BadInput(f"{label}: choose one of {', '.join(choices)}.")
    return raw


def choices(name: str, allowed: Iterable[str], *, label: str) -> List[str]:
    allowed = list(allowed)
    values = request.args.getlist(name)
    if len(values) > len(allowed):
        raise BadInput(f"{label}: too many values.")
    for value in values:
        if value not in allowed:
            raise BadInput(f"{label}: choose from {', '.join(allowed)}.")
    return [a for a in allowed if a in values]


def day(name: str, *, label: str, end: bool = False) -> Optional[datetime]:
    """A date typed as YYYY-MM-DD, as the start of that day in UTC (``end``: the start of the next day)."""
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    try:
        if len(raw) != 10 or not raw.isascii():
            raise ValueError
        parsed = date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{label} must be a date written as YYYY-MM-DD, for example 2025-03-31.") from None
    if not 2000 <= parsed.year <= 2200:
        raise BadInput(f"{label} must be a year from 2000 to 2200.")
    moment = datetime(parsed.year, parsed.month, parsed.day, tzinfo=timezone.utc)
    return moment + timedelta(days=1) if end else moment


def sender_id(name: str, *, label: str, form: bool = False) -> str:
    """A conversation id (required), as the conversations list shows it."""
    value = text(name, label=label, max_chars=255, form=form, required=True)
    if not SENDER_ID.match(value):
        raise BadInput(f"{label}: a conversation id has only letters, digits and _ . : @ -, "
                       "for example web-3f2a9c.")
    return value
