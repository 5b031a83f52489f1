"""Recall and precision of redaction, per kind, on labelled YAML sets.

    python -m bot.text.redact_eval FILE... [--misses] [--json PATH]

Each file holds ``messages:``, each with ``text`` and ``spans`` (``kind`` and
``text``, the words exactly as they appear; a text that appears twice is
listed twice). Span level: a gold span is found when a predicted span of the
same kind overlaps it; a predicted span is right when it overlaps a gold span
of the same kind. Message text is printed only with ``--misses``.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import yaml

from bot.text.redact import KINDS, spans

Span = Tuple[int, int, str]


class BadSet(ValueError):
    pass


def load(path: Path) -> List[Tuple[str, List[Span]]]:
    """``(text, gold spans)`` for every message of a labelled file."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    out = []
    for number, message in enumerate(data.get("messages") or [], start=1):
        text = str(message["text"])
        gold: List[Span] = []
        after: Dict[str, int] = {}
        for span in message.get("spans") or []:
            kind, words = span["kind"], str(span["text"])
            if kind not in KINDS:
                raise BadSet(f"{path}: message {number}: unknown kind {kind!r}")
            start = text.find(words, after.get(words, 0))
            if start < 0:
                raise BadSet(f"{path}: message {number}: a {kind} span is not in the text")
            after[words] = start + len(words)
            gold.append((start, start + len(words), kind))
        out.append((text, gold))
    return out


def _overlaps(a: Span, others: Iterable[Span]) -> bool:
    return any(o[2] == a[2] and o[0] < a[1] and a[0] < o[1] for o in others)


@dataclass
class Score:
    gold: int = 0
    found: int = 0
    predicted: int = 0
    right: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else float("nan")

    @property
    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else float("nan")


@dataclass
class Report:
    kinds: Dict[str, Score] = field(default_factory=lambda: {k: Score() for k in KINDS})
    messages: int = 0
    clean: int = 0            # messages with no personal details
    clean_touched: int = 0    # ... of which something was redacted anyway
    misses: List[str] = field(default_factory=list)


def evaluate(messages: Sequence[Tuple[str, List[Span]]], keep_misses: bool = False) -> Report:
    report = Report()
    for text, gold in messages:
        predicted = spans(text)
        report.messages += 1
        if not gold:
            report.clean += 1
            report.clean_touched += bool(predicted)
        _count(report, text, gold, predicted, "gold", "found", "missed", keep_misses)
        _count(report, text, predicted, gold, "predicted", "right", "extra ", keep_misses)
    return report


def _count(report: Report, text: str, these: List[Span], others: List[Span], total: str, hit: str,
           word: str, keep_misses: bool) -> None:
    """Count ``these`` spans into ``total``, and into ``hit`` those an ``others`` span of their kind overlaps."""
    for span in these:
        score = report.kinds[span[2]]
        setattr(score, total, getattr(score, total) + 1)
        if _overlaps(span, others):
            setattr(score, hit, getattr(score, hit) + 1)
        elif keep_misses:
            report.misses.append(f"{word} {span[2]:8} {text[span[0]:span[1]]!r} in {text!r}")


def _fmt(value: float) -> str:
    return "  -  " if value != value else f"{value:.3f}"


def render(name: str, report: Report) -> str:
    lines = [f"{name}: {report.messages} messages, {report.clean} with no personal details "
             f"({report.clean_touched} of them changed anyway)",
             f"  {'kind':9} {'gold':>5} {'recall':>7} {'predicted':>10} {'precision':>9}"]
    for kind, s in report.kinds.items():
        lines.append(f"  {kind:9} {s.gold:5d} {_fmt(s.recall):>7} {s.predicted:10d} {_fmt(s.precision):>9}")
    return "\n".join(lines)


def as_dict(report: Report) -> dict:
    return {"messages": report.messages, "clean": report.clean, "clean_touched": report.clean_touched,
            "kinds": {k: {"gold": s.gold, "found": s.found, "predicted": s.predicted, "right": s.right}
                      for k, s in report.kinds.items()}}


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--misses", action="store_true", help="print missed and extra spans with their message")
    parser.add_argument("--json", type=Path, help="also write the counts as JSON here")
    args = parser.parse_args(argv)
    results = {}
    for path in args.files:
        report = evaluate(load(path), keep_misses=args.misses)
        print(render(str(path), report))
        for line in report.misses:
            print("   ", line)
        results[str(path)] = as_dict(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
