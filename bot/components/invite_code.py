"""InviteCodeIntent: a message carrying an invitation code is about that code.

A short code such as "XR5T-9PLW" is random letters to the classifier, which
files it under whatever intent its character n-grams happen to resemble. The
regex entity extractor finds the code reliably, so when it has found one this
component sets the intent to ``inform_invite_code`` (confidence 1.0). Danger
still wins: SafetyNet runs after this component.

The other way round too (session 17): a message with no code in it, no
letters-and-digits run that could be a mistyped one and no word about a code
or an invitation ("2", "yes") is not about a code, whatever the classifier
guessed; it gets the next intent in the ranking (or nlu_fallback when that one
is under the fallback threshold).
"""
from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import RuleComponent

ENTITY = "invite_code"
INTENT_NAME = "inform_invite_code"
FALLBACK_INTENT = "nlu_fallback"
# A word about a code, or a run of four or more letters and digits with a digit
# in it (a code typed without its dash or with a slip).
ABOUT_A_CODE = re.compile(r"\b(code|codes|invit\w*|link|letter|reference)\b|(?=[a-z0-9]*\d)[a-z0-9]{4,}", re.IGNORECASE)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class InviteCodeIntent(RuleComponent):
    def process_message(self, message: Message) -> None:
        if any(e.get("entity") == ENTITY for e in message.get(ENTITIES) or []):
            intent = {"name": INTENT_NAME, "confidence": 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != INTENT_NAME]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent] + ranking, add_to_output=True)
        elif (message.get(INTENT) or {}).get("name") == INTENT_NAME and not ABOUT_A_CODE.search(message.get("text") or ""):
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in (INTENT_NAME, FALLBACK_INTENT)]
            threshold = float(self.config.get("fallback_threshold", 0.25))
            if ranking and ranking[0].get("confidence", 0.0) >= threshold:
                intent = {"name": ranking[0]["name"], "confidence": ranking[0]["confidence"]}
            else:
                intent = {"name": FALLBACK_INTENT, "confidence": threshold}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent] + [r for r in ranking if r.get("name") != intent["name"]],
                        add_to_output=True)
