"""The intent classifier's training with the sentence vector as a dense block (bot/components/lr_training.py)."""
from __future__ import annotations

import types

import numpy as np
import pytest
from scipy import optimize as scipy_optimize
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from bot.components import lr_training
from bot.components.lr_training import SplitRows, dense_tail, split_design


def design(rows=300, ngrams=400, dense=24, classes=5, seed=0):
    """Rows shaped like the classifier's: sparse counts, then a dense vector that carries the class."""
    rng = np.random.default_rng(seed)
    counts = sparse.random(rows, ngrams, density=0.02, random_state=seed, format="csr")
    counts.data[:] = 1.0
    y = rng.integers(0, classes, rows)
    centres = rng.normal(size=(classes, dense))
    vectors = centres[y] + rng.normal(scale=1.5, size=(rows, dense))
    return sparse.hstack([counts, sparse.csr_matrix(vectors)]).tocsr(), y


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_split_rows_multiply_like_the_sparse_matrix(jobs):
    X, _ = design()
    split = SplitRows.from_matrix(X, 24, jobs)
    rng = np.random.default_rng(1)
    W = rng.normal(size=(X.shape[1], 5))
    G = rng.normal(size=(5, X.shape[0]))
    g = rng.normal(size=X.shape[0])
    assert split.shape == X.shape
    np.testing.assert_allclose(split @ W, X @ W, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(split @ W[:, 0], X @ W[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(G @ split, G @ X, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(split.T @ g, X.T @ g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g @ split, g @ X, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(split.toarray(), X.toarray())
    split.close()


def test_dense_tail_counts_only_the_columns_every_row_has():
    X, _ = design(dense=24)
    assert dense_tail(X) == 24
    X = X.tolil()
    X[3, X.shape[1] - 10] = 0.0  # one row without that vector entry
    X = X.tocsr()
    X.eliminate_zeros()
    assert dense_tail(X) == 9
    assert dense_tail(sparse.csr_matrix((4, 6))) == 0


@pytest.fixture
def seen(monkeypatch):
    """The type of matrix each call of the optimiser got, through lr_training's shim."""
    types_seen = []
    real = scipy_optimize.minimize

    def spy(fun, x0, *args, **kwargs):
        types_seen.append(type(kwargs["args"][0]))
        return real(fun, x0, *args, **kwargs)

    monkeypatch.setattr(lr_training, "scipy_optimize", types.SimpleNamespace(minimize=spy))
    return types_seen


def test_the_fit_is_the_same_and_the_optimiser_saw_the_split(seen):
    X, y = design()
    settings = dict(solver="lbfgs", max_iter=1000, tol=1e-10, class_weight="balanced")
    plain = LogisticRegression(**settings).fit(X, y)
    assert seen == []  # outside the context scikit-learn is untouched
    with split_design(min_dense_columns=16, jobs=2):
        fast = LogisticRegression(**settings).fit(X, y)
    assert seen == [SplitRows]
    np.testing.assert_allclose(fast.coef_, plain.coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fast.intercept_, plain.intercept_, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(fast.predict(X), plain.predict(X))
    # and afterwards scikit-learn has its own optimiser back
    from sklearn.linear_model import _logistic
    assert _logistic.optimize is scipy_optimize


def test_a_matrix_without_a_dense_block_goes_through_unchanged(seen):
    X, y = design(dense=4)
    with split_design(min_dense_columns=16):
        LogisticRegression(max_iter=50).fit(X, y)
    assert seen and seen[0] is not SplitRows and sparse.issparse(X)


def test_rasa_trains_its_classifier_inside_the_split():
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    from bot.components import speedups

    speedups.install()
    assert LogisticRegressionClassifier.train is speedups.train_classifier


def test_blocks_must_have_the_same_rows():
    with pytest.raises(ValueError):
        SplitRows(sparse.csr_matrix((3, 2)), np.zeros((4, 2)))
