"""Cheaper event look-up for Rasa 3.6, installed when the Rasa server loads our components.

Every time Rasa rebuilds a conversation from the tracker store it turns each
stored event back into an object, and ``Event.resolve_by_type`` walks the whole
tree of ``Event`` subclasses (``all_subclasses``) for each one: about 50 µs an
event here, a few milliseconds per message on a conversation of any length
(``bench/RESULTS.md``). The answer never changes for a given type name, so it
is remembered after the first look-up. Unknown names, the old ``topic`` event
and defaults behave exactly as in Rasa (they are not remembered).

Check this when upgrading Rasa: it wraps ``rasa.shared.core.events.Event``.
"""
from __future__ import annotations

from typing import Dict, Optional, Text, Type

from rasa.shared.core.events import Event

_ORIGINAL = Event.resolve_by_type
_KNOWN: Dict[Text, Type[Event]] = {}


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    cls = _KNOWN.get(type_name)
    if cls is not None:
        return cls
    try:
        cls = _ORIGINAL(type_name, None)
    except ValueError:  # unknown: Rasa decides (the default, or the same error)
        cls = None
    if cls is None:
        return _ORIGINAL(type_name, default)
    _KNOWN[type_name] = cls
    return cls


def install() -> None:
    """Idempotent."""
    if Event.resolve_by_type is not resolve_by_type:
        Event.resolve_by_type = staticmethod(resolve_by_type)
