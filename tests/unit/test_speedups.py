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
