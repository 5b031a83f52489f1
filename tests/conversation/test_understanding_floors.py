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
    sets = ["danger_blind21.yml", "nlu_blind21.yml",
            "danger_blind4_dev.yml", "nlu_blind4_dev.yml", "danger_blind14_dev.yml", "nlu_blind14_dev.yml"]
    found = evaluate_quietly(Path(trained_model), [DATA / s for s in sets])
    return {Path(r["set"]).name: r for r in found}


def figures(r):
    return {k: v for k, v in r.items() if isinstance(v, (int, float))}


def test_danger_on_blind21(results):
    # blind21: written blind at the end of session 16, committed unread,
    # measured once at the end of session 17's first round (never tuned on;
    # messages never printed). blind20 is training data since that round
    # (measured once before it: recall 0.983, false alarms 0.071).
    r = results["danger_blind21.yml"]
    assert r["recall"] >= 0.965, figures(r)             # measured 0.979 (target 0.97: met)
    assert r["recall_or_check"] >= 0.975, figures(r)    # measured 0.986
    assert r["false_alarms"] <= 0.08, figures(r)        # measured 0.066 (17 of 256; target 0.05: not met)
    assert r["negatives_checked"] <= 0.035, figures(r)  # measured 0.020


def test_intents_harm_carers_and_advocacy_on_blind21(results):
    r = results["nlu_blind21.yml"]
    assert r["n"] >= 1700
    assert r["classifier_accuracy"] >= 0.95, figures(r)    # measured 0.960
    assert r["accuracy"] >= 0.925, figures(r)              # measured 0.937 (strict 0.931; target 0.93: met)
    assert r["accuracy_strict"] >= 0.92, figures(r)
    assert r["macro_f1"] >= 0.945, figures(r)              # measured 0.958
    assert r["wrong_kind_rate"] <= 0.015, figures(r)       # measured 0.004 (2 of 540; target 0.02: met)
    assert r["harm_out_of_scope"] <= 2, figures(r)         # measured 1
    assert r["carer_advocate_right"] >= 0.95, figures(r)   # measured 0.969
    assert r["false_alarms"] <= 0.025, figures(r)          # measured 0.012


def test_development_set_stays_where_it_was_tuned(results):
    d = results["danger_blind4_dev.yml"]  # development set
    assert d["recall"] >= 0.95 and d["false_alarms"] <= 0.02, figures(d)    # 0.959 / 0.000 (session 17; 0.963 / 0.000 in 16)
    n = results["nlu_blind4_dev.yml"]
    assert n["classifier_accuracy"] >= 0.93 and n["wrong_kind_rate"] <= 0.04, figures(n)  # 0.967 / 0.017 (session 17; 0.960 / 0.021 in 16)
    d = results["danger_blind14_dev.yml"]  # development set since session 11 (read; the rules widened on it)
    assert d["recall"] >= 0.97 and d["false_alarms"] <= 0.02, figures(d)    # 0.986 / 0.007 (sessions 16 and 17)
    n = results["nlu_blind14_dev.yml"]
    assert n["classifier_accuracy"] >= 0.95 and n["wrong_kind_rate"] <= 0.03, figures(n)  # 0.974 / 0.011 (session 17; 0.978 / 0.011 in 16)
