"""Pure helpers that read what a person typed. No Rasa, no database.

Kept apart from the actions so they can be tested on their own
(``tests/unit/test_actions_parsing.py``).
"""
from __future__ import annotations

import re
from typing import Optional

from bot.records.invitations import CODE_ALPHABET, is_well_formed_token, token_from_link

_CODE_CHARS = CODE_ALPHABET + CODE_ALPHABET.lower()
_CODE_IN_TEXT = re.compile(
    rf"(?<![0-9A-Za-z])[{_CODE_CHARS}]{{4}}[\s\-\u2010-\u2014\u2212]?[{_CODE_CHARS}]{{4}}(?![0-9A-Za-z])"
)
_TOKEN_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")


def invitation_candidate(text: Optional[str]) -> str:
    """What to redeem from a message: a link's token, a bare token, a code, or the text itself.

    "my code is abcd-efgh" gives "abcd-efgh"; a pasted link gives the link.
    Anything else is passed on whole (the records layer calls it malformed).
    """
    text = (text or "").strip()
    for word in text.split():
        if token_from_link(word) is not None:
            return word
    match = _TOKEN_IN_TEXT.search(text)
    if match and is_well_formed_token(match.group(0)):
        return match.group(0)
    codes = _CODE_IN_TEXT.findall(text)
    # Prefer a candidate with a digit in it: ordinary words never have one.
    for code in codes:
        if any(ch.isdigit() for ch in code):
            return code
    if codes:
        return codes[-1]
    return text


_YES = re.compile(
    r"^\W*(yes|yeah|yep|yup|ye|yea|aye|ok|okay|sure|right|correct|that's right|that is right|"
    r"fine|please do|go on|go ahead|of course|absolutely|definitely|y)\b",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^\W*(no|nope|nah|not really|not right|wrong|don't|do not|i don't|i do not|n)\b",
    re.IGNORECASE,
)


def yes_or_no(intent: Optional[str], text: Optional[str]) -> Optional[bool]:
    """True for yes, False for no, None when the answer is neither."""
    text = (text or "").strip()
    if intent == "affirm" or text == "/affirm":
        return True
    if intent == "deny" or text == "/deny":
        return False
    if _NO.match(text):
        return False
    if _YES.match(text):
        return True
    return None


_OTHER = re.compile(
    r"\b(someone|somebody|some one|else|else's|behalf|represent\w*|advocate|advocacy|carer|"
    r"for (my|him|her|them|their|his)\b(?!\s*self))",
    re.IGNORECASE,
)
_SELF = re.compile(r"\b(me|myself|my self|my own|i am|i'm|im|self|mine)\b", re.IGNORECASE)
_ADVOCATE = re.compile(r"\badvoca\w*", re.IGNORECASE)


def answering_for(text: Optional[str]) -> Optional[str]:
    """``self``, ``other`` or None, from "for myself" / "for someone else" and the like."""
    text = (text or "").strip()
    if _OTHER.search(text):
        return "other"
    if _SELF.search(text):
        return "self"
    return None


def participant_role(answering: str, text: Optional[str]) -> str:
    """The records' participant role: person, representative or advocate."""
    if answering == "self":
        return "person"
    if _ADVOCATE.search(text or ""):
        return "advocate"
    return "representative"


_CONTACT_WORDS = (
    ("representative", r"\b(someone i trust|through (my|a|an|someone)|my (son|daughter|carer|advocate|family|partner|friend)|representative|advocate)\b"),
    ("email", r"\b(e-?mail|email)\b"),
    ("letter", r"\b(letter|post|write to me|in writing)\b"),
    ("visit", r"\b(visit|in person|face to face|come round|come to see)\b"),
    ("sms", r"\b(text|texts|sms|message me)\b"),
    ("phone", r"\b(phone|call|ring|telephone|mobile)\b"),
)


def contact_method(text: Optional[str]) -> Optional[str]:
    """A contact method from ``bot.records`` CONTACT_METHODS, or None if unclear."""
    for method, pattern in _CONTACT_WORDS:
        if re.search(pattern, text or "", re.IGNORECASE):
            return method
    return None
