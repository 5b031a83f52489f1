"""NeighbourVote: the classifier's ranking blended with the nearest training examples' intents."""
import math

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.neighbour_vote import NeighbourVote
from bot.components.sentence_encoder import VECTOR


def unit(*values):
    v = np.zeros(384, np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def example(text, intent, vector):
    m = Message(data={"text": text, "intent": intent})
    m.set(VECTOR, vector)
    return m


def trained(tmp_path, **config):
    storage, resource = LocalModelStorage(tmp_path), Resource("neighbour_vote")
    context = ExecutionContext(GraphSchema({}), "t")
    NeighbourVote.create(config, storage, resource, context).train(TrainingData([
        example("my son takes my pension", "describe_financial", unit(1, 0)),
        example("he empties my bank account", "describe_financial", unit(1, 0.1)),
        example("hello", "greet", unit(0, 1)),
        example("hiya", "greet", unit(0.1, 1)),
    ]))
    return NeighbourVote.load(config, storage, resource, context)


def message(vector, ranking):
    m = Message(data={"text": "x"})
    m.set("intent", dict(ranking[0]))
    m.set("intent_ranking", ranking)
    if vector is not None:
        m.set(VECTOR, vector)
    return m


def test_vectors_and_labels_survive_persist_and_load(tmp_path):
    loaded = trained(tmp_path)
    assert loaded.vectors.shape == (4, 384)
    assert sorted(loaded.labels) == ["describe_financial", "describe_financial", "greet", "greet"]


def test_neighbours_weigh_the_nearest_examples_by_similarity(tmp_path):
    loaded = trained(tmp_path, k=2, sharpness=10.0)
    votes = loaded.neighbours(unit(1, 0.05))
    assert set(votes) == {"describe_financial"} and math.isclose(votes["describe_financial"], 1.0)
    # Three nearest: a greeting among them, far away, so it weighs little.
    (tmp_path / "k3").mkdir()
    loaded = trained(tmp_path / "k3", k=3, sharpness=10.0)
    votes = loaded.neighbours(unit(1, 0.9))
    assert set(votes) == {"describe_financial", "greet"} and votes["describe_financial"] > 0.5 > votes["greet"] > 0
    assert math.isclose(sum(votes.values()), 1.0)


def test_a_wrong_classifier_is_outvoted_by_meaning(tmp_path):
    loaded = trained(tmp_path, k=2, weight=0.5)
    ranking = [{"name": "greet", "confidence": 0.6}, {"name": "describe_financial", "confidence": 0.4}]
    m = message(unit(1, 0), ranking)
    loaded.process([m])
    assert m.get("intent")["name"] == "describe_financial"
    confidences = {r["name"]: r["confidence"] for r in m.get("intent_ranking")}
    assert math.isclose(confidences["describe_financial"], 0.5 * 0.4 + 0.5 * 1.0, rel_tol=1e-5)
    assert math.isclose(confidences["greet"], 0.5 * 0.6, rel_tol=1e-5)
    assert math.isclose(sum(confidences.values()), 1.0, rel_tol=1e-5)


def test_weight_zero_keeps_the_classifier_and_the_ranking_is_cut(tmp_path):
    loaded = trained(tmp_path, k=2, weight=0.0, ranking_length=1)
    m = message(unit(1, 0), [{"name": "greet", "confidence": 0.7}, {"name": "describe_financial", "confidence": 0.3}])
    loaded.process([m])
    assert m.get("intent")["name"] == "greet" and len(m.get("intent_ranking")) == 1


def test_a_message_without_a_vector_keeps_the_classifier_answer(tmp_path):
    loaded = trained(tmp_path)
    m = message(None, [{"name": "greet", "confidence": 0.7}, {"name": "describe_financial", "confidence": 0.3}])
    loaded.process([m])
    assert m.get("intent")["name"] == "greet"
    untouched = Message(data={"text": "no ranking"})
    loaded.process([untouched])
    assert untouched.get("intent") is None
