"""The outbox sender: ``python -m bot.sms.sender`` (started by ``scripts/stack.py``).

One message at a time, oldest due first (``bot.records.sms``):

1. **Claim** it and commit (state ``sending``, attempts + 1, a lease, an
   ``attempt`` event) before anything leaves this process.
2. If it was **tried before** (an earlier attempt failed, or a sender died
   mid-send and the lease ran out), ask Twilio first: list the messages to
   that number from our number and look for this text created since the
   first attempt, not already matched to another outbox row. Found: record
   it as sent (``reconciled``), do not send again. Twilio cannot be asked:
   try later.
3. If the number has **opted out** since it was queued: ``suppressed``.
4. **Send** with ``messages.create`` and a status callback URL; record the
   MessageSid (``sent``).
5. On a failure that may pass (network, timeout, Twilio 5xx or 429): back
   off (``MSP_SMS_RETRY_SECONDS`` doubling, up to ``MSP_SMS_RETRY_MAX_SECONDS``)
   and try again, at most ``MSP_SMS_MAX_ATTEMPTS`` times; then ``failed``,
   with the reason, and an error in the log. A refusal that will not pass
   (Twilio 4xx, e.g. an opted-out or invalid number): ``failed`` at once.

Logs carry outbox ids, states and Twilio error codes, never a number or a text.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Optional

from twilio.base.exceptions import TwilioRestException

from bot.records import session_scope
from bot.records import sms as records
from bot.worker import run_until_signalled

from .config import SmsConfig, get_sms_config
from .twilio_api import get_client

logger = logging.getLogger("bot.sms.sender")

# Clock skew allowed between us and Twilio when matching an earlier attempt.
SKEW = timedelta(minutes=2)


def _find_sent(client, config: SmsConfig, claimed: records.Claimed) -> Optional[str]:
    """The MessageSid of this message if Twilio already has it (an earlier attempt got through)."""
    with session_scope(read_only=True) as session:
        taken = records.known_sids(session)
    kwargs = {"to": claimed.to, "limit": 200}
    if config.from_number:
        kwargs["from_"] = config.from_number
    for message in client.messages.list(**kwargs):
        created = message.date_created
        if (message.body == claimed.body and message.sid not in taken
                and (created is None or created >= claimed.first_attempt_at - SKEW)):
            return message.sid
    return None


def _permanent(exc: Exception) -> bool:
    return isinstance(exc, TwilioRestException) and 400 <= (exc.status or 0) < 500 and exc.status != 429


def _describe(exc: Exception) -> str:
    if isinstance(exc, TwilioRestException):
        return f"Twilio answered {exc.status}" + (f" (error {exc.code})" if exc.code else "")
    return f"could not reach Twilio ({type(exc).__name__})"


def send_one(client=None, config: Optional[SmsConfig] = None) -> bool:
    """Handle the next due message, if any. True if there was one."""
    config = config or get_sms_config()
    client = client or get_client()
    with session_scope() as session:
        claimed = records.claim_next(session, config.lease_seconds)
    if claimed is None:
        return False
    try:
        if claimed.tried_before:
            sid = _find_sent(client, config, claimed)
            if sid is not None:
                with session_scope() as session:
                    records.mark_sent(session, claimed.id, sid, reconciled=True)
                logger.info("SMS outbox %s: an earlier attempt had reached Twilio; not sent again.", claimed.id)
                return True
        with session_scope(read_only=True) as session:
            number = records.find_number(session, claimed.to)
            opted_out = number is not None and records.is_opted_out(session, number.id)
        if opted_out:
            with session_scope() as session:
                records.mark_suppressed(session, claimed.id, "the number replied STOP")
            logger.info("SMS outbox %s: not sent, the number has opted out.", claimed.id)
            return True
        kwargs = {"to": claimed.to, "body": claimed.body, "status_callback": config.status_url(claimed.id)}
        if config.messaging_service_sid:
            kwargs["messaging_service_sid"] = config.messaging_service_sid
        else:
            kwargs["from_"] = config.from_number
        message = client.messages.create(**kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded; none is lost
        reason = _describe(exc)
        with session_scope() as session:
            if _permanent(exc):
                records.mark_failed(session, claimed.id, reason)
                logger.error("SMS outbox %s failed: %s.", claimed.id, reason)
            elif claimed.attempts >= config.max_attempts:
                records.mark_failed(session, claimed.id, f"{reason}; gave up after {claimed.attempts} tries")
                logger.error("SMS outbox %s failed after %s tries: %s.", claimed.id, claimed.attempts, reason)
            else:
                wait = config.backoff(claimed.attempts)
                records.mark_retry(session, claimed.id, reason, wait)
                logger.warning("SMS outbox %s: %s; trying again in %.0f s.", claimed.id, reason, wait)
        return True
    with session_scope() as session:
        records.mark_sent(session, claimed.id, message.sid)
    logger.info("SMS outbox %s sent (%s).", claimed.id, message.sid)
    return True


def run(stop: threading.Event, config: Optional[SmsConfig] = None) -> None:
    config = config or get_sms_config()
    if not config.sending:
        logger.warning("SMS sending is off: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, MSP_SMS_PUBLIC_URL "
                       "and MSP_SMS_FROM (or MSP_SMS_MESSAGING_SERVICE_SID).")
    while not stop.is_set():
        busy = False
        if config.sending:
            try:
                busy = send_one(config=config)
            except Exception:  # noqa: BLE001 - e.g. the database is unavailable: keep going
                logger.exception("SMS sender: could not reach the records database; trying again.")
        if not busy:
            stop.wait(config.poll_seconds)


def main() -> None:
    run_until_signalled("SMS sender", run, logger)


if __name__ == "__main__":
    main()
