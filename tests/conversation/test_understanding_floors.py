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
    sets = ["danger_blind8.yml", "nlu_blind8.yml", "danger_blind4_dev.yml", "nlu_blind4_dev.yml"]
    found = evaluate_quietly(Path(trained_model), [DATA / s for s in sets])
    return {Path(r["set"]).name: r for r in found}


def figures(r):
    return {k: v for k, v in r.items() if isinstance(v, (int, float))}


def test_danger_on_the_held_out_set(results):
    r = results["danger_blind8.yml"]
    assert r["recall"] >= 0.95, figures(r)              # measured 0.963
    assert r["recall_or_check"] >= 0.96, figures(r)     # measured 0.974
    assert r["false_alarms"] <= 0.16, figures(r)        # measured 0.137 (target 0.05: not met)
    assert r["negatives_checked"] <= 0.04, figures(r)   # measured 0.012


def test_intents_harm_carers_and_advocacy_on_the_held_out_set(results):
    r = results["nlu_blind8.yml"]
    assert r["n"] >= 500
    assert r["classifier_accuracy"] >= 0.89, figures(r)    # measured 0.914
    assert r["accuracy"] >= 0.83, figures(r)               # measured 0.855
    assert r["macro_f1"] >= 0.88, figures(r)               # measured 0.907
    assert r["wrong_kind_rate"] <= 0.045, figures(r)       # measured 0.025 (target 0.02: not met)
    assert r["harm_out_of_scope"] == 0, figures(r)
    assert r["carer_advocate_right"] >= 0.93, figures(r)   # measured 0.972
    assert r["false_alarms"] <= 0.08, figures(r)           # measured 0.059


def test_development_sets_stay_where_they_were_tuned(results):
    d = results["danger_blind4_dev.yml"]
    assert d["recall"] >= 0.95 and d["false_alarms"] <= 0.02, figures(d)    # 0.972 / 0.005
    n = results["nlu_blind4_dev.yml"]
    assert n["classifier_accuracy"] >= 0.90 and n["wrong_kind_rate"] <= 0.06, figures(n)  # 0.925 / 0.042
