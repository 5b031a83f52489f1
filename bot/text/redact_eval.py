"""Recall and precision of redaction, per kind, on labelled YAML sets.

    python -m bot.text.redact_eval FILE... [--misses] [--json PATH] [--spans MODULE:FUNCTION]

Each file holds ``messages:``, each with ``text`` and ``spans`` (``kind`` and
``text``, the words exactly as they appear; a text that appears twice is
listed twice). Span level: a gold span is found when a predicted span of the
same kind overlaps it; a predicted span is right when it overlaps a gold span
of the same kind. Only figures are printed: message text only with
``--misses`` (never use it on a blind set), and a file that cannot be read
is named with a line number, never quoted.

``--spans`` measures another redactor with the same counting (default
``bot.text.redact:spans``, whose model is trained first if it is missing);
``scripts.redaction_before:spans`` is the regular expressions the portal used
before issue 12's redaction, for "before" figures.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.text.redact import KINDS, spans

DEFAULT_SPANS = "bot.text.redact:spans"

Span = Tuple[int, int, str]


class BadSet(ValueError):
    pass


def load(path: Path) -> List[Tuple[str, List[Span]]]:
    """``(text, gold spans)`` for every message of a labelled file."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as error:  # its message would quote the file
        mark = getattr(error, "problem_mark", None)
        raise BadSet(f"{path}: not valid YAML" + (f" (line {mark.line + 1})" if mark else "")) from None
    out = []
    for number, message in enumerate(data.get("messages") or [], start=1):
        if not isinstance(message, dict) or "text" not in message:
            raise BadSet(f"{path}: message {number} has no text")
        text = str(message["text"])
        gold: List[Span] = []
        after: Dict[str, int] = {}
        for span in message.get("spans") or []:
            if not isinstance(span, dict) or "kind" not in span or "text" not in span:
                raise BadSet(f"{path}: message {number}: a span needs a kind and a text")
            kind, words = span["kind"], str(span["text"])
            if kind not in KINDS:
                raise BadSet(f"{path}: message {number}: unknown kind")
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


def evaluate(messages: Sequence[Tuple[str, List[Span]]], keep_misses: bool = False,
             find: Optional[Callable[[str], List[Span]]] = None) -> Report:
    report = Report()
    find = find or spans
    for text, gold in messages:
        predicted = find(text)
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


def spans_function(name: str) -> Callable[[str], List[Span]]:
    """``module:function`` -> the function (``bot.text.redact:spans`` has its model trained first if missing)."""
    module, _, function = name.partition(":")
    if name == DEFAULT_SPANS:
        from bot.text import redact_model

        redact_model.ensure(quiet=True)
    return getattr(importlib.import_module(module), function or "spans")


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--misses", action="store_true",
                        help="also print missed and extra spans with their message (development sets only)")
    parser.add_argument("--json", type=Path, help="also write the counts as JSON here")
    parser.add_argument("--spans", default=DEFAULT_SPANS, metavar="MODULE:FUNCTION",
                        help=f"the redactor to measure (default {DEFAULT_SPANS})")
    args = parser.parse_args(argv)
    find = spans_function(args.spans)
    results = {}
    for path in args.files:
        try:
            messages = load(path)
        except BadSet as error:
            print(f"redact_eval: {error}", file=sys.stderr)
            return 2
        try:
            report = evaluate(messages, keep_misses=args.misses, find=find)
        except Exception as error:  # its message could quote a message of a blind set
            print(f"redact_eval: {type(error).__name__} while measuring {path} (details withheld; "
                  "reproduce on a development set)", file=sys.stderr)
            return 3
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
