"""Fall back when a message shares no meaningful word with the training data.

A linear classifier must put every message somewhere: "zzkx qqpl" or
"asdfgh" land on whichever intent has the shortest examples (often "affirm"),
sometimes with confidence above any sensible threshold. This component learns
the vocabulary of the training data and, when none of a message's content words
is known, marks the message as not understood (``nlu_fallback``) so the person
is asked again with buttons instead of being answered "OK!" to nonsense.

It is rule-based and cheap (a set lookup per word); it never overrides a danger
decision, because SafetyNet runs after it and has the last word.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Set, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.base import TrainedComponent

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
# Words that carry no topic: a message made only of these and unknown words is
# still nonsense to us ("the zzkx of qqpl").
FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for with from and or but is are was were be been am "
    "it its this that these those there here as so if then than too very just".split()
)
FILE_NAME = "vocabulary.json"
# Set on a message none of whose content words is known (read by HarmGate).
UNKNOWN_KEY = "msp_unknown_words"


def words(text: str) -> List[str]:
    return WORD.findall((text or "").lower())


def is_unknown(text: str, vocabulary: Set[str]) -> bool:
    """True when the text has words but none of its content words is known."""
    found = words(text)
    content = [w for w in found if w not in FUNCTION_WORDS]
    if not content:
        return False
    return not any(w in vocabulary for w in content)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownWordsFallback(TrainedComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[Iterable[str]] = None,
    ) -> None:
        super().__init__(config, model_storage, resource)
        self.vocabulary: Set[str] = set(vocabulary or ())

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary: Set[str] = set()
        for example in training_data.training_examples:
            vocabulary.update(words(example.get(TEXT)))
        for table in training_data.lookup_tables:
            for element in table.get("elements", []):
                vocabulary.update(words(element))
        self.vocabulary = vocabulary
        return self.save_json(FILE_NAME, sorted(vocabulary))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "UnknownWordsFallback":
        return cls(config, model_storage, resource, cls.load_json(model_storage, resource, FILE_NAME))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(INTENT) and is_unknown(message.get(TEXT), self.vocabulary):
                fallback = {"name": "nlu_fallback", "confidence": 1.0}
                message.set(UNKNOWN_KEY, True)
                ranking = [fallback] + list(message.get(INTENT_RANKING_KEY) or [])
                message.set(INTENT, fallback, add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
