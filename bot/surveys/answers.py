"""Read a survey answer deterministically: buttons, numbers or words. Pure; no I/O.

The feedback form (``bot/actions/feedback.py``) asks each question itself and
reads the reply here, not through NLU intents: "kind of", "not really",
"yep", "dunno", "3", "three" and small typos ("yess", "partley") all have one
reading, and anything with two readings ("yes and no") is unclear rather
than guessed. :func:`parse` returns the coded value (the vocabularies are
``bot.records.feedback.QUESTION_VALUES``), or ``skip``/``stop`` when the
person says so, or None when it is unclear.

Kinds of question:

* ``answer``: yes / partly / no / don't know / prefer not to say (1-5);
* ``safe_now``: 1 (not safe at all) to 5 (very safe), don't know, prefer not;
* ``safe_change``: better / same / worse (1-3), don't know (4), prefer not (5);
* ``outcome``: fully / partly / not (1-3), don't know (4), prefer not (5).
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

SKIP = "skip"
STOP = "stop"

_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5"}

DONT_KNOW = ("dont know", "do not know", "dunno", "not sure", "unsure", "no idea", "idk", "cant say",
             "cannot say", "hard to say", "maybe", "i dont know", "im not sure", "dont know really",
             "no clue", "cant remember", "not certain", "who knows", "hard to tell")
PREFER_NOT = ("prefer not to say", "prefer not", "rather not say", "rather not", "id rather not",
              "id rather not say", "no comment", "dont want to say", "i dont want to say",
              "dont want to answer", "i dont want to answer", "prefer not to answer", "private",
              "rather not answer", "none of your business")
YES = ("yes", "yep", "yeah", "yea", "yup", "ya", "y", "aye", "definitely", "absolutely", "of course",
       "certainly", "sure", "totally", "i did", "they did", "it did", "yes they did", "yes i did",
       "very much", "yes definitely", "yes very much", "they did yes", "thumbs up", "yes please",
       "i think so", "very", "yes totally", "yes it did", "def", "ok yes", "correct", "true", "yess", "yse",
       "yesh", "yas", "yah", "ye", "yeh", "yeap", "yes really", "really yes", "they really did")
PARTLY = ("partly", "partially", "kind of", "kinda", "sort of", "sorta", "a bit", "a little",
          "a little bit", "somewhat", "some", "in part", "half", "mostly", "not completely",
          "not fully", "not entirely", "more or less", "sometimes", "ish", "to some extent",
          "some of it", "a bit yes", "partly yes", "yes and no", "up to a point", "not all",
          "not always", "some of the time", "mostly yes", "sort of yes", "kind of yes")
NO = ("no", "nope", "nah", "not really", "n", "not at all", "never", "didnt", "they didnt",
      "no they didnt", "i didnt", "no i didnt", "no way", "not one bit", "definitely not",
      "i dont think so", "dont think so", "no not really", "not really no", "nothing", "thumbs down",
      "no it didnt", "it didnt", "false", "none", "noo", "nop", "na", "not at all really")

ANSWER_WORDS: Dict[str, Tuple[str, ...]] = {
    "yes": YES, "partly": PARTLY, "no": NO, "dont_know": DONT_KNOW, "prefer_not": PREFER_NOT,
}
SAFE_NOW_WORDS: Dict[str, Tuple[str, ...]] = {
    "1": ("not safe", "not at all safe", "not safe at all", "unsafe", "not at all", "scared",
          "very unsafe", "frightened", "terrified", "no"),
    "2": ("a little safe", "a bit safe", "a little", "a bit", "not very safe", "not very",
          "slightly safe", "not really safe", "not really"),
    "3": ("fairly safe", "ok", "okay", "alright", "all right", "quite safe", "so so", "in between",
          "medium", "middle", "fairly", "sort of safe", "kind of safe", "partly", "some"),
    "4": ("mostly safe", "safe", "pretty safe", "mostly", "safe enough", "quite", "yes", "reasonably safe"),
    "5": ("very safe", "completely safe", "totally safe", "really safe", "perfectly safe",
          "safe as i want", "as safe as i want", "very", "completely", "totally", "fully safe"),
    "dont_know": DONT_KNOW, "prefer_not": PREFER_NOT,
}
SAFE_CHANGE_WORDS: Dict[str, Tuple[str, ...]] = {
    "better": ("better", "safer", "more safe", "improved", "better than before", "a lot better",
               "much better", "a bit better", "bit better", "feel safer", "i feel safer", "better now"),
    "same": ("same", "the same", "about the same", "no different", "no change", "same as before",
             "not changed", "nothing changed", "unchanged", "no difference", "same really"),
    "worse": ("worse", "less safe", "more scared", "worse than before", "much worse", "a bit worse",
              "not as safe", "feel worse", "worse now", "less safe now"),
    "dont_know": DONT_KNOW, "prefer_not": PREFER_NOT,
}
OUTCOME_WORDS: Dict[str, Tuple[str, ...]] = {
    "fully": ("fully", "yes", "yep", "yeah", "yup", "completely", "it did", "yes it did", "all of it",
              "totally", "fully happened", "it happened", "definitely", "absolutely", "y", "yes fully",
              "it all happened", "all of it happened"),
    "partly": PARTLY + ("partly happened", "some of it happened", "half of it"),
    "not": ("not", "no", "nope", "nah", "it didnt", "didnt", "no it didnt", "not at all", "never",
            "not really", "it did not", "no it did not", "didnt happen", "it didnt happen",
            "not happened", "n", "none of it", "nothing happened"),
    "dont_know": DONT_KNOW, "prefer_not": PREFER_NOT,
}
NUMBERED = {
    "answer": ("yes", "partly", "no", "dont_know", "prefer_not"),
    "safe_now": ("1", "2", "3", "4", "5"),
    "safe_change": ("better", "same", "worse", "dont_know", "prefer_not"),
    "outcome": ("fully", "partly", "not", "dont_know", "prefer_not"),
}
WORDS = {"answer": ANSWER_WORDS, "safe_now": SAFE_NOW_WORDS, "safe_change": SAFE_CHANGE_WORDS,
         "outcome": OUTCOME_WORDS}

SKIP_WORDS = ("skip", "skip it", "skip this", "skip this one", "skip question", "skip this question",
              "pass", "next", "next question", "move on", "next one", "skip that", "skip please")
STOP_WORDS = ("stop", "stop now", "stop please", "please stop", "i want to stop", "id like to stop",
              "end", "end survey", "end the survey", "stop the survey", "stop survey", "quit",
              "finish", "no more", "no more questions", "enough", "thats enough", "exit",
              "i dont want to do this", "i dont want to carry on", "leave it there", "stop asking")
#: Stop phrases also said of a life, not only of a survey ("I don't want to carry
#: on"): a danger reading of them by the learned detector is never set aside
#: (see :func:`learned_danger_set_aside`).
STOP_WORDS_ALSO_SAID_OF_LIFE = ("i dont want to carry on",)
#: Words that carry no answer ("um, yes please" is "yes").
FILLERS = ("um", "umm", "erm", "er", "uh", "hmm", "well", "oh", "so", "please", "thanks", "thank you",
           "i guess", "i suppose", "to be honest", "tbh", "honestly", "just", "lol", "x", "xx",
           "actually", "i think", "i would say", "id say")
EMOJI = {"👍": "yes", "👎": "no", "🤷": "dont know"}


@dataclass(frozen=True)
class Parsed:
    value: Optional[str] = None   # the coded answer
    control: Optional[str] = None  # "skip" or "stop"

    @property
    def clear(self) -> bool:
        return self.value is not None or self.control is not None


def normalise(text: object) -> str:
    """Lower case, apostrophes dropped, punctuation to spaces, one space between words."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text)
    for emoji, word in EMOJI.items():
        text = text.replace(emoji, f" {word} ")
    text = text.casefold().replace("’", "'").replace("‘", "'").replace("'", "")
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"(\w)\1{2,}", r"\1\1", text)  # "yessss" -> "yess"
    return re.sub(r"\s+", " ", text).strip()


def _strip_fillers(text: str) -> str:
    changed = True
    while changed and text:
        changed = False
        for filler in sorted(FILLERS, key=len, reverse=True):
            for pattern in (rf"^{filler} ", rf" {filler}$"):
                new = re.sub(pattern, "", text)
                if new != text:
                    text, changed = new.strip(), True
        if text in FILLERS:
            return ""
    return text


def _number(text: str, count: int) -> Optional[int]:
    match = re.fullmatch(r"(?:number |option |no |answer )?([0-9]+|one|two|three|four|five)", text)
    if not match:
        return None
    raw = _NUMBER_WORDS.get(match.group(1), match.group(1))
    value = int(raw)
    return value if 1 <= value <= count else None


def _vocabulary(kind: str):
    table = WORDS[kind]
    phrases = []
    for value, words in table.items():
        for phrase in words:
            phrases.append((phrase, value))
    for phrase in SKIP_WORDS:
        phrases.append((phrase, SKIP))
    for phrase in STOP_WORDS:
        phrases.append((phrase, STOP))
    return phrases


def _typo_fixed(text: str, phrases) -> str:
    """Each word replaced by the one vocabulary word it is a small typo of (if exactly one)."""
    words = {w for phrase, _ in phrases for w in phrase.split() if len(w) >= 4}
    fixed = []
    for token in text.split():
        if len(token) >= 4 and token not in words:
            close = difflib.get_close_matches(token, sorted(words), n=2, cutoff=0.8)
            if len(close) == 1 or (len(close) == 2 and difflib.SequenceMatcher(None, token, close[0]).ratio()
                                   > difflib.SequenceMatcher(None, token, close[1]).ratio()):
                token = close[0]
        fixed.append(token)
    return " ".join(fixed)


def _match(text: str, phrases) -> Optional[set]:
    """The readings found in ``text``: longest phrases first, each word used once. None if a word is left over."""
    lookup = {}
    for phrase, value in phrases:
        lookup.setdefault(phrase, value)
    if text in lookup:
        return {lookup[text]}
    tokens = text.split()
    found = set()
    i = 0
    longest = max(len(p.split()) for p, _ in phrases)
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            piece = " ".join(tokens[i:i + size])
            if piece in lookup:
                found.add(lookup[piece])
                i += size
                break
        else:
            if tokens[i] in ("and", "but", "i", "it", "they", "did", "was", "were", "have", "has", "its",
                             "feel", "felt", "the", "to", "a", "very", "that", "them", "me", "we", "you",
                             "happened", "quite", "about", "think", "say", "would", "so", "now", "all",
                             "did", "do", "dont", "really"):
                i += 1
                continue
            return None
    return found


def _leading(text: str, phrases) -> Optional[set]:
    """An answer that starts with a clear word and goes on in words of its own
    ("yes they did listen", "no, nobody rang me back"): every reading found
    anywhere in it, when it starts with one (else None)."""
    lookup = {}
    for phrase, value in phrases:
        lookup.setdefault(phrase, value)
    tokens = text.split()
    longest = max(len(p.split()) for p, _ in phrases)
    if not any(" ".join(tokens[:size]) in lookup for size in range(1, min(longest, len(tokens)) + 1)):
        return None
    found = set()
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            piece = " ".join(tokens[i:i + size])
            if piece in lookup:
                found.add(lookup[piece])
                i += size
                break
        else:
            i += 1
    return found


def parse(kind: str, text: object) -> Parsed:
    """The reading of ``text`` as an answer to a question of ``kind`` (see the module docstring)."""
    if kind not in WORDS:
        raise ValueError(f"unknown kind of question {kind!r}")
    clean = _strip_fillers(normalise(text))
    if not clean:
        return Parsed()
    number = _number(clean, len(NUMBERED[kind]))
    if number is not None:
        return Parsed(value=NUMBERED[kind][number - 1])
    phrases = _vocabulary(kind)
    found = _match(clean, phrases)
    if found is None:
        found = _match(_typo_fixed(clean, phrases), phrases)
    if found is None:
        found = _leading(clean, phrases) or _leading(_typo_fixed(clean, phrases), phrases)
    if not found:
        return Parsed()
    if found == {STOP} or found == {SKIP}:
        return Parsed(control=found.pop())
    found -= {SKIP}
    if STOP in found:
        return Parsed()  # "yes stop"? ask again rather than guess
    if len(found) == 1:
        return Parsed(value=found.pop())
    if kind in ("answer", "outcome") and "partly" in found and found <= {"partly", "yes", "no", "fully", "not"}:
        return Parsed(value="partly")  # "yes, a bit", "no, only partly"
    return Parsed()


def is_nothing_more(text: object) -> bool:
    """True when an answer to "anything else?" says there is nothing ("no", "nothing", "no thanks")."""
    clean = _strip_fillers(normalise(text))
    if clean.startswith("no ") and clean[3:] in _NOTHING:
        return True
    return clean in _NOTHING


_NOTHING = {"no", "nope", "nah", "nothing", "no thanks", "no thank you", "nothing else", "none",
                     "thats all", "thats it", "n", "no nothing", "not really", "nothing thanks",
                     "no its fine", "its fine", "all good", "no im fine", "im fine", "skip", "nothing more",
                     "thats all thanks", "thats everything", "no more", "nope thats all"}


def learned_danger_set_aside(text: object, safety_net: object) -> bool:
    """True when only the learned danger detector read ``text`` as danger and the
    whole message is one of :data:`STOP_WORDS` ("I want to stop.", "Please
    stop"; case, punctuation, apostrophes and filler words aside, no typos).
    While a survey asks its questions, such a message ends the survey instead
    of getting the danger reply.

    Found in the full system: "I want to stop" in the survey got the suicide
    reply from the learned detector (score 0.97) while "stop" ended it. What
    the danger rules catch (``safety_net["source"] == "rules"``) is never set
    aside, and neither is a stop phrase also said of a life
    (:data:`STOP_WORDS_ALSO_SAID_OF_LIFE`). The caller checks that a survey is
    asking (``SafeguardPolicy``; ``validate_feedback_form`` runs only then).
    """
    if not isinstance(safety_net, dict) or safety_net.get("source") != "learned" or not safety_net.get("danger"):
        return False
    clean = _strip_fillers(normalise(text))
    return clean in STOP_WORDS and clean not in STOP_WORDS_ALSO_SAID_OF_LIFE
