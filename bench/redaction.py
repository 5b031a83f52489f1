"""How long redaction takes for a 200-message transcript (what an auditor's transcript page runs).

    .venv/bin/python -m bench.redaction [--runs 30] [--out bench/REDACTION.md]

The transcript: 100 people's messages (the development set's, in a seeded
order) and 100 of the assistant's replies (domain.yml), alternating, as the
portal shows them; every one goes through ``bot.text.redact.redact``. The
first call loads the model; then the whole transcript is redacted ``--runs``
times, message by message (``redact``) and all at once (``redact_all``, what
the transcript page uses). Wall time on one process; not run in CI, not
asserted in tests.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def transcript(size: int = 200, seed: int = 3) -> list:
    people = [m["text"] for m in yaml.safe_load((ROOT / "tests/data/redaction_dev.yml").read_text())["messages"]]
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    replies = [v["text"] for variants in domain["responses"].values() for v in variants if v.get("text")]
    rng = random.Random(seed)
    rng.shuffle(people)
    rng.shuffle(replies)
    out = []
    for i in range(size // 2):
        out += [people[i % len(people)], replies[i % len(replies)]]
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "REDACTION.md")
    args = parser.parse_args(argv)

    from bot.text.redact import redact, redact_all
    from bot.text.redact_model import ensure

    ensure()

    messages = transcript()
    started = time.perf_counter()
    redact("my son Darren")
    first = time.perf_counter() - started
    modes = {
        "message by message (`redact`)": lambda: [redact(text) for text in messages],
        "all at once (`redact_all`, the transcript page)": lambda: redact_all(messages),
    }
    chars = sum(len(m) for m in messages)
    lines = [
        "# Redaction: a 200-message transcript",
        "",
        f"`python -m bench.redaction --runs {args.runs}` ({platform.machine()}, {os.cpu_count()} cores shared "
        f"with other work, Python {platform.python_version()}). Not run in CI.",
        "",
        f"- transcript: {len(messages)} messages (100 from people, 100 replies), {chars} characters",
        f"- first call (loads the trained model and the name lists): {first * 1000:.0f} ms, once per process",
    ]
    for name, run in modes.items():
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        times.sort()
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        lines.append(f"- {name}: median {median * 1000:.0f} ms ({median / len(messages) * 1000:.2f} ms a message), "
                     f"p95 {p95 * 1000:.0f} ms, slowest {times[-1] * 1000:.0f} ms ({args.runs} runs)")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
