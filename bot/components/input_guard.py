"""EmptyMessageGuard: the first NLU component, so empty text cannot crash NLU.

Rasa 3.6's featurisers give an empty or whitespace-only message one feature
fewer than the classifier was trained with, and LogisticRegressionClassifier
then raises; the REST channel swallows the error and the person gets no reply
at all. This component keeps the original text aside and hands the rest of the
pipeline a single placeholder word instead. SafetyNet (last in the pipeline)
puts the original text back and reports the message as empty, so the person is
asked kindly to type something. The tracker always stores what was sent.
"""
from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import logsafe
from bot.components.base import RuleComponent

ORIGINAL_TEXT = "msp_original_text"
PLACEHOLDER = "emptymessage"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class EmptyMessageGuard(RuleComponent):
    def process_message(self, message: Message) -> None:
        text = message.get(TEXT)
        # Every message parsed, from any channel or the HTTP API: no log line may show it.
        logsafe.remember(text)
        if text is None or not str(text).strip():
            if message.get(ORIGINAL_TEXT) is None:
                # TextNormaliser, when it runs first, has already kept the
                # verbatim text; do not overwrite it with the cleaned one.
                message.set(ORIGINAL_TEXT, text if text is not None else "")
            message.set(TEXT, PLACEHOLDER)
