"""Two speed-ups for Rasa 3.6, installed when the Rasa server loads our components.

1. Event look-up. Every time Rasa rebuilds a conversation from the tracker
store it turns each stored event back into an object, and
``Event.resolve_by_type`` walks the whole tree of ``Event`` subclasses
(``all_subclasses``) for each one: about 50 µs an
event here, a few milliseconds per message on a conversation of any length
(``bench/RESULTS.md``). The answer never changes for a given type name, so it
is remembered after the first look-up. Unknown names, the old ``topic`` event
and defaults behave exactly as in Rasa (they are not remembered).

2. Checking the action server's answer. After every custom action call (the
outcomes form makes two per message: validate, then ask the next question)
``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which
first checks the *schema itself* against the JSON Schema meta-schema and then
builds a new validator: about 10 ms of the Rasa server's CPU per call, 70% of
its time on a form message (py-spy, ``bench/RESULTS.md``). The schema is a
constant, so it is checked once and one validator is kept; every answer is
still validated against it, and a bad answer raises the same
``ValidationError`` with the same message as before.

Check this when upgrading Rasa: it wraps ``rasa.shared.core.events.Event`` and
``rasa.core.actions.action.RemoteAction``.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text, Type

from jsonschema import validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event

_ORIGINAL = Event.resolve_by_type
_ORIGINAL_VALIDATE = RemoteAction._validate_action_result
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


_VALIDATOR = None


def _action_result_validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        schema = RemoteAction.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)  # once, as jsonschema.validate would on every call
        _VALIDATOR = cls(schema)
    return _VALIDATOR


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """Rasa's check, with the schema checked and compiled once."""
    if _action_result_validator().is_valid(result):
        return True
    # A bad answer (rare): Rasa's own code raises the error, with its wording.
    return _ORIGINAL_VALIDATE(self, result)


def install() -> None:
    """Idempotent."""
    if Event.resolve_by_type is not resolve_by_type:
        Event.resolve_by_type = staticmethod(resolve_by_type)
    if RemoteAction._validate_action_result is not validate_action_result:
        RemoteAction._validate_action_result = validate_action_result
