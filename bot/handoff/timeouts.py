"""Nobody has claimed a waiting handoff in time: tell the person, once, so nobody talks to a silent chat.

``python -m bot.handoff.timeouts`` (started by ``make run`` with the portal)
looks every ``CHECK_SECONDS`` for handoffs still waiting after
``handoff_claim_timeout_minutes`` (a setting, default 3) and sends the person,
through Rasa's HTTP API, an apology: they can keep waiting (the handoff stays
in the queue and a worker can still claim it), call the team, call 999 if
anyone is in danger, or have a call back: "Would you like a call back?" with
yes and no buttons, and the ``callback_offered`` slot, so that a yes starts
the call-back questions (``bot/actions/callback.py``: the handoff leaves the
queue as ``callback_requested``). It is stored as an automatic message of
kind "timeout".
Taking the job is a conditional UPDATE (``handoffs.mark_timeout_told``), so two
of these processes never tell one person twice; if Rasa does not answer, the
mark is taken back and the next round tries again.

A claimed chat whose worker has not answered the person's last message in
``handoff_answer_timeout_minutes`` (default 5) gets one notice too: the
worker may have been called away; the council's number; 999 (once per
message of the person's: only when the person's is the newest message).

It also emails the duty team, once per waiting handoff and once per call-back
request (``bot.records.callbacks``: made after this notice, out of hours, or on
a channel a worker cannot reach), with a link to the portal and no personal
details (``bot/handoff/duty.py``), when a relay and an address are set.

By SMS (a texter's handoff, ``bot.handoff.sms``) both notices have shorter
words without anything that says what this is about (``texts.sms_timeout``,
``texts.sms_unanswered``); Rasa gets them (and the ``callback_offered`` slot,
so a "yes" by text starts the call-back questions, asked by SMS) without
sending, and they go out through the outbox in the same transaction that
stores them, once per handoff (and once per unanswered message). A number
that has replied STOP is sent nothing (its handoff has ended as "left").

The "unanswered" notice of a claimed chat offers no call back (a worker is there).
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Optional

from bot.records import callbacks, handoffs, session_scope
from bot.records.models import utcnow
from bot.settings import Settings, get_settings

from bot.advocacy.sender import DeliveryError

from . import sms as handoff_sms
from . import texts
from .duty import DutyMail
from .rasa_api import RasaApi, RasaUnavailable

logger = logging.getLogger("bot.handoff.timeouts")
CHECK_SECONDS = 5.0


class TimeoutSettingError(ValueError):
    pass


def _minutes(settings: Optional[Settings], name: str) -> timedelta:
    raw = getattr(settings or get_settings(), name)
    label = f"MSP_{name.upper()}"
    try:
        minutes = float(raw)
    except (TypeError, ValueError):
        raise TimeoutSettingError(f"{label} must be a number, not {raw!r}.") from None
    if minutes <= 0:
        raise TimeoutSettingError(f"{label} must be more than 0.")
    return timedelta(minutes=minutes)


def claim_timeout(settings: Optional[Settings] = None) -> timedelta:
    """``handoff_claim_timeout_minutes`` as a time span (a number more than 0; fractions for tests)."""
    return _minutes(settings, "handoff_claim_timeout_minutes")


def answer_timeout(settings: Optional[Settings] = None) -> timedelta:
    """``handoff_answer_timeout_minutes``: how long a claimed chat may leave the person unanswered."""
    return _minutes(settings, "handoff_answer_timeout_minutes")


def notice(settings: Optional[Settings] = None) -> str:
    s = settings or get_settings()
    return (f"Sorry, nobody from the team is free to chat yet. You can keep waiting here, and someone will "
            f"join when they can. Or call {s.council_name} on {s.council_phone}. "
            f"If anyone is in danger now, call {s.emergency_number}. "
            "If it is safe, someone can call you back instead. Would you like a call back? Please answer yes or no.")


def unanswered_notice(settings: Optional[Settings] = None) -> str:
    s = settings or get_settings()
    return (f"Sorry, the member of staff has not answered yet. They may have been called away. You can keep "
            f"writing here, or call {s.council_name} on {s.council_phone}. "
            f"If anyone is in danger now, call {s.emergency_number}.")


def remind_unanswered(api: RasaApi, settings: Optional[Settings] = None) -> int:
    """Tell each person a claimed chat has left unanswered for too long, once per message of theirs."""
    settings = settings or get_settings()
    with session_scope(read_only=True) as db:
        due = handoffs.unanswered(db, utcnow() - answer_timeout(settings))
    told = 0
    for handoff_id, sender_id, message_id in due:
        if _tell(api, handoff_id, sender_id, unanswered_notice(settings), "the worker has not answered",
                 sms_words=texts.sms_unanswered(settings), sms_what=f"unanswered:{message_id}"):
            told += 1
    return told


def _tell(api: RasaApi, handoff_id: int, sender_id: str, words: str, what: str, offer: bool = False,
          sms_words: Optional[str] = None, sms_what: str = "timeout") -> bool:
    """Send an automatic notice into the conversation and store it; False if Rasa could not take it.

    ``offer``: the notice ends with "would you like a call back?" (its buttons and slot go too).
    By SMS, ``sms_words`` go instead: Rasa appends them without sending, then they are stored and put
    in the outbox in one transaction (once per ``sms_what``)."""
    sms = handoff_sms.is_sms(sender_id)
    if sms:
        words = sms_words or words
    try:
        api.append(sender_id, texts.automatic_callback_offer(words) if offer else texts.automatic(words),
                   send=not sms)
    except RasaUnavailable as error:
        logger.warning("handoff %s: the person could not be told %s (%s)", handoff_id, what, error)
        return False
    with session_scope() as db:
        handoffs.add_message(db, handoff_id, "automatic", words, kind="timeout")
        if sms and handoff_sms.queue(db, handoff_id, sender_id, words, sms_what) is None:
            logger.info("handoff %s: not texted, the number has opted out", handoff_id)
    logger.info("handoff %s: %s; the person was told", handoff_id, what)
    return True


def run_once(api: RasaApi, settings: Optional[Settings] = None) -> int:
    """Tell every overdue person once; the number told."""
    settings = settings or get_settings()
    with session_scope(read_only=True) as db:
        due = handoffs.overdue(db, utcnow() - claim_timeout(settings))
    told = 0
    for handoff_id, sender_id in due:
        with session_scope() as db:
            if not handoffs.mark_timeout_told(db, handoff_id):
                continue  # claimed, ended or told meanwhile
        if not _tell(api, handoff_id, sender_id, notice(settings), "nobody claimed it in time", offer=True,
                     sms_words=texts.sms_timeout(settings)):
            with session_scope() as db:
                handoffs.unmark_timeout_told(db, handoff_id)
            continue
        told += 1
    return told


def notify_duty(mail: Optional[DutyMail], now: Optional[datetime] = None) -> int:
    """Email the duty team about every waiting handoff not yet told; the number emailed.

    Each email is a lease (``handoffs.claim_duty_email``): taken and committed before sending; a process
    killed in between leaves it to a round after the lease. ``now``: the clock, for tests.
    """
    if mail is None:
        return 0
    lease = timedelta(seconds=mail.lease_seconds)
    with session_scope(read_only=True) as db:
        waiting = handoffs.duty_not_told(db, now=now)
    sent = 0
    for handoff_id in waiting:
        with session_scope() as db:
            if not handoffs.claim_duty_email(db, handoff_id, now=now, lease=lease):
                continue
        try:
            mail.send(handoff_id)
        except DeliveryError as error:
            logger.warning("handoff %s: the duty team could not be emailed (%s); trying again", handoff_id, error)
            with session_scope() as db:
                handoffs.release_duty_email(db, handoff_id)
            continue
        with session_scope() as db:
            handoffs.duty_email_sent(db, handoff_id)
        logger.info("handoff %s: the duty team was emailed", handoff_id)
        sent += 1
    return sent


def notify_duty_callbacks(mail: Optional[DutyMail], now: Optional[datetime] = None) -> int:
    """Email the duty team about every call-back request not yet told (one process per try); the number emailed."""
    if mail is None:
        return 0
    lease = timedelta(seconds=mail.lease_seconds)
    with session_scope(read_only=True) as db:
        pending = callbacks.duty_not_told(db, now=now, lease=lease)
    sent = 0
    for request_id in pending:
        with session_scope() as db:
            attempt = callbacks.claim_duty_email(db, request_id, now=now, lease=lease)
        if attempt is None:
            continue
        try:
            mail.send_callback(request_id)
        except DeliveryError as error:
            logger.warning("call back %s: the duty team could not be emailed (%s); trying again", request_id, error)
            with session_scope() as db:
                callbacks.duty_email_done(db, request_id, sent=False, attempt=attempt)
            continue
        with session_scope() as db:
            callbacks.duty_email_done(db, request_id, sent=True, attempt=attempt)
        logger.info("call back %s: the duty team was emailed", request_id)
        sent += 1
    return sent


def run(stop: threading.Event) -> None:
    claim_timeout()  # refuse to start on a bad setting
    answer_timeout()
    api = RasaApi.from_env()
    mail = DutyMail.from_env()
    if mail is None:
        logger.warning("No duty email for waiting chats: set MSP_HANDOFF_DUTY_EMAIL (or MSP_ADVOCACY_DUTY_EMAIL), "
                       "and a relay and sender: MSP_HANDOFF_DUTY_SMTP_HOST and MSP_HANDOFF_DUTY_FROM, or the "
                       "shared MSP_ADVOCACY_SMTP_HOST and MSP_ADVOCACY_FROM.")
    while not stop.is_set():
        for step in (lambda: notify_duty(mail), lambda: notify_duty_callbacks(mail), lambda: run_once(api),
                     lambda: remind_unanswered(api)):
            try:
                step()
            except Exception:  # noqa: BLE001 - keep watching; the next round tries again
                logger.exception("handoff timeouts: a round failed")
        stop.wait(CHECK_SECONDS)


def main() -> None:
    from bot.worker import run_until_signalled

    run_until_signalled("Handoff timeouts", run, logger)


if __name__ == "__main__":
    main()
