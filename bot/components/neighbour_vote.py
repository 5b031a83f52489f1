"""The intent classifier's answer, blended with what the nearest training examples say.

The linear classifier weighs every n-gram and the sentence vector at once; on
text unlike anything in the training data it can be pulled towards an intent
by a few words. The nearest training examples by meaning (cosine similarity of
the sentence vectors) are a second opinion that only looks at meaning:

    p(intent) = (1 - weight) * classifier(intent) + weight * neighbours(intent)

where ``neighbours`` is the share of the ``k`` most similar training examples
with that intent, each weighted by ``exp(sharpness * similarity)``.

Runs straight after ``LogisticRegressionClassifier`` (configured with
``ranking_length: 0`` so that every intent's probability reaches it) and
cuts the ranking back to ``ranking_length`` as the classifier used to. The
training vectors are kept in the model (float16: 384 numbers a training
example, about 5 MB for 6,000 examples) and one matrix product a message
finds the neighbours (well under a millisecond).

Chosen on the development sets (blind9, blind4_dev; ``k`` 5 or 10, weight 0
to 0.5): see ``config.yml``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.base import TrainedComponent
from bot.components.sentence_encoder import vector_of
from bot.text.encoder import get_encoder

VECTORS = "neighbour_vectors.npy"
LABELS = "neighbour_labels.json"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class NeighbourVote(TrainedComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"k": 10, "weight": 0.5, "sharpness": 10.0, "ranking_length": 10}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectors: Optional[np.ndarray] = None,
        labels: Optional[List[str]] = None,
    ) -> None:
        super().__init__(config, model_storage, resource)
        self.vectors = vectors
        self.labels = labels or []
        self._label_index = np.array([], dtype=np.int64)
        self._intents: List[str] = []
        self._index_labels()

    def _index_labels(self) -> None:
        self._intents = sorted(set(self.labels))
        position = {name: i for i, name in enumerate(self._intents)}
        self._label_index = np.array([position[name] for name in self.labels], dtype=np.int64)

    def train(self, training_data: TrainingData) -> Resource:
        vectors, labels = [], []
        for example in training_data.intent_examples:
            intent, text = example.get(INTENT), example.get(TEXT)
            if not intent or not isinstance(text, str) or not text.strip():
                continue
            vector = vector_of(example)
            vectors.append(vector if vector is not None else get_encoder().encode_one(text))
            labels.append(intent)
        self.vectors = np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, 384), np.float32)
        self.labels = labels
        self._index_labels()
        with self._model_storage.write_to(self._resource) as directory:
            np.save(Path(directory) / VECTORS, self.vectors.astype(np.float16))
        return self.save_json(LABELS, labels)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "NeighbourVote":
        labels = cls.load_json(model_storage, resource, LABELS)
        with model_storage.read_from(resource) as directory:
            vectors = np.load(Path(directory) / VECTORS).astype(np.float32)
        return cls(config, model_storage, resource, vectors, labels)

    def neighbours(self, vector: np.ndarray) -> Dict[str, float]:
        """Each intent's share of the ``k`` nearest training examples, weighted by similarity."""
        if self.vectors is None or not len(self.labels):
            return {}
        similarity = self.vectors @ vector.astype(np.float32)
        k = min(int(self.config["k"]), len(similarity))
        nearest = np.argpartition(-similarity, k - 1)[:k]
        weights = np.exp(float(self.config["sharpness"]) * (similarity[nearest] - similarity[nearest].max()))
        shares = np.bincount(self._label_index[nearest], weights=weights, minlength=len(self._intents))
        shares /= shares.sum()
        return {self._intents[i]: float(s) for i, s in enumerate(shares) if s > 0}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._process_one(message)
        return messages

    def _process_one(self, message: Message) -> None:
        ranking = message.get(INTENT_RANKING_KEY)
        if not ranking:
            return
        vector = vector_of(message)
        if vector is not None:
            weight = float(self.config["weight"])
            votes = self.neighbours(vector)
            blended = {r["name"]: (1.0 - weight) * float(r.get("confidence") or 0.0) for r in ranking}
            for name, share in votes.items():
                blended[name] = blended.get(name, 0.0) + weight * share
            ranking = [{"name": n, "confidence": c} for n, c in sorted(blended.items(), key=lambda e: -e[1])]
        length = int(self.config["ranking_length"])
        if length > 0:
            ranking = ranking[:length]
        message.set(INTENT, dict(ranking[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
