"""Email the duty team when someone is waiting for a member of staff, or has asked for a call back: a link to
the portal, nothing personal.

The relay is the council's, as for advocacy referrals (``MSP_ADVOCACY_SMTP_HOST``,
``_PORT``, ``_STARTTLS``, ``_USER``, ``_PASSWORD``, ``MSP_ADVOCACY_FROM``:
``bot/advocacy/config.py``); the address is ``MSP_HANDOFF_DUTY_EMAIL``, else
``MSP_ADVOCACY_DUTY_EMAIL``. No relay or no address: nobody is emailed (the
console still shows the queue). The email names the handoff's number and links
to ``MSP_PORTAL_PUBLIC_URL/handoff/<id>``; never the conversation id, the
channel's details or anything the person wrote.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Mapping, Optional

from bot.advocacy.config import AdvocacyConfig, load_advocacy_config


@dataclass(frozen=True)
class DutyMail:
    relay: AdvocacyConfig
    to_address: str
    portal_url: str

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Optional["DutyMail"]:
        """The settings, or None when there is no relay, sender or duty address."""
        env = os.environ if environ is None else environ
        relay = load_advocacy_config(env)
        to_address = ((env.get("MSP_HANDOFF_DUTY_EMAIL") or "").strip() or relay.duty_address or "").strip()
        if not (relay.smtp_host and relay.from_address and to_address):
            return None
        portal = ((env.get("MSP_PORTAL_PUBLIC_URL") or "").strip()
                  or f"http://127.0.0.1:{(env.get('PORTAL_PORT') or '8100').strip()}")
        return cls(relay, to_address, portal.rstrip("/"))

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
