"""The portal's client for Rasa's HTTP API: a worker's words into the conversation, out through its channel.

``POST /conversations/{id}/tracker/events?output_channel=latest&execute_side_effects=true``
appends the events to the conversation and sends every ``bot`` event to the
channel the person last wrote from (``output_channel=latest``): the widget's
socket (``bot.channels.widget``) when the person is on the web. By SMS the
words go through the outbox instead (``bot.handoff.sms``) and Rasa is only
given a copy (``send=False``: no output channel). The API needs
Rasa's token (``?token=``).

Settings, read from the environment: ``MSP_RASA_URL`` (default
``http://127.0.0.1:$RASA_PORT``, port 5005) and the token from ``RASA_TOKEN``
or the file named by ``RASA_TOKEN_FILE`` (``make run`` writes ``var/rasa_token``).
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

TIMEOUT_SECONDS = 10.0


class RasaUnavailable(Exception):
    """Rasa could not be reached or refused the events (the message is for staff, without the token)."""


@dataclass(frozen=True)
class RasaApi:
    url: str
    token: str = field(repr=False)
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "RasaApi":
        env = os.environ if environ is None else environ
        url = (env.get("MSP_RASA_URL") or "").strip() or f"http://127.0.0.1:{(env.get('RASA_PORT') or '5005').strip()}"
        token = (env.get("RASA_TOKEN") or "").strip()
        path = (env.get("RASA_TOKEN_FILE") or "").strip()
        if not token and path:
            try:
                token = Path(path).read_text().strip()
            except OSError as error:
                raise RasaUnavailable(f"The Rasa token file cannot be read ({error.strerror}).") from None
        return cls(url.rstrip("/"), token)

    def _url(self, sender_id: str, what: str, **params: str) -> str:
        query = urllib.parse.urlencode(dict(params, token=self.token))
        return f"{self.url}/conversations/{urllib.parse.quote(sender_id, safe='')}/{what}?{query}"

    def latest_channel(self, sender_id: str) -> Optional[str]:
        """The input channel the person last wrote from ("socketio" for the widget), None if unknown."""
        self._need_token()
        try:
            with urllib.request.urlopen(self._url(sender_id, "tracker", include_events="NONE"),
                                        timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}").get("latest_input_channel")
        except urllib.error.HTTPError as error:
            raise RasaUnavailable(f"The assistant's server refused (HTTP {error.code}).") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise RasaUnavailable(f"The assistant's server cannot be reached ({getattr(error, 'reason', error)}).") \
                from None

    def _need_token(self) -> None:
        if not self.token:
            raise RasaUnavailable("No Rasa token is set (RASA_TOKEN or RASA_TOKEN_FILE), so the message "
                                  "cannot be sent.")

    def append(self, sender_id: str, events: List[Dict[str, Any]], send: bool = True) -> None:
        """Append ``events`` to the conversation and send its bot messages to the person's channel.

        ``send=False``: only append (an SMS handoff: the words go out through the outbox,
        ``bot.handoff.sms``, and Rasa keeps the conversation's copy).
        """
        self._need_token()
        params = {"output_channel": "latest", "execute_side_effects": "true"} if send else {}
        url = self._url(sender_id, "tracker/events", **params)
        request = urllib.request.Request(url,
                                         data=json.dumps(events).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise RasaUnavailable(f"The assistant's server refused the message (HTTP {error.code}).") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise RasaUnavailable(f"The assistant's server cannot be reached ({reason}).") from None
