"""Shared fixtures. The trained model is made once per run (content hash) and
shared; servers for integration tests are started once per module."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def trained_model() -> Path:
    from scripts.model import ensure_model

    return ensure_model(quiet=True)


@pytest.fixture(scope="session")
def redaction_model() -> Path:
    """The trained redaction model (``make train`` makes it; trained here, about a minute, if missing)."""
    from bot.text.redact_model import ensure

    return ensure(quiet=True)


@pytest.fixture(scope="session")
def domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the whole run (records and portal tests), stopped at the end."""
    from bot.records.db import dispose_engines
    from tests.records.msp_pgserver import start_postgres

    server = start_postgres()
    try:
        yield server
    finally:
        dispose_engines()
        server.stop()
