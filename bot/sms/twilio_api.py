"""The Twilio REST client, made once per process (``get_client()``).

``MSP_TWILIO_API_URL`` moves the Messages API elsewhere (the tests' local
Twilio peer) the way Twilio's documentation on custom HTTP clients does it:
an ``HttpClient`` that rewrites the address of each request. Everything else
(the ``twilio`` library's request building, authentication, parsing and
errors) is the library's own.
"""
from __future__ import annotations

import threading
from typing import Any, Optional

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .config import TWILIO_API_URL, SmsConfig, get_sms_config

_lock = threading.Lock()
_client: Optional[Client] = None


class RedirectingHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending ``https://api.twilio.com/...`` requests to ``api_url``."""

    def __init__(self, api_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.api_url = api_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):
        if url.startswith(TWILIO_API_URL):
            url = self.api_url + url[len(TWILIO_API_URL):]
        return super().request(method, url, *args, **kwargs)


def make_client(config: SmsConfig) -> Client:
    if config.api_url.rstrip("/") == TWILIO_API_URL:
        http_client = TwilioHttpClient(timeout=config.http_timeout)
    else:
        http_client = RedirectingHttpClient(config.api_url, config.http_timeout)
    return Client(config.account_sid, config.auth_token, http_client=http_client)


def get_client() -> Client:
    global _client
    with _lock:
        if _client is None:
            _client = make_client(get_sms_config())
        return _client
