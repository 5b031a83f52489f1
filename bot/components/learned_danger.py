"""Rasa component around ``bot.text.learned_danger``: scores, never decides alone.

Runs after the classifier and before SafetyNet. It trains the danger model on
the files in ``training_files`` (relative to the project root;
``scripts/model.py`` includes them in the model's fingerprint) plus the NLU
training examples (danger intents dangerous, the rest safe) and, for
each message, attaches ``learned_danger`` to the parse data:
``{"p": ..., "kind": "now"|"suicide", "level": "danger"|"unclear"|None}``.

SafetyNet reads it only where the rules found nothing, so it can add a danger
reply but never remove one.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.base import RuleComponent, TrainedComponent
from bot.components.input_guard import PLACEHOLDER
from bot.components.sentence_encoder import ENCODER_CODE, vector_of
from bot.text.encoder import get_encoder
from bot.text.learned_danger import DangerModel, level, load_examples, parts

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent.parent
KEY = "learned_danger"
FILE_NAME = "danger_model.json"
# A 2,000-character message gives about 60 parts; more is not read.
MAX_PARTS = 96


# Vectors of the danger training texts, worked out ahead by
# DangerVectorsPrefetch (key: the MD5 of the texts in order).
_PREFETCHED: Dict[str, "Future[np.ndarray]"] = {}
_PREFETCH_LOCK = threading.Lock()


def _texts_key(texts: Sequence[str]) -> str:
    return hashlib.md5("\n".join(texts).encode("utf-8")).hexdigest()  # nosec - a lookup key


def start_prefetch(paths: List[Path]) -> Optional["Future[np.ndarray]"]:
    """Encode the labelled danger texts of ``paths`` on a background thread (one worker)."""
    texts, _ = load_examples(paths)
    if not texts:
        return None
    key = _texts_key(texts)
    with _PREFETCH_LOCK:
        if key in _PREFETCHED:
            return _PREFETCHED[key]
        future: "Future[np.ndarray]" = Future()
        _PREFETCHED[key] = future

    def work() -> None:
        try:
            future.set_result(get_encoder().encode(texts, workers=1))
        except BaseException as error:  # noqa: BLE001 - handed to whoever waits
            future.set_exception(error)

    threading.Thread(target=work, name="msp-danger-prefetch", daemon=True).start()
    return future


def training_vectors(texts: Sequence[str]) -> np.ndarray:
    """The vectors of the danger training texts: prefetched if they were, else encoded now."""
    with _PREFETCH_LOCK:
        future = _PREFETCHED.pop(_texts_key(texts), None)
    if future is not None:
        try:
            return future.result()
        except Exception as error:  # noqa: BLE001 - encode them here instead
            # The kind of error only: a traceback could quote a training text.
            logger.warning("Encoding the danger training texts ahead failed (%s); encoding them now.",
                           type(error).__name__)
    return get_encoder().encode(list(texts))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class DangerVectorsPrefetch(RuleComponent):
    """Training only: starts encoding LearnedDanger's labelled texts at the start of the pipeline.

    The first steps of a training (reading the data, tokens, n-grams, Rasa's
    fingerprints) keep one core busy; the sentence vectors of the labelled
    danger texts are worked out on the other one meanwhile, one batch at a
    time, and LearnedDanger takes them when its turn comes (the same texts in
    the same batches: the same vectors as encoding them there). When Rasa
    restores this step from its cache, nothing is started and LearnedDanger
    encodes the texts itself. Messages pass through untouched.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"training_files": []}

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        start_prefetch([ROOT / p for p in self.config["training_files"]])
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        return messages  # nothing to do per message

    def process_message(self, message: Message) -> None:
        return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LearnedDanger(TrainedComponent):
    CODE_FILES = ("bot/text/learned_danger.py", *ENCODER_CODE)

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"training_files": [], "c": 4.0, "danger_threshold": 0.8, "unclear_threshold": 0.5,
                # Intents whose NLU examples are NOT used as safe examples
                # (ambiguous about danger now); danger_now/danger_suicide
                # examples are dangerous ones.
                "not_negative_intents": ["inform_not_safe"]}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[DangerModel] = None,
    ) -> None:
        super().__init__(config, model_storage, resource)
        self.model = model

    def train(self, training_data: TrainingData) -> Resource:
        paths = [ROOT / p for p in self.config["training_files"]]
        texts, labels = load_examples(paths)
        if not texts:
            raise ValueError("LearnedDanger needs training_files with labelled danger examples")
        vectors = training_vectors(texts)
        # Every NLU training example is labelled too: the danger intents are
        # dangerous, the rest (greetings, questions, harm that is not
        # happening now) are safe. Without them short everyday messages
        # ("bye for now", "do I get a say?") looked like goodbye notes.
        skip = set(self.config["not_negative_intents"])
        seen = {t.strip().lower() for t in texts}
        extra_vectors, extra_labels = [], []
        for example in training_data.intent_examples:
            intent, text = example.get(INTENT), example.get(TEXT)
            if not isinstance(text, str) or intent in skip or text.strip().lower() in seen:
                continue
            label = {"danger_now": 1, "danger_suicide": 2}.get(intent, 0)
            vector = vector_of(example)
            extra_vectors.append(vector if vector is not None else get_encoder().encode_one(text))
            extra_labels.append(label)
        if extra_vectors:
            vectors = np.vstack([vectors, np.stack(extra_vectors)])
            labels = list(labels) + extra_labels
        self.model = DangerModel.train(vectors, labels, c=float(self.config["c"]))
        return self.save_json(FILE_NAME, self.model.to_dict())

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LearnedDanger":
        data = cls.load_json(model_storage, resource, FILE_NAME)
        return cls(config, model_storage, resource, DangerModel.from_dict(data))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._process_one(message)
        return messages

    def _process_one(self, message: Message) -> None:
        text = message.get(TEXT)
        if self.model is None or not isinstance(text, str) or not text.strip() or text == PLACEHOLDER:
            return
        texts = parts(text[:20_000])[:MAX_PARTS]
        whole = vector_of(message)
        if whole is not None:
            rest = get_encoder().encode(texts[1:]) if len(texts) > 1 else np.zeros((0, whole.shape[0]), np.float32)
            vectors = np.vstack([whole[None, :], rest])
        else:
            vectors = get_encoder().encode(texts)
        score = self.model.score_parts(texts, vectors)
        result = {
            "p": round(score.p, 4),
            "kind": score.kind,
            "level": level(score, float(self.config["danger_threshold"]), float(self.config["unclear_threshold"])),
        }
        message.set(KEY, result, add_to_output=True)
