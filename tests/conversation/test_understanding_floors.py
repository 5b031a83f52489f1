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
    sets = ["danger_blind28.yml", "nlu_blind28.yml", "danger_blind27.yml", "nlu_blind27.yml",
            "danger_blind26.yml", "nlu_blind26.yml",
            "danger_blind4_dev.yml", "nlu_blind4_dev.yml", "danger_blind14_dev.yml", "nlu_blind14_dev.yml"]
    found = evaluate_quietly(Path(trained_model), [DATA / s for s in sets])
    return {Path(r["set"]).name: r for r in found}


def figures(r):
    return {k: v for k, v in r.items() if isinstance(v, (int, float))}


def test_danger_on_blind26(results):
    # blind26: written blind in session 18 (its writer was asked also to think
    # hard about everyday uses of danger words, and to describe harm without
    # naming its kind), committed unread, measured once at the end of session
    # 18's second round (never tuned on; messages never printed). blind24 and
    # blind25 are training data since that round (each measured once before it).
    r = results["danger_blind26.yml"]
    assert r["recall"] >= 0.97, figures(r)              # measured 0.983 (290 of 295; target 0.97: met)
    assert r["recall_or_check"] >= 0.975, figures(r)    # measured 0.990
    assert r["false_alarms"] <= 0.06, figures(r)        # measured 0.042 (8 of 192; target 0.05: met)
    assert r["negatives_checked"] <= 0.02, figures(r)   # measured 0.005


def test_intents_harm_carers_and_advocacy_on_blind26(results):
    r = results["nlu_blind26.yml"]
    assert r["n"] >= 1650
    assert r["classifier_accuracy"] >= 0.945, figures(r)   # measured 0.956
    assert r["accuracy"] >= 0.93, figures(r)               # measured 0.939 (strict 0.928; target 0.93: met)
    assert r["accuracy_strict"] >= 0.915, figures(r)
    assert r["macro_f1"] >= 0.945, figures(r)              # measured 0.955
    assert r["wrong_kind_rate"] <= 0.03, figures(r)        # measured 0.020 (10 of 503; target 0.02: met, just)
    assert r["harm_out_of_scope"] <= 1, figures(r)         # measured 0
    assert r["carer_advocate_right"] >= 0.95, figures(r)   # measured 0.972
    assert r["false_alarms"] <= 0.03, figures(r)           # measured 0.018


def test_danger_on_blind27(results):
    # blind27: written blind at the end of session 18 (the same brief as
    # blind26), committed unread, measured once in session 19 on the model
    # blind26 was measured on (never tuned on; messages never printed).
    r = results["danger_blind27.yml"]
    assert r["recall"] >= 0.965, figures(r)             # measured 0.975 (186 of 189 now, 121 of 126 suicide; target 0.97: met)
    assert r["recall_or_check"] >= 0.98, figures(r)     # measured 0.990
    assert r["false_alarms"] <= 0.06, figures(r)        # measured 0.050 (10 of 199; target 0.05: met, at the limit)
    assert r["negatives_checked"] <= 0.03, figures(r)   # measured 0.015


def test_intents_harm_carers_and_advocacy_on_blind27(results):
    r = results["nlu_blind27.yml"]
    assert r["n"] >= 1400
    assert r["classifier_accuracy"] >= 0.93, figures(r)    # measured 0.941
    assert r["accuracy"] >= 0.895, figures(r)              # measured 0.906 (strict 0.890; target 0.93: NOT met)
    assert r["accuracy_strict"] >= 0.88, figures(r)
    assert r["macro_f1"] >= 0.925, figures(r)              # measured 0.938
    assert r["wrong_kind_rate"] <= 0.03, figures(r)        # measured 0.017 (11 of 636; target 0.02: met)
    assert r["harm_out_of_scope"] <= 1, figures(r)         # measured 0
    assert r["carer_advocate_right"] >= 0.94, figures(r)   # measured 0.961
    assert r["false_alarms"] <= 0.035, figures(r)          # measured 0.022


def test_danger_on_blind28(results):
    # blind28: written blind in session 19 (the same brief as blind26 and
    # blind27, and asked to vary who writes and how long), committed unread,
    # measured in session 20 on the final model, msp-5fd95830882d105b: the model blind26
    # and blind27 were measured on, less one training example blind28 shared (taken out
    # unread). The same figures on both. Never tuned on; messages never printed.
    r = results["danger_blind28.yml"]
    assert r["recall"] >= 0.965, figures(r)             # measured 0.973 (157 of 161 now, 93 of 96 suicide; target 0.97: met)
    assert r["recall_or_check"] >= 0.975, figures(r)    # measured 0.984
    assert r["false_alarms"] <= 0.065, figures(r)       # measured 0.053 (11 of 209; target 0.05: NOT met)
    assert r["negatives_checked"] <= 0.02, figures(r)   # measured 0.005


def test_intents_harm_carers_and_advocacy_on_blind28(results):
    r = results["nlu_blind28.yml"]
    assert r["n"] >= 1500
    assert r["classifier_accuracy"] >= 0.955, figures(r)   # measured 0.966
    assert r["accuracy"] >= 0.93, figures(r)               # measured 0.943 (strict 0.933; target 0.93: met)
    assert r["accuracy_strict"] >= 0.92, figures(r)
    assert r["macro_f1"] >= 0.95, figures(r)               # measured 0.963
    assert r["wrong_kind_rate"] <= 0.03, figures(r)        # measured 0.017 (9 of 524; target 0.02: met)
    assert r["harm_out_of_scope"] <= 1, figures(r)         # measured 0
    assert r["carer_advocate_right"] >= 0.95, figures(r)   # measured 1.000
    assert r["false_alarms"] <= 0.03, figures(r)           # measured 0.016


def test_development_set_stays_where_it_was_tuned(results):
    d = results["danger_blind4_dev.yml"]  # development set
    assert d["recall"] >= 0.95 and d["false_alarms"] <= 0.02, figures(d)    # 0.959 / 0.000 (session 18, first round's model; 0.963 / 0.000 in 17)
    n = results["nlu_blind4_dev.yml"]
    assert n["classifier_accuracy"] >= 0.93 and n["wrong_kind_rate"] <= 0.04, figures(n)  # 0.968 / 0.017 (session 18, first round's model; 0.966 / 0.017 in 17)
    d = results["danger_blind14_dev.yml"]  # development set since session 11 (read; the rules widened on it)
    assert d["recall"] >= 0.97 and d["false_alarms"] <= 0.02, figures(d)    # 0.991 / 0.007 (session 18, first round's model; 0.991 / 0.007 in 17)
    n = results["nlu_blind14_dev.yml"]
    assert n["classifier_accuracy"] >= 0.95 and n["wrong_kind_rate"] <= 0.03, figures(n)  # 0.982 / 0.011 (session 18, first round's model; 0.984 / 0.011 in 17)
