"""Which labelled messages the danger rules now match differently from another revision.

    python -m scripts.danger_rule_diff [REV]      (default HEAD)

Loads ``bot/text/danger.py`` as it was at REV beside the working copy and runs
both over every danger set the rules may be developed on (training files,
development sets and spent blind sets) and over the NLU training data. Prints
each message that gained or lost a match, then the counts per group. The
held-out sets (``bot.text.nlu_eval.HELD_OUT``) are never read: their messages
must not be seen while the rules are changed.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _old_module(rev: str):
    source = subprocess.run(["git", "show", f"{rev}:bot/text/danger.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "danger_at_rev.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("danger_at_rev", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["danger_at_rev"] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    from bot.text import danger as new
    from bot.text.nlu_eval import HELD_OUT

    old = _old_module(argv[0] if argv else "HEAD")
    counts: Counter = Counter()
    files = sorted((ROOT / "tests" / "data").glob("danger_*.yml")) + sorted((ROOT / "bot" / "text" / "data").rglob("danger_*.yml"))
    for path in files:
        if path.name in HELD_OUT:
            continue
        for group, texts in (yaml.safe_load(path.read_text()) or {}).items():
            for text in texts or []:
                if not isinstance(text, str):
                    continue
                before, after = bool(old.detect(text)), bool(new.detect(text))
                counts[(group, before, after)] += 1
                if before != after:
                    print(f"{'LOST  ' if before else 'GAINED'} {group:18s} {path.name:26s} {text}")
    for path in sorted((ROOT / "bot" / "data" / "nlu").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu", []):
            for line in str(item.get("examples", "")).splitlines():
                text = line[2:].strip() if line.startswith("- ") else ""
                if text and bool(old.detect(text)) != bool(new.detect(text)):
                    print(f"{'LOST  ' if old.detect(text) else 'GAINED'} nlu:{item.get('intent')} {text}")
    for (group, before, after), n in sorted(counts.items()):
        if before != after:
            print(f"{group}: {'lost' if before else 'gained'} a match: {n}")
    lost_positive = sum(n for (g, b, a), n in counts.items() if g.startswith("positives") and b and not a)
    print(f"dangerous messages that lost a rule match: {lost_positive}")
    return 1 if lost_positive else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
