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
    sets = ["danger_blind18.yml", "nlu_blind18.yml",
            "danger_blind4_dev.yml", "nlu_blind4_dev.yml", "danger_blind14_dev.yml", "nlu_blind14_dev.yml"]
    found = evaluate_quietly(Path(trained_model), [DATA / s for s in sets])
    return {Path(r["set"]).name: r for r in found}


def figures(r):
    return {k: v for k, v in r.items() if isinstance(v, (int, float))}


def test_danger_on_blind18(results):
    # blind18: written blind in session 15, committed unread, measured once at
    # the end of session 15's work (never tuned on; messages never printed).
    # blind17 is training data since session 15.
    r = results["danger_blind18.yml"]
    assert r["recall"] >= 0.955, figures(r)             # measured 0.969 (target 0.97: not met; 0.972 before)
    assert r["recall_or_check"] >= 0.975, figures(r)    # measured 0.986
    assert r["false_alarms"] <= 0.085, figures(r)       # measured 0.068 (target 0.05: not met)
    assert r["negatives_checked"] <= 0.04, figures(r)   # measured 0.021


def test_intents_harm_carers_and_advocacy_on_blind18(results):
    r = results["nlu_blind18.yml"]
    assert r["n"] >= 1000
    assert r["classifier_accuracy"] >= 0.945, figures(r)   # measured 0.958
    assert r["accuracy"] >= 0.925, figures(r)              # measured 0.936 (strict 0.921; target 0.93: met)
    assert r["accuracy_strict"] >= 0.91, figures(r)
    assert r["macro_f1"] >= 0.95, figures(r)               # measured 0.961
    assert r["wrong_kind_rate"] <= 0.04, figures(r)        # measured 0.030 (target 0.02: not met)
    assert r["harm_out_of_scope"] == 0, figures(r)
    assert r["carer_advocate_right"] >= 0.95, figures(r)   # measured 0.974
    assert r["false_alarms"] <= 0.035, figures(r)          # measured 0.024


def test_development_set_stays_where_it_was_tuned(results):
    d = results["danger_blind4_dev.yml"]  # development set
    assert d["recall"] >= 0.95 and d["false_alarms"] <= 0.02, figures(d)    # 0.967 / 0.000 (session 15)
    n = results["nlu_blind4_dev.yml"]
    assert n["classifier_accuracy"] >= 0.93 and n["wrong_kind_rate"] <= 0.04, figures(n)  # 0.960 / 0.021
    d = results["danger_blind14_dev.yml"]  # development set since session 11 (read; the rules widened on it)
    assert d["recall"] >= 0.97 and d["false_alarms"] <= 0.02, figures(d)    # 0.986 / 0.000 (session 15)
    n = results["nlu_blind14_dev.yml"]
    assert n["classifier_accuracy"] >= 0.95 and n["wrong_kind_rate"] <= 0.03, figures(n)  # 0.974 / 0.011
