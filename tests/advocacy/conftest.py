"""Fixtures for the advocacy tests: a fresh SQLite records file, a provider on loopback."""
from __future__ import annotations

import pytest

from bot.records.db import dispose_engines
from bot.records.schema import upgrade_to_head

from .provider_peer import SmtpProvider

PROVIDER = "referrals@advocacy.example.org"
DUTY = "duty@example.gov.uk"
FROM = "msp@example.gov.uk"


@pytest.fixture
def records_db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    dispose_engines()


@pytest.fixture
def provider():
    peer = SmtpProvider().start()
    yield peer
    peer.stop()


@pytest.fixture
def smtp_env(provider) -> dict:
    return {
        "MSP_ADVOCACY_SMTP_HOST": "127.0.0.1",
        "MSP_ADVOCACY_SMTP_PORT": str(provider.port),
        "MSP_ADVOCACY_SMTP_STARTTLS": "no",
        "MSP_ADVOCACY_FROM": FROM,
        "MSP_ADVOCACY_TO": PROVIDER,
        "MSP_ADVOCACY_DUTY_EMAIL": DUTY,
        "MSP_ADVOCACY_MAX_ATTEMPTS": "3",
        "MSP_ADVOCACY_RETRY_SECONDS": "0.2",
        "MSP_ADVOCACY_LEASE_SECONDS": "2",
        "MSP_ADVOCACY_POLL_SECONDS": "0.1",
    }


@pytest.fixture
def smtp_config(smtp_env):
    from bot.advocacy.config import load_advocacy_config

    return load_advocacy_config(smtp_env)
