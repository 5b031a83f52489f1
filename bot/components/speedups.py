"""Speed-ups for Rasa 3.6, installed when the Rasa server loads our components.

1. Event look-up. Every time Rasa rebuilds a conversation from the tracker
store it turns each stored event back into an object, and
``Event.resolve_by_type`` walks the whole tree of ``Event`` subclasses
(``all_subclasses``) for each one: about 50 µs an
event here, a few milliseconds per message on a conversation of any length
(``bench/RESULTS.md``). The answer never changes for a given type name, so it
is remembered after the first look-up. Unknown names, the old ``topic`` event
and defaults behave exactly as in Rasa (they are not remembered).

2. Checking the action server's answer. After every custom action call (the
outcomes form makes two per message: validate, then ask the next question)
``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which
first checks the *schema itself* against the JSON Schema meta-schema and then
builds a new validator: about 10 ms of the Rasa server's CPU per call, 70% of
its time on a form message (py-spy, ``bench/RESULTS.md``). The schema is a
constant, so it is checked once and one validator is kept; every answer is
still validated against it, and a bad answer raises the same
``ValidationError`` with the same message as before.

3. The intent classifier's weights in the order the product needs. scikit-
learn scores a message as ``X @ coef_.T``; with ``X`` sparse, SciPy needs the
right-hand side contiguous and silently copies all of ``coef_`` (55 intents x
tens of thousands of n-gram and vector weights) on every message: about 3.5 ms
of CPU per message (cProfile: ``ndarray.ravel``). Stored column-major after
loading, ``coef_.T`` is already contiguous and nothing is copied. Same numbers,
same answers (``tests/unit/test_speedups.py``).

4. The intent classifier's input row. ``LogisticRegressionClassifier._create_X``
asks each message for *all* its sparse features, so Rasa also deep-copies
and joins the per-word (sequence) matrices of every featurizer, which the
classifier never uses, then joins the sentence features through two more
SciPy ``hstack`` calls. Here the sentence-level sparse features are joined
once, in the same order, followed by the dense sentence features in theirs:
the same row, column for column (``tests/unit/test_speedups.py`` compares
both on messages shaped as the pipeline makes them), in less time.

5. Fingerprints of sparse features, when training. Rasa fingerprints the
whole training data after every step (its cache key), and fingerprints each
sparse feature matrix by formatting every non-zero entry as a line of text
(``sparse_matrix_to_string``): about 30 s of a training for the word and
character n-grams (session 13, Rasa's debug log). Here the key is the MD5 of
the matrix in canonical form (CSR, duplicates summed, indices sorted: shape,
type, index and value bytes) with the same type, origin and attribute: equal
matrices give equal keys, different ones different keys. The keys differ
from Rasa's own, so a component cache made before this is not reused (one
full training). Dense features keep Rasa's fingerprint.

6. Training the intent classifier. ``LogisticRegressionClassifier.train``
runs inside ``bot.components.lr_training.split_design``: scikit-learn's
L-BFGS sees the n-gram columns as a sparse block and the sentence vector as a
dense one (same loss, same optimiser, same settings; see that module).

7. Fingerprints of tokens, when training. Every message's fingerprint (Rasa's
cache key, taken after each pipeline step that adds features) includes each
of its tokens, and ``Token.fingerprint`` hashes each of the five fields on its
own, then the list of hashes: 8 MD5s and 2 JSON dumps a token, about 30 s of
a training (py-spy, session 15). Here one MD5 of the JSON of the fields (the
token's data still through Rasa's own fingerprint, when it has any): equal
tokens give equal keys, a change in any field a different key. Like item 5,
the keys differ from Rasa's, so an older cache is not reused (one full training).

Check this when upgrading Rasa: it wraps ``rasa.shared.core.events.Event``,
``rasa.shared.nlu.training_data.features.Features.fingerprint``,
``rasa.core.actions.action.RemoteAction``,
``LogisticRegressionClassifier.load``, ``LogisticRegressionClassifier._create_X``,
``LogisticRegressionClassifier.train`` and ``rasa.nlu.tokenizers.tokenizer.Token.fingerprint``.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix
from scipy.sparse import hstack as sparse_hstack
from scipy.sparse import vstack as sparse_vstack
from jsonschema import validators
from rasa.core.actions.action import RemoteAction
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.core.events import Event
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.utils.io import deep_container_fingerprint

_ORIGINAL_FEATURES_FINGERPRINT = Features.fingerprint
_ORIGINAL = Event.resolve_by_type
_ORIGINAL_VALIDATE = RemoteAction._validate_action_result
_ORIGINAL_LR_LOAD = LogisticRegressionClassifier.load.__func__
_ORIGINAL_CREATE_X = LogisticRegressionClassifier._create_X
_ORIGINAL_LR_TRAIN = LogisticRegressionClassifier.train
_KNOWN: Dict[Text, Type[Event]] = {}


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    cls = _KNOWN.get(type_name)
    if cls is not None:
        return cls
    try:
        cls = _ORIGINAL(type_name, None)
    except ValueError:  # unknown: Rasa decides (the default, or the same error)
        cls = None
    if cls is None:
        return _ORIGINAL(type_name, default)
    _KNOWN[type_name] = cls
    return cls


_VALIDATOR = None


def _action_result_validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        schema = RemoteAction.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)  # once, as jsonschema.validate would on every call
        _VALIDATOR = cls(schema)
    return _VALIDATOR


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """Rasa's check, with the schema checked and compiled once."""
    if _action_result_validator().is_valid(result):
        return True
    # A bad answer (rare): Rasa's own code raises the error, with its wording.
    return _ORIGINAL_VALIDATE(self, result)


def _load_classifier(cls, *args: Any, **kwargs: Any) -> LogisticRegressionClassifier:
    """Rasa's loading, then the weights stored column-major (same values)."""
    component = _ORIGINAL_LR_LOAD(cls, *args, **kwargs)
    clf = getattr(component, "clf", None)
    if clf is not None and getattr(clf, "coef_", None) is not None:
        clf.coef_ = np.asfortranarray(clf.coef_)
    return component


def train_classifier(self, training_data: TrainingData) -> Resource:  # noqa: ANN001 - Rasa reads the annotations
    """Rasa's training, with the sentence vector as a dense block for the optimiser."""
    from bot.components.lr_training import split_design

    with split_design():
        return _ORIGINAL_LR_TRAIN(self, training_data)


def create_x(self: LogisticRegressionClassifier, messages: List[Message]) -> csr_matrix:
    """Rasa's ``_create_X`` without joining the sequence features it throws away."""
    rows = []
    for message in messages:
        sparse, dense = [], []
        for f in message.features:
            if f.attribute != TEXT or f.type != FEATURE_TYPE_SENTENCE:
                continue
            (sparse if f.is_sparse() else dense).append(f.features)
        if not sparse and not dense:
            return _ORIGINAL_CREATE_X(self, messages)  # Rasa's own answer for the odd case
        parts = list(sparse)
        if dense:
            parts.append(csr_matrix(np.concatenate(dense, axis=-1)))
        rows.append(sparse_hstack(parts, format="csr") if len(parts) > 1 else csr_matrix(parts[0]))
    return sparse_vstack(rows, format="csr")


def features_fingerprint(self: Features) -> Text:
    """Rasa's ``Features.fingerprint``, with sparse matrices hashed as bytes."""
    if self.is_dense():
        return _ORIGINAL_FEATURES_FINGERPRINT(self)
    if self._cached_fingerprint is None:
        matrix = csr_matrix(self.features, copy=True)
        matrix.sum_duplicates()
        matrix.sort_indices()
        digest = hashlib.md5(f"{matrix.shape}{matrix.dtype.str}".encode())  # nosec - a cache key
        for part in (matrix.indptr, matrix.indices, matrix.data):
            digest.update(part.dtype.str.encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        self._cached_fingerprint = deep_container_fingerprint(
            [self.type, self.origin, self.attribute, digest.hexdigest()])
    return self._cached_fingerprint


def token_fingerprint(self: Token) -> Text:
    """A stable key for a token: one MD5 of its fields (Rasa's hashes each field, then the list)."""
    data = deep_container_fingerprint(self.data) if self.data else ""
    fields = json.dumps([self.text, self.start, self.end, self.lemma, data], ensure_ascii=False)
    return hashlib.md5(fields.encode("utf-8")).hexdigest()  # nosec - a cache key


def install() -> None:
    """Idempotent."""
    if Token.fingerprint is not token_fingerprint:
        Token.fingerprint = token_fingerprint
    if Features.fingerprint is not features_fingerprint:
        Features.fingerprint = features_fingerprint
    if LogisticRegressionClassifier._create_X is not create_x:
        LogisticRegressionClassifier._create_X = create_x
    if LogisticRegressionClassifier.train is not train_classifier:
        LogisticRegressionClassifier.train = train_classifier
    if LogisticRegressionClassifier.load.__func__ is not _load_classifier:
        LogisticRegressionClassifier.load = classmethod(_load_classifier)
    if Event.resolve_by_type is not resolve_by_type:
        Event.resolve_by_type = staticmethod(resolve_by_type)
    if RemoteAction._validate_action_result is not validate_action_result:
        RemoteAction._validate_action_result = validate_action_result
