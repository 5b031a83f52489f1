"""The speed-ups answer exactly as Rasa's own code: cached event types, the answer check."""
from __future__ import annotations

from unittest import mock

import jsonschema
import numpy as np
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses as subclasses

import bot.components  # noqa: F401 (installs it)
from bot.components import speedups


def test_installed_when_the_components_are_imported():
    assert Event.resolve_by_type is speedups.resolve_by_type


def test_every_event_type_resolves_as_rasa_does():
    for cls in subclasses(Event):
        name = getattr(cls, "type_name", None)
        if isinstance(name, str):
            assert Event.resolve_by_type(name) is speedups._ORIGINAL(name)
            assert Event.resolve_by_type(name) is speedups._ORIGINAL(name)  # cached the same


def test_unknown_names_topic_and_defaults_behave_as_before():
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("topic", SlotSet) is None
    assert "no_such_event" not in speedups._KNOWN


def test_events_round_trip_through_from_parameters():
    events = [UserUttered("hi", {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet"),
              SlotSet("x", 1)]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events


# --- checking the action server's answer -----------------------------------

GOOD = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "a"}]},
    {},
]
BAD = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},  # a slot event needs a name
    {"events": [{"no": "event key"}]},
    {"responses": ["a string, not an object"]},
    [],
]


def remote_action():
    return RemoteAction("action_x", None)


def test_the_answer_check_is_installed():
    assert RemoteAction._validate_action_result is speedups.validate_action_result


@pytest.mark.parametrize("answer", GOOD)
def test_good_answers_pass_as_in_rasa(answer):
    assert remote_action()._validate_action_result(answer) is True
    assert speedups._ORIGINAL_VALIDATE(remote_action(), answer) is True


@pytest.mark.parametrize("answer", BAD)
def test_bad_answers_raise_rasas_own_error(answer):
    with pytest.raises(jsonschema.ValidationError) as ours:
        remote_action()._validate_action_result(answer)
    with pytest.raises(jsonschema.ValidationError) as theirs:
        speedups._ORIGINAL_VALIDATE(remote_action(), answer)
    assert ours.value.message == theirs.value.message
    assert "Failed to validate Action server response" in ours.value.message


def test_the_schema_is_checked_once_not_on_every_answer():
    speedups._action_result_validator()  # already built, or built now
    with mock.patch.object(jsonschema.validators.Draft202012Validator, "check_schema") as check, \
            mock.patch.object(jsonschema.validators.Draft7Validator, "check_schema") as check7:
        for _ in range(5):
            remote_action()._validate_action_result(GOOD[1])
    assert check.call_count == 0 and check7.call_count == 0
    # Rasa's own path checks the schema on every call: what this speed-up removes.
    with mock.patch.object(jsonschema.validators.Draft202012Validator, "check_schema") as check, \
            mock.patch.object(jsonschema.validators.Draft7Validator, "check_schema") as check7:
        speedups._ORIGINAL_VALIDATE(remote_action(), GOOD[1])
    assert check.call_count + check7.call_count == 1


def test_the_classifier_weights_are_stored_column_major_after_loading():
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    assert LogisticRegressionClassifier.load.__func__ is speedups._load_classifier


def test_column_major_weights_give_the_same_scores_without_copying():
    import numpy as np
    from scipy.sparse import random as sparse_random
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = sparse_random(300, 2000, density=0.01, format="csr", random_state=1)
    y = rng.integers(0, 5, 300)
    clf = LogisticRegression(max_iter=200).fit(X, y)
    before = clf.predict_proba(X[:20])
    assert not clf.coef_.T.flags["C_CONTIGUOUS"]  # Rasa's layout: every score copies coef_
    clf.coef_ = np.asfortranarray(clf.coef_)
    assert clf.coef_.T.flags["C_CONTIGUOUS"]      # ours: SciPy reads it in place
    assert np.array_equal(clf.predict_proba(X[:20]), before)


# --- the intent classifier's input row --------------------------------------


def _message(rng, with_dense=True, dense_parts=1, sparse_widths=(7, 13, 5), tokens=4):
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message
    from scipy.sparse import coo_matrix, random as sparse_random

    m = Message(data={"text": "x " * tokens})
    for i, width in enumerate(sparse_widths):
        seq = sparse_random(tokens, width, density=0.3, random_state=rng, format="coo")
        sent = coo_matrix(sparse_random(1, width, density=0.5, random_state=rng).toarray())
        m.add_features(Features(seq, "sequence", "text", f"sparse{i}"))
        m.add_features(Features(sent, "sentence", "text", f"sparse{i}"))
    # Features of another attribute must not leak in.
    m.add_features(Features(coo_matrix(np.ones((1, 3))), "sentence", "intent", "other"))
    for j in range(dense_parts if with_dense else 0):
        m.add_features(Features(rng.standard_normal((tokens, 4)).astype(np.float32), "sequence", "text", f"dense{j}"))
        m.add_features(Features(rng.standard_normal((1, 6)).astype(np.float32), "sentence", "text", f"dense{j}"))
    return m


@pytest.mark.parametrize("with_dense, dense_parts, widths", [
    (True, 1, (7, 13, 5)), (False, 0, (7, 13, 5)), (True, 2, (3,)), (True, 1, ()),
])
def test_the_classifier_row_is_rasas_column_for_column(with_dense, dense_parts, widths):
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    assert LogisticRegressionClassifier._create_X is speedups.create_x
    rng = np.random.default_rng(7)
    messages = [_message(rng, with_dense, dense_parts, widths, tokens=t) for t in (1, 4, 9)]
    ours = speedups.create_x(None, messages)
    rasas = speedups._ORIGINAL_CREATE_X(None, messages)
    assert ours.shape == rasas.shape
    assert np.array_equal(ours.toarray(), rasas.toarray())


def _features(matrix):
    from rasa.shared.nlu.training_data.features import Features

    return Features(matrix, "sentence", "text", "CountVectorsFeaturizer")


def test_sparse_features_are_fingerprinted_by_content():
    from scipy.sparse import coo_matrix, csr_matrix

    from rasa.shared.nlu.training_data.features import Features

    assert Features.fingerprint is speedups.features_fingerprint
    dense = np.array([[0.0, 1.0, 0.0, 2.0], [3.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    same = [_features(csr_matrix(dense)), _features(coo_matrix(dense)),
            # the same entries, written out of order and one split in two
            _features(coo_matrix(([2.0, 3.0, 0.5, 0.5], ([0, 1, 0, 0], [3, 0, 1, 1])), shape=(2, 4),
                                 dtype=np.float32))]
    assert len({f.fingerprint() for f in same}) == 1
    changed = dense.copy()
    changed[1, 0] = 3.5
    moved = np.array([[0.0, 1.0, 2.0, 0.0], [3.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    wider = np.hstack([dense, np.zeros((2, 1), np.float32)])
    others = [_features(csr_matrix(m)) for m in (changed, moved, wider)]
    other_origin = Features(csr_matrix(dense), "sentence", "text", "RegexFeaturizer")
    prints = {f.fingerprint() for f in others + [other_origin]} | {same[0].fingerprint()}
    assert len(prints) == 5


def test_dense_features_keep_rasas_fingerprint():
    from rasa.shared.nlu.training_data.features import Features

    matrix = np.arange(8, dtype=np.float32).reshape(2, 4)
    features = Features(matrix, "sentence", "text", "SentenceEncoderFeaturizer")
    assert features.fingerprint() == speedups._ORIGINAL_FEATURES_FINGERPRINT(
        Features(matrix, "sentence", "text", "SentenceEncoderFeaturizer"))


def test_a_sentence_vector_on_a_message_is_fingerprinted_by_its_bytes():
    from rasa.shared.nlu.training_data.message import Message

    from bot.components.sentence_encoder import VECTOR, SentenceVector, vector_of

    vector = np.linspace(-1, 1, 384, dtype=np.float32)
    a, b, c = Message(data={"text": "x"}), Message(data={"text": "x"}), Message(data={"text": "x"})
    a.set(VECTOR, vector.view(SentenceVector))
    b.set(VECTOR, vector.copy().view(SentenceVector))
    other = vector.copy()
    other[7] += 1e-6
    c.set(VECTOR, other.view(SentenceVector))
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert type(vector_of(a)) is np.ndarray and np.array_equal(vector_of(a), vector)


def test_tokens_are_fingerprinted_by_every_field():
    from rasa.nlu.tokenizers.tokenizer import Token

    assert Token.fingerprint is speedups.token_fingerprint
    base = Token("knife", 4, 9, data={"pattern": {"x": 1}}, lemma="knife")
    same = Token("knife", 4, 9, data={"pattern": {"x": 1}}, lemma="knife")
    assert base.fingerprint() == same.fingerprint()
    others = [
        Token("knives", 4, 9, data={"pattern": {"x": 1}}, lemma="knife"),
        Token("knife", 5, 9, data={"pattern": {"x": 1}}, lemma="knife"),
        Token("knife", 4, 10, data={"pattern": {"x": 1}}, lemma="knife"),
        Token("knife", 4, 9, data={"pattern": {"x": 2}}, lemma="knife"),
        Token("knife", 4, 9, data={}, lemma="knife"),
        Token("knife", 4, 9, data={"pattern": {"x": 1}}, lemma="knives"),
    ]
    keys = {base.fingerprint()} | {t.fingerprint() for t in others}
    assert len(keys) == len(others) + 1


def test_a_message_fingerprint_changes_with_its_tokens():
    from rasa.nlu.tokenizers.tokenizer import Token
    from rasa.shared.nlu.training_data.message import Message

    def msg(tokens):
        m = Message(data={"text": "he has a knife"})
        m.set("text_tokens", tokens)
        return m

    a = msg([Token("he", 0, 2), Token("knife", 9, 14)])
    b = msg([Token("he", 0, 2), Token("knife", 9, 14)])
    c = msg([Token("he", 0, 2), Token("knives", 9, 14)])
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
