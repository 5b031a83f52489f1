"""SafetyNet: the last NLU component, with the final word on danger.

Runs after the ML classifier and FallbackClassifier. For every message it asks
``bot.text.danger`` (spaCy rules, no confidence score) two questions:

1. Does the message show immediate danger or suicidal intent? The rules are
   asked first and always win: whatever they catch becomes ``danger_now`` or
   ``danger_suicide`` with confidence 1.0, whatever any model said. Where the
   rules are silent, the learned detector (``LearnedDanger``, on sentence
   vectors, sentence by sentence) may add a danger reply when its score is
   high, or mark the message ``check`` when danger is possible but unclear
   (SafeguardPolicy then asks whether anyone is in danger and says 999). It can
   never remove a danger reply. After the 999 reply (or the question), the
   best intent besides danger may be answered too (``follow_up``): carer
   support, or the kind of harm described, as HarmGate vetted it. The intent classifier's own guess of a danger
   intent is not trusted: it is replaced by the best non-danger intent.
2. Can it be read at all (empty, symbols only, over ``max_chars``, another
   script)? Then the intent becomes ``nlu_fallback`` and SafeguardPolicy says
   what was wrong. Danger is checked first, so a very long message that says
   "he is hitting me" still gets the 999 reply.

Everything here reads the text from ``bot.text.normalise.for_understanding``
(zero-width characters, look-alike letters and the like undone); the message
text is put back verbatim at the end.

The decision is also attached to the message as ``safety_net`` (kept in the
tracker's parse data) so the policy, the tests and staff can see why.
"""
from __future__ import annotations

import re

from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import RuleComponent
from bot.components.harm_gate import CLASSIFIER_KEY, DESCRIBE, GENERAL as GENERAL_HARM

from bot.components.input_guard import ORIGINAL_TEXT, PLACEHOLDER
from bot.components.learned_danger import KEY as LEARNED_KEY
from bot.components.unknown_words import UNKNOWN_KEY
from bot.text.danger import check_input, detect, says_resolved, who_is_in_danger
from bot.text.normalise import for_understanding

DANGER_INTENTS = {"now": "danger_now", "suicide": "danger_suicide"}
# "I don't feel safe": never a reason to hold back a danger reply.
NOT_SAFE_INTENTS = {"inform_not_safe"}
FALLBACK_INTENT = "nlu_fallback"
KEY = "safety_net"
LEARNED_MIN_WORDS = 3
# A bare cry for help, nothing else: answered with "is anyone in danger?".
PLEA = re.compile(
    r"^\W*((please|pls|plz|someone|somebody|sos|urgent|urgently)\W+)*(help|sos|hlp|halp|helpp+)"
    r"(\W+(me|us|please|pls|plz|now|someone|quick|quickly|urgent|asap|help))*\W*$"
)
# After a danger reply, these intents (the classifier's best guess besides
# danger) also get their own answer: a carer at breaking point who mentions
# wanting to die hears the suicide reply first, then carer support.
FOLLOW_UP_INTENTS = {"inform_carer_strain": 0.3}


def follow_up(ranking: List[Dict[str, Any]]) -> Optional[str]:
    """The intent answered after the danger reply, if any: carer strain (``FOLLOW_UP_INTENTS``), or a
    kind of harm described beside the danger ("he's hitting me now") when it is the best guess besides
    danger; HarmGate has already vetted it (a kind it was not sure of became describe_harm: not followed up)."""
    others = [r for r in ranking if r.get("name") not in DANGER_INTENTS.values() and r.get("name") != FALLBACK_INTENT]
    if not others:
        return None
    best = others[0]
    name = best.get("name") or ""
    if name.startswith(DESCRIBE) and name != GENERAL_HARM:
        return name
    threshold = FOLLOW_UP_INTENTS.get(name)
    if threshold is not None and best.get("confidence", 0.0) >= threshold:
        return name
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNet(RuleComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_chars": 2000, "fallback_threshold": 0.25,
                # When the classifier is sure the message is something else
                # (a question, harm described, a carer's strain) the learned
                # detector needs a higher score to give the 999 reply on its
                # own; below it the message is asked "is anyone in danger
                # now? call 999". The rules are not affected.
                "confident_intent": 0.8, "confident_intent_danger": 0.8}

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        super().__init__(config)
        self.max_chars = int(self.config["max_chars"])
        self.fallback_threshold = float(self.config["fallback_threshold"])
        self.confident_intent = float(self.config["confident_intent"])
        self.confident_intent_danger = float(self.config["confident_intent_danger"])

    def _classifier_sure_of_other(self, message: Message, learned: Dict[str, Any]) -> bool:
        """The classifier is confident in a non-danger intent and the learned score is not high."""
        guess = message.get(CLASSIFIER_KEY) or message.get(INTENT) or {}
        name, confidence = guess.get("name"), float(guess.get("confidence") or 0.0)
        if name in DANGER_INTENTS.values() or name in NOT_SAFE_INTENTS or name in (None, FALLBACK_INTENT):
            return False
        return confidence >= self.confident_intent and float(learned.get("p") or 0.0) < self.confident_intent_danger

    def process_message(self, message: Message) -> None:
        self._process_one(message)

    def _process_one(self, message: Message) -> None:
        text: Optional[str] = message.get(TEXT)
        kept = message.get(ORIGINAL_TEXT)
        raw = (kept if kept is not None else text) or ""
        if kept is not None and isinstance(text, str) and text != PLACEHOLDER:
            clean = text  # TextNormaliser has already made it
        else:
            clean = for_understanding(raw)
        result = detect(clean)
        problem = "too_long" if len(raw) > self.max_chars else check_input(clean, self.max_chars)
        learned = message.get(LEARNED_KEY) or {}
        ranking = list(message.get(INTENT_RANKING_KEY) or [])
        source = "rules" if result.kind else None
        kind, who = result.kind, result.who
        # The learned detector is not asked about very short messages (form
        # answers such as "for myself") or unreadable ones (too long included:
        # the rules still read those).
        learned_ok = problem is None and len(clean.split()) >= LEARNED_MIN_WORDS
        hold_back = False
        if result.negated:
            # "I'm not hurting myself, I promise", "I don't feel unsafe": the
            # rules found danger words said in the negative. No 999 reply from
            # the learned detector either; the message is asked "is anyone in
            # danger right now? If so, call 999" (deterministic, no score).
            hold_back = True
        elif not kind and learned.get("level") == "danger" and learned_ok and says_resolved(clean):
            # "he has gone and I'm ok now": the learned detector alone does
            # not give the 999 reply to a danger the writer says is over; the
            # message is asked "is anyone in danger right now?" instead.
            hold_back = True
        elif not kind and learned.get("level") == "danger" and learned_ok and self._classifier_sure_of_other(message, learned):
            # "My support worker hits me. It hurts.": harm told, read with
            # confidence as harm described; a learned score that is not high
            # asks "is anyone in danger now?" rather than giving the 999 reply.
            hold_back = True
        if not kind and learned.get("level") == "danger" and learned_ok and not hold_back:
            # The learned detector may add a danger reply where the rules
            # are silent; it never removes one (the rules were asked first).
            kind, source = learned.get("kind"), "learned"
            if kind == "suicide" and ranking and ranking[0].get("name") == "inform_not_safe":
                # "I do not feel safe": the classifier read it as not safe,
                # so the 999 reply for danger now, not the suicide one.
                kind = "now"
            who = who_is_in_danger(clean, kind)
        # Session 16: a message none of whose content words we know ("blorp
        # fnarg wibble", UnknownWordsFallback) is not asked "is anyone in
        # danger?" on an unclear learned score alone: the vectors of words
        # nobody wrote mean little, and the person is asked to rephrase (and
        # offered a person) instead. A danger-level score still gives the 999
        # reply above, and the rules still decide alone.
        nonsense = bool(message.get(UNKNOWN_KEY)) and learned.get("level") == "unclear"
        check = bool(not kind and (result.negated or (learned.get("level") in ("unclear", "danger") and learned_ok
                                                      and not nonsense)))
        if not kind and problem is None and PLEA.match(clean.lower()):
            # "HELP", "help me please": too short for the learned detector,
            # and it may be an emergency. Ask (the rules decide, no score).
            check, source = True, "rules"
        if kind:
            intent = {"name": DANGER_INTENTS[kind], "confidence": 1.0}
            ranking = [intent] + [r for r in ranking if r.get("name") != intent["name"]]
            self._set_intent(message, intent, ranking)
        elif problem:
            intent = {"name": FALLBACK_INTENT, "confidence": 1.0}
            self._set_intent(message, intent, [intent] + ranking)
        else:
            current = message.get(INTENT) or {}
            if current.get("name") in DANGER_INTENTS.values():
                others = [r for r in ranking if r.get("name") not in DANGER_INTENTS.values()]
                replacement = others[0] if others else None
                if replacement is None or replacement.get("confidence", 0.0) < self.fallback_threshold:
                    # FallbackClassifier has already run, so check the
                    # replacement against the same threshold here.
                    replacement = {"name": FALLBACK_INTENT, "confidence": 1.0}
                    others = [replacement] + others
                self._set_intent(message, replacement, others)
        message.set(TEXT, raw)
        message.set(
            KEY,
            {
                "danger": kind,
                "who": who,
                "matched": result.matched,
                "source": source,
                "check": check,
                "follow_up": follow_up(ranking) if (kind or check) else None,
                "input": problem,
            },
            add_to_output=True,
        )

    @staticmethod
    def _set_intent(message: Message, intent: Dict[str, Any], ranking: List[Dict[str, Any]]) -> None:
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
