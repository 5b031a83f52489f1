"""The duty team's email about a waiting chat: only when a relay and an address are set, and nothing personal."""
from __future__ import annotations

from bot.handoff.duty import DutyMail

RELAY = {"MSP_ADVOCACY_SMTP_HOST": "127.0.0.1", "MSP_ADVOCACY_SMTP_PORT": "2525",
         "MSP_ADVOCACY_SMTP_STARTTLS": "no", "MSP_ADVOCACY_FROM": "msp@example.gov.uk"}


def test_no_relay_or_no_address_means_no_email():
    assert DutyMail.from_env({}) is None
    assert DutyMail.from_env(RELAY) is None
    assert DutyMail.from_env({"MSP_HANDOFF_DUTY_EMAIL": "duty@example.gov.uk"}) is None


def test_the_address_falls_back_to_the_advocacy_duty_address():
    mail = DutyMail.from_env(dict(RELAY, MSP_ADVOCACY_DUTY_EMAIL="duty@example.gov.uk", PORTAL_PORT="8123"))
    assert mail.to_address == "duty@example.gov.uk" and mail.portal_url == "http://127.0.0.1:8123"
    mail = DutyMail.from_env(dict(RELAY, MSP_ADVOCACY_DUTY_EMAIL="a@example.gov.uk",
                                  MSP_HANDOFF_DUTY_EMAIL="chat-duty@example.gov.uk",
                                  MSP_PORTAL_PUBLIC_URL="https://portal.example.gov.uk/"))
    assert mail.to_address == "chat-duty@example.gov.uk"
    message = mail.message(42)
    body = message.get_content()
    assert "https://portal.example.gov.uk/handoff/42" in body and "no personal details" in body
    assert message["To"] == "chat-duty@example.gov.uk" and "chat 42" in message["Subject"]


def test_the_call_back_email_links_to_the_request_and_says_nothing_personal():
    mail = DutyMail.from_env(dict(RELAY, MSP_HANDOFF_DUTY_EMAIL="duty@example.gov.uk",
                                  MSP_PORTAL_PUBLIC_URL="https://portal.example.gov.uk"))
    message = mail.callback_message(7)
    body = message.get_content()
    assert "https://portal.example.gov.uk/handoff/callbacks/7" in body and "no personal details" in body
    assert "request 7" in message["Subject"] and "call back" in message["Subject"]
    assert "+44" not in body and "07" not in body
