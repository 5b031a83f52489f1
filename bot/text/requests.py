"""Is a message plainly asking for a person? (pure, shared by the Rasa server and the actions)

While the outcomes form asks "What would you like to happen?", the person's
own words often mention people and phones ("I want him to stop ringing me on
07700 900461"), and the classifier may guess "talk to a person". Only a plain
request (or the button) interrupts a free-text answer; anything else is the
answer, kept verbatim.
"""
from __future__ import annotations

import re

FREE_TEXT_SLOTS = ("outcome_text", "fb_anything_else", "adv_understand", "adv_remember", "adv_weigh", "adv_say",
                   "adv_support", "adv_contact", "adv_safe_times", "cb_number", "cb_times", "cb_others")

_PLAIN = re.compile(
    r"\b(talk|speak|chat)(ing)? (to|with) (a |an |some |the |your |real |actual )*"
    r"(person|human|someone|somebody|worker|social worker|adviser|advisor|member of staff|staff|team|people)\b"
    r"|\b(real|actual) (person|human)\b|\bnot a (robot|bot|computer)\b|\bcan i (ring|call|phone) (you|someone)\b",
    re.IGNORECASE,
)


def asks_for_a_person(text: str) -> bool:
    text = (text or "").strip()
    if text.startswith("/ask_talk_to_person"):
        return True
    return bool(_PLAIN.search(text))


_NEGATED = re.compile(r"\b(no|not|nope|nah|don'?t|do not|never|rather not|wait|waiting)\b", re.IGNORECASE)
# Not "ok" or "please" alone: "ok" may mean "ok, I'll wait", and leaving the queue by mistake costs more.
_ACCEPTS = re.compile(
    r"^\W*(yes|yeah|yep|yup|yea|aye|sure|please do|go on|go ahead)\b"
    r"|\b(call|ring|phone|contact) (me|us|them|him|her)\b|\bcall ?backs?\b|\bring ?back\b",
    re.IGNORECASE,
)


def accepts_call_back(text: str) -> bool:
    """Is a message a yes to "would you like a call back?" in words ("yes please call me back", "ring me")?

    The classifier often reads "yes, call me back" as asking for a person. Anything with a no, a not or
    a wait in it is not a yes ("no, don't ring me", "yes I'll wait"); nor is a bare "ok".
    """
    text = (text or "").strip()
    if text.startswith("/affirm"):
        return True
    return bool(_ACCEPTS.search(text)) and not _NEGATED.search(text)
