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
