"""Accuracy of the outcome category suggestion on labelled sets.

    python -m bot.text.outcome_eval tests/data/outcomes_labelled.yml [more files]

Each file holds ``outcomes:``, a list of ``{text, category}``. The report gives
accuracy, precision and recall per category, and every mistake.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List

import yaml

from bot.actions.outcome_categories import suggest_category
from bot.records.models import OUTCOME_CATEGORIES


def load(path: str | Path) -> List[dict]:
    data = yaml.safe_load(Path(path).read_text()) or {}
    items = []
    for row in data.get("outcomes", []):
        category = str(row["category"])
        if category not in OUTCOME_CATEGORIES:
            raise ValueError(f"{path}: unknown category {category!r} for {row.get('text')!r}")
        items.append({"text": str(row.get("text") or ""), "category": category})
    return items


def evaluate(items: List[dict]) -> dict:
    mistakes: List[dict] = []
    support: Dict[str, int] = {c: 0 for c in OUTCOME_CATEGORIES}
    predicted: Dict[str, int] = {c: 0 for c in OUTCOME_CATEGORIES}
    correct: Dict[str, int] = {c: 0 for c in OUTCOME_CATEGORIES}
    for item in items:
        expected, got = item["category"], suggest_category(item["text"])
        support[expected] += 1
        predicted[got] += 1
        if got == expected:
            correct[expected] += 1
        else:
            mistakes.append({"text": item["text"], "expected": expected, "got": got})
    per_category = {
        c: {
            "precision": correct[c] / predicted[c] if predicted[c] else 0.0,
            "recall": correct[c] / support[c] if support[c] else 0.0,
            "support": support[c],
            "predicted": predicted[c],
        }
        for c in OUTCOME_CATEGORIES
    }
    n = len(items)
    return {
        "n": n,
        "correct": n - len(mistakes),
        "accuracy": (n - len(mistakes)) / n if n else 0.0,
        "per_category": per_category,
        "mistakes": mistakes,
    }


def report(path: str | Path) -> str:
    r = evaluate(load(path))
    lines = [
        f"labelled set: {path} ({r['n']} outcomes)",
        f"accuracy {r['accuracy']:.3f} ({r['correct']} of {r['n']})",
        f"  {'category':<24} {'precision':>9} {'recall':>7} {'support':>7}",
    ]
    for category, m in r["per_category"].items():
        lines.append(f"  {category:<24} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['support']:>7}")
    for item in r["mistakes"]:
        lines.append(f"  mistake: {json.dumps(item, ensure_ascii=False)}")
    return "\n".join(lines)


def main(argv: List[str]) -> int:
    paths = argv[1:] or ["tests/data/outcomes_labelled.yml"]
    for i, path in enumerate(paths):
        if i:
            print()
        if not Path(path).exists():
            print(f"labelled set: {path} (not there yet, skipped)")
            continue
        print(report(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
