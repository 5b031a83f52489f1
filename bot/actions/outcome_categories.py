"""Suggest a reporting category for a desired outcome. Pure, no Rasa.

The person's words are the record; a category is only added for reporting
(SAC), never instead of the words. Keyword rules over the ten categories in
``bot.records.models.OUTCOME_CATEGORIES``; the first rule that matches wins,
and ``something_else`` is the answer when none does. Rules are ordered from
the most specific (police, the harmer staying away) to the most general.
"""
from __future__ import annotations

import re
from typing import Tuple

_RULES: Tuple[Tuple[str, str], ...] = (
    ("police_prosecute",
     r"\b(prosecut\w*|charged?|arrest\w*|court|police|justice|jail|prison|punish\w*|locked up)\b"),
    ("harmer_stay_away",
     r"\b(stay(s)? away|keep (him|her|them) away|leave me alone|not (come|coming) (near|round|back)|"
     r"move(d)? out|banned|injunction|never see (him|her|them)|no contact|kept away)\b"),
    ("people_do_what_they_say",
     r"\b(do what they (say|said)|keep(s)? (their|his|her) (word|promise\w*)|follow(ed)? through|"
     r"actually (do|happen)|promised|let down again|turn up when)\b"),
    ("be_involved",
     r"\b(involved|kept informed|keep me (updated|informed|in the loop)|told what|tell me what|"
     r"included|have a say|my say|part of (the )?decision\w*|listened to|asked first)\b"),
    ("protect_myself_future",
     r"\b(protect (myself|me|her|him)|in (the )?future|again|next time|spot the signs|"
     r"learn how|know what to do|look after (my|your)self)\b"),
    ("feel_more_confident",
     r"\b(confiden\w*|stand up for|self[- ]esteem|believe in (my|him|her)self|less scared|"
     r"less anxious|speak up)\b"),
    ("make_friends",
     r"\b(friend\w*|lonely|loneliness|company|social|meet (new )?people|go out more|clubs?)\b"),
    ("get_support",
     r"\b(support|help with|carer|care package|counsell\w*|therap\w*|benefits|housing|"
     r"advice|services?|somewhere (safe|else) to live)\b"),
    ("stop_abuse_feel_safer",
     r"\b(stop\w*|safe|safer|safety|end to it|abuse to end|not (be )?hurt|no more)\b"),
)
_COMPILED = tuple((category, re.compile(pattern, re.IGNORECASE)) for category, pattern in _RULES)
FALLBACK = "something_else"


def suggest_category(text: str) -> str:
    """One of the ten reporting categories for an outcome in the person's words."""
    for category, pattern in _COMPILED:
        if pattern.search(text or ""):
            return category
    return FALLBACK
