"""Which visit a conversation is on: its current Rasa session. No database.

Rasa starts a new session after ``session_expiration_time`` idle minutes
(``domain.yml``) and records a ``session_started`` event. An invitation links
one visit, not the conversation for ever (``bot.records.links``), so actions
name the visit by the time its session started. Only the Rasa server writes
that event; a client cannot choose it.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable

NO_SESSION = "session:none"


def session_ref(events: Iterable[Dict[str, Any]]) -> str:
    """``session:<timestamp>`` of the latest ``session_started`` event, or ``session:none``."""
    for event in reversed(list(events or [])):
        if isinstance(event, dict) and event.get("event") == "session_started":
            return f"session:{event.get('timestamp')!r}"[:64]
    return NO_SESSION
