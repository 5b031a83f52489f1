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


#: "For me" said outright: the one writing, whatever else they say ("for me, I'm her carer").
_FOR_ME = re.compile(r"\b(for me|for myself|for my self|it'?s me|its me|just me|me myself)\b", re.IGNORECASE)
#: The one writing speaks as a carer, relative, friend or other representative of someone.
_REPRESENTATIVE = re.compile(
    r"\b(carer|caring for|care for|cares for|look(ing|s)? after|on (his|her|their|my \w+'?s) behalf|behalf|"
    r"represent\w*|next of kin|power of attorney|attorney|family member|relative|"
    r"i'?m (his|her|their) \w+|i am (his|her|their) \w+|"
    r"my (mum|mother|dad|father|son|daughter|wife|husband|partner|brother|sister|nan|nana|gran|granny|grandma|"
    r"grandmother|grandad|grandpa|grandfather|grandson|granddaughter|aunt|auntie|uncle|niece|nephew|cousin|"
    r"friend|neighbour|neighbor|client|relative|family|husband'?s|wife'?s))\b",
    re.IGNORECASE)


def asking_for(text: Optional[str]) -> Optional[str]:
    """Whom a call back or a referral is for: ``self`` (the one writing), ``other``, or None if unclear.

    Unlike :func:`answering_for`, an outright "for me" wins over the words a
    carer uses about the person they care for: "for me, I'm her carer" is a
    carer asking for themselves.
    """
    text = (text or "").strip()
    if _FOR_ME.search(text):
        return "self"
    return answering_for(text)


def speaks_as_representative(text: Optional[str]) -> bool:
    """True when the one writing says they are a carer, relative, friend or representative of someone."""
    return bool(_REPRESENTATIVE.search(text or ""))


def asker(for_whom: Optional[str], who_words: Optional[str], outcome_role: Optional[str] = None) -> str:
    """Who is asking, for the records: ``representative`` or ``person``.

    For someone else: a representative. For themselves: a representative
    when they said they are one (their answer to "for you or for someone
    else?") or answered the outcomes questions for someone else earlier in
    this conversation (``outcome_role`` other); otherwise the person.
    """
    if for_whom == "other" or outcome_role == "other" or speaks_as_representative(who_words):
        return "representative"
    return "person"


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


_REVIEW_WORDS = (
    ("withdraw", r"\b(take (one|it|that|something|them|\w+) (away|off|out)|take away|remove|withdraw\w*|"
                 r"delete|cancel|cross (it |one )?(out|off)|drop|get rid|no longer want|"
                 r"don'?t want (one|it|that|number)|rub (it |one )?out)\b"),
    ("change", r"\b(chang\w*|edit|updat\w*|alter|amend|reword|correct|fix|different|wrong)\b"),
    ("add", r"\b(add\w*|another|new one|something new|something else|one more|more)\b"),
    ("keep", r"\b(keep|leave|as (they|it) (are|is)|fine|happy|all good|no changes?|nothing|"
             r"that'?s all|that'?s it|ok|okay|right as)\b"),
)


_NOTHING_TO_DO = re.compile(
    r"\b(nothing|no|not|don'?t) (\w+ )?(to |need to |want to )?(add|change|take)\b|"
    r"\bno (changes?|more)\b", re.IGNORECASE)


def review_choice(intent: Optional[str], text: Optional[str]) -> Optional[str]:
    """``add``, ``change``, ``withdraw`` or ``keep`` for the returning person's choice."""
    text = (text or "").strip()
    if _NOTHING_TO_DO.search(text):
        return "keep"
    for choice, pattern in _REVIEW_WORDS:
        if re.search(pattern, text, re.IGNORECASE):
            return choice
    if intent == "deny" or text == "/deny":
        return "keep"  # "no" to "would you like to change anything?"
    return None


_ORDINALS = {
    "first": 1, "1st": 1, "two": 2, "second": 2, "2nd": 2, "three": 3, "third": 3,
    "3rd": 3, "four": 4, "fourth": 4, "4th": 4, "five": 5, "fifth": 5, "5th": 5, "six": 6,
    "sixth": 6, "6th": 6, "seven": 7, "seventh": 7, "7th": 7, "eight": 8, "eighth": 8, "8th": 8,
    "nine": 9, "ninth": 9, "9th": 9, "ten": 10, "tenth": 10, "10th": 10,
}


def pick_number(text: Optional[str], count: int) -> Optional[int]:
    """Which of ``count`` numbered items the person means (1-based), or None.

    "2", "number 2", "the second one", "two", "the last one" all work; a number
    outside 1..count, or two different numbers, is None.
    """
    text = (text or "").strip().lower()
    found = {int(n) for n in re.findall(r"(?<![\d.,])\d{1,3}(?![\d.,]?\d)", text)}
    found |= {n for word, n in _ORDINALS.items() if re.search(rf"\b{word}\b", text)}
    if re.fullmatch(r"\W*(number |no\.? )?one\W*", text):
        found.add(1)
    if count == 1 and re.search(r"\b(it|that|that one|this one|the only one)\b", text):
        found.add(1)
    if re.search(r"\b(last|final)\b", text):
        found.add(count)
    if len(found) != 1:
        return None
    number = found.pop()
    return number if 1 <= number <= count else None


# --- advocacy screening (bot/actions/advocacy.py) ------------------------------
# These only decide whether to *offer* a referral. They never decide anything
# about the person: every answer is kept word for word, and the provider and
# the worker decide. Anything unclear counts towards offering.

_CLEAR_NO_DIFFICULTY = re.compile(
    r"^\W*(no|nope|nah|not really|not at all|never|i'?m fine|i am fine|it'?s fine|fine|i can|i don'?t|"
    r"i do not|no problem|no it'?s ok|no,? it is ok|n)\W*$",
    re.IGNORECASE,
)
_HARM_OR_DOUBT = re.compile(
    r"\b(but|hurt\w*|harm\w*|abus\w*|hit\w*|scared|afraid|the one|doing it|taking|not sure|maybe|don'?t know|"
    r"dunno|away|abroad|busy|can'?t|cannot|won'?t|wouldn'?t|isn'?t|not able|too old|ill)\b",
    re.IGNORECASE,
)
_NOBODY = re.compile(r"\b(no ?one|nobody|no body|not anyone|none|on my own|alone)\b", re.IGNORECASE)


def difficulty_said(text: Optional[str]) -> bool:
    """False only for a clear "no" ("no", "not really", "I'm fine"); any other answer counts."""
    return not _CLEAR_NO_DIFFICULTY.match((text or "").strip())


def support_is_clear(intent: Optional[str], text: Optional[str]) -> bool:
    """True only for a plain yes with no doubt in it ("yes, my sister helps me").

    "yes but he is the one hurting me", "my son, but he's abroad", "not sure",
    "no one" and anything unclear are False: then a referral is offered.
    """
    text = (text or "").strip()
    if _NOBODY.search(text) or _HARM_OR_DOUBT.search(text):
        return False
    return yes_or_no(intent, text) is True


# --- the call-back form (bot/actions/callback.py) --------------------------------------------

_PHONE_IN_TEXT = re.compile(r"(?:\+|\b00|\b0)[\d\s().\-]{8,}\d")
#: A UK number in E.164: +44 and 9 or 10 more digits, not starting with 0.
_UK_E164 = re.compile(r"^\+44[1-9]\d{8,9}$")


def uk_phone(text: Optional[str]) -> Optional[str]:
    """The UK phone number in a message, in E.164 (``bot.text.phone``), or None.

    "my mobile is 07700 900123", "+44 (0)7700 900123" and "0044 1632 960111"
    all give a number; a number from abroad, a short one or none give None.
    """
    from bot.text.phone import normalise_e164

    for match in _PHONE_IN_TEXT.finditer((text or "").replace("(0)", "")):
        number = normalise_e164(match.group(0).strip())
        if number is not None and _UK_E164.match(number):
            return number
    return None


_NOT_SAFE = re.compile(
    r"\b(not safe|unsafe|isn'?t safe|is not safe|not really|never|don'?t call|do not call|please don'?t|"
    r"not now)\b", re.IGNORECASE)
_SAFE = re.compile(r"\b(safe|fine|ok|okay|you can|that's ok)\b", re.IGNORECASE)


def safe_to_call(intent: Optional[str], text: Optional[str]) -> Optional[bool]:
    """True, False, or None when unclear, for "is it safe for us to call?". Any doubt reads as not safe."""
    text = (text or "").strip()
    if intent == "deny" or text == "/deny" or _NOT_SAFE.search(text):
        return False
    decision = yes_or_no(intent, text)
    if decision is not None:
        return decision
    return True if _SAFE.search(text) else None


#: Whole messages that stop the call-back questions (case and punctuation aside).
STOP_PHRASES = frozenset((
    "stop", "stop now", "stop please", "please stop", "i want to stop", "cancel", "cancel it", "cancel that",
    "cancel please", "please cancel", "cancel the call back", "cancel the callback", "never mind", "nevermind",
    "forget it", "quit", "exit", "end", "no more questions", "stop asking", "i dont want a call back",
    "i dont want a callback", "i do not want a call back", "i changed my mind", "ive changed my mind",
))


def wants_to_stop(text: Optional[str]) -> bool:
    """True when the whole message asks to stop ("stop", "Cancel!", "never mind")."""
    clean = re.sub(r"[^a-z ]", "", (text or "").lower().replace("\u2019", "'").replace("'", ""))
    return " ".join(clean.split()) in STOP_PHRASES
