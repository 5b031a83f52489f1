"""A learned danger detector on sentence vectors: it may add, never remove.

The danger rules (``bot.text.danger``) are the floor: whatever they catch gets
the 999 reply with no score involved. This detector reads the sentence
vectors (``bot.text.encoder``) and catches what the rules cannot reach:
phrasings nobody wrote a pattern for, danger to someone else, text-speak.

* A support-vector machine (danger or not) and a logistic regression (which
  kind: now or suicide) over the 384-d vector, trained on the labelled danger
  data listed in ``config.yml``.
* Long messages are read sentence by sentence (and in overlapping windows of
  words when there is no punctuation), so danger in the middle of a paragraph
  counts: the message's score is the highest of its parts.
* Two thresholds, chosen on a development set (``python -m bot.text.nlu_eval``
  prints the choice): at or above ``danger`` the 999 reply is given; between
  ``unclear`` and ``danger`` the first reply asks whether anyone is in danger
  now and says to call 999 if so.

Pure NumPy at prediction; scikit-learn only to train.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import yaml

LABELS = ("none", "now", "suicide")
GROUPS = {"negatives": 0, "positives_now": 1, "positives_suicide": 2}

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+|\s+(?:-|–|—|\.\.+)\s+")
WINDOW = 14
STRIDE = 7


def load_examples(paths: Iterable[Path]) -> Tuple[List[str], List[int]]:
    """Texts and labels from YAML files with positives_now/positives_suicide/negatives."""
    texts: List[str] = []
    labels: List[int] = []
    seen = set()
    for path in paths:
        data = yaml.safe_load(Path(path).read_text()) or {}
        for group, label in GROUPS.items():
            for text in data.get(group) or []:
                text = str(text)
                key = (text.strip().lower(), label)
                if key in seen:
                    continue
                seen.add(key)
                texts.append(text)
                labels.append(label)
    return texts, labels


def parts(text: str) -> List[str]:
    """The message itself, then its sentences, then word windows of long ones."""
    text = (text or "").strip()
    out = [text]
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
    if len(sentences) > 1:
        out += sentences
    for sentence in sentences or [text]:
        words = sentence.split()
        if len(words) > WINDOW + STRIDE:
            for start in range(0, len(words) - STRIDE, STRIDE):
                out.append(" ".join(words[start:start + WINDOW]))
    # Keep order, drop repeats.
    return list(dict.fromkeys(p for p in out if p))


@dataclass
class DangerScore:
    p: float                  # probability of danger (now or suicide) of the riskiest part
    kind: Optional[str]       # "now" or "suicide" for that part
    part: str                 # the part that scored highest


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _fit(svm, vectors: np.ndarray, labels: np.ndarray, rows: Optional[np.ndarray]):
    """``svm`` fitted on ``rows`` of the data (None: all of it)."""
    if rows is None:
        return svm.fit(vectors, labels)
    return svm.fit(vectors[rows], labels[rows])


def _rbf(vectors: np.ndarray, support_t: np.ndarray, support_sq: np.ndarray, dual: np.ndarray,
         intercept: float, gamma: float) -> np.ndarray:
    """An RBF SVM's decision values, in the dtype of the arrays given (one matrix product)."""
    sq = (vectors ** 2).sum(1)[:, None] + support_sq[None, :] - 2.0 * (vectors @ support_t)
    return np.exp(sq.dtype.type(-gamma) * np.maximum(sq, sq.dtype.type(0.0))) @ dual + intercept


def rbf_decision(svm, vectors: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """``svm.decision_function(vectors)`` of a fitted binary RBF ``SVC``, worked out with BLAS.

    The same sum as libsvm's (in float64), a matrix product at a time instead
    of one kernel value at a time: session 14, the two held-out halves took
    26 s in libsvm and about 2 s here.
    """
    support = np.asarray(svm.support_vectors_, dtype=np.float64)
    support_t, support_sq = np.ascontiguousarray(support.T), (support ** 2).sum(1)
    dual = np.asarray(svm.dual_coef_[0], dtype=np.float64)
    out = np.empty(len(vectors), dtype=np.float64)
    for start in range(0, len(vectors), chunk):
        part = np.asarray(vectors[start:start + chunk], dtype=np.float64)
        out[start:start + chunk] = _rbf(part, support_t, support_sq, dual, float(svm.intercept_[0]),
                                        float(svm._gamma))
    return out


class DangerModel:
    """Danger or not: an RBF support-vector machine with Platt scaling; which
    kind: a logistic regression over the dangerous examples. Prediction is
    NumPy only (a few hundred dot products per part).

    Chosen on the development set (``tests/data/danger_blind4_dev.yml``) over
    logistic regression and small MLPs on the same vectors: at the same number
    of false alarms it found the most dangerous messages the rules missed.
    """

    def __init__(self, support: np.ndarray, dual: np.ndarray, intercept: float, gamma: float,
                 platt: Tuple[float, float], kind_coef: np.ndarray, kind_intercept: float) -> None:
        self.support = np.asarray(support, dtype=np.float32)
        self.dual = np.asarray(dual, dtype=np.float32)
        self.intercept = float(intercept)
        self.gamma = float(gamma)
        self.platt = (float(platt[0]), float(platt[1]))
        self.kind_coef = np.asarray(kind_coef, dtype=np.float32)
        self.kind_intercept = float(kind_intercept)
        # Worked out once, not on every message: the support vectors' squared
        # norms and their transpose laid out for the product.
        self._support_sq = (self.support ** 2).sum(1)
        self._support_t = np.ascontiguousarray(self.support.T)

    @classmethod
    def train(cls, vectors: np.ndarray, labels: Sequence[int], c: float = 4.0) -> "DangerModel":
        from sklearn.linear_model import LogisticRegression
        from joblib import Parallel, delayed
        from sklearn.base import clone
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import SVC

        labels = np.asarray(labels)
        danger = (labels > 0).astype(int)
        # A kernel cache of 2 GB (default 200 MB) holds most of the kernel
        # matrix: the same model, fitted in about half the time.
        svm = SVC(C=c, kernel="rbf", gamma="scale", cache_size=2000)
        # Platt scaling on decision values the SVM gave to examples it did not see.
        # Four folds, not five (session 11: training time): with two jobs that
        # is two rounds of fits instead of three, and the Platt scaling barely
        # moves (slope 4.99 -> 4.94, intercept 0.201 -> 0.195 on the training data).
        # The four fold fits and the final fit on everything are independent:
        # they run side by side (MSP_TRAIN_JOBS, two in training), the final
        # fit first since it is the longest (session 13: one round of fits
        # less than cross_val_predict followed by the final fit; the same
        # model, as each fit is deterministic).
        # Session 14: two folds, not four (training time again: with two jobs
        # the two half-size fold fits together take about as long as the
        # final fit beside them). On this session's training vectors (22,106)
        # the Platt slope / intercept were 5.05 / 0.219 with four folds, 4.95
        # / 0.209 with three and 4.90 / 0.215 with two: the 0.6 and 0.4
        # thresholds move by 0.002 and 0.003 in SVM decision value; the
        # cross-validation took 82 s, 66 s and 34 s.
        folds = list(StratifiedKFold(n_splits=2, shuffle=True, random_state=42).split(vectors, danger))
        jobs = max(1, min(5, int(os.environ.get("MSP_TRAIN_JOBS", "1") or 1)))
        fitted = Parallel(n_jobs=jobs)(
            delayed(_fit)(clone(svm), vectors, danger, rows) for rows in [None] + [train for train, _ in folds]
        )
        svm = fitted[0]
        held_out = np.zeros(len(danger), dtype=np.float64)
        for model, (_, test) in zip(fitted[1:], folds):
            held_out[test] = rbf_decision(model, vectors[test])
        platt = LogisticRegression(C=1e6, max_iter=1000).fit(held_out.reshape(-1, 1), danger)
        gamma = svm._gamma  # what gamma="scale" resolved to
        positives = labels > 0
        kind = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced", random_state=42)
        kind.fit(vectors[positives], (labels[positives] == 2).astype(int))
        return cls(svm.support_vectors_, svm.dual_coef_[0], svm.intercept_[0], gamma,
                   (platt.coef_[0][0], platt.intercept_[0]), kind.coef_[0], kind.intercept_[0])

    def decision(self, vectors: np.ndarray) -> np.ndarray:
        return _rbf(np.asarray(vectors, dtype=np.float32), self._support_t, self._support_sq, self.dual,
                    self.intercept, self.gamma)

    def danger_probability(self, vectors: np.ndarray) -> np.ndarray:
        a, b = self.platt
        return _sigmoid(a * self.decision(vectors) + b)

    def suicide_probability(self, vectors: np.ndarray) -> np.ndarray:
        return _sigmoid(np.asarray(vectors, dtype=np.float32) @ self.kind_coef + self.kind_intercept)

    def to_dict(self) -> Dict[str, object]:
        return {"support": self.support.tolist(), "dual": self.dual.tolist(), "intercept": self.intercept,
                "gamma": self.gamma, "platt": list(self.platt), "kind_coef": self.kind_coef.tolist(),
                "kind_intercept": self.kind_intercept}

    @classmethod
    def from_dict(cls, data: Dict[str, object]) -> "DangerModel":
        return cls(np.array(data["support"]), np.array(data["dual"]), data["intercept"], data["gamma"],
                   tuple(data["platt"]), np.array(data["kind_coef"]), data["kind_intercept"])

    def score_parts(self, texts: List[str], vectors: np.ndarray) -> DangerScore:
        danger = self.danger_probability(vectors)
        best = int(np.argmax(danger))
        suicide = float(self.suicide_probability(vectors[best:best + 1])[0])
        return DangerScore(float(danger[best]), "suicide" if suicide >= 0.5 else "now", texts[best])

    def score(self, text: str, encode) -> DangerScore:
        texts = parts(text)
        return self.score_parts(texts, encode(texts))


def level(score: Optional[DangerScore], danger: float, unclear: float) -> Optional[str]:
    if score is None:
        return None
    if score.p >= danger:
        return "danger"
    if score.p >= unclear:
        return "unclear"
    return None
