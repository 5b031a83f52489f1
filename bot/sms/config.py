"""SMS settings, read from the environment once (``get_sms_config()``).

Secrets (``TWILIO_AUTH_TOKEN``) reach only the Rasa server (to check
signatures) and the sender (to call the API): ``scripts/stack.py``.

| variable | default | meaning |
| --- | --- | --- |
| ``TWILIO_ACCOUNT_SID`` | (none) | Twilio account |
| ``TWILIO_AUTH_TOKEN`` | (none: SMS off) | signs webhooks, authenticates API calls |
| ``MSP_SMS_FROM`` | (none) | our Twilio number (E.164), or ``MSP_SMS_MESSAGING_SERVICE_SID`` |
| ``MSP_SMS_PUBLIC_URL`` | (none: SMS off) | the server's address as Twilio calls it (behind a proxy: the proxy's), e.g. ``https://chat.example.gov.uk`` |
| ``MSP_TWILIO_API_URL`` | ``https://api.twilio.com`` | where the Messages API is (tests: a local peer) |
| ``MSP_SMS_MAX_ATTEMPTS`` | 6 | sends tried before a message is marked failed |
| ``MSP_SMS_RETRY_SECONDS`` | 2 | first wait after a failed send; doubles each time |
| ``MSP_SMS_RETRY_MAX_SECONDS`` | 300 | longest wait between tries |
| ``MSP_SMS_LEASE_SECONDS`` | 60 | a send not finished in this time (the sender died) is checked with Twilio and finished |
| ``MSP_SMS_POLL_SECONDS`` | 0.5 | how often the sender looks for work |
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Optional

from bot.settings import backoff_seconds, env_positive_number, env_text

TWILIO_API_URL = "https://api.twilio.com"
CHANNEL_PATH = "/webhooks/twilio"


@dataclass(frozen=True)
class SmsConfig:
    account_sid: Optional[str] = None
    auth_token: Optional[str] = None
    from_number: Optional[str] = None
    messaging_service_sid: Optional[str] = None
    public_url: Optional[str] = None
    api_url: str = TWILIO_API_URL
    max_attempts: int = 6
    retry_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    lease_seconds: float = 60.0
    poll_seconds: float = 0.5
    http_timeout: float = 10.0
    # Survey replies the Rasa server reads at once (bot/channels/sms.py).
    concurrent_turns: int = 2

    @property
    def receiving(self) -> bool:
        """Enough to check signatures on inbound webhooks."""
        return bool(self.auth_token and self.public_url)

    @property
    def sending(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.public_url
                     and (self.from_number or self.messaging_service_sid))

    def public(self, path: str) -> str:
        return (self.public_url or "").rstrip("/") + path

    @property
    def inbound_url(self) -> str:
        return self.public(CHANNEL_PATH + "/webhook")

    def status_url(self, outbox_id: int) -> str:
        return self.public(f"{CHANNEL_PATH}/status?o={int(outbox_id)}")

    def backoff(self, attempts: int) -> float:
        return backoff_seconds(attempts, self.retry_seconds, self.retry_max_seconds)


def load_sms_config(environ: Optional[Mapping[str, str]] = None) -> SmsConfig:
    env = os.environ if environ is None else environ

    def text(name: str) -> Optional[str]:
        return env_text(env, name)

    def number(name: str, default: float) -> float:
        return env_positive_number(env, name, default)

    if text("TWILIO_AUTH_TOKEN") and not text("MSP_SMS_PUBLIC_URL"):
        # Twilio signs the address it calls; without it no message could be
        # checked, so SMS would be silently off. Say so at start-up instead.
        raise ValueError("TWILIO_AUTH_TOKEN is set but MSP_SMS_PUBLIC_URL is not: set it to the public "
                         "https:// address Twilio calls (before any proxy), or unset TWILIO_AUTH_TOKEN.")
    return SmsConfig(
        account_sid=text("TWILIO_ACCOUNT_SID"),
        auth_token=text("TWILIO_AUTH_TOKEN"),
        from_number=text("MSP_SMS_FROM"),
        messaging_service_sid=text("MSP_SMS_MESSAGING_SERVICE_SID"),
        public_url=text("MSP_SMS_PUBLIC_URL"),
        api_url=text("MSP_TWILIO_API_URL") or TWILIO_API_URL,
        max_attempts=int(number("MSP_SMS_MAX_ATTEMPTS", 6)),
        retry_seconds=number("MSP_SMS_RETRY_SECONDS", 2.0),
        retry_max_seconds=number("MSP_SMS_RETRY_MAX_SECONDS", 300.0),
        lease_seconds=number("MSP_SMS_LEASE_SECONDS", 60.0),
        poll_seconds=number("MSP_SMS_POLL_SECONDS", 0.5),
        concurrent_turns=int(number("MSP_SMS_CONCURRENT_TURNS", 2)),
    )


@lru_cache(maxsize=1)
def get_sms_config() -> SmsConfig:
    return load_sms_config()
