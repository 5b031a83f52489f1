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
    sets = ["danger_blind23.yml", "nlu_blind23.yml",
            "danger_blind4_dev.yml", "nlu_blind4_dev.yml", "danger_blind14_dev.yml", "nlu_blind14_dev.yml"]
    found = evaluate_quietly(Path(trained_model), [DATA / s for s in sets])
    return {Path(r["set"]).name: r for r in found}


def figures(r):
    return {k: v for k, v in r.items() if isinstance(v, (int, float))}


def test_danger_on_blind23(results):
    # blind23: written blind in session 17 (its writer was asked also to think
    # hard about everyday uses of danger words), committed unread, measured once
    # at the end of session 17's third round (never tuned on; messages never
    # printed). blind22 is training data since that round (measured once before
    # it: recall 0.977, false alarms 0.059).
    r = results["danger_blind23.yml"]
    assert r["recall"] >= 0.97, figures(r)              # measured 0.983 (293 of 298; target 0.97: met)
    assert r["recall_or_check"] >= 0.97, figures(r)     # measured 0.983
    assert r["false_alarms"] <= 0.075, figures(r)       # measured 0.061 (15 of 244; target 0.05: not met)
    assert r["negatives_checked"] <= 0.02, figures(r)   # measured 0.004


def test_intents_harm_carers_and_advocacy_on_blind23(results):
    r = results["nlu_blind23.yml"]
    assert r["n"] >= 1800
    assert r["classifier_accuracy"] >= 0.935, figures(r)   # measured 0.944
    assert r["accuracy"] >= 0.92, figures(r)               # measured 0.931 (strict 0.926; target 0.93: met)
    assert r["accuracy_strict"] >= 0.915, figures(r)
    assert r["macro_f1"] >= 0.935, figures(r)              # measured 0.944
    assert r["wrong_kind_rate"] <= 0.04, figures(r)        # measured 0.030 (13 of 431; target 0.02: not met)
    assert r["harm_out_of_scope"] <= 1, figures(r)         # measured 0
    assert r["carer_advocate_right"] >= 0.95, figures(r)   # measured 0.987
    assert r["false_alarms"] <= 0.025, figures(r)          # measured 0.013


def test_development_set_stays_where_it_was_tuned(results):
    d = results["danger_blind4_dev.yml"]  # development set
    assert d["recall"] >= 0.95 and d["false_alarms"] <= 0.02, figures(d)    # 0.963 / 0.000 (session 17; 0.963 / 0.000 in 16)
    n = results["nlu_blind4_dev.yml"]
    assert n["classifier_accuracy"] >= 0.93 and n["wrong_kind_rate"] <= 0.04, figures(n)  # 0.966 / 0.017 (session 17; 0.960 / 0.021 in 16)
    d = results["danger_blind14_dev.yml"]  # development set since session 11 (read; the rules widened on it)
    assert d["recall"] >= 0.97 and d["false_alarms"] <= 0.02, figures(d)    # 0.991 / 0.007 (session 17; 0.986 / 0.007 in 16)
    n = results["nlu_blind14_dev.yml"]
    assert n["classifier_accuracy"] >= 0.95 and n["wrong_kind_rate"] <= 0.03, figures(n)  # 0.984 / 0.011 (session 17; 0.978 / 0.011 in 16)
