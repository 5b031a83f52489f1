"""The feedback survey's own SMS texts (the invitation and the reminders). Pure; no I/O.

The questions themselves are Rasa responses (``domain.yml``, ``channel:
twilio`` variations). As with every SMS (``bot.sms.texts``), someone other
than the person may read the phone: no text says "abuse", "safeguarding",
"harm", names anyone, or says what the contact was about. The council's name
appears only when the enquiry record allows it; otherwise the neutral sender
name from the settings. Each fits one GSM-7 segment
(``tests/unit/test_survey_texts.py``).
"""
from __future__ import annotations

from typing import Optional

from bot.settings import Settings, get_settings

INVITE_TEXT = ("{sender}: you were in touch with us. Can we ask how it went? A few questions, "
               "about {minutes} min. Reply YES to start, STOP to stop.")
REMINDER_TEXT = ("{sender} again: if you have a few minutes, we would still like to know how it "
                 "went. Reply YES to start or STOP to stop.")
ALL_TEXTS = {"survey_invite": INVITE_TEXT, "survey_reminder": REMINDER_TEXT}


def sender(name_allowed: bool, settings: Optional[Settings] = None) -> str:
    """The council's name if the enquiry allows it, else the neutral sender name."""
    settings = settings or get_settings()
    return settings.council_name if name_allowed else settings.sms_sender_name


def render(kind: str, *, name_allowed: bool = False, settings: Optional[Settings] = None) -> str:
    settings = settings or get_settings()
    return ALL_TEXTS[kind].format(sender=sender(name_allowed, settings), minutes=settings.feedback_minutes)
