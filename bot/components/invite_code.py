"""InviteCodeIntent: a message carrying an invitation code is about that code.

A short code such as "XR5T-9PLW" is random letters to the classifier, which
files it under whatever intent its character n-grams happen to resemble. The
regex entity extractor finds the code reliably, so when it has found one this
component sets the intent to ``inform_invite_code`` (confidence 1.0). Danger
still wins: SafetyNet runs after this component.
"""
from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import RuleComponent

ENTITY = "invite_code"
INTENT_NAME = "inform_invite_code"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class InviteCodeIntent(RuleComponent):
    def process_message(self, message: Message) -> None:
        if any(e.get("entity") == ENTITY for e in message.get(ENTITIES) or []):
            intent = {"name": INTENT_NAME, "confidence": 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != INTENT_NAME]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent] + ranking, add_to_output=True)
