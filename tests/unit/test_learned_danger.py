"""The learned danger detector: its NumPy prediction is the trained SVM's, and it reads long messages in parts."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.svm import SVC

from bot.text.learned_danger import DangerModel, level, load_examples, parts


def _data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = np.where(x[:, 0] > 0.2, 1, np.where(x[:, 1] > 0.4, 2, 0))
    return x, labels


def test_numpy_decision_is_the_svms():
    x, labels = _data()
    model = DangerModel.train(x, labels)
    reference = SVC(C=4.0, kernel="rbf", gamma="scale").fit(x, (labels > 0).astype(int))
    probe = _data(seed=1, n=50)[0]
    assert np.allclose(model.decision(probe), reference.decision_function(probe), atol=1e-4)


def test_probabilities_rank_danger_above_safety_and_survive_a_round_trip():
    x, labels = _data()
    model = DangerModel.from_dict(DangerModel.train(x, labels).to_dict())
    p = model.danger_probability(x)
    assert p[labels > 0].mean() > 0.7 > 0.3 > p[labels == 0].mean()
    score = model.score_parts(["a", "b"], x[[np.argmin(labels), np.argmax(labels)]])
    assert score.part == "b" and score.p > 0.5


def test_long_messages_are_read_sentence_by_sentence_and_in_windows():
    text = "We went to the shops. He has taken the car keys! He says he will finish it. He is in the garden now"
    got = parts(text)
    assert got[0] == text
    assert "He says he will finish it." in got
    rambling = " ".join(f"word{i}" for i in range(60))
    windows = parts(rambling)[1:]
    assert windows and all(len(w.split()) <= 14 for w in windows)
    assert "word30" in " ".join(windows)


@pytest.mark.parametrize("p,expected", [(0.9, "danger"), (0.5, "unclear"), (0.1, None)])
def test_levels(p, expected):
    from bot.text.learned_danger import DangerScore

    assert level(DangerScore(p, "now", "x"), 0.75, 0.4) == expected


def test_examples_load_without_repeats(tmp_path):
    f = tmp_path / "d.yml"
    f.write_text("positives_now: [a, b]\npositives_suicide: [c]\nnegatives: [d, a]\n")
    texts, labels = load_examples([f, f])
    assert sorted(zip(texts, labels)) == [("a", 0), ("a", 1), ("b", 1), ("c", 2), ("d", 0)]


def test_the_held_out_decisions_are_libsvms_own():
    from sklearn.svm import SVC

    from bot.text.learned_danger import rbf_decision

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(400, 16))
    labels = (vectors[:, 0] + 0.5 * rng.normal(size=400) > 0).astype(int)
    svm = SVC(C=4.0, kernel="rbf", gamma="scale").fit(vectors[:300], labels[:300])
    np.testing.assert_allclose(rbf_decision(svm, vectors[300:], chunk=37), svm.decision_function(vectors[300:]),
                               rtol=1e-9, atol=1e-9)


def test_prefetched_vectors_are_the_ones_encoding_them_later_gives(tmp_path):
    """DangerVectorsPrefetch: encoded ahead on one worker, bit for bit what LearnedDanger would get."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.components import learned_danger as component
    from bot.text.encoder import get_encoder

    path = tmp_path / "danger.yml"
    path.write_text(
        "positives_now:\n- he has a knife and he is coming up the stairs\n- my dad is not breathing\n"
        "positives_suicide:\n- i am going to end it tonight\n"
        "negatives:\n- i could murder a cup of tea\n- the film had a stabbing in it\n"
        + "".join(f"- a safe message number {i} about the weather\n" for i in range(70))
    )
    texts, _ = load_examples([path])
    future = component.start_prefetch([path])
    assert future is not None
    assert component.start_prefetch([path]) is future  # started once
    got = component.training_vectors(texts)
    assert future.done()
    expected = get_encoder().encode(texts, workers=2)  # as training encodes them: batches side by side
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    # Taken once: a second call encodes them again, the same vectors.
    assert np.array_equal(component.training_vectors(texts), expected)
    # The component starts it from process_training_data and leaves messages alone.
    prefetch = component.DangerVectorsPrefetch({"training_files": [str(path)]})
    message = Message(data={"text": "hello"})
    assert prefetch.process([message])[0].data == {"text": "hello"}


def test_a_failed_prefetch_falls_back_to_encoding_there(monkeypatch):
    from concurrent.futures import Future

    from bot.components import learned_danger as component
    from bot.text.encoder import get_encoder

    texts = ["someone is breaking in", "lovely weather today"]
    failed: Future = Future()
    failed.set_exception(RuntimeError("out of memory"))
    monkeypatch.setitem(component._PREFETCHED, component._texts_key(texts), failed)
    assert np.array_equal(component.training_vectors(texts), get_encoder().encode(texts))
