"""CancelAdvocacyGuard: only a message that names the referral can cancel it.

``cancel_advocacy`` is the only intent with the word "cancel" in its examples,
so a bare "cancel" or "stop" (in a form, say) looked like a request to
withdraw an advocacy referral. Withdrawing is always asked about first (the
rules), but the question would be out of place. A message classified
``cancel_advocacy`` that does not name an advocate, advocacy or a referral
(typos allowed) becomes ``nlu_fallback``, as an unsure classification does;
the forms read "cancel" and "stop" from the text. Danger still wins: SafetyNet
runs after this component.
"""
from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import RuleComponent

INTENT_NAME = "cancel_advocacy"
NAMES_IT = re.compile(r"\b(adv[oa]c\w*|refer\w*)\b", re.IGNORECASE)


def names_the_referral(text: str) -> bool:
    return bool(NAMES_IT.search(text or ""))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CancelAdvocacyGuard(RuleComponent):
    def process_message(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        if intent.get("name") != INTENT_NAME or names_the_referral(message.get(TEXT)):
            return
        fallback = {"name": "nlu_fallback", "confidence": float(intent.get("confidence") or 0.0)}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != "nlu_fallback"]
        message.set(INTENT, fallback, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [fallback] + ranking, add_to_output=True)
