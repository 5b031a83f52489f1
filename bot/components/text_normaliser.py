"""TextNormaliser: the first NLU component; understanding reads clean text.

Zero-width characters, soft hyphens, look-alike letters from other scripts
and similar tricks can hide a dangerous message from the danger rules and the
classifier. This component keeps the message exactly as typed aside
(``ORIGINAL_TEXT``) and hands the rest of the pipeline the text from
``bot.text.normalise.for_understanding``. SafetyNet, last in the pipeline,
puts the verbatim text back; the tracker stores what the channel received.
"""
from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import RuleComponent
from bot.components.input_guard import ORIGINAL_TEXT
from bot.text.normalise import for_understanding


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class TextNormaliser(RuleComponent):
    def process_message(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str):
            return
        message.set(ORIGINAL_TEXT, text)
        message.set(TEXT, for_understanding(text))
