"""Build a trained artefact once for its content hash, under a file lock.

The Rasa model (``scripts/model.py``) and the redaction model
(``bot/text/redact_model.py``) are named after a hash of what goes into them;
this makes the one for the current content if it is missing, and only once
when several processes ask at the same time.
"""
from __future__ import annotations

import fcntl
import sys
import time
from pathlib import Path
from typing import Callable, Optional, TextIO

ROOT = Path(__file__).resolve().parents[1]


def build_once(target: Path, build: Callable[[Path], None], *, what: str, why: str, lock: str,
               ready: Optional[Callable[[Path], bool]] = None, quiet: bool = False,
               stream: Optional[TextIO] = None) -> Path:
    """``target``, made by ``build(target)`` first if ``ready(target)`` is false.

    ``lock`` names the lock file beside ``target``: every process that builds
    into the same place must use the same one (``bench/run.py`` shares the
    Rasa model's ``.train.lock``).
    """
    ready = ready or Path.exists
    stream = stream or sys.stdout
    if ready(target):
        if not quiet:
            print(f"{what} is up to date: {target.relative_to(ROOT)}", file=stream)
        return target
    target.parent.mkdir(exist_ok=True)
    with open(target.parent / lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if ready(target):
            return target
        print(f"Training {target.name} ({why}) ...", file=stream, flush=True)
        started = time.monotonic()
        build(target)
        seconds = time.monotonic() - started
        (target.parent / f"{target.name}.seconds").write_text(f"{seconds:.1f}\n")
        print(f"Trained in {seconds:.0f} s: {target.relative_to(ROOT)}", file=stream, flush=True)
    return target
