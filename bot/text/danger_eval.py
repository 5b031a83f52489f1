"""Recall and false alarms of the danger net on its labelled set.

    python -m bot.text.danger_eval tests/data/danger_labelled.yml
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List

import yaml

from bot.text.danger import detect

GROUPS = {"positives_now": "now", "positives_suicide": "suicide", "negatives": None}


def load(path: str | Path) -> Dict[str, List[str]]:
    data = yaml.safe_load(Path(path).read_text())
    return {group: [str(t) for t in data.get(group, [])] for group in GROUPS}


def evaluate(path: str | Path) -> dict:
    data = load(path)
    misses: List[dict] = []
    wrong_kind: List[dict] = []
    false_alarms: List[dict] = []
    counts = {}
    for group, expected in GROUPS.items():
        texts = data[group]
        hits = 0
        for text in texts:
            result = detect(text)
            if expected is None:
                if result.kind:
                    false_alarms.append({"text": text, "kind": result.kind, "matched": result.matched})
                continue
            if result.kind:
                hits += 1
                if result.kind != expected:
                    wrong_kind.append({"text": text, "expected": expected, "got": result.kind})
            else:
                misses.append({"text": text, "expected": expected})
        counts[group] = {"n": len(texts), "detected": hits}
    positives = counts["positives_now"]["n"] + counts["positives_suicide"]["n"]
    detected = counts["positives_now"]["detected"] + counts["positives_suicide"]["detected"]
    negatives = counts["negatives"]["n"]
    return {
        "positives": positives,
        "negatives": negatives,
        "recall": detected / positives if positives else 0.0,
        "recall_now": counts["positives_now"]["detected"] / max(1, counts["positives_now"]["n"]),
        "recall_suicide": counts["positives_suicide"]["detected"] / max(1, counts["positives_suicide"]["n"]),
        "false_alarm_rate": len(false_alarms) / negatives if negatives else 0.0,
        "kind_errors": wrong_kind,
        "misses": misses,
        "false_alarms": false_alarms,
    }


def main(argv: List[str]) -> int:
    path = argv[1] if len(argv) > 1 else "tests/data/danger_labelled.yml"
    r = evaluate(path)
    print(f"labelled set: {path} ({r['positives']} dangerous, {r['negatives']} not)")
    print(f"recall {r['recall']:.3f} (now {r['recall_now']:.3f}, suicide {r['recall_suicide']:.3f})")
    print(f"false alarms {r['false_alarm_rate']:.3f} ({len(r['false_alarms'])} of {r['negatives']})")
    for key in ("misses", "false_alarms", "kind_errors"):
        for item in r[key]:
            print(f"  {key[:-1] if key != 'misses' else 'miss'}: {json.dumps(item, ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
