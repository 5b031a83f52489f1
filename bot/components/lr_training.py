"""Training the intent classifier faster: the same objective, the same optimiser.

Rasa's ``LogisticRegressionClassifier`` trains scikit-learn's
``LogisticRegression`` (multinomial, L-BFGS) on one sparse matrix: each row is
the word and character n-gram counts followed by the 384 numbers of the
sentence vector. The vector is dense, so about two thirds of the stored
entries are the vector's, and every L-BFGS step multiplies them one by one
in SciPy's sparse code, on one core: about 100 s of a training (session 13).

Here, only while the classifier trains, the matrix handed to the optimiser is
split in two: the n-gram columns stay sparse and the vector columns become an
ordinary dense block, which NumPy multiplies with BLAS; the sparse block's products
are arranged so SciPy works them out fast (see ``SplitRows``). scikit-learn's own
loss and gradient (``LinearModelLoss.loss_gradient``) and SciPy's L-BFGS run
unchanged, with the same settings; only how ``X @ W`` and ``G.T @ X`` are
worked out changes (the same sums in another order, so the weights agree to
rounding: ``tests/unit/test_lr_training.py``). Prediction is untouched: the
fitted ``coef_`` and ``intercept_`` are ordinary scikit-learn weights.

Check this when upgrading scikit-learn (written for 1.1.3): it replaces
``sklearn.linear_model._logistic.optimize`` during ``fit`` with a shim whose
``minimize`` passes the split matrix on.
"""
from __future__ import annotations

import contextlib
import os
import types
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import numpy as np
from scipy import optimize as scipy_optimize
from scipy import sparse


class SplitRows:
    """``[S | D]``: a sparse block ``S`` followed by a dense block ``D``, for ``@`` only.

    ``S @ W`` is worked out in ``jobs`` row blocks side by side (SciPy's
    sparse product lets go of the GIL), and ``G @ S`` as ``(S.T @ G.T).T``
    with ``S.T`` stored row by row once: about four times faster than SciPy's
    own ``ndarray @ csr_matrix`` here.
    """

    # NumPy hands ``ndarray @ SplitRows`` to ``__rmatmul__`` instead of
    # trying to turn this object into an array.
    __array_ufunc__ = None

    def __init__(self, left: sparse.csr_matrix, right: np.ndarray, jobs: int = 1) -> None:
        if left.shape[0] != right.shape[0]:
            raise ValueError("blocks must have the same rows")
        self.left = sparse.csr_matrix(left)
        self.left_t = self.left.T.tocsr()
        self.right = np.ascontiguousarray(right)
        self.split = left.shape[1]
        self.shape = (left.shape[0], left.shape[1] + right.shape[1])
        self.dtype = np.result_type(left.dtype, right.dtype)
        rows = left.shape[0]
        self.jobs = max(1, min(int(jobs), rows))
        bounds = np.linspace(0, rows, self.jobs + 1).astype(int)
        self.blocks = [self.left[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        self.pool = ThreadPoolExecutor(self.jobs) if self.jobs > 1 else None

    @classmethod
    def from_matrix(cls, matrix: sparse.spmatrix, dense_columns: int, jobs: int = 1) -> "SplitRows":
        matrix = sparse.csr_matrix(matrix)
        split = matrix.shape[1] - dense_columns
        return cls(matrix[:, :split].tocsr(), matrix[:, split:].toarray(), jobs)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def _left_times(self, other: np.ndarray) -> np.ndarray:
        other = np.ascontiguousarray(other)
        if self.pool is None:
            return np.asarray(self.left @ other)
        parts = list(self.pool.map(lambda block: np.asarray(block @ other), self.blocks))
        return np.concatenate(parts, axis=0)

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        # X @ W, W of shape (n_features,) or (n_features, k)
        other = np.asarray(other)
        return self._left_times(other[: self.split]) + self.right @ other[self.split:]

    def __rmatmul__(self, other: np.ndarray) -> np.ndarray:
        # G @ X, G of shape (k, n_samples) or (n_samples,): the blocks side by side
        other = np.asarray(other)
        left = np.asarray(self.left_t @ np.ascontiguousarray(other.T)).T
        return np.concatenate([left, other @ self.right], axis=-1)

    @property
    def T(self) -> "_Transposed":  # noqa: N802 - as NumPy and SciPy name it
        return _Transposed(self)

    def toarray(self) -> np.ndarray:
        return np.hstack([self.left.toarray(), self.right])


class _Transposed:
    __array_ufunc__ = None

    def __init__(self, rows: SplitRows) -> None:
        self.rows = rows
        self.shape = (rows.shape[1], rows.shape[0])

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        # X.T @ g
        other = np.asarray(other)
        top = np.asarray(self.rows.left_t @ other)
        bottom = self.rows.right.T @ other
        return np.concatenate([top, bottom], axis=0)


def dense_tail(matrix: sparse.spmatrix) -> int:
    """How many columns at the right end are stored in every row (the sentence vector)."""
    matrix = sparse.csc_matrix(matrix)
    counts = np.diff(matrix.indptr)
    full = counts == matrix.shape[0]
    width = 0
    for is_full in full[::-1]:
        if not is_full:
            break
        width += 1
    return width


@contextlib.contextmanager
def split_design(min_dense_columns: int = 32, jobs: int = 0) -> Iterator[None]:
    """While active, scikit-learn's L-BFGS logistic regression sees ``[sparse | dense]``.

    Only a sparse ``X`` whose last ``min_dense_columns`` or more columns are
    stored in every row is split; anything else goes to SciPy as it came.
    ``jobs`` (0: ``MSP_TRAIN_JOBS``, 1 by default) row blocks are multiplied
    side by side.
    """
    jobs = jobs or int(os.environ.get("MSP_TRAIN_JOBS", "1") or 1)
    from sklearn.linear_model import _logistic

    def minimize(fun: Any, x0: Any, *args: Any, **kwargs: Any) -> Any:
        call_args = kwargs.get("args")
        if call_args and sparse.issparse(call_args[0]):
            width = dense_tail(call_args[0])
            if width >= min_dense_columns:
                split = SplitRows.from_matrix(call_args[0], width, jobs)
                kwargs["args"] = (split,) + tuple(call_args[1:])
                try:
                    return scipy_optimize.minimize(fun, x0, *args, **kwargs)
                finally:
                    split.close()
        return scipy_optimize.minimize(fun, x0, *args, **kwargs)

    original = _logistic.optimize
    _logistic.optimize = types.SimpleNamespace(minimize=minimize)
    try:
        yield
    finally:
        _logistic.optimize = original
