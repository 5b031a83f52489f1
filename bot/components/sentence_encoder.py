"""Dense sentence features from the pretrained encoder, beside the n-grams.

Every message (training examples included) gets its all-MiniLM-L6-v2 vector
(``bot.text.encoder``: mean pooling, L2-normalised, as the model was trained)
as a sentence-level dense feature. The intent classifier then sees both the
word and character n-grams (what was written) and the sentence vector (what it
means), so phrasings nobody wrote into the training data land near the
examples they resemble.

The vector is also kept on the message (``VECTOR``, not in the output) so the
learned danger detector and the harm gate after the classifier reuse it
instead of encoding the text again. It is kept as a ``SentenceVector`` (a
NumPy array with a ``fingerprint``): when training, Rasa fingerprints every
message after each step, and would otherwise format all 384 numbers of each
vector as text (about 2 ms a message, 20-25 s a training; session 13).

``scale`` multiplies the unit vector before the classifier sees it: the
n-gram counts are 0/1/2..., a unit vector's entries are about 0.05, and a
linear model with one regularisation strength for all features would
otherwise all but ignore the dense part. Chosen by cross-validation on the
training data only (``python -m bot.text.nlu_eval --cv``).
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components import encode_ahead
from bot.components.base import files_fingerprint
from bot.components.input_guard import ORIGINAL_TEXT
from bot.text.encoder import get_encoder

# The encoder's code, outside the featurizer class: part of Rasa's cache key
# for every component whose output depends on the vectors.
ENCODER_CODE = ("bot/text/encoder.py", "bot/text/onnx_graph.py")

VECTOR = "msp_sentence_vector"


class SentenceVector(np.ndarray):
    """A sentence vector as kept on a message: an ordinary array whose
    fingerprint (Rasa's cache key) is the MD5 of its bytes."""

    def fingerprint(self) -> str:
        array = np.ascontiguousarray(self)
        return hashlib.md5(f"{array.dtype.str}{array.shape}".encode() + array.tobytes()).hexdigest()  # nosec


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(GraphComponent):
    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """A change to the forward pass must not restore yesterday's vectors from the cache."""
        return files_fingerprint(list(ENCODER_CODE))

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"scale": 4.0}

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        self.config = {**self.get_default_config(), **(config or {})}
        self.scale = float(self.config["scale"])
        self.name = name

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEncoderFeaturizer":
        # Load (and verify) the model now, at start-up, not on the first message.
        get_encoder()
        return cls(config, execution_context.node_name)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["tokenizers", "safetensors"]

    def _featurize(self, messages: List[Message]) -> None:
        todo = [m for m in messages if isinstance(m.get(TEXT), str)]
        if not todo:
            return
        ahead = encode_ahead.take(todo[0].get(ORIGINAL_TEXT), todo[0].get(TEXT)) if len(todo) == 1 else None
        # One message being read: its vector may have been computed as it arrived
        # (bot/components/encode_ahead.py); the same vector either way.
        vectors = [ahead] if ahead is not None else get_encoder().encode([m.get(TEXT) for m in todo])
        for message, vector in zip(todo, vectors):
            message.set(VECTOR, vector.view(SentenceVector))
            message.add_features(
                Features((vector * self.scale)[None, :].astype(np.float32), FEATURE_TYPE_SENTENCE, TEXT, self.name)
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages


def vector_of(message: Message) -> Optional[np.ndarray]:
    """The message's sentence vector (a plain array), if the encoder gave it one."""
    vector = message.get(VECTOR)
    return vector.view(np.ndarray) if isinstance(vector, np.ndarray) else None
