"""What a new user gets, on sets nobody tuned on: floors a little under the measured figures.

The figures themselves are printed by `make nlu-report` (README, "Understanding").
A regression in the danger net, the classifier, the harm gate or the
thresholds fails here. The held-out sets' messages are never printed, even
when a floor is missed: only the figures are.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.text.nlu_eval import evaluate_quietly

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def results(trained_model):
    sets = ["danger_blind19.yml", "nlu_blind19.yml",
            "danger_blind4_dev.yml", "nlu_blind4_dev.yml", "danger_blind14_dev.yml", "nlu_blind14_dev.yml"]
    found = evaluate_quietly(Path(trained_model), [DATA / s for s in sets])
    return {Path(r["set"]).name: r for r in found}


def figures(r):
    return {k: v for k, v in r.items() if isinstance(v, (int, float))}


def test_danger_on_blind19(results):
    # blind19: written blind at the end of session 15, committed unread, measured
    # once at the end of session 16's work (never tuned on; messages never
    # printed). blind18 is training data since session 16.
    r = results["danger_blind19.yml"]
    assert r["recall"] >= 0.945, figures(r)             # measured 0.956 (target 0.97: not met)
    assert r["recall_or_check"] >= 0.965, figures(r)    # measured 0.978
    assert r["false_alarms"] <= 0.06, figures(r)        # measured 0.043 (7 of 161; target 0.05: met)
    assert r["negatives_checked"] <= 0.02, figures(r)   # measured 0.000


def test_intents_harm_carers_and_advocacy_on_blind19(results):
    r = results["nlu_blind19.yml"]
    assert r["n"] >= 1000
    assert r["classifier_accuracy"] >= 0.95, figures(r)    # measured 0.961
    assert r["accuracy"] >= 0.93, figures(r)               # measured 0.939 (strict 0.926; target 0.93: met)
    assert r["accuracy_strict"] >= 0.915, figures(r)
    assert r["macro_f1"] >= 0.95, figures(r)               # measured 0.963
    assert r["wrong_kind_rate"] <= 0.03, figures(r)        # measured 0.018 (7 of 385; target 0.02: met)
    assert r["harm_out_of_scope"] == 0, figures(r)
    assert r["carer_advocate_right"] >= 0.95, figures(r)   # measured 1.000
    assert r["false_alarms"] <= 0.03, figures(r)           # measured 0.020


def test_development_set_stays_where_it_was_tuned(results):
    d = results["danger_blind4_dev.yml"]  # development set
    assert d["recall"] >= 0.95 and d["false_alarms"] <= 0.02, figures(d)    # 0.963 / 0.000 (session 16; 0.967 / 0.000 in 15)
    n = results["nlu_blind4_dev.yml"]
    assert n["classifier_accuracy"] >= 0.93 and n["wrong_kind_rate"] <= 0.04, figures(n)  # 0.956 / 0.021 (session 16)
    d = results["danger_blind14_dev.yml"]  # development set since session 11 (read; the rules widened on it)
    assert d["recall"] >= 0.97 and d["false_alarms"] <= 0.02, figures(d)    # 0.986 / 0.007 (session 16; 0.986 / 0.000 in 15)
    n = results["nlu_blind14_dev.yml"]
    assert n["classifier_accuracy"] >= 0.95 and n["wrong_kind_rate"] <= 0.03, figures(n)  # 0.976 / 0.011 (session 16)
