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
    sets = ["danger_blind11.yml", "nlu_blind11.yml", "danger_blind9.yml", "danger_blind4_dev.yml", "nlu_blind4_dev.yml"]
    found = evaluate_quietly(Path(trained_model), [DATA / s for s in sets])
    return {Path(r["set"]).name: r for r in found}


def figures(r):
    return {k: v for k, v in r.items() if isinstance(v, (int, float))}


def test_danger_on_the_held_out_set(results):
    # blind11: written blind in session 8, measured once at the end of session 9's work.
    r = results["danger_blind11.yml"]
    assert r["recall"] >= 0.95, figures(r)              # measured 0.967 (target 0.97: not met, one message)
    assert r["recall_or_check"] >= 0.97, figures(r)     # measured 0.984
    assert r["false_alarms"] <= 0.09, figures(r)        # measured 0.067 (target 0.05: not met)
    assert r["negatives_checked"] <= 0.05, figures(r)   # measured 0.028


def test_intents_harm_carers_and_advocacy_on_the_held_out_set(results):
    r = results["nlu_blind11.yml"]
    assert r["n"] >= 500
    assert r["classifier_accuracy"] >= 0.945, figures(r)   # measured 0.963
    assert r["accuracy"] >= 0.89, figures(r)               # measured 0.908 (target 0.93: not met)
    assert r["macro_f1"] >= 0.93, figures(r)               # measured 0.946
    assert r["wrong_kind_rate"] <= 0.045, figures(r)       # measured 0.028 (target 0.02: not met)
    assert r["harm_out_of_scope"] == 0, figures(r)
    assert r["carer_advocate_right"] >= 0.94, figures(r)   # measured 0.974
    assert r["false_alarms"] <= 0.05, figures(r)           # measured 0.031


def test_development_sets_stay_where_they_were_tuned(results):
    b9 = results["danger_blind9.yml"]  # a development set since session 7
    assert b9["recall"] >= 0.98 and b9["false_alarms"] <= 0.02, figures(b9)  # 0.995 / 0.005
    d = results["danger_blind4_dev.yml"]
    assert d["recall"] >= 0.94 and d["false_alarms"] <= 0.02, figures(d)    # 0.951 / 0.005
    n = results["nlu_blind4_dev.yml"]
    assert n["classifier_accuracy"] >= 0.93 and n["wrong_kind_rate"] <= 0.05, figures(n)  # 0.952 / 0.035
