"""A/B of server settings at 10 closed-loop conversations: the quick way to try a change.

    .venv/bin/python -m bench.ab MSP_ENCODE_AHEAD=0
    .venv/bin/python -m bench.ab MSP_ENCODE_AHEAD=1 --mix
    .venv/bin/python -m bench.ab --model models/<name>.tar.gz MSP_PARSE_WORKERS=2

The model is the one `make train` made for today's data (``--model`` picks
another). Starts the real action server and Rasa server (``scripts.stack.Stack``, as
``bench.run`` does) with the given environment variables, warms up, then runs
``--levels`` levels of ``--messages`` messages at ``--concurrency`` and prints
one line a level: throughput, p50/p95/p99, the forms' own p95 (with
``--mix``: outcomes and feedback conversations in the mix, as "ours" in
``bench.run``), and the Rasa server's CPU per message. ``TRACKER=memory``
(or ``wal-normal``, ``rasa-sql``) changes the tracker store as
``bench.run.resolved_endpoints`` does.

This machine's speed changes from hour to hour: run the settings you compare
one after the other, interleaved (A, B, A, B), and compare within a pair.
Session 19 used it for encoding ahead, two parse workers, the GIL switch
interval and the tracker store (``bench/session19/README.md``).
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench import procinfo
from bench.load import run_level
from bench.run import ROOT, issue_codes, issue_feedback, resolved_endpoints
from scripts.model import model_path
from scripts.stack import Stack, free_port, new_token


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="models/<name>.tar.gz (default: the model for today's data)")
    p.add_argument("env", nargs="*", help="NAME=value for the servers (TRACKER=... picks the tracker store)")
    p.add_argument("--mix", action="store_true", help="outcomes and feedback conversations in the mix")
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--messages", type=int, default=600)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--levels", type=int, default=2)
    opts = p.parse_args()
    model = Path(opts.model) if opts.model else model_path()
    if not (ROOT / model).exists():
        p.error(f"{model} does not exist: run `make train` first, or give --model")
    env = dict(a.split("=", 1) for a in opts.env)
    tracker = env.pop("TRACKER", "sql")
    tmp = Path(tempfile.mkdtemp(prefix="msp-ab-"))
    stack = Stack(model=ROOT / model, rasa_port=free_port(), actions_port=free_port(),
                  var_dir=tmp / "var", token=new_token(), log_dir=tmp / "logs", rest_token=new_token(),
                  extra_env=env)
    stack.endpoints = str(resolved_endpoints(stack, tracker, tmp / "endpoints.yml"))
    stack.start(timeout=400)
    try:
        url, headers = stack.rest_url, stack.rest_headers()
        codes = surveys = None
        if opts.mix:
            db = stack.env()["DATABASE_URL"]
            codes = issue_codes(db, opts.levels * opts.messages // 6 + 20, "ab")
            surveys = issue_feedback(db, opts.levels * opts.messages // 12 + 20, "ab")
        asyncio.run(run_level(url, 4, 40, 20, tag="warm", seed=99, headers=headers))
        pid = stack.procs["rasa"].pid
        for i in range(opts.levels):
            before = procinfo.cpu_seconds(procinfo.tree(pid))
            r = asyncio.run(run_level(url, opts.concurrency, opts.messages, opts.seconds, tag=f"ab-{i}",
                                      seed=1000 + i, codes=codes, feedback=surveys, headers=headers)).summary()
            cpu = 1000 * (procinfo.cpu_seconds(procinfo.tree(pid)) - before) / max(1, r["messages"])
            print(f"{' '.join(opts.env) or '(defaults)'}: {r['messages']} msgs, {r['throughput_msg_s']} msg/s, "
                  f"p50 {r['p50_ms']} / p95 {r['p95_ms']} / p99 {r['p99_ms']} ms, outcomes p95 "
                  f"{r['outcome_p95_ms']} ms, feedback p95 {r['feedback_p95_ms']} ms, errors {r['errors']}, "
                  f"Rasa CPU {cpu:.1f} ms/msg", flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
