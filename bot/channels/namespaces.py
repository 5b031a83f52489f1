"""Which channel owns which conversations: one sender id prefix per channel.

A conversation's sender id starts with the prefix of the channel that created
it, and a channel only ever takes ids in its own namespace: the widget makes
``web-<keyed hash>`` ids itself (the browser never names one), and the REST
channel refuses any sender that does not start with ``rest-``. So a REST
client, whatever id it sends, can never write into, or read the replies of, a
widget conversation, and the other way round. A new channel
takes a new prefix here (SMS: ``sms-``).

Rasa's HTTP API (token only, for staff tools) is not a channel and can reach
any conversation.
"""
from __future__ import annotations

import re
from typing import Optional

PREFIXES = {
    "rest": "rest-",
    "socketio": "web-",  # bot/channels/widget.py
    "twilio": "sms-",  # bot/channels/sms.py (sms-<number id>, never the number)
}

# After the prefix: letters, digits and _ . : - (safe in the HTTP API's URLs).
_REST_SENDER = re.compile(r"^rest-[A-Za-z0-9_.:-]{1,100}$")


def owner(sender_id: str) -> Optional[str]:
    """The channel whose namespace ``sender_id`` is in, if any."""
    for channel, prefix in PREFIXES.items():
        if sender_id.startswith(prefix):
            return channel
    return None


def is_rest_sender(sender_id: object) -> bool:
    return isinstance(sender_id, str) and bool(_REST_SENDER.match(sender_id))
