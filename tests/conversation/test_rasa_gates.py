"""Rasa's own quality gates, in order: validate -> (train) -> stories -> NLU.

The model comes from the shared session fixture (trained once per content hash).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parents[2]
RASA = str(Path(sys.executable).with_name("rasa"))
# Floors the held-out NLU set must meet (measured figures are in README and
# bench/RESULTS.md; the floor sits a few points below them so that a real
# regression fails and ordinary noise does not).
NLU_ACCURACY_FLOOR = 0.86
NLU_MACRO_F1_FLOOR = 0.88


def run(args, out_dir=None):
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([RASA, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)


def test_data_validates_without_warnings():
    """Rasa's checks (scripts/validate.py): any warning fails; form questions count as used."""
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-m", "scripts.validate", "--config", "config.yml",
                             "--domain", "domain.yml", "--data", "bot/data"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.findall(r"UserWarning: (.+)", output) == []
    assert "No story structure conflicts found" in output
    # Every question of the outcomes form is a response the Rasa server sends itself.
    assert "utter_ask_outcomes_form_outcome_role" in result.stdout


def test_every_story_and_rule_path_passes(trained_model, tmp_path):
    out = tmp_path / "core"
    result = run(["test", "core", "--model", str(trained_model), "--stories", "tests/stories",
                  "--e2e", "--fail-on-prediction-errors", "--out", str(out)])
    failed = out / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:] + "\n" + detail[:6000]
    report = json.loads((out / "story_report.json").read_text())
    assert report["accuracy"] == 1.0


def _norm(text):
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def test_heldout_nlu_set_is_not_training_data():
    training = {_norm(m.get("text")) for m in load_data(str(ROOT / "bot/data/nlu")).training_examples}
    heldout = load_data(str(ROOT / "tests/data/nlu_heldout.yml"))
    overlap = [m.get("text") for m in heldout.training_examples if _norm(m.get("text")) in training]
    assert not overlap, overlap
    trained_intents = set(load_data(str(ROOT / "bot/data/nlu")).intents)
    # describe_harm (harm in general words, issue 9) came after this set was
    # written; the blind sets of issue 9 measure how it is reached.
    # cancel_advocacy (issue 13, session 16) came after it too: the stories and
    # tests/integration/test_advocacy_e2e.py test it.
    assert set(heldout.intents) >= trained_intents - {"danger_now", "danger_suicide", "describe_harm",
                                                      "cancel_advocacy"}


def test_heldout_nlu_accuracy_meets_the_floor(trained_model, tmp_path):
    out = tmp_path / "nlu"
    result = run(["test", "nlu", "--model", str(trained_model), "--nlu", "tests/data/nlu_heldout.yml",
                  "--out", str(out)])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    report = json.loads((out / "intent_report.json").read_text())
    accuracy, macro_f1 = report["accuracy"], report["macro avg"]["f1-score"]
    results_dir = ROOT / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / "nlu_heldout.json").write_text(json.dumps(
        {"accuracy": accuracy, "macro_f1": macro_f1, "examples": report["macro avg"]["support"]}, indent=2))
    print(f"\nheld-out NLU accuracy {accuracy:.3f}, macro F1 {macro_f1:.3f}")
    assert accuracy >= NLU_ACCURACY_FLOOR, f"accuracy {accuracy:.3f} < {NLU_ACCURACY_FLOOR}"
    assert macro_f1 >= NLU_MACRO_F1_FLOOR, f"macro F1 {macro_f1:.3f} < {NLU_MACRO_F1_FLOOR}"


def test_every_rule_and_story_has_a_test_story_with_user_text():
    """Each rule/story's first intent appears in a test story, with user: text."""
    def steps(folder, key):
        for path in (ROOT / folder).rglob("*.yml"):
            for item in (yaml.safe_load(path.read_text()) or {}).get(key, []) or []:
                yield item
    tested_intents = set()
    for key in ("stories",):
        for story in steps("tests/stories", key):
            for step in story["steps"]:
                if "intent" in step:
                    assert step.get("user", "").strip(), f"no user text in {story['story']}"
                    tested_intents.add(step["intent"])
    needed = set()
    for key in ("rules", "stories"):
        for item in steps("bot/data", key):
            needed |= {s["intent"] for s in item["steps"] if "intent" in s}
    assert needed - tested_intents == set()
