"""Turn blind sets that have been measured into training data (bot/data/nlu/written_blind.yml).

A blind set is measured once as a held-out set; after that its honest use is
as training data, and a fresh blind set gives the next honest figure. This
script writes the messages of the given NLU sets into one training file,
leaving out those already in the other training files (after lower-casing and
removing punctuation, as the evaluator compares them). It never prints a message.

    python -m scripts.blind_to_training tests/data/nlu_blind5.yml tests/data/nlu_blind6.yml

With ``--helpers`` first, the sets are training sets that helpers wrote from
tests/data/BLIND_SPEC.md alone (never measured, never evaluation data), and
they go to bot/data/nlu/written_by_helpers.yml instead:

    python -m scripts.blind_to_training --helpers bot/text/data/helper_sets/nlu_train_*.yml
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bot" / "data" / "nlu" / "written_blind.yml"
HELPERS_OUT = ROOT / "bot" / "data" / "nlu" / "written_by_helpers.yml"
HEADER = (
    "# Messages from sets written blind ({sources}) by people who never saw the rules or the\n"
    "# training data: each was first measured as a held-out set, then added here so the model learns the\n"
    "# ways people really write. The honest figure comes from a newer blind set that is not in the training data.\n"
    "# Made by scripts/blind_to_training.py from those files; edit the source sets, not this file.\n"
)


HELPERS_HEADER = (
    "# Messages written for training by helpers who had only tests/data/BLIND_SPEC.md ({sources}):\n"
    "# they never saw the rules, the training data or any evaluation set. Never used for measuring.\n"
    "# Made by scripts/blind_to_training.py --helpers from those files; edit the source sets, not this file.\n"
)


def examples(path: Path) -> Dict[str, List[str]]:
    """Texts by intent, read by Rasa's own loader (entity mark-up becomes its words)."""
    from bot.text.nlu_eval import load_nlu

    out: Dict[str, List[str]] = {}
    for text, intent in load_nlu(path):
        out.setdefault(intent, []).append(text)
    return out


def main(argv: List[str]) -> int:
    from bot.text.nlu_eval import _norm, is_danger_set, load_danger
    from scripts.model import component_training_files

    out, header = OUT, HEADER
    if argv[:1] == ["--helpers"]:
        argv, out, header = argv[1:], HELPERS_OUT, HELPERS_HEADER
    if not argv:
        print(__doc__)
        return 2
    seen = set()
    for path in sorted((ROOT / "bot" / "data" / "nlu").glob("*.yml")):
        if path != out:
            seen.update(_norm(t) for texts in examples(path).values() for t in texts)
    # Messages that are also in a set still used for measuring stay out of
    # training, so those sets keep every message (compared, never printed).
    # The danger sets the learned detector trains on (config.yml) are not.
    sources = {Path(s).resolve() for s in argv}
    learned_from = {p.resolve() for p in component_training_files()}
    for path in sorted((ROOT / "tests" / "data").glob("*.yml")):
        if path.resolve() in sources | learned_from:
            continue
        if is_danger_set(path):
            seen.update(_norm(t) for group in load_danger(path).values() for t in group)
        elif "nlu" in (yaml.safe_load(path.read_text()) or {}):
            seen.update(_norm(t) for texts in examples(path).values() for t in texts)
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    known = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    merged: Dict[str, List[str]] = {}
    skipped = 0
    for source in argv:
        for intent, texts in examples(Path(source)).items():
            if intent not in known:
                raise SystemExit(f"{source}: intent {intent} is not in domain.yml")
            for text in texts:
                if _norm(text) in seen:
                    skipped += 1
                    continue
                seen.add(_norm(text))
                merged.setdefault(intent, []).append(text)

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|" if "\n" in v else None))
    body = {"version": "3.1", "nlu": [{"intent": i, "examples": "".join(f"- {t}\n" for t in merged[i])} for i in sorted(merged)]}
    sources = ", ".join(argv)
    out.write_text(header.format(sources=sources) + yaml.dump(body, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=10000))
    print(f"{out.relative_to(ROOT)}: {sum(map(len, merged.values()))} messages "
          f"({skipped} left out: already in the training data or in a set used for measuring)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
