"""What the provider receives: only what is helpful and necessary.

The reference, when, who answered (the person or a representative), the
linked enquiry's reference if any, and each answer word for word with its
question. No name, address or conversation: the provider contacts the person
in the way and at the times given, or through the worker.
"""
from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import format_datetime

from bot.records.advocacy import ReferralView
from bot.settings import get_settings

DECIDES = ("The assistant does not assess capacity or eligibility. What is written here is what was said; "
           "the advocacy provider and the safeguarding worker decide.")


def message_id(reference: str, domain: str) -> str:
    """The idempotency key as an RFC 5322 Message-ID: the same on every try."""
    return f"<advocacy-{reference}@{domain}>"


def payload(view: ReferralView) -> dict:
    return {
        "reference": view.reference,
        "made_at": view.created_at.isoformat(),
        "answered_by": view.answered_by,
        "enquiry_reference": view.enquiry_reference,
        "answers": [{"question": key, "label": label, "words": words} for key, label, words in view.answers],
        "note": DECIDES,
    }


def payload_bytes(view: ReferralView) -> bytes:
    return json.dumps(payload(view), ensure_ascii=False, sort_keys=True).encode("utf-8")


def email(view: ReferralView, sender: str, recipient: str, domain: str) -> EmailMessage:
    settings = get_settings()
    who = {"person": "the person", "representative": "a representative, for the person",
           "staff": "a member of council staff, from what the person said"}[view.answered_by]
    lines = [
        f"Referral for an independent advocate from {settings.council_name}.",
        "",
        f"Reference: {view.reference}",
        f"Made: {view.created_at.strftime('%d %B %Y %H:%M UTC')}",
        f"Answered by: {who}",
        f"Safeguarding enquiry: {view.enquiry_reference or 'none linked yet'}",
        "The person agreed to this referral.",
        "",
        "What was said, word for word:",
    ]
    for _key, label, words in view.answers:
        lines += ["", f"{label}:", f"  {words}"]
    lines += ["", DECIDES, "",
              f"Please reply to this email, quoting the reference, to say you have it. "
              f"Questions: {settings.council_email}, {settings.council_phone}."]
    message = EmailMessage()
    message["Subject"] = f"Advocacy referral {view.reference}"
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(view.created_at)
    message["Message-ID"] = message_id(view.reference, domain)
    message["X-MSP-Referral"] = view.reference
    message.set_content("\n".join(lines))
    return message


def alert(reference: str, referral_id: int, attempts: int, reason: str, sender: str, recipient: str) -> EmailMessage:
    """To the duty team: which referral, why, what to do. Nothing the person said."""
    message = EmailMessage()
    message["Subject"] = f"Advocacy referral {referral_id} NOT delivered"
    message["From"] = sender
    message["To"] = recipient
    message.set_content(
        f"Advocacy referral {referral_id} (reference {reference}) could not be delivered to the provider "
        f"after {attempts} tries.\nLast reason: {reason}\n\n"
        "Please phone the provider, then open the referral in the staff portal (Advocacy) "
        "and either resend it or mark it acknowledged.\n")
    return message


def withdrawal_payload(reference: str) -> dict:
    return {"reference": reference, "type": "consent_withdrawn",
            "note": "Consent to this referral has been withdrawn. Please do not act on it, and delete what you hold."}


def withdrawal_email(reference: str, sender: str, recipient: str, domain: str) -> EmailMessage:
    """Consent withdrawn: the reference only, nothing the person said. Its own Message-ID, the same on every try."""
    settings = get_settings()
    message = EmailMessage()
    message["Subject"] = f"Consent withdrawn: advocacy referral {reference}"
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = f"<advocacy-withdrawn-{reference}@{domain}>"
    message["X-MSP-Referral"] = reference
    message.set_content(
        f"Consent to advocacy referral {reference} from {settings.council_name} has been withdrawn.\n\n"
        "Please do not act on it, and delete what you hold about it. "
        f"Questions: {settings.council_email}, {settings.council_phone}.\n")
    return message
