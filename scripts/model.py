"""Train the model only when config, domain or training data changed.

The model file is named after a hash of everything that goes into training,
so a clean checkout, a test run and `make run` all share one trained model
and never train twice for the same content. A file lock keeps parallel
callers from training at the same time.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from bot.build_once import build_once

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"


# Our own code that decides what a trained model holds (the components that
# learn, and the sentence encoder they read through). A change to it trains
# again; code that only runs when a message arrives (the danger rules, the
# harm gate) does not need a new model.
TRAINING_CODE = (
    "bot/components/sentence_encoder.py", "bot/components/learned_danger.py",
    "bot/components/unknown_words.py", "bot/text/encoder.py", "bot/text/onnx_graph.py",
    "bot/text/learned_danger.py", "bot/components/neighbour_vote.py",
    "bot/components/lr_training.py", "bot/components/speedups.py",
)


def training_inputs(config: str = "config.yml") -> list[Path]:
    files = [ROOT / config, ROOT / "domain.yml"]
    files += sorted((ROOT / "bot" / "data").rglob("*.yml"))
    files += component_training_files(config)
    files += [ROOT / name for name in TRAINING_CODE]
    return files


def component_training_files(config: str = "config.yml", root: Path = ROOT) -> list[Path]:
    """Files that pipeline components read at training (``training_files``, relative to ``root``)."""
    import yaml

    data = yaml.safe_load(Path(root / config).read_text()) or {}
    found: list[Path] = []
    for component in data.get("pipeline") or []:
        for name in component.get("training_files") or []:
            if root / name not in found:  # DangerVectorsPrefetch and LearnedDanger share one list
                found.append(root / name)
    return found


def fingerprint(config: str = "config.yml") -> str:
    digest = hashlib.sha256()
    for path in training_inputs(config):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    import rasa

    digest.update(rasa.__version__.encode())
    return digest.hexdigest()[:16]


def model_path(config: str = "config.yml", prefix: str = "msp") -> Path:
    return MODELS / f"{prefix}-{fingerprint(config)}.tar.gz"


def ensure_model(config: str = "config.yml", prefix: str = "msp", quiet: bool = False) -> Path:
    """Return the trained model for the current content, training it if needed."""

    def train(target: Path) -> None:
        cmd = train_command(config, "domain.yml", "bot/data", MODELS, target.name[: -len(".tar.gz")])
        subprocess.run(cmd, cwd=ROOT, env=training_env(), check=True)

    return build_once(model_path(config, prefix), train, what="Model", why="config, domain or data changed",
                      lock=".train.lock", quiet=quiet)


def train_command(config: str, domain: str, data: str, out: Path, name: str) -> list[str]:
    """``rasa train`` as this project runs it (here and in the benchmark).

    Rasa's own checks of the data run in ``make test`` and ``make validate``
    (scripts/validate.py, failing on any warning), not again in every
    training: about 20 s of it (session 15).
    """
    return [str(Path(sys.executable).with_name("rasa")), "train", "--skip-validation",
            "--config", config, "--domain", domain, "--data", data,
            "--out", str(out), "--fixed-model-name", name]


def training_env(**extra: str) -> dict:
    """The environment ``rasa train`` runs in (here and in the benchmark).

    Training may use both cores: the sentence encoder reads two batches of
    examples side by side (one thread each: 7% faster than one batch on two
    threads, session 13), and the danger detector's fits run side by side.
    The servers keep to one thread each.
    """
    return dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
                MSP_ENCODER_THREADS=os.environ.get("MSP_ENCODER_THREADS", "1"),
                MSP_ENCODER_WORKERS=os.environ.get("MSP_ENCODER_WORKERS", "2"),
                MSP_TRAIN_JOBS=os.environ.get("MSP_TRAIN_JOBS", "2"), **extra)


if __name__ == "__main__":
    try:
        ensure_model()
    except subprocess.CalledProcessError as exc:
        sys.exit(f"Training failed (exit {exc.returncode}); see the messages above.")
