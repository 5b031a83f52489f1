"""`make bench`: how fast, how big and how good MSP Assistant is, against Rasa's stock config.

    .venv/bin/python -m bench.run                 # full run (about 30-40 min), writes
                                                  # bench/RESULTS.md and bench/results.json
    .venv/bin/python -m bench.run --quick         # a few minutes; writes bench/quick/
    .venv/bin/python -m bench.run --skip-stock    # only our configuration(s)
    .venv/bin/python -m bench.run --help          # every option (--skip-ted, --levels, ...)

Configurations: ours (config.yml, with outcomes and end-of-enquiry feedback
conversations in the mix, about one in eight each); info (the same without
them); stock (bench/config.stock.yml, Rasa's
defaults on the same domain and data); ted (config.yml + TEDPolicy, generated
as bench/config.ted.yml); memo (config.yml + AugmentedMemoizationPolicy, which
we used to run, generated as bench/config.memo.yml); inmem (our model with an in-memory tracker store);
sql-rasa (our model with Rasa's own SQLTrackerStore on SQLite: rollback journal,
a new connection per session; what we used before WALSQLTrackerStore);
wal-normal or wal-full (our tracker store at the sqlite_synchronous level that
endpoints.yml does not choose); stock-tf (stock with TensorFlow's default
thread pools). A model is trained only
if missing (scripts/model.py); a stock retrain takes about 8 minutes here.

For each configuration in turn (never two at once) it starts the real action
server and Rasa server on free loopback ports (scripts/stack.py), times start
to ready, warms up, then drives the REST channel with many distinct closed-loop
conversations at 1, 10 and 50 at once, measuring per-message latency,
throughput, errors and the CPU each process used; then the RSS of each process
tree; then sends every message of the labelled danger set as the first message
of its own conversation and checks the first reply. Around that: a fresh,
uncached training of config.yml (timed), held-out NLU accuracy (`rasa test nlu`)
and the danger net's recall on its labelled set.

Every server it starts is stopped on the way out, Ctrl-C and SIGTERM included.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bench import procinfo
from bench.load import OUTCOME_WORDS, first_replies, parse_only, run_level
from scripts.model import MODELS, component_training_files, train_command, training_env
from scripts.stack import BIN, ROOT, Stack, base_env, free_port, new_token

BENCH = ROOT / "bench"
HELDOUT_NLU = "tests/data/nlu_heldout.yml"
DANGER_SET = "tests/data/danger_labelled.yml"

VARIANTS: Dict[str, Dict[str, str]] = {
    # With outcomes and feedback conversations in the mix (since session 19;
    # outcomes only before).
    "ours": {"config": "config.yml", "prefix": "msp",
             "label": "ours (config.yml)"},
    # Same model and store as "ours"; only information, danger, carer and
    # small-talk conversations (no outcomes or feedback form, so no custom actions).
    "info": {"config": "config.yml", "prefix": "msp", "outcomes": False,
             "label": "ours, without outcomes or feedback conversations (no custom actions)"},
    # config.yml without the sentence encoder and the learned danger detector
    # that reads its vectors (issue 9): what understanding unseen phrasing costs.
    "noenc": {"config": "bench/config.noenc.yml", "prefix": "noenc",
              "label": "ours without the sentence encoder (bench/config.noenc.yml)"},
    "noenc-info": {"config": "bench/config.noenc.yml", "prefix": "noenc", "outcomes": False,
                   "label": "ours without the sentence encoder, without outcomes or feedback conversations"},
    "stock": {"config": "bench/config.stock.yml", "prefix": "stock",
              "label": "stock (Rasa 3.6 default pipeline and policies)"},
    "ted": {"config": "bench/config.ted.yml", "prefix": "ted",
            "label": "ours + TEDPolicy (bench/config.ted.yml)"},
    # What we ran before: config.yml plus AugmentedMemoizationPolicy (max_history 4).
    "memo": {"config": "bench/config.memo.yml", "prefix": "memo",
             "label": "ours + AugmentedMemoizationPolicy (bench/config.memo.yml)"},
    # Same model as "ours"; only the tracker store differs (in memory, not SQLite).
    "inmem": {"config": "config.yml", "prefix": "msp", "tracker": "memory",
              "label": "ours with an in-memory tracker store"},
    # Same model as "ours"; Rasa's own SQLTrackerStore on the same SQLite file
    # (rollback journal, NullPool): the tracker store we had before.
    "sql-rasa": {"config": "config.yml", "prefix": "msp", "tracker": "rasa-sql",
                 "label": "ours with Rasa's own SQLTrackerStore on SQLite (rollback journal)"},
    # Same model as "ours"; our tracker store at the other sqlite_synchronous
    # level (only the one endpoints.yml does not choose is run).
    "wal-normal": {"config": "config.yml", "prefix": "msp", "tracker": "wal-normal",
                   "label": "ours with the WAL tracker store at sqlite_synchronous: NORMAL"},
    "wal-full": {"config": "config.yml", "prefix": "msp", "tracker": "wal-full",
                 "label": "ours with the WAL tracker store at sqlite_synchronous: FULL"},
    # Same model as "stock"; TensorFlow chooses its own thread pools (scripts/stack.py sets 1).
    "stock-tf": {"config": "bench/config.stock.yml", "prefix": "stock",
                 "env": {"TF_INTRA_OP_PARALLELISM_THREADS": "0",
                         "TF_INTER_OP_PARALLELISM_THREADS": "0"},
                 "label": "stock with TensorFlow's default thread pools"},
}

TARGETS = {
    "p95_ms_at_10": 300.0,
    "throughput_msg_s": 30.0,
    "ready_seconds": 30.0,
    "rasa_rss_mib": 1.2 * 1024,
    "training_seconds": 300.0,
}

MEMO_HEADER = """\
# GENERATED by bench/run.py from config.yml on every benchmark run: do not edit.
# Our configuration plus AugmentedMemoizationPolicy (max_history 4), which
# config.yml used to have, to show what memoising the stories costs.
"""

TED_HEADER = """\
# GENERATED by bench/run.py from config.yml on every benchmark run: do not edit.
# Our configuration plus an ML dialogue policy (TEDPolicy, max_history 5,
# epochs 50), to show what running TED on every message costs.
"""


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _sigterm(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt


# --- machine --------------------------------------------------------------

def cpu_speed() -> float:
    """Seconds for a fixed pure-Python loop (best of 3): how fast this machine's cores were.

    Shared virtual machines change speed from hour to hour (the host's load is
    invisible from inside); compare runs by this as well as by their figures.
    """
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return round(best, 3)


def machine() -> dict:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    versions = {"python": platform.python_version()}
    for mod in ("rasa", "rasa_sdk", "tensorflow", "spacy", "sklearn", "aiohttp"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - a missing or broken module is just "n/a"
            versions[mod] = "n/a"
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "versions": versions,
        "cpu_loop_seconds_start": cpu_speed(),
    }


# --- models and training --------------------------------------------------

def resolved_endpoints(stack: Stack, tracker: str, path: Path) -> Path:
    """A copy of endpoints.yml with every ${VAR} filled in from the stack's environment.

    Rasa would expand the (unquoted) ${VARS} itself; filling them in here makes
    the file each run used self-contained (kept with --keep-tmp) and lets a
    variant change its tracker store:
    "sql" as configured (bot.components.tracker_store.WALSQLTrackerStore);
    "memory" drops the tracker store (Rasa then keeps conversations in memory)
    to show what the SQLite one costs; "rasa-sql" uses Rasa's own SQLTrackerStore
    on the same file (what we had before); "wal-normal" and "wal-full" set
    sqlite_synchronous.
    """
    env = stack.env()
    text = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), m.group(0)),
                  (ROOT / "endpoints.yml").read_text())
    cfg = yaml.safe_load(text) or {}
    store = cfg.get("tracker_store") or {}
    if tracker == "memory":
        cfg.pop("tracker_store", None)
    elif tracker == "rasa-sql":
        store["type"] = "SQL"
        for key in [k for k in store if k.startswith("sqlite_")]:
            store.pop(key)
    elif tracker in ("wal-normal", "wal-full"):
        store["sqlite_synchronous"] = tracker.split("-")[1].upper()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def configured_synchronous() -> str:
    """The sqlite_synchronous level endpoints.yml chooses (its default if the key is absent)."""
    from bot.components.tracker_store import parse_synchronous

    store = (yaml.safe_load((ROOT / "endpoints.yml").read_text()) or {}).get("tracker_store") or {}
    return parse_synchronous(store.get("sqlite_synchronous"))


def other_level_variant() -> str:
    """The wal-* variant for the sqlite_synchronous level endpoints.yml does not choose."""
    return "wal-normal" if configured_synchronous() != "NORMAL" else "wal-full"


def describe_tracker_store(endpoints: Path) -> str:
    """What a run's endpoints file keeps conversations in, in words for RESULTS.md."""
    store = (yaml.safe_load(endpoints.read_text()) or {}).get("tracker_store")
    if not store:
        return "in memory (Rasa's InMemoryTrackerStore)"
    kind = str(store.get("type", ""))
    dialect = str(store.get("dialect", "?"))
    if dialect != "sqlite":
        return f"`{kind}` on {dialect}"
    if kind.lower() == "sql":
        return ("Rasa's own `SQLTrackerStore` on a SQLite file (rollback journal, a new connection "
                "per session, ORM queries, synchronous=FULL: SQLite's default)")
    if kind.endswith("WALSQLTrackerStore"):
        from bot.components.tracker_store import DEFAULT_SYNCHRONOUS

        level = str(store.get("sqlite_synchronous") or DEFAULT_SYNCHRONOUS).upper()
        return (f"`{kind.rsplit('.', 1)[-1]}` on a SQLite file (WAL mode, pooled connections, "
                f"queries without the ORM, synchronous={level})")
    return f"`{kind}` on a SQLite file"


def write_derived_config(name: str, change, header: str) -> None:
    """bench/config.<name>.yml: config.yml with one more policy, or changed by a function
    (rewritten only if different)."""
    cfg = yaml.safe_load((ROOT / "config.yml").read_text())
    cfg["assistant_id"] = f"{cfg.get('assistant_id', 'msp-assistant')}-{name}"
    if callable(change):
        change(cfg)
    else:
        cfg["policies"] = list(cfg.get("policies") or []) + [change]
    text = header + yaml.safe_dump(cfg, sort_keys=False, default_flow_style=False)
    path = BENCH / f"config.{name}.yml"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


NOENC_HEADER = """\
# GENERATED by bench/run.py from config.yml on every benchmark run: do not edit.
# Our configuration without the sentence encoder (SentenceEncoderFeaturizer)
# and the learned danger detector that reads its vectors, to show what the
# encoder costs (issue 9).
"""
WITHOUT_ENCODER = ("bot.components.sentence_encoder.SentenceEncoderFeaturizer",
                   "bot.components.learned_danger.LearnedDanger",
                   # Training only: encodes the danger texts for LearnedDanger.
                   "bot.components.learned_danger.DangerVectorsPrefetch")


def write_noenc_config() -> None:
    def without_encoder(cfg: dict) -> None:
        cfg["pipeline"] = [c for c in cfg.get("pipeline") or [] if c.get("name") not in WITHOUT_ENCODER]

    write_derived_config("noenc", without_encoder, NOENC_HEADER)


def write_ted_config() -> None:
    write_derived_config("ted", {"name": "TEDPolicy", "max_history": 5, "epochs": 50}, TED_HEADER)


def write_memo_config() -> None:
    write_derived_config("memo", {"name": "AugmentedMemoizationPolicy", "max_history": 4},
                         MEMO_HEADER)


def snapshot_inputs(configs: List[str], snap: Path) -> None:
    """Copy everything training reads (configs, domain, bot/data/**/*.yml) as it is now.

    Others may edit the data while the benchmark runs; every model of one run is
    trained from this one snapshot, so all configurations see the same data.
    """
    files = [ROOT / c for c in configs] + [ROOT / "domain.yml"]
    files += sorted((ROOT / "bot" / "data").rglob("*.yml"))
    files += component_training_files("config.yml")
    for src in files:
        dst = snap / src.relative_to(ROOT)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def snapshot_fingerprint(snap: Path, config: str) -> str:
    """scripts.model.fingerprint, computed over the snapshot (same names, same digest)."""
    import rasa

    files = [snap / config, snap / "domain.yml"] + sorted((snap / "bot" / "data").rglob("*.yml"))
    files += component_training_files(config, root=snap)
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(snap)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(rasa.__version__.encode())
    return digest.hexdigest()[:16]


def data_fingerprint(snap: Path) -> str:
    digest = hashlib.sha256()
    for path in [snap / "domain.yml"] + sorted((snap / "bot" / "data").rglob("*.yml")):
        digest.update(str(path.relative_to(snap)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_for(name: str, snap: Path, tmp: Path) -> dict:
    """The model for this configuration on the snapshot; trained only if missing.

    Same file name and `.seconds` file as scripts.model.ensure_model, so the two
    share trained models. A training done here starts from an empty component
    cache, so its recorded time is a cold one.
    """
    spec = VARIANTS[name]
    target = MODELS / f"{spec['prefix']}-{snapshot_fingerprint(snap, spec['config'])}.tar.gz"
    trained = False
    if not target.exists():
        MODELS.mkdir(exist_ok=True)
        with open(MODELS / ".train.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not target.exists():
                log(f"training {target.name} for {name} (log: {tmp / f'train-{name}.log'}) ...")
                env = training_env(RASA_CACHE_DIRECTORY=str(tmp / f"cache-{name}"))
                cmd = train_command(str(snap / spec["config"]), str(snap / "domain.yml"), str(snap / "bot" / "data"),
                                    MODELS, target.name[: -len(".tar.gz")])
                t0 = time.monotonic()
                with open(tmp / f"train-{name}.log", "wb") as fh:
                    subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                   check=True, timeout=3600)
                seconds = time.monotonic() - t0
                target.with_name(target.name + ".seconds").write_text(f"{seconds:.1f}\n")
                log(f"trained {target.name} in {seconds:.0f} s")
                trained = True
    seconds_file = target.with_name(target.name + ".seconds")
    recorded = None
    if seconds_file.exists():
        with contextlib.suppress(ValueError):
            recorded = float(seconds_file.read_text().strip())
    return {"model": str(target.relative_to(ROOT)), "trained_this_run": trained,
            "training_seconds_recorded": recorded,
            "model_mib": round(target.stat().st_size / 2**20, 1)}


def fresh_training(config: str, snap: Path, tmp: Path) -> dict:
    """A full training from nothing: new output directory, empty component cache."""
    out = tmp / "fresh-train"
    out.mkdir(parents=True, exist_ok=True)
    env = training_env(RASA_CACHE_DIRECTORY=str(out / "cache"))
    cmd = train_command(str(snap / config), str(snap / "domain.yml"), str(snap / "bot" / "data"), out, "fresh")
    busy0, t0 = procinfo.system_busy_seconds(), time.monotonic()
    with open(tmp / "fresh-train.log", "wb") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                              timeout=1800)
    seconds = time.monotonic() - t0
    cores_busy = (procinfo.system_busy_seconds() - busy0) / seconds
    if proc.returncode != 0:
        return {"config": config, "ok": False, "error": f"rasa train exited {proc.returncode}",
                "seconds": round(seconds, 1)}
    return {"config": config, "ok": True, "seconds": round(seconds, 1),
            "machine_cores_busy_avg": round(cores_busy, 2)}


# --- quality --------------------------------------------------------------

def nlu_accuracy(model: str, tmp: Path, name: str) -> dict:
    out = tmp / f"nlu-{name}"
    cmd = [str(BIN / "rasa"), "test", "nlu", "--model", model, "--nlu", HELDOUT_NLU,
           "--out", str(out), "--no-plot"]
    t0 = time.monotonic()
    with open(tmp / f"nlu-{name}.log", "wb") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, env=base_env(), stdout=fh,
                              stderr=subprocess.STDOUT, timeout=900)
    report = out / "intent_report.json"
    if proc.returncode != 0 or not report.exists():
        return {"ok": False, "error": f"rasa test nlu exited {proc.returncode}; log {fh.name}"}
    data = json.loads(report.read_text())
    errors = out / "intent_errors.json"
    n_errors = len(json.loads(errors.read_text())) if errors.exists() else None
    return {
        "ok": True,
        "accuracy": round(data["accuracy"], 4),
        "macro_f1": round(data["macro avg"]["f1-score"], 4),
        "weighted_f1": round(data["weighted avg"]["f1-score"], 4),
        "examples": int(data["macro avg"]["support"]),
        "wrong": n_errors,
        "seconds": round(time.monotonic() - t0, 1),
    }


def danger_net_offline() -> dict:
    try:
        from bot.text import danger_eval  # imported lazily: written by someone else
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": f"bot.text.danger_eval unavailable: {exc}"}
    try:
        r = danger_eval.evaluate(ROOT / DANGER_SET)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": f"danger_eval.evaluate failed: {type(exc).__name__}: {exc}"}
    return {
        "ok": True,
        "positives": r.get("positives"), "negatives": r.get("negatives"),
        "recall": round(r["recall"], 4),
        "recall_now": round(r.get("recall_now", float("nan")), 4),
        "recall_suicide": round(r.get("recall_suicide", float("nan")), 4),
        "false_alarm_rate": round(r["false_alarm_rate"], 4),
        "misses": len(r.get("misses", [])), "false_alarms": len(r.get("false_alarms", [])),
        "kind_errors": len(r.get("kind_errors", [])),
    }


def model_domain(model: Path) -> dict:
    """The domain the model was trained with (domain.yml may have changed since)."""
    with contextlib.suppress(Exception), tarfile.open(model) as tar:
        for member in tar.getmembers():
            if member.name.lstrip("/").endswith("domain_provider/domain.yml"):
                return yaml.safe_load(tar.extractfile(member).read()) or {}
    return yaml.safe_load((ROOT / "domain.yml").read_text()) or {}


def danger_markers(model: Path) -> Dict[str, List[str]]:
    """The opening words of every variant of the two danger replies."""
    markers: Dict[str, List[str]] = {}
    responses = model_domain(model).get("responses", {}) or {}
    for kind, key in (("now", "utter_danger_now"), ("suicide", "utter_danger_suicide")):
        for variant in responses.get(key, []) or []:
            head = str(variant.get("text", "")).split("\n")[0].split("{")[0].strip()
            if len(head) >= 15:
                markers.setdefault(kind, []).append(head)
    return markers


def danger_set(sample: Optional[int]) -> Dict[str, List[str]]:
    data = yaml.safe_load((ROOT / DANGER_SET).read_text())
    groups = {g: [str(t) for t in data.get(g, [])] for g in
              ("positives_now", "positives_suicide", "negatives")}
    if sample:
        rng = random.Random(7)
        total = sum(len(v) for v in groups.values())
        groups = {g: rng.sample(v, max(1, round(len(v) * sample / total))) if v else v
                  for g, v in groups.items()}
    return groups


def danger_end_to_end(url: str, name: str, sample: Optional[int], model: Path,
                      headers: Optional[Dict[str, str]] = None) -> dict:
    """Each labelled message opens its own conversation; is the FIRST reply the danger one?"""
    markers = danger_markers(model)
    groups = danger_set(sample)
    texts = [t for g in groups.values() for t in g]
    t0 = time.monotonic()
    replies = asyncio.run(first_replies(url, texts, tag=f"{name}-danger", headers=headers))
    seconds = time.monotonic() - t0

    def kind(reply: Optional[List[dict]]) -> Optional[str]:
        if not reply:
            return None
        first = str(reply[0].get("text") or "")
        if markers:
            for k, heads in markers.items():
                if any(first.startswith(head) for head in heads):
                    return k
            return None
        return "now" if "999" in first else None  # no markers found in the domain

    i = 0
    got: Dict[str, List[Optional[str]]] = {}
    failed = 0
    for g, items in groups.items():
        got[g] = []
        for _ in items:
            failed += replies[i] is None
            got[g].append(kind(replies[i]))
            i += 1
    now, sui, neg = got["positives_now"], got["positives_suicide"], got["negatives"]
    positives = len(now) + len(sui)
    missed = [t for t, k in zip(groups["positives_now"] + groups["positives_suicide"], now + sui)
              if k is None]
    alarms = [t for t, k in zip(groups["negatives"], neg) if k is not None]
    return {
        "messages": len(texts), "failed_requests": failed, "seconds": round(seconds, 1),
        "markers": markers,
        "recall": round(sum(k is not None for k in now + sui) / max(1, positives), 4),
        "recall_now": round(sum(k is not None for k in now) / max(1, len(now)), 4),
        "suicide_reply_for_suicide": round(sum(k == "suicide" for k in sui) / max(1, len(sui)), 4),
        "false_alarm_rate": round(len(alarms) / max(1, len(neg)), 4),
        "positives": positives, "negatives": len(neg),
        "missed_examples": missed[:8], "false_alarm_examples": alarms[:8],
    }


# --- one configuration under load -------------------------------------------

def other_cores_busy(seconds: float, own: List[int]) -> float:
    """Cores kept busy by everything except this process and `own` process trees."""
    pids = set().union(*(procinfo.tree(p) for p in own)) if own else set()
    b0, o0, s0 = procinfo.system_busy_seconds(), procinfo.cpu_seconds(pids), procinfo.self_cpu_seconds()
    time.sleep(seconds)
    b1, o1, s1 = procinfo.system_busy_seconds(), procinfo.cpu_seconds(pids), procinfo.self_cpu_seconds()
    return max(0.0, (b1 - b0) - (o1 - o0) - (s1 - s0)) / seconds


def wait_quiet(own: List[int], max_wait: float, threshold: float = 0.3) -> dict:
    """Wait (at most max_wait s) until other work keeps fewer than `threshold` cores busy."""
    t0 = time.monotonic()
    busy = other_cores_busy(2.0, own)
    while busy >= threshold and time.monotonic() - t0 < max_wait:
        busy = other_cores_busy(3.0, own)
    return {"waited_s": round(time.monotonic() - t0, 1), "other_cores_busy": round(busy, 2),
            "quiet": busy < threshold}


def memory_of(stack: Stack) -> dict:
    return {name: procinfo.memory(proc.pid) for name, proc in stack.procs.items()}


def issue_codes(db_url: str, count: int, tag: str) -> List[str]:
    """`count` fresh invitation short codes, one enquiry each, for outcomes conversations."""
    from bot.records import create_enquiry, create_invitation, dispose_engines, session_scope

    codes = []
    with session_scope(db_url) as session:
        for i in range(count):
            enquiry = create_enquiry(session, f"SG-BENCH-{tag}-{i:04d}")
            codes.append(create_invitation(session, enquiry.id, created_by="bench").code)
    dispose_engines()
    return codes


def issue_feedback(db_url: str, count: int, tag: str) -> List[Tuple[str, int]]:
    """`count` open web feedback surveys (code, desired outcomes on record), one closed enquiry each."""
    from datetime import timedelta

    from bot.records import (add_participant, close_enquiry, create_enquiry, dispose_engines, record_outcome,
                             session_scope)
    from bot.records.models import utcnow
    from bot.surveys.request import request_feedback

    surveys = []
    with session_scope(db_url) as session:
        for i in range(count):
            enquiry = create_enquiry(session, f"SG-BENCH-FB-{tag}-{i:04d}")
            person = add_participant(session, enquiry.id, "person", display_name="Bench Person")
            outcomes = OUTCOME_WORDS[i % len(OUTCOME_WORDS):][:1 + i % 2]  # one or two
            for words in outcomes:
                record_outcome(session, enquiry.id, words, participant_id=person.id, recorded_by="assistant",
                               channel="web")
            close_enquiry(session, enquiry.id, when=utcnow() - timedelta(days=2))
            result = request_feedback(session, enquiry.id, channel="web", requested_by="bench")
            if not result.ok:
                raise RuntimeError(f"feedback request refused: {result.reason}")
            surveys.append((result.code, len(outcomes)))
    dispose_engines()
    return surveys


def feedback_recorded(db_url: str) -> Dict[str, int]:
    from sqlalchemy import func, select

    from bot.records import dispose_engines, session_scope
    from bot.records.models import FeedbackAnswer, FeedbackSurvey

    with session_scope(db_url, read_only=True) as session:
        answers = session.execute(select(func.count()).select_from(FeedbackAnswer)).scalar_one()
        done = session.execute(select(func.count()).select_from(FeedbackSurvey)
                               .where(FeedbackSurvey.status == "completed")).scalar_one()
    dispose_engines()
    return {"answers": int(answers), "completed": int(done)}


def outcomes_recorded(db_url: str) -> int:
    from sqlalchemy import func, select

    from bot.records import DesiredOutcome, dispose_engines, session_scope

    with session_scope(db_url, read_only=True) as session:
        n = session.execute(select(func.count()).select_from(DesiredOutcome)).scalar_one()
    dispose_engines()
    return int(n)


def bench_variant(name: str, model: str, opts: argparse.Namespace, tmp: Path) -> dict:
    res: dict = {"ok": False}
    stack = Stack(model=ROOT / model, rasa_port=free_port(), actions_port=free_port(),
                  var_dir=tmp / name / "var", token=new_token(), log_dir=tmp / name / "logs",
                  rest_token=new_token(),
                  extra_env=dict(VARIANTS[name].get("env", {})))
    stack.endpoints = str(resolved_endpoints(stack, VARIANTS[name].get("tracker", "sql"),
                                             tmp / name / "endpoints.yml"))
    res["tracker_store"] = describe_tracker_store(Path(stack.endpoints))
    try:
        log(f"{name}: starting the action server and the Rasa server ...")
        load0 = os.getloadavg()[0]
        stack.start(timeout=400)
        res["ready_seconds"] = round(stack.ready_seconds, 1)
        res["loadavg_1m_at_start"] = round(load0, 2)
        res["memory_at_ready"] = memory_of(stack)
        log(f"{name}: ready in {stack.ready_seconds:.1f} s; warming up ...")
        url, headers = stack.rest_url, stack.rest_headers()
        warm = asyncio.run(run_level(url, opts.warmup_concurrency, opts.warmup_messages,
                                     opts.warmup_seconds, tag=f"{name}-warmup", seed=99, headers=headers))
        res["warmup"] = warm.summary()
        rasa_pid, actions_pid = stack.procs["rasa"].pid, stack.procs["actions"].pid
        db_url = stack.env()["DATABASE_URL"]
        # Enough for every outcomes and feedback conversation (about one in eight
        # each) at every level.
        mixed = VARIANTS[name].get("outcomes", True)
        codes = issue_codes(db_url, len(opts.levels) * opts.messages // 6 + 20, name) if mixed else None
        surveys = issue_feedback(db_url, len(opts.levels) * opts.messages // 12 + 20, name) if mixed else None
        recorded0, answers0 = outcomes_recorded(db_url), feedback_recorded(db_url)
        started0 = surveyed0 = 0
        res["levels"] = []
        for i, conc in enumerate(opts.levels):
            quiet = wait_quiet([rasa_pid, actions_pid], min(opts.quiet_wait, opts.quiet_budget))
            opts.quiet_budget = max(0.0, opts.quiet_budget - quiet["waited_s"])
            if not quiet["quiet"]:
                log(f"{name}: other work still keeps {quiet['other_cores_busy']} cores busy after "
                    f"{quiet['waited_s']} s; measuring anyway")
            rasa_pids, act_pids = procinfo.tree(rasa_pid), procinfo.tree(actions_pid)
            c_rasa, c_act = procinfo.cpu_seconds(rasa_pids), procinfo.cpu_seconds(act_pids)
            c_self, busy = procinfo.self_cpu_seconds(), procinfo.system_busy_seconds()
            wall0 = time.monotonic()
            r = asyncio.run(run_level(url, conc, opts.messages, opts.seconds,
                                      tag=f"{name}-c{conc}", seed=1000 + i, codes=codes, headers=headers,
                                      feedback=surveys))
            started0 += r.outcome_conversations
            surveyed0 += r.feedback_conversations
            wall = time.monotonic() - wall0
            d_rasa = procinfo.cpu_seconds(procinfo.tree(rasa_pid)) - c_rasa
            d_act = procinfo.cpu_seconds(procinfo.tree(actions_pid)) - c_act
            d_self = procinfo.self_cpu_seconds() - c_self
            d_busy = procinfo.system_busy_seconds() - busy
            s = r.summary()
            s["quiet_wait"] = quiet
            n = max(1, s["messages"])
            s.update(
                rasa_cpu_ms_per_msg=round(1000 * d_rasa / n, 1),
                actions_cpu_ms_per_msg=round(1000 * d_act / n, 1),
                rasa_cores_busy=round(d_rasa / wall, 2),
                load_generator_cores_busy=round(d_self / wall, 2),
                # Everything else on the machine during this level: the noise.
                other_work_cores_busy=round(max(0.0, d_busy - d_rasa - d_act - d_self) / wall, 2),
                server_alive=stack.alive(),
            )
            res["levels"].append(s)
            log(f"{name}: {conc:>2} at once: {s['messages']} msgs, p50 {s['p50_ms']} ms, "
                f"p95 {s['p95_ms']} ms, {s['throughput_msg_s']} msg/s, errors {s['errors']}, "
                f"timeouts {s['timeouts']}, other work {s['other_work_cores_busy']} cores")
            if not stack.alive():
                raise RuntimeError("a server died under load; see its log")
        # Outcomes conversations cut short by a level's message budget record nothing.
        res["outcomes"] = {"conversations_started": started0,
                           "outcomes_recorded": outcomes_recorded(db_url) - recorded0}
        log(f"{name}: outcomes conversations started {started0}, outcomes recorded "
            f"{res['outcomes']['outcomes_recorded']}")
        answers1 = feedback_recorded(db_url)
        res["feedback"] = {"conversations_started": surveyed0,
                           "answers_recorded": answers1["answers"] - answers0["answers"],
                           "surveys_completed": answers1["completed"] - answers0["completed"]}
        log(f"{name}: feedback conversations started {surveyed0}, answers recorded "
            f"{res['feedback']['answers_recorded']}, surveys completed {res['feedback']['surveys_completed']}")
        # NLU alone (POST /model/parse): what the pipeline costs without dialogue or tracker.
        c_rasa = procinfo.tree_cpu_seconds(rasa_pid)
        p = asyncio.run(parse_only(f"{stack.rasa_url}/model/parse?token={stack.token}",
                                   opts.parse_messages, seed=5))
        ps = p.summary()
        ps["rasa_cpu_ms_per_msg"] = round(
            1000 * (procinfo.tree_cpu_seconds(rasa_pid) - c_rasa) / max(1, ps["messages"]), 1)
        res["parse_only"] = ps
        log(f"{name}: NLU parse alone: p50 {ps['p50_ms']} ms, p95 {ps['p95_ms']} ms, "
            f"Rasa CPU {ps['rasa_cpu_ms_per_msg']} ms/msg")
        res["memory_after_load"] = memory_of(stack)
        log(f"{name}: RSS after load: rasa {res['memory_after_load']['rasa']['rss_mib']} MiB, "
            f"actions {res['memory_after_load']['actions']['rss_mib']} MiB; danger set ...")
        if not opts.skip_danger_e2e:
            res["danger_end_to_end"] = danger_end_to_end(url, name, opts.danger_sample, ROOT / model,
                                                          headers=headers)
            d = res["danger_end_to_end"]
            log(f"{name}: danger first reply: recall {d['recall']}, "
                f"false alarms {d['false_alarm_rate']} ({d['messages']} msgs, {d['seconds']} s)")
        res["ok"] = True
    except (RuntimeError, TimeoutError) as exc:
        res["error"] = f"{type(exc).__name__}: {exc}"
        res["logs"] = str(stack.log_dir)
        log(f"{name}: FAILED: {exc} (logs: {stack.log_dir})")
    finally:
        stack.stop()
    return res


# --- report ---------------------------------------------------------------

def _level(res: dict, conc: int) -> Optional[dict]:
    for s in res.get("levels", []):
        if s["concurrency"] == conc:
            return s
    return None


def _ratio(a, b) -> Optional[float]:
    if a is None or b in (None, 0):
        return None
    return round(a / b, 3)


def ratios(a: dict, b: dict, levels: List[int]) -> dict:
    out: dict = {"per_level": {}}
    for c in levels:
        la, lb = _level(a, c), _level(b, c)
        if la and lb:
            out["per_level"][str(c)] = {
                "p50": _ratio(la["p50_ms"], lb["p50_ms"]),
                "p95": _ratio(la["p95_ms"], lb["p95_ms"]),
                "throughput": _ratio(la["throughput_msg_s"], lb["throughput_msg_s"]),
                "rasa_cpu_per_msg": _ratio(la["rasa_cpu_ms_per_msg"], lb["rasa_cpu_ms_per_msg"]),
            }
    out["ready"] = _ratio(a.get("ready_seconds"), b.get("ready_seconds"))
    ma, mb = a.get("memory_after_load", {}), b.get("memory_after_load", {})
    if ma and mb:
        out["rasa_rss"] = _ratio(ma["rasa"]["rss_mib"], mb["rasa"]["rss_mib"])
        out["actions_rss"] = _ratio(ma["actions"]["rss_mib"], mb["actions"]["rss_mib"])
    if a.get("model") != b.get("model"):
        out["training"] = _ratio(a.get("training_seconds_recorded"), b.get("training_seconds_recorded"))
    return out


def targets(results: dict) -> List[dict]:
    ours = results["variants"].get("ours", {})
    l10 = _level(ours, 10) or {}
    i10 = _level(results["variants"].get("info", {}), 10) or {}
    fresh = results.get("fresh_training") or {}
    train_s = fresh.get("seconds") if fresh.get("ok") else ours.get("training_seconds_recorded")
    train_src = "fresh uncached training" if fresh.get("ok") else "models/*.seconds (recorded)"
    rss = (ours.get("memory_after_load") or {}).get("rasa", {}).get("rss_mib")
    clean = l10 and not l10.get("errors") and not l10.get("timeouts")

    def row(what, target, value, unit, ok, note=""):
        return {"target": what, "limit": target, "measured": value, "unit": unit,
                "met": None if value is None else bool(ok), "note": note}

    return [
        row("p95 latency at 10 concurrent conversations (outcomes and feedback conversations included)",
            "<= 300 ms", l10.get("p95_ms"), "ms",
            l10.get("p95_ms") is not None and l10["p95_ms"] <= TARGETS["p95_ms_at_10"]),
        row("p95 latency at 10 concurrent conversations (without outcomes or feedback conversations)",
            "<= 300 ms", i10.get("p95_ms"), "ms",
            i10.get("p95_ms") is not None and i10["p95_ms"] <= TARGETS["p95_ms_at_10"]),
        row("sustained throughput (10 concurrent, no errors)", ">= 30 msg/s",
            l10.get("throughput_msg_s"), "msg/s",
            l10.get("throughput_msg_s") is not None and clean
            and l10["throughput_msg_s"] >= TARGETS["throughput_msg_s"]),
        row("seconds from start to ready", "<= 30 s", ours.get("ready_seconds"), "s",
            ours.get("ready_seconds") is not None
            and ours["ready_seconds"] <= TARGETS["ready_seconds"]),
        row("Rasa server RSS (process tree, after load)", "<= 1.2 GB (1228.8 MiB)", rss, "MiB",
            rss is not None and rss <= TARGETS["rasa_rss_mib"]),
        row("full training", "<= 5 min", train_s, "s",
            train_s is not None and train_s <= TARGETS["training_seconds"], train_src),
    ]


def time_note(results: dict) -> str:
    trained = sum(r.get("training_seconds_recorded") or 0 for n, r in results["variants"].items()
                  if r.get("trained_this_run"))
    waited = sum((s.get("quiet_wait") or {}).get("waited_s", 0) for r in results["variants"].values()
                 for s in r.get("levels", []))
    parts = []
    if trained:
        parts.append(f"{trained / 60:.1f} min training models missing for this data")
    if waited:
        parts.append(f"{waited / 60:.1f} min waiting for the machine to quieten")
    return ", of which " + " and ".join(parts) if parts else ""


def fmt(v, suffix="") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.1f}{suffix}" if abs(v) >= 10 else f"{v:.2f}{suffix}"
    return f"{v}{suffix}"


def xfactor(r: Optional[float], lower_is_better: bool = True) -> str:  # noqa: ARG001
    """0.25 -> '0.25 (4.0x lower)'; 3.0 -> '3.00 (3.0x higher)'."""
    if not r:
        return "n/a"
    if 0.97 <= r <= 1.03:
        return f"{r:.2f} (about the same)"
    if r < 1:
        return f"{r:.2f} ({1 / r:.1f}× lower)"
    return f"{r:.2f} ({r:.1f}× higher)"


def markdown(results: dict) -> str:
    m, meta = results["machine"], results["meta"]
    v = m["versions"]
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `{meta['command']}` on {meta['date']} (took {meta['total_minutes']} min"
        + time_note(results) + ").",
        "Re-run with `make bench` (full) or `.venv/bin/python -m bench.run --quick` "
        "(writes `bench/quick/`). Raw numbers: `results.json` beside this file.",
        "",
        "## Machine",
        "",
        "| | |", "|---|---|",
        f"| CPU | {m['cpu_model']} |",
        f"| cores (nproc / usable) | {m['nproc']} / {m['usable_cpus']} |",
        f"| memory | {m['memory_gib']} GiB |",
        f"| kernel | {m['kernel']} |",
        f"| Python / Rasa / rasa_sdk | {v['python']} / {v['rasa']} / {v['rasa_sdk']} |",
        f"| TensorFlow / spaCy / scikit-learn | {v['tensorflow']} / {v['spacy']} / {v['sklearn']} |",
        f"| load average (1, 5, 15 min) at start | {', '.join(f'{x:.2f}' for x in meta['loadavg_start'])} |",
        f"| load average at end | {', '.join(f'{x:.2f}' for x in meta['loadavg_end'])} |",
        f"| CPU speed: a fixed Python loop (5 million additions, best of 3), start / end | "
        f"{fmt(m.get('cpu_loop_seconds_start'))} s / {fmt(meta.get('cpu_loop_seconds_end'))} s "
        f"(lower is faster; compare runs by it) |",
        "",
        "**Noise.** " + noise_note(results),
        "",
        "## Targets (issue 2, 2-core machine), for our configuration",
        "",
        "| target | limit | measured | met? |", "|---|---|---|---|",
    ]
    for t in results["targets"]:
        met = "n/a" if t["met"] is None else ("**met**" if t["met"] else "**not met**")
        note = f" ({t['note']})" if t["note"] else ""
        lines.append(f"| {t['target']} | {t['limit']} | {fmt(t['measured'])} {t['unit']}{note} | {met} |")
    store = (results["variants"].get("ours") or {}).get("tracker_store")
    now = describe_tracker_store(ROOT / "endpoints.yml")
    if store and store == now:
        lines += ["", f"Our configuration keeps conversations with {store} (`endpoints.yml`; "
                  "`bot/components/tracker_store.py` explains the durability choice)."]
    elif store:
        same = [n for n, r in results["variants"].items() if r.get("tracker_store") == now]
        l10 = (_level(results["variants"][same[0]], 10) or {}) if same else {}
        lines += ["", f"**Note.** This run measured `ours` with {store}. `endpoints.yml` has "
                  f"since been changed to {now}"
                  + (f", which this run measured as `{same[0]}`: p95 at 10 concurrent "
                     f"{fmt(l10.get('p95_ms'))} ms, {fmt(l10.get('throughput_msg_s'))} msg/s, "
                     f"{fmt(l10.get('rasa_cpu_ms_per_msg'))} ms Rasa CPU per message (the targets "
                     f"above are for `ours` as measured)" if same else " (not measured in this run)")
                  + ". `bot/components/tracker_store.py` explains the choice."]

    lines += ["", "## Summary", "",
              "One column per configuration (details and method below).", "",
              "| | " + " | ".join(results["variants"]) + " |",
              "|---|" + "---:|" * len(results["variants"])]

    def cell(res: dict, what: str) -> str:
        l10 = _level(res, 10) or {}
        mem = (res.get("memory_after_load") or {}).get("rasa", {})
        if what == "p95":
            return fmt(l10.get("p95_ms"))
        if what == "tput":
            return fmt(l10.get("throughput_msg_s"))
        if what == "cpu":
            return fmt(l10.get("rasa_cpu_ms_per_msg"))
        if what == "ready":
            return fmt(res.get("ready_seconds"))
        if what == "rss":
            return fmt(mem.get("rss_mib"))
        if what == "train":
            return fmt(res.get("training_seconds_recorded"))
        if what == "nlu":
            q = res.get("nlu") or {}
            return f"{q['accuracy']:.3f}" if q.get("ok") else "n/a"
        if what in ("recall", "false"):
            d = res.get("danger_end_to_end")
            key = "recall" if what == "recall" else "false_alarm_rate"
            return f"{d[key]:.3f}" if d else "n/a"
        return "n/a"

    for what, title in (("p95", "p95 latency at 10 concurrent (ms)"),
                        ("tput", "throughput at 10 concurrent (msg/s)"),
                        ("cpu", "Rasa CPU per message at 10 concurrent (ms)"),
                        ("ready", "start to ready (s)"),
                        ("rss", "Rasa server RSS after load (MiB)"),
                        ("train", "training, recorded (s)"),
                        ("nlu", "held-out NLU intent accuracy"),
                        ("recall", "danger: first reply is the danger reply (recall)"),
                        ("false", "danger: false alarms")):
        lines.append(f"| {title} | " + " | ".join(cell(r, what) for r in results["variants"].values())
                     + " |")
    found = findings(results)
    if found:
        lines += ["", "## What each choice buys", ""] + [f"- {f}" for f in found]
    lines += ["", "## Load: closed-loop conversations over REST", "",
              f"Per level: at most {meta['settings']['messages']} messages or "
              f"{meta['settings']['seconds']} s, whichever comes first, after a warm-up of "
              f"{meta['settings']['warmup_messages']} messages. Every conversation has its own "
              "sender id and sends its next message only after the previous reply. "
              "In \"ours\", about one conversation in eight is the outcomes conversation (an "
              "invitation code, who for, consent, what they would like to happen, confirm, the "
              "suggested group, how to keep them informed) and one in eight the end-of-enquiry "
              "feedback survey (its code, the six questions, how safe now and whether better, "
              "each desired outcome read back, anything else; about twelve messages): they run "
              "the forms' custom actions on the action server and write the MSP records; the "
              "rest are information, danger, carer and small-talk conversations answered by the "
              "Rasa server alone. "
              "\"CPU/msg\" is the Rasa server's own CPU time per message (less sensitive to "
              "noise than latency); \"other work\" is the cores the rest of the machine kept "
              "busy during the level (not Rasa, not the action server, not the load generator).",
              ""]
    for name, res in results["variants"].items():
        lines.append(f"### {VARIANTS[name]['label']}")
        lines.append("")
        if not res.get("levels"):
            lines += [f"Not measured: {res.get('error', 'skipped')}", ""]
            continue
        lines += ["| concurrent | messages | errors / timeouts / empty | p50 ms | p95 ms | p99 ms "
                  "| max ms | msg/s | Rasa CPU ms/msg | actions CPU ms/msg | other work (cores) |",
                  "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for s in res["levels"]:
            lines.append(
                f"| {s['concurrency']} | {s['messages']} | {s['errors']} / {s['timeouts']} / "
                f"{s['empty_replies']} | {fmt(s['p50_ms'])} | {fmt(s['p95_ms'])} | "
                f"{fmt(s['p99_ms'])} | {fmt(s['max_ms'])} | {fmt(s['throughput_msg_s'])} | "
                f"{fmt(s['rasa_cpu_ms_per_msg'])} | {fmt(s['actions_cpu_ms_per_msg'])} | "
                f"{fmt(s['other_work_cores_busy'])} |")
        lines.append("")

        def form_latencies(form: str, key: str) -> List[str]:
            """One line: the messages of one kind of form conversation alone, per level."""
            return [f"Messages in {form} conversations alone: " + "; ".join(
                f"{s['concurrency']} concurrent: {s.get(key + '_messages')} messages, p50 "
                f"{fmt(s.get(key + '_p50_ms'))} ms, p95 {fmt(s.get(key + '_p95_ms'))} ms"
                for s in res["levels"]) + ".", ""]

        if res.get("outcomes"):
            o = res["outcomes"]
            lines += form_latencies("outcomes", "outcome")
            lines += [f"Outcomes conversations started: {o['conversations_started']}; desired "
                      f"outcomes recorded in the MSP records: {o['outcomes_recorded']} (a "
                      "conversation cut short by the level's message budget records none).", ""]
        if res.get("feedback") and res["feedback"].get("conversations_started"):
            f = res["feedback"]
            lines += form_latencies("feedback", "feedback")
            lines += [f"Feedback conversations started: {f['conversations_started']}; answers "
                      f"recorded: {f['answers_recorded']}; surveys completed: "
                      f"{f['surveys_completed']} (a survey cut short by the level's message "
                      "budget stays open with the answers it has).", ""]

    lines += ["### NLU alone", "",
              "The same kind of messages, one at a time, to `POST /model/parse` (pipeline only: no "
              "policies, no tracker store, no reply). The difference from the 1-concurrent row above "
              "is what dialogue handling, the tracker store and the reply cost.", "",
              "| configuration | parses | p50 ms | p95 ms | Rasa CPU ms/parse |",
              "|---|---:|---:|---:|---:|"]
    for name, res in results["variants"].items():
        ps = res.get("parse_only")
        if ps:
            lines.append(f"| {name} | {ps['messages']} | {fmt(ps['p50_ms'])} | {fmt(ps['p95_ms'])} | "
                         f"{fmt(ps['rasa_cpu_ms_per_msg'])} |")
    lines.append("")
    lines += ["## Start, memory, model, training", "",
              "| configuration | ready (s) | Rasa RSS at ready (MiB) | Rasa RSS after load (MiB) "
              "| Rasa peak RSS (MiB) | action server RSS (MiB) | model (MiB) | training (s) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, res in results["variants"].items():
        r0 = (res.get("memory_at_ready") or {}).get("rasa", {})
        r1 = (res.get("memory_after_load") or {}).get("rasa", {})
        a1 = (res.get("memory_after_load") or {}).get("actions", {})
        tr = res.get("training_seconds_recorded")
        lines.append(
            f"| {name} | {fmt(res.get('ready_seconds'))} | {fmt(r0.get('rss_mib'))} | "
            f"{fmt(r1.get('rss_mib'))} | {fmt(r1.get('peak_rss_mib'))} | {fmt(a1.get('rss_mib'))} | "
            f"{fmt(res.get('model_mib'))} | {fmt(tr)}{' (this run)' if res.get('trained_this_run') else ''} |")
    fresh = results.get("fresh_training")
    lines.append("")
    if fresh and fresh.get("ok"):
        lines.append(f"Full fresh training of `config.yml` (new output directory, empty component "
                     f"cache, `rasa train` as a subprocess): **{fresh['seconds']} s**; the rest of "
                     f"the machine as a whole averaged {fresh['machine_cores_busy_avg']} busy cores "
                     f"meanwhile (this training included).")
    elif fresh:
        lines.append(f"Fresh training of `config.yml` failed: {fresh.get('error')}.")
    else:
        lines.append("Fresh training not timed in this run (`--quick` or `--skip-train-timing`).")
    lines.append("The training column is `models/<model>.tar.gz.seconds`, written by "
                 "`scripts/model.py` when that model was trained (\"this run\": trained by this "
                 "benchmark with an empty component cache).")
    lines.append("")

    for other, title in (("stock", "Ratios: ours ÷ stock"), ("ted", "Ratios: ours+TED ÷ ours"),
                         ("memo", "Ratios: ours+AugmentedMemoizationPolicy ÷ ours"),
                         ("inmem", "Ratios: ours with in-memory tracker store ÷ ours (SQLite, WAL)"),
                         ("sql-rasa", "Ratios: ours with Rasa's own SQLTrackerStore ÷ ours (WAL "
                                      "tracker store)"),
                         ("wal-normal", "Ratios: WAL tracker store at synchronous=NORMAL ÷ ours"),
                         ("wal-full", "Ratios: WAL tracker store at synchronous=FULL ÷ ours"),
                         ("stock-tf", "Ratios: stock with TensorFlow's default threads ÷ stock "
                                      "with 1 thread")):
        rat = results["ratios"].get(other)
        if not rat:
            continue
        lines += [f"## {title}", "",
                  "Below 1 means the first is smaller (for latency, CPU, memory and time: better); "
                  "for throughput above 1 is better.", "",
                  "| measure | ratio |", "|---|---|"]
        for c, r in rat["per_level"].items():
            lines.append(f"| p50 latency at {c} concurrent | {xfactor(r['p50'], True)} |")
            lines.append(f"| p95 latency at {c} concurrent | {xfactor(r['p95'], True)} |")
            lines.append(f"| throughput at {c} concurrent | {xfactor(r['throughput'], False)} |")
            lines.append(f"| Rasa CPU per message at {c} concurrent | {xfactor(r['rasa_cpu_per_msg'], True)} |")
        lines.append(f"| seconds to ready | {xfactor(rat.get('ready'), True)} |")
        lines.append(f"| Rasa server RSS after load | {xfactor(rat.get('rasa_rss'), True)} |")
        lines.append(f"| action server RSS after load | {xfactor(rat.get('actions_rss'), True)} |")
        if rat.get("training"):
            lines.append(f"| training time (recorded) | {xfactor(rat['training'], True)} |")
        lines.append("")

    lines += ["## Quality", "", "### Held-out NLU set (`rasa test nlu --nlu tests/data/nlu_heldout.yml`)", "",
              "| configuration | examples | intent accuracy | macro F1 | weighted F1 | wrong |",
              "|---|---:|---:|---:|---:|---:|"]
    for name, res in results["variants"].items():
        q = res.get("nlu") or {}
        if q.get("ok"):
            name = f"{name} (same model as {q['same_model_as']})" if q.get("same_model_as") else name
            lines.append(f"| {name} | {q['examples']} | {q['accuracy']:.3f} | {q['macro_f1']:.3f} | "
                         f"{q['weighted_f1']:.3f} | {fmt(q['wrong'])} |")
        else:
            lines.append(f"| {name} | n/a | n/a | n/a | n/a | {q.get('error', 'not run')} |")
    dn = results.get("danger_net") or {}
    lines += ["", "### Danger safety net on its labelled set (`bot.text.danger_eval`, offline)", ""]
    if dn.get("ok"):
        lines.append(f"{dn['positives']} dangerous and {dn['negatives']} not dangerous messages "
                     f"(`{DANGER_SET}`, kept apart from training data): recall **{dn['recall']:.3f}** "
                     f"(immediate danger {dn['recall_now']:.3f}, suicidal intent "
                     f"{dn['recall_suicide']:.3f}), false alarms **{dn['false_alarm_rate']:.3f}** "
                     f"({dn['false_alarms']} of {dn['negatives']}), wrong kind {dn['kind_errors']}.")
    else:
        lines.append(f"n/a: {dn.get('error', 'not run')}")
    lines += ["", "### Danger end to end: the first reply over REST", "",
              "Each labelled message is the first message of its own conversation with the running "
              "server; it counts as detected when the FIRST bot message is the danger reply "
              "(`utter_danger_now` or `utter_danger_suicide`, recognised by their opening words).", "",
              "| configuration | messages | recall | immediate danger | suicide → Samaritans reply | false alarms |",
              "|---|---:|---:|---:|---:|---:|"]
    for name, res in results["variants"].items():
        d = res.get("danger_end_to_end")
        if d:
            lines.append(f"| {name} | {d['messages']} | {d['recall']:.3f} | {d['recall_now']:.3f} | "
                         f"{d['suicide_reply_for_suicide']:.3f} | {d['false_alarm_rate']:.3f} |")
        else:
            lines.append(f"| {name} | n/a | n/a | n/a | n/a | n/a |")
    for name, res in results["variants"].items():
        d = res.get("danger_end_to_end")
        if not d:
            continue
        if d["missed_examples"]:
            lines += ["", f"{name}: dangerous messages NOT answered with the danger reply first, e.g. "
                      + "; ".join(f"\"{t}\"" for t in d["missed_examples"][:6]) + "."]
        if d["false_alarm_examples"]:
            lines += ["", f"{name}: not-dangerous messages answered with the danger reply, e.g. "
                      + "; ".join(f"\"{t}\"" for t in d["false_alarm_examples"][:6]) + "."]
    lines += ["", "The offline figure tests the safety net's detector alone; the end-to-end figure "
              "is what a person gets, so it also includes danger intents predicted by the "
              "classifier and the rules that answer them."]
    lines += ["", "## Method", "",
              "- Servers: `scripts/stack.py` `Stack` (the same start-up as `make run`): real action "
              "server and `rasa run` with the REST channel, the tracker store from `endpoints.yml` "
              "on a fresh SQLite file, loopback ports, token-protected API. Ready = from starting "
              "(database migration included) until both `/health` and `/status` answer.",
              "- Endpoints: a copy of `endpoints.yml` with each `${VAR}` filled in by the benchmark "
              "(in the run's temporary directory); only the tracker store differs between variants "
              "that share a model. Conversations were kept as follows: "
              + "; ".join(f"{n}: {r['tracker_store']}" for n, r in results["variants"].items()
                          if r.get("tracker_store")) + ".",
              "- TensorFlow: every server gets `TF_INTRA_OP_PARALLELISM_THREADS=1` and "
              "`TF_INTER_OP_PARALLELISM_THREADS=1` from `scripts/stack.py`, the stock configuration "
              "included; `stock-tf` runs stock with TensorFlow's own choice.",
              f"- Models: all trained from one snapshot of the configs, `domain.yml` and `bot/data` "
              f"taken when the run started (data fingerprint `{meta.get('data_fingerprint', 'n/a')}`), "
              "so every configuration sees the same data while others edit it; named and cached in "
              "`models/` exactly as `scripts/model.py` does. Models: "
              + ", ".join(f"{n} `{r.get('model', 'n/a')}`" for n, r in results["variants"].items()) + ".",
              "- Configurations run one after the other, never at the same time, each on a fresh "
              "database, with the same seeded conversation scripts (`bench/load.py`).",
              "- Conversations mix greetings, questions about kinds of abuse, descriptions of harm, "
              "danger messages, button payloads (`/inform_safe`, `/ask_raise_concern`, "
              "`/ask_signs{\"abuse_kind\":...}`), questions about the process, carers, small talk "
              "and goodbyes; about six messages each.",
              "- Latency: request sent to reply fully read, from the load generator (Python asyncio + "
              "aiohttp on the same machine, sharing its cores; its CPU use is in results.json). "
              "Throughput: replies completed ÷ time from first request to last reply. "
              "Errors: non-200 or connection failures; timeouts: no reply within 30 s.",
              "- RSS: VmRSS summed over the process group and descendants of each server, after the "
              "load levels (peak = VmHWM).",
              "- The stock configuration is `bench/config.stock.yml` (what `rasa init` writes; see "
              "the one deviation documented in that file). `bench/config.ted.yml` and "
              "`bench/config.memo.yml` are regenerated from `config.yml` on each run.",
              ""]
    return "\n".join(lines)


def findings(results: dict) -> List[str]:
    """Plain sentences on what each choice buys, computed from this run's numbers."""
    v = results["variants"]
    out: List[str] = []

    def cpu(name: str) -> Optional[float]:
        vals = [s["rasa_cpu_ms_per_msg"] for s in (v.get(name) or {}).get("levels", [])]
        return sum(vals) / len(vals) if vals else None

    def rss(name: str) -> Optional[float]:
        return ((v.get(name) or {}).get("memory_after_load") or {}).get("rasa", {}).get("rss_mib")

    def parse_cpu(name: str) -> Optional[float]:
        return ((v.get(name) or {}).get("parse_only") or {}).get("rasa_cpu_ms_per_msg")

    p95 = lambda name: (_level(v.get(name) or {}, 10) or {}).get("p95_ms")  # noqa: E731
    ours, stock = cpu("ours"), cpu("stock")
    if ours and stock:
        out.append(
            f"**Our pipeline and policies vs stock.** The Rasa server spends {ours:.0f} ms of CPU per "
            f"message against stock's {stock:.0f} ms ({stock / ours:.1f}× less), the NLU pipeline alone "
            f"{fmt(parse_cpu('ours'))} against {fmt(parse_cpu('stock'))} ms. It is ready in "
            f"{fmt(v['ours'].get('ready_seconds'))} s against {fmt(v['stock'].get('ready_seconds'))} s "
            f"(it loads no TensorFlow model) and holds {fmt(rss('ours'))} MiB against "
            f"{fmt(rss('stock'))} MiB.")
    if ours and cpu("info"):
        o10 = _level(v["ours"], 10) or {}
        i10 = _level(v["info"], 10) or {}
        out.append(
            f"**Outcomes conversations.** Each message in the outcomes form makes one call to the "
            f"action server (check the link and the answer, write the records; the Rasa server "
            f"asks the next question itself, `utter_ask_outcomes_form_<slot>`). With "
            f"one conversation in eight being one and one in eight a feedback survey, the Rasa server spends {ours:.0f} ms of CPU per "
            f"message against {cpu('info'):.0f} ms without them, and p95 at 10 concurrent is "
            f"{fmt(o10.get('p95_ms'))} against {fmt(i10.get('p95_ms'))} ms. The form's own messages "
            f"at 10 concurrent: p50 {fmt(o10.get('outcome_p50_ms'))} ms, p95 "
            f"{fmt(o10.get('outcome_p95_ms'))} ms: the Rasa server is one process on one core, and "
            f"a message that waits on the action server queues behind the others.")
    if ours and cpu("memo"):
        out.append(
            f"**Memoising the stories (AugmentedMemoizationPolicy, which we used to run)** costs "
            f"{cpu('memo') - ours:.0f} ms more CPU per message ({cpu('memo') / ours:.2f}×); p95 at "
            f"10 concurrent {fmt(p95('memo'))} against {fmt(p95('ours'))} ms. Without it the rules "
            f"decide every turn: every test story passes, and on 300 benchmark conversations "
            f"(1,838 turns) no reply changed.")
    if ours and cpu("ted"):
        out.append(
            f"**An ML dialogue policy (TEDPolicy) on top of ours** costs {cpu('ted') - ours:.0f} ms more "
            f"CPU per message ({cpu('ted') / ours:.1f}×), {fmt((rss('ted') or 0) - (rss('ours') or 0))} MiB "
            f"more memory and {fmt((v['ted'].get('ready_seconds') or 0) - (v['ours'].get('ready_seconds') or 0))} "
            f"s more to start. NLU is unchanged, and this benchmark measures no gain from it in "
            f"what these conversations get (danger recall "
            f"{fmt((v['ted'].get('danger_end_to_end') or {}).get('recall'))}, as without it).")
    ours_store = (v.get("ours") or {}).get("tracker_store", "SQLite")
    if ours and cpu("sql-rasa"):
        out.append(
            f"**Our tracker store against Rasa's own.** ours: {ours_store}; sql-rasa (what we had "
            f"before): {v['sql-rasa'].get('tracker_store')}. Rasa CPU per message {ours:.0f} against "
            f"{cpu('sql-rasa'):.0f} ms, p95 at 10 concurrent {fmt(p95('ours'))} against "
            f"{fmt(p95('sql-rasa'))} ms. Both lose nothing when the Rasa process crashes; the next "
            f"point covers power loss.")
    if ours and cpu("wal-full"):
        out.append(
            f"**synchronous=FULL instead** (`wal-full`: the WAL fsynced at every commit, so nothing "
            f"is lost even if the machine crashes or loses power; NORMAL can lose the last commits "
            f"then): {cpu('wal-full'):.1f} ms Rasa CPU per message against {ours:.1f} ms, p95 at 10 "
            f"concurrent {fmt(p95('wal-full'))} against {fmt(p95('ours'))} ms.")
    if ours and cpu("wal-normal"):
        out.append(
            f"**synchronous=NORMAL instead** (`wal-normal`: the WAL fsynced only at checkpoints; "
            f"nothing is lost if the Rasa process crashes, but the last commits can be lost if the "
            f"machine crashes or loses power): {cpu('wal-normal'):.1f} ms Rasa CPU per message "
            f"against {ours:.1f} ms, p95 at 10 concurrent {fmt(p95('wal-normal'))} against "
            f"{fmt(p95('ours'))} ms.")
    if ours and cpu("inmem"):
        out.append(
            f"**Keeping conversations at all**: with them in memory (nothing kept) the server needs "
            f"{cpu('inmem'):.0f} ms CPU per message against our {ours:.0f} ms, and p95 at 10 concurrent "
            f"is {fmt(p95('inmem'))} ms. (The project keeps conversations in SQL on purpose; this only "
            f"shows where the time goes.)")
    if stock and cpu("stock-tf"):
        out.append(
            f"**TensorFlow thread settings** hardly matter on 2 cores: stock with TensorFlow's default "
            f"thread pools used {cpu('stock-tf'):.0f} ms CPU per message against {stock:.0f} ms with one "
            f"thread each; differences in latency between the two are within this machine's noise.")
    do, ds = (v.get("ours") or {}).get("danger_end_to_end"), (v.get("stock") or {}).get("danger_end_to_end")
    if do and ds:
        out.append(
            f"**Safety net.** With the SafetyNet component and SafeguardPolicy, the first reply to a "
            f"dangerous message was the danger reply {do['recall']:.0%} of the time, with "
            f"{do['false_alarm_rate']:.0%} false alarms; the stock configuration, on the same data "
            f"(danger intents included), managed {ds['recall']:.0%} with {ds['false_alarm_rate']:.0%} "
            f"false alarms.")
    return out


def noise_note(results: dict) -> str:
    others = [s["other_work_cores_busy"] for r in results["variants"].values()
              for s in r.get("levels", [])]
    peak = max(others) if others else 0.0
    base = ("This machine has 2 cores and was shared with other work while this ran "
            "(other processes, not part of the benchmark). Figures taken while other work ran are "
            "noisy: latency and throughput can be worse than on a quiet machine, and the "
            "comparison between configurations is fairer than the absolute numbers. ")
    if others:
        base += (f"Measured per load level, the rest of the machine kept between "
                 f"{min(others):.2f} and {peak:.2f} cores busy (column \"other work\"). ")
    base += ("Rasa CPU ms per message is the least noisy figure; start-up times are also affected "
             "(the two stock runs load the same model). Before each level the benchmark waits "
             "(briefly, within a budget) for the machine to quieten.")
    return base


# --- main -----------------------------------------------------------------

def parse(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="short levels, sampled danger set, no fresh training, no TED; "
                        "writes bench/quick/")
    p.add_argument("--skip-stock", action="store_true", help="do not run the stock configuration")
    p.add_argument("--skip-ted", action="store_true", help="do not run config.yml + TEDPolicy")
    p.add_argument("--with-ted", action="store_true", help="run the TED variant even with --quick")
    p.add_argument("--skip-noenc", action="store_true", help="skip the variants without the sentence encoder")
    p.add_argument("--skip-memo", action="store_true",
                   help="do not run config.yml + AugmentedMemoizationPolicy")
    p.add_argument("--with-memo", action="store_true", help="run the memo variant even with --quick")
    p.add_argument("--skip-tf-default", action="store_true",
                   help="do not run stock with TensorFlow's default thread pools")
    p.add_argument("--skip-inmem", action="store_true",
                   help="do not run ours with an in-memory tracker store")
    p.add_argument("--skip-tracker-variants", action="store_true",
                   help="do not run ours with Rasa's own SQLTrackerStore (sql-rasa) or at the "
                        "other sqlite_synchronous level (wal-normal or wal-full)")
    p.add_argument("--tracker-variants", action="store_true",
                   help="run inmem, sql-rasa and wal-normal/wal-full even with --quick")
    p.add_argument("--skip-train-timing", action="store_true", help="no fresh timed training")
    p.add_argument("--skip-danger-e2e", action="store_true", help="no end-to-end danger check")
    p.add_argument("--levels", default="1,10,50", help="concurrent conversations per level")
    p.add_argument("--seconds", type=float, help="time budget per level (default 30, quick 8)")
    p.add_argument("--messages", type=int, help="message budget per level (default 600, quick 150)")
    p.add_argument("--out-dir", help="where RESULTS.md and results.json go "
                                     "(default bench/, quick: bench/quick/)")
    p.add_argument("--quiet-wait", type=float,
                   help="before each level, wait up to this many seconds for other work on the "
                        "machine to drop below 0.3 busy cores (default 60, quick 15; at most 4 min "
                        "in total, quick 1 min)")
    p.add_argument("--report-only", action="store_true",
                   help="only rewrite RESULTS.md from the results.json in --out-dir")
    p.add_argument("--keep-tmp", action="store_true", help="keep logs, databases and reports")
    o = p.parse_args(argv)
    o.levels = [int(x) for x in o.levels.split(",") if x.strip()]
    o.seconds = o.seconds or (8.0 if o.quick else 30.0)
    o.messages = o.messages or (150 if o.quick else 600)
    o.warmup_messages = 15 if o.quick else 40
    o.warmup_seconds = 10.0 if o.quick else 20.0
    o.warmup_concurrency = 5
    o.danger_sample = 60 if o.quick else None
    o.parse_messages = 60 if o.quick else 200
    o.quiet_wait = o.quiet_wait if o.quiet_wait is not None else (15.0 if o.quick else 60.0)
    o.quiet_budget = 60.0 if o.quick else 240.0  # in total over the run
    o.run_ted = (not o.skip_ted) and (o.with_ted or not o.quick)
    o.run_memo = (not o.skip_memo) and (o.with_memo or not o.quick)
    o.run_inmem = not o.skip_inmem and (o.tracker_variants or not o.quick)
    o.run_tracker_variants = not o.skip_tracker_variants and (o.tracker_variants or not o.quick)
    o.run_tf_default = not (o.skip_tf_default or o.quick)
    o.fresh_train = not (o.quick or o.skip_train_timing)
    o.out_dir = Path(o.out_dir) if o.out_dir else (BENCH / "quick" if o.quick else BENCH)
    return o


def main(argv: Optional[List[str]] = None) -> int:
    opts = parse(argv)
    if opts.report_only:
        data = json.loads((opts.out_dir / "results.json").read_text())
        (opts.out_dir / "RESULTS.md").write_text(markdown(data))
        log(f"rewrote {opts.out_dir / 'RESULTS.md'} from results.json")
        return 0
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even if started with &
    started, t0 = dt.datetime.now().astimezone(), time.monotonic()
    command = "python -m bench.run" + (" " + shlex.join(argv if argv is not None else sys.argv[1:])
                                       if (argv if argv is not None else sys.argv[1:]) else "")
    tmp = Path(tempfile.mkdtemp(prefix="msp-bench-"))
    log(f"working directory {tmp}")
    names = (["ours", "info"] + ([] if opts.skip_noenc else ["noenc", "noenc-info"])
             + ([] if opts.skip_stock else ["stock"]) + (["ted"] if opts.run_ted else [])
             + (["memo"] if opts.run_memo else [])
             + (["inmem"] if opts.run_inmem else [])
             + (["sql-rasa", other_level_variant()] if opts.run_tracker_variants else [])
             + (["stock-tf"] if opts.run_tf_default and not opts.skip_stock else []))
    results: dict = {
        "meta": {"date": started.isoformat(timespec="seconds"), "command": command,
                 "loadavg_start": list(os.getloadavg()),
                 "settings": {k: (str(v) if isinstance(v, Path) else v)
                              for k, v in vars(opts).items()}},
        "machine": machine(),
        "variants": {},
    }
    failed = False
    try:
        if opts.run_ted:
            write_ted_config()
        if opts.run_memo:
            write_memo_config()
        if not opts.skip_noenc:
            write_noenc_config()
        snap = tmp / "inputs"
        snapshot_inputs(sorted({VARIANTS[n]["config"] for n in names}), snap)
        results["meta"]["data_fingerprint"] = data_fingerprint(snap)
        for name in names:
            results["variants"][name] = {"config": VARIANTS[name]["config"],
                                         "label": VARIANTS[name]["label"]}
            try:
                results["variants"][name].update(model_for(name, snap, tmp))
            except subprocess.CalledProcessError as exc:
                results["variants"][name]["error"] = f"training failed (exit {exc.returncode})"
                failed = True
        if opts.fresh_train:
            log("timing a full fresh training of config.yml (empty cache) ...")
            results["fresh_training"] = fresh_training("config.yml", snap, tmp)
            log(f"fresh training: {results['fresh_training']}")
        log("danger net on its labelled set ...")
        results["danger_net"] = danger_net_offline()
        for name in names:
            res = results["variants"][name]
            if "model" not in res:
                continue
            same = [n for n in names[:names.index(name)]
                    if results["variants"][n].get("model") == res["model"]]
            if same:
                res["nlu"] = dict(results["variants"][same[0]].get("nlu") or {}, same_model_as=same[0])
                continue
            log(f"{name}: held-out NLU accuracy (rasa test nlu) ...")
            res["nlu"] = nlu_accuracy(str(ROOT / res["model"]), tmp, name)
            log(f"{name}: NLU {res['nlu']}")
        for name in names:
            res = results["variants"][name]
            if "model" not in res:
                continue
            res.update(bench_variant(name, res["model"], opts, tmp))
            failed = failed or not res.get("ok")
    except KeyboardInterrupt:
        log("interrupted; servers stopped, no results written")
        return 130
    finally:
        if opts.keep_tmp or failed:
            log(f"logs and reports kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    results["ratios"] = {}
    v = results["variants"]
    if "stock" in v and v["ours"].get("levels") and v["stock"].get("levels"):
        results["ratios"]["stock"] = ratios(v["ours"], v["stock"], opts.levels)
    for other, base in (("ted", "ours"), ("memo", "ours"), ("inmem", "ours"), ("sql-rasa", "ours"), ("wal-normal", "ours"),
                        ("wal-full", "ours"), ("stock-tf", "stock")):
        if other in v and v[base].get("levels") and v[other].get("levels"):
            results["ratios"][other] = ratios(v[other], v[base], opts.levels)
    results["targets"] = targets(results)
    results["meta"]["loadavg_end"] = list(os.getloadavg())
    results["meta"]["cpu_loop_seconds_end"] = cpu_speed()
    results["meta"]["total_minutes"] = round((time.monotonic() - t0) / 60, 1)
    results["meta"]["noise_note"] = noise_note(results)
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    (opts.out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (opts.out_dir / "RESULTS.md").write_text(markdown(results))
    log(f"wrote {opts.out_dir / 'RESULTS.md'} and results.json")
    for t in results["targets"]:
        log(f"target {t['target']}: {fmt(t['measured'])} {t['unit']} ({t['limit']}) -> "
            f"{'n/a' if t['met'] is None else ('met' if t['met'] else 'NOT met')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
