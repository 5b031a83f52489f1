"""The cached Event.resolve_by_type answers exactly as Rasa's own."""
from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses as subclasses

import bot.components  # noqa: F401 (installs it)
from bot.components import speedups


def test_installed_when_the_components_are_imported():
    assert Event.resolve_by_type is speedups.resolve_by_type


def test_every_event_type_resolves_as_rasa_does():
    for cls in subclasses(Event):
        name = getattr(cls, "type_name", None)
        if isinstance(name, str):
            assert Event.resolve_by_type(name) is speedups._ORIGINAL(name)
            assert Event.resolve_by_type(name) is speedups._ORIGINAL(name)  # cached the same


def test_unknown_names_topic_and_defaults_behave_as_before():
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("topic", SlotSet) is None
    assert "no_such_event" not in speedups._KNOWN


def test_events_round_trip_through_from_parameters():
    events = [UserUttered("hi", {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet"),
              SlotSet("x", 1)]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events
