"""Email the duty team when someone is waiting for a member of staff, or has asked for a call back: a link to
the portal, nothing personal.

The duty team's own relay, when set:

| variable | default | meaning |
| --- | --- | --- |
| ``MSP_HANDOFF_DUTY_SMTP_HOST`` | (none: the shared relay) | the relay for the duty team's email |
| ``MSP_HANDOFF_DUTY_SMTP_PORT`` | 587 | its port |
| ``MSP_HANDOFF_DUTY_SMTP_STARTTLS`` | ``yes`` | STARTTLS before anything is sent (``no`` only on loopback) |
| ``MSP_HANDOFF_DUTY_SMTP_USER`` / ``_PASSWORD`` | (none) | its login, if it needs one |
| ``MSP_HANDOFF_DUTY_FROM`` | ``MSP_ADVOCACY_FROM`` | our address on the duty email |
| ``MSP_HANDOFF_DUTY_EMAIL`` | ``MSP_ADVOCACY_DUTY_EMAIL`` | the duty team |
| ``MSP_HANDOFF_DUTY_LEASE_SECONDS`` | 120 | a claimed email not sent in this time (the sender died) is tried again |

Without ``MSP_HANDOFF_DUTY_SMTP_HOST`` the shared relay is used, whole: the
advocacy provider's (``MSP_ADVOCACY_SMTP_HOST``, ``_PORT``, ``_STARTTLS``,
``_USER``, ``_PASSWORD``: ``bot/advocacy/config.py``). The two are never
mixed: with its own host the duty email uses only its own port, TLS and login,
so the advocacy relay's password never goes to another host. No relay, no
sender or no address: nobody is emailed (the console still shows the queue).

Taking the job of one email is a lease (``handoffs.claim_duty_email``,
``callbacks.claim_duty_email``): a process that dies after taking it and
before sending leaves it to the next round once the lease is over; in the
normal case one process sends it, once. The email names the handoff's number and links
to ``MSP_PORTAL_PUBLIC_URL/handoff/<id>``; never the conversation id, the
channel's details or anything the person wrote.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Mapping, Optional

from bot.advocacy.config import AdvocacyConfig, load_advocacy_config
from bot.settings import env_positive_number, env_text, env_yes_no

DEFAULT_LEASE_SECONDS = 120.0


def duty_relay(environ: Optional[Mapping[str, str]] = None) -> AdvocacyConfig:
    """The relay and sender for the duty team's email: its own when ``MSP_HANDOFF_DUTY_SMTP_HOST`` is set,
    else the shared (advocacy) relay whole. Only the SMTP fields and ``from_address`` of the result count."""
    env = os.environ if environ is None else environ
    shared = load_advocacy_config(env)
    own_from = env_text(env, "MSP_HANDOFF_DUTY_FROM")
    host = env_text(env, "MSP_HANDOFF_DUTY_SMTP_HOST")
    if host is None:
        return dataclasses.replace(shared, from_address=own_from or shared.from_address)
    return dataclasses.replace(
        shared, smtp_host=host, smtp_port=int(env_positive_number(env, "MSP_HANDOFF_DUTY_SMTP_PORT", 587)),
        smtp_starttls=env_yes_no(env, "MSP_HANDOFF_DUTY_SMTP_STARTTLS", True), smtp_user=env_text(env, "MSP_HANDOFF_DUTY_SMTP_USER"),
        smtp_password=env_text(env, "MSP_HANDOFF_DUTY_SMTP_PASSWORD"),
        from_address=own_from or shared.from_address)


@dataclass(frozen=True)
class DutyMail:
    relay: AdvocacyConfig
    to_address: str
    portal_url: str
    lease_seconds: float = DEFAULT_LEASE_SECONDS

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Optional["DutyMail"]:
        """The settings, or None when there is no relay, sender or duty address."""
        env = os.environ if environ is None else environ
        relay = duty_relay(env)
        to_address = env_text(env, "MSP_HANDOFF_DUTY_EMAIL") or env_text(env, "MSP_ADVOCACY_DUTY_EMAIL")
        if not (relay.smtp_host and relay.from_address and to_address):
            return None
        portal = ((env.get("MSP_PORTAL_PUBLIC_URL") or "").strip()
                  or f"http://127.0.0.1:{(env.get('PORTAL_PORT') or '8100').strip()}")
        lease = env_positive_number(env, "MSP_HANDOFF_DUTY_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
        return cls(relay, to_address, portal.rstrip("/"), lease)

    def _mail(self, subject: str, what: str, path: str, see: str) -> EmailMessage:
        """The duty team's email: what happened, the portal's link, and no personal details."""
        mail = EmailMessage()
        mail["From"] = self.relay.from_address
        mail["To"] = self.to_address
        mail["Subject"] = subject
        mail.set_content(
            f"{what}\n\n"
            f"Open it in the staff portal: {self.portal_url}/{path}\n\n"
            f"This email has no personal details. Sign in to the portal to see {see}.\n")
        return mail

    def message(self, handoff_id: int) -> EmailMessage:
        return self._mail(f"Someone is waiting to chat with a member of staff (chat {handoff_id})",
                          "Someone has asked to talk to a member of staff in the chat and is waiting.",
                          f"handoff/{handoff_id}", "the chat")

    def callback_message(self, request_id: int) -> EmailMessage:
        """A call-back request: its number and the portal's link, nothing the person said."""
        return self._mail(f"Someone has asked for a call back (request {request_id})",
                          "Someone has asked the adult safeguarding team to call them back.",
                          f"handoff/callbacks/{request_id}", "when and how it is safe to call")

    def send_callback(self, request_id: int) -> None:
        """Raises bot.advocacy.sender.DeliveryError if the relay does not take it."""
        from bot.advocacy.sender import send_email

        send_email(self.relay, self.callback_message(request_id))

    def send(self, handoff_id: int) -> None:
        """Raises bot.advocacy.sender.DeliveryError if the relay does not take it."""
        from bot.advocacy.sender import send_email

        send_email(self.relay, self.message(handoff_id))
