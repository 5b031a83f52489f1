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
