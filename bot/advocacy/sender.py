"""The advocacy outbox sender: ``python -m bot.advocacy.sender``.

One referral at a time, oldest due first (``bot.records.advocacy``):

1. **Claim** it and commit (state ``sending``, attempts + 1, a lease, an
   ``attempt`` event) before anything leaves this process.
2. **Send** it: an email through the SMTP relay (``MSP_ADVOCACY_SMTP_*``)
   whose Message-ID is made from the referral's reference, or, with
   ``MSP_ADVOCACY_DELIVERY=webhook``, a signed POST with that reference as
   ``Idempotency-Key``. A 2xx webhook answer is the provider's
   acknowledgement; an email is acknowledged when staff record the
   provider's reply.
3. Record ``sent``. On a failure that may pass (connection refused, timeout,
   an SMTP 4xx, an HTTP 5xx or 429) back off and try again, at most
   ``MSP_ADVOCACY_MAX_ATTEMPTS`` times; a refusal that will not pass (SMTP 5xx,
   HTTP 4xx) fails at once. A failed referral is reported to the duty team
   (``MSP_ADVOCACY_DUTY_EMAIL``) and logged as an error; an alert that cannot
   be sent is tried again on every round.

**Exactly once, and what remains.** If the sender dies after the relay has
the message but before ``sent`` is recorded, the row stays ``sending`` and is
sent again when its lease is over, **with the same Message-ID /
Idempotency-Key**. SMTP gives no way to ask whether a message was already
accepted, so the provider's side must drop the second copy by that key (a
webhook receiver does it with ``Idempotency-Key``; a mailbox rule or the
provider's case system with the Message-ID). A provider that does not
de-duplicate may, in that one window (milliseconds), see the referral twice
with the same reference; it never sees it zero times.

Logs carry referral and delivery ids, states and error codes, never what the person said.
"""
from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
import threading
import time
from typing import Optional

import requests

from bot.records import session_scope
from bot.records import advocacy as records
from bot.worker import run_until_signalled

from . import message, webhook
from .config import AdvocacyConfig, get_advocacy_config

logger = logging.getLogger("bot.advocacy.sender")

ALERT_EVERY_SECONDS = 60.0


class DeliveryError(Exception):
    def __init__(self, reason: str, permanent: bool):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def _smtp(config: AdvocacyConfig) -> smtplib.SMTP:
    client = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout)
    if config.smtp_starttls:
        client.starttls(context=ssl.create_default_context())
    if config.smtp_user:
        client.login(config.smtp_user, config.smtp_password or "")
    return client


def send_email(config: AdvocacyConfig, mail) -> str:
    """Hand one message to the relay. Returns a short detail for the record; raises DeliveryError."""
    try:
        with _smtp(config) as client:
            refused = client.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise DeliveryError(f"relay refused the recipient ({', '.join(map(str, codes))})",
                            permanent=all(c >= 500 for c in codes)) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"relay answered {exc.smtp_code}", permanent=exc.smtp_code >= 500) from None
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise DeliveryError(f"could not reach the relay ({type(exc).__name__})", permanent=False) from None
    if refused:
        raise DeliveryError("relay refused a recipient", permanent=True)
    return "relay accepted"


def _send_webhook(config: AdvocacyConfig, view: records.ReferralView) -> str:
    return _post(config, message.payload_bytes(view), view.reference)


def _post(config: AdvocacyConfig, body: bytes, key: str) -> str:
    try:
        response = requests.post(config.webhook_url, data=body, timeout=config.timeout,
                                 headers=webhook.headers(config.webhook_secret, key, body))
    except requests.RequestException as exc:
        raise DeliveryError(f"could not reach the provider ({type(exc).__name__})", permanent=False) from None
    if 200 <= response.status_code < 300:
        return f"provider answered {response.status_code}"
    permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
    raise DeliveryError(f"provider answered {response.status_code}", permanent=permanent)


def _deliver(config: AdvocacyConfig, claimed: records.Claimed) -> str:
    if claimed.kind == "withdrawal":
        if claimed.channel == "webhook":
            body = json.dumps(message.withdrawal_payload(claimed.reference), sort_keys=True).encode("utf-8")
            return _post(config, body, f"{claimed.reference}-withdrawn")
        return send_email(config, message.withdrawal_email(claimed.reference, config.from_address,
                                                           config.to_address, config.message_domain))
    with session_scope(read_only=True) as session:
        view = records.referral_view(session, claimed.referral_id)
    if claimed.channel == "webhook":
        return _send_webhook(config, view)
    mail = message.email(view, config.from_address, config.to_address, config.message_domain)
    return send_email(config, mail)


def send_one(config: Optional[AdvocacyConfig] = None) -> bool:
    """Handle the next due referral, if any. True if there was one."""
    config = config or get_advocacy_config()
    with session_scope() as session:
        claimed = records.claim_next(session, config.lease_seconds)
    if claimed is None:
        return False
    try:
        try:
            detail = _deliver(config, claimed)
        except DeliveryError:
            raise
        except Exception as exc:  # noqa: BLE001 - anything else is recorded and retried, never left hanging
            raise DeliveryError(f"could not send ({type(exc).__name__})", permanent=False) from None
    except DeliveryError as exc:
        with session_scope() as session:
            if exc.permanent:
                records.mark_failed(session, claimed.delivery_id, exc.reason)
                logger.error("Advocacy referral %s failed: %s.", claimed.referral_id, exc.reason)
            elif claimed.attempts >= config.max_attempts:
                records.mark_failed(session, claimed.delivery_id,
                                    f"{exc.reason}; gave up after {claimed.attempts} tries")
                logger.error("Advocacy referral %s failed after %s tries: %s.", claimed.referral_id,
                             claimed.attempts, exc.reason)
            else:
                wait = config.backoff(claimed.attempts)
                records.mark_retry(session, claimed.delivery_id, exc.reason, wait)
                logger.warning("Advocacy referral %s: %s; trying again in %.1f s.", claimed.referral_id,
                               exc.reason, wait)
        return True
    with session_scope() as session:
        records.mark_sent(session, claimed.delivery_id, detail)
        if claimed.channel == "webhook" and claimed.kind == "referral":
            records.acknowledge(session, claimed.reference, "provider (webhook answer)")
    logger.info("Advocacy referral %s delivered (%s).", claimed.referral_id, claimed.channel)
    return True


def alert_failures(config: Optional[AdvocacyConfig] = None) -> int:
    """Tell the duty team about every failed referral not yet reported. Returns how many were told."""
    config = config or get_advocacy_config()
    with session_scope(read_only=True) as session:
        pending = []
        for delivery_id in records.failed_unalerted(session):
            delivery = session.get(records.AdvocacyDelivery, delivery_id)
            pending.append((delivery.id, delivery.referral_id, delivery.referral.reference, delivery.attempts,
                            delivery.last_error or ""))
    told = 0
    for delivery_id, referral_id, reference, attempts, reason in pending:
        if not (config.duty_address and config.smtp_host and config.from_address):
            logger.error("Advocacy referral %s NOT delivered and no duty address (MSP_ADVOCACY_DUTY_EMAIL) "
                         "to tell.", referral_id)
            ok, detail = False, "no duty address or relay configured"
        else:
            try:
                send_email(config, message.alert(reference, referral_id, attempts, reason, config.from_address,
                                                 config.duty_address))
                ok, detail = True, "duty team emailed"
            except DeliveryError as exc:
                ok, detail = False, exc.reason
                logger.error("Advocacy referral %s NOT delivered, and the duty team could not be emailed: %s.",
                             referral_id, exc.reason)
        with session_scope() as session:
            if ok or not _alert_failure_recorded(session, delivery_id, detail):
                records.mark_alerted(session, delivery_id, ok, detail)
        told += ok
    return told


def _alert_failure_recorded(session, delivery_id: int, detail: str) -> bool:
    """One ``alert_failed`` event per reason, not one per round."""
    events = records.delivery_events(session, delivery_id)
    return bool(events) and events[-1].event == "alert_failed" and events[-1].detail == detail


def run(stop: threading.Event, config: Optional[AdvocacyConfig] = None) -> None:
    config = config or get_advocacy_config()
    if not config.sending:
        logger.warning("Advocacy referrals are not being delivered: set MSP_ADVOCACY_SMTP_HOST, MSP_ADVOCACY_FROM "
                       "and MSP_ADVOCACY_TO (or MSP_ADVOCACY_DELIVERY=webhook with its URL and secret).")
    next_alert = 0.0
    while not stop.is_set():
        busy = False
        try:
            if config.sending:
                busy = send_one(config=config)
            if time.monotonic() >= next_alert:  # an alert that failed is tried again, once a minute
                alert_failures(config)
                next_alert = time.monotonic() + ALERT_EVERY_SECONDS
        except Exception:  # noqa: BLE001 - e.g. the database is unavailable: keep going
            logger.exception("Advocacy sender: could not reach the records database; trying again.")
        if not busy:
            stop.wait(config.poll_seconds)


def main() -> None:
    run_until_signalled("Advocacy sender", run, logger)


if __name__ == "__main__":
    main()
