"""Which runtime for the sentence encoder: ONNX Runtime, TensorFlow graph or NumPy, measured.

    python -m bench.encoder          # writes bench/ENCODER.md

The three implementations of bot/text/encoder.py run the same messages one at a
time (as the Rasa server does), alternating so that a change in the shared
machine's speed hits all alike, each on one thread as the Rasa server
runs them. Reports median and p95 per message, by length, and
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


BACKENDS = ("onnx", "tensorflow", "numpy")
NAMES = {"onnx": "ONNX Runtime", "tensorflow": "TensorFlow", "numpy": "NumPy"}


def main() -> int:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from bot.text.encoder import SentenceEncoder

    encoders, load, memory = {}, {}, {}
    for name in BACKENDS:  # loaded one after another: each adds its own memory
        before = rss_mib()
        t0 = time.perf_counter()
        encoders[name] = SentenceEncoder(backend=name)
        encoders[name].encode(["warm up"])
        load[name] = time.perf_counter() - t0
        memory[name] = rss_mib() - before
    rounds = 40
    rows = []
    for label, text in MESSAGES.items():
        times = {name: [] for name in BACKENDS}
        for enc in encoders.values():
            enc.encode([text])  # warm
        for _ in range(rounds):
            for name, enc in encoders.items():
                t = time.perf_counter()
                enc.encode([text])
                times[name].append((time.perf_counter() - t) * 1000)
        tokens = len(encoders["onnx"].tokenizer.encode(text).ids)
        rows.append((label, tokens, {k: (statistics.median(v), sorted(v)[int(0.95 * len(v)) - 1]) for k, v in times.items()}))
    lines = [
        "# Sentence encoder runtime (bench/encoder.py)",
        "",
        f"Run {dt.datetime.now().astimezone().isoformat(timespec='seconds')} on {os.cpu_count()} cores; "
        f"one message per call, {rounds} rounds alternating the runtimes; each runtime on one thread.",
        "",
        "| message | word pieces | " + " | ".join(f"{NAMES[n]} median / p95 ms" for n in BACKENDS) + " |",
        "|---|---:|" + "---:|" * len(BACKENDS),
    ]
    for label, tokens, t in rows:
        lines.append(f"| {label} | {tokens} | " + " | ".join(f"{t[n][0]:.1f} / {t[n][1]:.1f}" for n in BACKENDS) + " |")
    lines += [
        "",
        "| runtime | load, verify (SHA-256 of 91 MB) and build or trace (s) | resident memory added (MiB) |",
        "|---|---:|---:|",
    ]
    for name in BACKENDS:
        lines.append(f"| {NAMES[name]} | {load[name]:.1f} | {memory[name]:.0f} |")
    lines += [
        "",
        "TensorFlow itself was already loaded, as in the Rasa server. "
        "The Rasa server uses ONNX Runtime (`MSP_ENCODER_BACKEND=tensorflow` or `numpy` switches).",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
