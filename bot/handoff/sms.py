"""A live handoff by SMS: what the worker, or the timeouts process, says goes out through the durable outbox.

On the web a worker's words reach the person's socket through Rasa's HTTP API
(``bot.handoff.rasa_api``). By SMS they are put in the outbox
(``bot.records.sms.enqueue``, sent by ``python -m bot.sms.sender``) in the same
transaction that stores them in ``handoff_messages``: once stored, never lost;
once per ``source_ref`` (``handoff:<id>:<what>``), and the sender's own checks
with Twilio, so never sent twice. Rasa's conversation gets a copy for the
transcript (no output channel: Rasa itself sends nothing).

The rules of every SMS of ours hold for a worker's words too: nothing that says
what this is about (``bot.sms.texts.revealing_words``: someone else may read
the phone), at most one Twilio message long, and nothing at all to a number that
has replied STOP (the worker is told; the outbox would suppress it anyway).
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from bot.records import sms as sms_records
from bot.records.errors import InvalidValue

SENDER_PREFIX = "sms-"
#: The channel's name in Rasa (``bot.channels.sms.SmsInput``) and in the handoffs table.
RASA_CHANNEL = "twilio"
CHANNEL = "sms"
#: Room left for the worker's name in front of their words (``texts.sms_from_worker``).
NAME_ROOM = 80
MAX_WORKER_CHARS = sms_records.MAX_BODY_CHARS - NAME_ROOM


def number_id(sender_id: str) -> Optional[int]:
    """The SMS number's id of an ``sms-<id>`` conversation, else None."""
    if not (sender_id or "").startswith(SENDER_PREFIX):
        return None
    rest = sender_id[len(SENDER_PREFIX):]
    return int(rest) if rest.isdigit() else None


def is_sms(sender_id: str) -> bool:
    return number_id(sender_id) is not None


def worker_words_problem(text: str) -> Optional[str]:
    """Why a worker's message cannot go by SMS (for staff), or None."""
    from bot.sms.texts import revealing_words

    words = revealing_words(text)
    if words:
        listed = ", ".join(f'"{w}"' for w in words)
        return (f"Not sent: text messages never say {listed}, because someone else may read the person's "
                "phone. Please say it another way.")
    if len(text) > MAX_WORKER_CHARS:
        return (f"Not sent: a text message can hold at most {MAX_WORKER_CHARS:,} characters; this one has "
                f"{len(text):,}. Please send it in shorter parts.")
    return None


def opted_out(session: Session, sender_id: str) -> bool:
    number = number_id(sender_id)
    if number is None:
        raise InvalidValue("That conversation is not a text message conversation.")
    return sms_records.is_opted_out(session, number)


def queue(session: Session, handoff_id: int, sender_id: str, body: str, what: str) -> Optional[int]:
    """Put ``body`` in the outbox for the conversation's number, once per (handoff, ``what``).

    The outbox id, or None when the number has opted out (nothing is queued).
    """
    number = number_id(sender_id)
    if number is None:
        raise InvalidValue("That conversation is not a text message conversation.")
    row = sms_records.enqueue(session, number, "handoff", body, f"handoff:{int(handoff_id)}:{what}")
    return row.id if row is not None else None
