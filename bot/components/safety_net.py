"""SafetyNet: the last NLU component, with the final word on danger.

Runs after the ML classifier and FallbackClassifier. For every message it asks
``bot.text.danger`` (spaCy rules, no confidence score) two questions:

1. Does the message show immediate danger or suicidal intent? Then the intent
   becomes ``danger_now`` or ``danger_suicide`` with confidence 1.0, whatever
   the classifier said. If the classifier guessed a danger intent and the rules
   found none, the guess is replaced by the best non-danger intent: danger is
   decided by the rules alone, so "my dad was hit by a car years ago" never
   gets the 999 reply because a model thought it looked violent.
2. Can it be read at all (empty, symbols only, over ``max_chars``, another
   script)? Then the intent becomes ``nlu_fallback`` and SafeguardPolicy says
   what was wrong. Danger is checked first, so a very long message that says
   "he is hitting me" still gets the 999 reply.

The decision is also attached to the message as ``safety_net`` (kept in the
tracker's parse data) so the policy, the tests and staff can see why.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import RuleComponent

from bot.components.input_guard import ORIGINAL_TEXT
from bot.text.danger import check_input, detect

DANGER_INTENTS = {"now": "danger_now", "suicide": "danger_suicide"}
FALLBACK_INTENT = "nlu_fallback"
KEY = "safety_net"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNet(RuleComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_chars": 2000, "fallback_threshold": 0.25}

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        super().__init__(config)
        self.max_chars = int(self.config["max_chars"])
        self.fallback_threshold = float(self.config["fallback_threshold"])

    def process_message(self, message: Message) -> None:
        self._process_one(message)

    def _process_one(self, message: Message) -> None:
        text: Optional[str] = message.get(TEXT)
        if message.get(ORIGINAL_TEXT) is not None:
            # EmptyMessageGuard replaced an empty message; put it back.
            text = message.get(ORIGINAL_TEXT)
            message.set(TEXT, text)
        result = detect(text or "")
        problem = check_input(text, self.max_chars)
        ranking = list(message.get(INTENT_RANKING_KEY) or [])
        if result.kind:
            intent = {"name": DANGER_INTENTS[result.kind], "confidence": 1.0}
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
        message.set(
            KEY,
            {"danger": result.kind, "who": result.who, "matched": result.matched, "input": problem},
            add_to_output=True,
        )

    @staticmethod
    def _set_intent(message: Message, intent: Dict[str, Any], ranking: List[Dict[str, Any]]) -> None:
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
