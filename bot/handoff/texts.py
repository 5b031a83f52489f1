"""What the person sees when a member of staff joins, writes, hands back or closes, as Rasa events.

On the web widget these are ``custom`` messages the widget shows in its own
way (a banner with the worker's name, the worker's words marked as staff: see
``web_widget/src/widget.js``); on other channels plain text. The worker is
named by first name or by role, as the council chooses
(``handoff_worker_name``: "first_name" or "role").

By SMS (``sms_*`` below) the words are shorter and follow the SMS rule: no
word that says what this is about (``bot.sms.texts.revealing_words``), since
someone else may read the phone; a role whose words break it is "A member of
the team". They go out through the outbox (``bot.handoff.sms``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from bot.settings import Settings, get_settings

WIDGET_CHANNEL = "socketio"
SLOT = "handoff"


def worker_name(display_name: Optional[str], settings: Optional[Settings] = None) -> str:
    """What the person is told the worker is called: their first name, or the council's words for the role."""
    settings = settings or get_settings()
    first = (display_name or "").split()
    if settings.handoff_worker_name.strip().lower() == "first_name" and first:
        return first[0]
    return settings.handoff_worker_role


def _bot(text: Optional[str] = None, custom: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    event: Dict[str, Any] = {"event": "bot", "text": text, "metadata": {"handoff": True}}
    if custom is not None:
        event["data"] = {"custom": custom}
    return event


def _slot(value: Optional[str]) -> Dict[str, Any]:
    return {"event": "slot", "name": SLOT, "value": value}


def joined(channel: Optional[str], name: str) -> List[Dict[str, Any]]:
    if channel == WIDGET_CHANNEL:
        message = _bot(custom={"handoff": "joined", "name": name})
    else:
        message = _bot(f"{name}, a member of staff, has joined the chat. You are now talking to a person.")
    return [_slot("claimed"), message]


def from_worker(channel: Optional[str], name: str, text: str) -> List[Dict[str, Any]]:
    if channel == WIDGET_CHANNEL:
        return [_bot(custom={"from": "staff", "name": name, "text": text})]
    return [_bot(f"{name}: {text}")]


def handed_back(channel: Optional[str]) -> List[Dict[str, Any]]:
    if channel == WIDGET_CHANNEL:
        message = _bot(custom={"handoff": "left"})
    else:
        message = _bot("The member of staff has left the chat. You are talking to the automated helper again.")
    return [_slot(None), message]


def closed(channel: Optional[str]) -> List[Dict[str, Any]]:
    # The same words: the assistant is there again either way.
    return handed_back(channel)


#: The answers to "would you like a call back?" (the same as utter_callback_offer's buttons).
CALLBACK_BUTTONS = ({"title": "Yes, call me back", "payload": "/affirm"},
                    {"title": "No, I will wait", "payload": "/deny"})
#: Set with the timeout notice: a yes to it starts the call-back questions (SafeguardPolicy).
CALLBACK_OFFERED_SLOT = "callback_offered"


def automatic(text: str) -> List[Dict[str, Any]]:
    """Something the assistant says by itself during a handoff (plain text on every channel)."""
    return [_bot(text)]


def automatic_callback_offer(text: str) -> List[Dict[str, Any]]:
    """An automatic message that ends with "would you like a call back?": yes and no buttons where the
    channel shows them (the words say "yes or no" for the others), and the slot that lets a yes start
    the call-back questions."""
    message = _bot(text)
    message["data"] = {"buttons": [dict(button) for button in CALLBACK_BUTTONS]}
    return [message, {"event": "slot", "name": CALLBACK_OFFERED_SLOT, "value": True}]


# --- SMS ----------------------------------------------------------------------------------

SMS_CHANNEL = "twilio"
SMS_ROLE = "A member of the team"


def sms_worker_name(display_name: Optional[str], settings: Optional[Settings] = None) -> str:
    """The worker's name by SMS: as on the web, unless those words would say what this is about."""
    from bot.sms.texts import revealing_words

    name = worker_name(display_name, settings)
    return SMS_ROLE if revealing_words(name) else name


def sms_joined(name: str) -> str:
    return f"{name} has joined this chat. You are now texting a person. If anyone is in danger now, call 999."


def sms_from_worker(name: str, text: str) -> str:
    return f"{name}: {text}"


def sms_ended(settings: Optional[Settings] = None) -> str:
    """Hand back or close by SMS. The assistant does not chat freely by text (its answers name what
    this is about), so the person is told how to reach the team."""
    s = settings or get_settings()
    return (f"The member of staff has left the chat. To talk to us again, call {s.council_phone}. "
            "If anyone is in danger now, call 999.")


def sms_timeout(settings: Optional[Settings] = None) -> str:
    """Nobody claimed the chat in time (``bot.handoff.timeouts``), by SMS: ends with the call-back offer."""
    s = settings or get_settings()
    return (f"Sorry, nobody is free to text yet. You can keep waiting, or call {s.council_phone}. "
            "If anyone is in danger now, call 999. If it is safe, we can call you back. "
            "Would you like a call back? Reply yes or no.")


def sms_unanswered(settings: Optional[Settings] = None) -> str:
    s = settings or get_settings()
    return (f"Sorry, the member of staff has not answered yet. They may have been called away. "
            f"You can keep texting, or call {s.council_phone}. If anyone is in danger now, call 999.")


def sms_record(text: str, slot: object = ...) -> List[Dict[str, Any]]:
    """Rasa's copy of an SMS sent in a handoff (plain text), with the ``handoff`` slot change if any."""
    events = [] if slot is ... else [_slot(slot)]  # type: ignore[arg-type]
    return events + [_bot(text)]
