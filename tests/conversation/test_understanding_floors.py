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
    sets = ["danger_blind20.yml", "nlu_blind20.yml",
            "danger_blind4_dev.yml", "nlu_blind4_dev.yml", "danger_blind14_dev.yml", "nlu_blind14_dev.yml"]
    found = evaluate_quietly(Path(trained_model), [DATA / s for s in sets])
    return {Path(r["set"]).name: r for r in found}


def figures(r):
    return {k: v for k, v in r.items() if isinstance(v, (int, float))}


def test_danger_on_blind20(results):
    # blind20: written blind at the start of session 16, committed unread,
    # measured once at the end of session 16's second round (never tuned on;
    # messages never printed). blind19 is training data since that round
    # (measured once before it: recall 0.956, false alarms 0.043).
    r = results["danger_blind20.yml"]
    assert r["recall"] >= 0.97, figures(r)              # measured 0.983 (291 of 296; target 0.97: met)
    assert r["recall_or_check"] >= 0.985, figures(r)    # measured 0.997
    assert r["false_alarms"] <= 0.085, figures(r)       # measured 0.071 (16 of 225; target 0.05: not met)
    assert r["negatives_checked"] <= 0.04, figures(r)   # measured 0.027


def test_intents_harm_carers_and_advocacy_on_blind20(results):
    r = results["nlu_blind20.yml"]
    assert r["n"] >= 1400
    assert r["classifier_accuracy"] >= 0.955, figures(r)   # measured 0.964
    assert r["accuracy"] >= 0.92, figures(r)               # measured 0.929 (strict 0.920; target 0.93: not met)
    assert r["accuracy_strict"] >= 0.91, figures(r)
    assert r["macro_f1"] >= 0.95, figures(r)               # measured 0.962
    assert r["wrong_kind_rate"] <= 0.03, figures(r)        # measured 0.023 (13 of 571; target 0.02: not met)
    assert r["harm_out_of_scope"] == 0, figures(r)
    assert r["carer_advocate_right"] >= 0.95, figures(r)   # measured 0.977
    assert r["false_alarms"] <= 0.03, figures(r)           # measured 0.017


def test_development_set_stays_where_it_was_tuned(results):
    d = results["danger_blind4_dev.yml"]  # development set
    assert d["recall"] >= 0.95 and d["false_alarms"] <= 0.02, figures(d)    # 0.963 / 0.000 (session 16; 0.967 / 0.000 in 15)
    n = results["nlu_blind4_dev.yml"]
    assert n["classifier_accuracy"] >= 0.93 and n["wrong_kind_rate"] <= 0.04, figures(n)  # 0.960 / 0.021 (session 16)
    d = results["danger_blind14_dev.yml"]  # development set since session 11 (read; the rules widened on it)
    assert d["recall"] >= 0.97 and d["false_alarms"] <= 0.02, figures(d)    # 0.986 / 0.007 (session 16; 0.986 / 0.000 in 15)
    n = results["nlu_blind14_dev.yml"]
    assert n["classifier_accuracy"] >= 0.95 and n["wrong_kind_rate"] <= 0.03, figures(n)  # 0.978 / 0.011 (session 16)
