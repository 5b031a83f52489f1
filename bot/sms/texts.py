"""Every SMS we send, and how many segments each costs. Pure; no I/O.

Someone other than the person may read their phone, so no text says
"abuse", "safeguarding", "harm", names anyone, or says what an enquiry is
about; the council's name appears only when ``sms_show_council_name`` is
"yes" (otherwise ``sms_sender_name``, neutral by default). Each text fits
one GSM-7 segment with the default settings (``tests/unit/test_sms_texts.py``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import List, Optional

from bot.settings import Settings, get_settings

# Twilio's default opt-out and help keywords. Opt-in is START and UNSTOP only:
# Twilio also counts YES, but "yes" is an answer to a survey question.
OPT_OUT = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
OPT_IN = frozenset({"start", "unstop"})
HELP = frozenset({"help", "info"})

HELP_TEXT = "This is {sender}. To talk to us, call {phone}. Reply STOP to stop texts from this number."
START_TEXT = "This is {sender}. You can get texts from this number again. Reply STOP to stop them."
UNKNOWN_TEXT = ("This is {sender}. We cannot answer texts to this number. To talk to us, call {phone}. "
                "In an emergency, call 999.")

ALL_TEXTS = {"help": HELP_TEXT, "start": START_TEXT, "unknown": UNKNOWN_TEXT}


def keyword(body: object) -> Optional[str]:
    """``stop``, ``start`` or ``help`` when the whole message is one of their keywords (any case)."""
    if not isinstance(body, str):
        return None
    word = unicodedata.normalize("NFKC", body).strip().strip(".!?\"' ").casefold()
    if word in OPT_OUT:
        return "stop"
    if word in OPT_IN:
        return "start"
    if word in HELP:
        return "help"
    return None


#: Words no SMS of ours may say (someone else may read the phone): word starts, any case, so
#: "abused" and "harmful" count and "pharmacy" does not. A worker's own words in a handoff by
#: SMS are held to the same rule (``bot.handoff.sms``).
REVEALING = re.compile(r"\b(abus\w*|safeguard\w*|harm\w*|neglect\w*|enquir\w*|inquir\w*|social work\w*|"
                       r"police\w*|council\w*)", re.IGNORECASE)


def revealing_words(text: str) -> List[str]:
    """The words of ``text`` that an SMS must not say, in order, each once (empty: none)."""
    found: List[str] = []
    for match in REVEALING.finditer(unicodedata.normalize("NFKC", text or "")):
        word = match.group(0).lower()
        if word not in found:
            found.append(word)
    return found


def sender_name(settings: Optional[Settings] = None) -> str:
    settings = settings or get_settings()
    if settings.sms_show_council_name.strip().lower() in ("yes", "true", "1"):
        return settings.council_name
    return settings.sms_sender_name


def render(kind: str, settings: Optional[Settings] = None) -> str:
    settings = settings or get_settings()
    return ALL_TEXTS[kind].format(sender=sender_name(settings), phone=settings.council_phone)


# --- segments -------------------------------------------------------------

# GSM 03.38 basic character set, and the extension table (two septets each).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def count_segments(text: str) -> Segments:
    """How many SMS segments ``text`` takes: GSM-7 160/153 septets, else UCS-2 70/67 units."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return Segments(encoding, units, 1 if units else 0)
    return Segments(encoding, units, -(-units // multi))
