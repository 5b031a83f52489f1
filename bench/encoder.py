"""Which runtime for the sentence encoder: TensorFlow graph or NumPy, measured.

    python -m bench.encoder          # writes bench/ENCODER.md

Both implementations of bot/text/encoder.py run the same messages one at a
time (as the Rasa server does), alternating so that a change in the shared
machine's speed hits both alike, with TensorFlow limited to one thread as
scripts/stack.py runs it. Reports median and p95 per message, by length, and
the process memory each adds.
"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", "1")
os.environ.setdefault("TF_INTER_OP_PARALLELISM_THREADS", "1")

OUT = Path(__file__).resolve().parent / "ENCODER.md"
MESSAGES = {
    "short (3 words)": "he hit me",
    "typical (15 words)": "my son keeps taking money out of my purse and i dont know what to do",
    "long (60 words)": " ".join(["my neighbour is an old lady who lives alone and I worry about her"] * 4),
    "very long (250 words)": " ".join(["the staff at the home leave residents in bed all day with no food"] * 18),
}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    before = rss_mib()
    from bot.text.encoder import SentenceEncoder

    t0 = time.perf_counter()
    tf_enc = SentenceEncoder(backend="tensorflow")
    load_tf = time.perf_counter() - t0
    after_tf = rss_mib()
    np_enc = SentenceEncoder(backend="numpy")
    rounds = 40
    rows = []
    for label, text in MESSAGES.items():
        times = {"tensorflow": [], "numpy": []}
        for enc in (tf_enc, np_enc):
            enc.encode([text])  # warm
        for _ in range(rounds):
            for name, enc in (("tensorflow", tf_enc), ("numpy", np_enc)):
                t = time.perf_counter()
                enc.encode([text])
                times[name].append((time.perf_counter() - t) * 1000)
        tokens = len(tf_enc.tokenizer.encode(text).ids)
        rows.append((label, tokens, {k: (statistics.median(v), sorted(v)[int(0.95 * len(v)) - 1]) for k, v in times.items()}))
    lines = [
        "# Sentence encoder runtime (bench/encoder.py)",
        "",
        f"Run {dt.datetime.now().astimezone().isoformat(timespec='seconds')} on {os.cpu_count()} cores; "
        f"one message per call, {rounds} rounds alternating the two runtimes; TensorFlow on one thread.",
        "",
        "| message | word pieces | TensorFlow median / p95 ms | NumPy median / p95 ms |",
        "|---|---:|---:|---:|",
    ]
    for label, tokens, t in rows:
        lines.append(f"| {label} | {tokens} | {t['tensorflow'][0]:.1f} / {t['tensorflow'][1]:.1f} "
                     f"| {t['numpy'][0]:.1f} / {t['numpy'][1]:.1f} |")
    lines += [
        "",
        f"Loading and verifying the model (SHA-256 of 91 MB) and tracing the TensorFlow graph: {load_tf:.1f} s; "
        f"resident memory {before:.0f} -> {after_tf:.0f} MiB (TensorFlow itself was already loaded, as in the Rasa server).",
        "",
        "The Rasa server uses the TensorFlow graph (`MSP_ENCODER_BACKEND=numpy` switches).",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
