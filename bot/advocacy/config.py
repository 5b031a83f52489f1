"""Advocacy delivery settings, read from the environment once (``get_advocacy_config()``).

| variable | default | meaning |
| --- | --- | --- |
| ``MSP_ADVOCACY_DELIVERY`` | ``email`` | ``email`` (SMTP) or ``webhook`` (signed HTTPS POST) |
| ``MSP_ADVOCACY_SMTP_HOST`` | (none: email off) | the mail relay |
| ``MSP_ADVOCACY_SMTP_PORT`` | 587 | its port |
| ``MSP_ADVOCACY_SMTP_STARTTLS`` | ``yes`` | upgrade with STARTTLS before anything is sent (``no`` only for a loopback relay) |
| ``MSP_ADVOCACY_SMTP_USER`` / ``MSP_ADVOCACY_SMTP_PASSWORD`` | (none) | relay login, if it needs one |
| ``MSP_ADVOCACY_FROM`` | (none) | our address |
| ``MSP_ADVOCACY_TO`` | (none) | the provider's referral address |
| ``MSP_ADVOCACY_DUTY_EMAIL`` | (none) | the duty team, told when a referral could not be delivered |
| ``MSP_ADVOCACY_WEBHOOK_URL`` | (none) | the provider's https:// address (webhook delivery) |
| ``MSP_ADVOCACY_WEBHOOK_SECRET`` | (none) | the shared signing secret (at least 32 characters) |
| ``MSP_ADVOCACY_MAX_ATTEMPTS`` | 8 | tries before a referral is marked failed and the duty team told |
| ``MSP_ADVOCACY_RETRY_SECONDS`` | 30 | first wait after a failed try; doubles each time |
| ``MSP_ADVOCACY_RETRY_MAX_SECONDS`` | 3600 | longest wait between tries |
| ``MSP_ADVOCACY_LEASE_SECONDS`` | 120 | a send not finished in this time (the sender died) is tried again, same idempotency key |
| ``MSP_ADVOCACY_POLL_SECONDS`` | 2 | how often the sender looks for work |
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Optional

from bot.settings import backoff_seconds, env_positive_number, env_text, env_yes_no


@dataclass(frozen=True)
class AdvocacyConfig:
    delivery: str = "email"
    smtp_host: Optional[str] = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: Optional[str] = None
    smtp_password: Optional[str] = None
    from_address: Optional[str] = None
    to_address: Optional[str] = None
    duty_address: Optional[str] = None
    webhook_url: Optional[str] = None
    webhook_secret: Optional[str] = None
    max_attempts: int = 8
    retry_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    lease_seconds: float = 120.0
    poll_seconds: float = 2.0
    timeout: float = 30.0

    @property
    def email_ready(self) -> bool:
        return bool(self.smtp_host and self.from_address and self.to_address)

    @property
    def sending(self) -> bool:
        if self.delivery == "webhook":
            return bool(self.webhook_url and self.webhook_secret)
        return self.email_ready

    @property
    def message_domain(self) -> str:
        return (self.from_address or "msp.invalid").rpartition("@")[2] or "msp.invalid"

    def backoff(self, attempts: int) -> float:
        return backoff_seconds(attempts, self.retry_seconds, self.retry_max_seconds)


def load_advocacy_config(environ: Optional[Mapping[str, str]] = None) -> AdvocacyConfig:
    env = os.environ if environ is None else environ

    def text(name: str) -> Optional[str]:
        return env_text(env, name)

    def number(name: str, default: float) -> float:
        return env_positive_number(env, name, default)

    delivery = (text("MSP_ADVOCACY_DELIVERY") or "email").lower()
    if delivery not in ("email", "webhook"):
        raise ValueError("MSP_ADVOCACY_DELIVERY must be email or webhook.")
    url = text("MSP_ADVOCACY_WEBHOOK_URL")
    secret = text("MSP_ADVOCACY_WEBHOOK_SECRET")
    if delivery == "webhook":
        if url and not (url.startswith("https://") or url.startswith("http://127.0.0.1")
                        or url.startswith("http://localhost")):
            raise ValueError("MSP_ADVOCACY_WEBHOOK_URL must be an https:// address.")
        if secret and len(secret) < 32:
            raise ValueError("MSP_ADVOCACY_WEBHOOK_SECRET must be at least 32 characters.")
    return AdvocacyConfig(
        delivery=delivery,
        smtp_host=text("MSP_ADVOCACY_SMTP_HOST"),
        smtp_port=int(number("MSP_ADVOCACY_SMTP_PORT", 587)),
        smtp_starttls=env_yes_no(env, "MSP_ADVOCACY_SMTP_STARTTLS", True),
        smtp_user=text("MSP_ADVOCACY_SMTP_USER"),
        smtp_password=text("MSP_ADVOCACY_SMTP_PASSWORD"),
        from_address=text("MSP_ADVOCACY_FROM"),
        to_address=text("MSP_ADVOCACY_TO"),
        duty_address=text("MSP_ADVOCACY_DUTY_EMAIL"),
        webhook_url=url,
        webhook_secret=secret,
        max_attempts=int(number("MSP_ADVOCACY_MAX_ATTEMPTS", 8)),
        retry_seconds=number("MSP_ADVOCACY_RETRY_SECONDS", 30.0),
        retry_max_seconds=number("MSP_ADVOCACY_RETRY_MAX_SECONDS", 3600.0),
        lease_seconds=number("MSP_ADVOCACY_LEASE_SECONDS", 120.0),
        poll_seconds=number("MSP_ADVOCACY_POLL_SECONDS", 2.0),
    )


@lru_cache(maxsize=1)
def get_advocacy_config() -> AdvocacyConfig:
    return load_advocacy_config()
