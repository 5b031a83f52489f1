"""Every local detail in one place.

Council name, phone numbers, office hours, links and providers live here and
nowhere else. Responses in ``domain.yml`` refer to them as ``{placeholders}``;
``bot.components.settings_nlg`` fills them in at reply time, so a council can
change a number without retraining the model.

Each value can be overridden by an environment variable ``MSP_<NAME>`` (for
example ``MSP_COUNCIL_NAME``). The defaults describe a fictional council: phone
numbers in the 01632 960xxx range are reserved by Ofcom for fiction. National
numbers (999, Samaritans and the helplines) are real and current at the time of
writing; a council should check them before going live.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Dict, Mapping, Optional

ENV_PREFIX = "MSP_"


@dataclass(frozen=True)
class Settings:
    # The council
    council_name: str = "Exampleshire Council"
    council_phone: str = "01632 960 000"
    council_office_hours: str = "Monday to Friday, 9am to 5pm"
    council_out_of_hours_phone: str = "01632 960 111"
    council_email: str = "safeguarding.adults@example.gov.uk"
    council_report_url: str = "https://www.example.gov.uk/report-adult-abuse"
    council_textphone: str = "18001 01632 960 000"
    interpreter_note: str = "We can arrange an interpreter for you."

    # Carers
    carers_org_name: str = "Exampleshire Carers Centre"
    carers_org_phone: str = "01632 960 222"
    carers_assessment_url: str = "https://www.example.gov.uk/carers-assessment"

    # Independent advocacy
    advocacy_provider_name: str = "Exampleshire Advocacy"
    advocacy_provider_phone: str = "01632 960 333"

    # SMS (bot/sms): every text is worded so that someone else reading the
    # phone learns nothing. The council's name is used only when
    # sms_show_council_name is "yes"; otherwise the neutral sender name.
    sms_sender_name: str = "Customer Services"
    sms_show_council_name: str = "no"

    # End-of-enquiry feedback (bot/surveys). Requests later than the window
    # after closing are refused, and open surveys expire at its end. An SMS
    # goes only inside the safe times on record, or this default window when
    # none are recorded (same format: "Mon-Fri 10:00-16:00", times in
    # council_timezone). At most feedback_max_reminders reminders, at least
    # feedback_reminder_hours apart.
    feedback_window_days: str = "56"
    feedback_reminder_hours: str = "72"
    feedback_max_reminders: str = "2"
    sms_default_safe_times: str = "Mon-Fri 10:00-16:00"
    council_timezone: str = "Europe/London"
    feedback_minutes: str = "5"

    # Published figures (reports): counts below report_suppress_below are
    # suppressed, the others rounded to the nearest report_round_to (the
    # national rule: 5 and 5; 0 and 1 switch both off).
    report_suppress_below: str = "5"
    report_round_to: str = "5"

    # What is kept, and for how long (bot/records/retention.py). A conversation
    # is deleted retention_days after its last event, unless an invitation
    # linked it to an enquiry: then it is kept while the enquiry is open and
    # for enquiry_retention_days after it closes (6 years here, a common
    # council schedule for safeguarding records: set the council's own).
    retention_days: str = "90"
    enquiry_retention_days: str = "2190"

    # Live handoff to a member of staff (bot/handoff). Staffed days and hours
    # ("Mon-Fri", "09:00-17:00", in council_timezone), minus the bank holidays
    # of handoff_bank_holidays (England, Wales, Scotland or Northern Ireland,
    # from the `holidays` library; "none" for no bank holidays). A waiting
    # handoff nobody claims in handoff_claim_timeout_minutes is apologised
    # for (the person is told roughly this long). Staff are named to the
    # person by handoff_worker_name: "first_name" or "role" (the words of
    # handoff_worker_role).
    handoff_days: str = "Mon-Fri"
    handoff_hours: str = "09:00-17:00"
    handoff_bank_holidays: str = "England"
    handoff_claim_timeout_minutes: str = "3"
    # A claimed chat where the worker has not answered the person's last
    # message in this long: the person is told they may have been called
    # away, with the council's number and 999 (bot/handoff/timeouts.py).
    handoff_answer_timeout_minutes: str = "5"
    handoff_worker_name: str = "first_name"
    handoff_worker_role: str = "A member of the adult safeguarding team"

    # Emergency and national numbers (UK)
    emergency_number: str = "999"
    emergency_bsl: str = "999 BSL (999bsl.co.uk)"
    emergency_sms: str = "text 999 if you have registered for emergency SMS"
    emergency_silent: str = "If you call 999 from a mobile and cannot talk, press 55"
    police_non_emergency: str = "101"
    samaritans_phone: str = "116 123"
    domestic_abuse_helpline: str = "0808 2000 247"
    modern_slavery_helpline: str = "08000 121 700"
    action_fraud_phone: str = "0300 123 2040"
    elder_abuse_helpline: str = "0808 808 8141"
    rape_crisis_phone: str = "0808 500 2222"
    cqc_phone: str = "03000 616161"

    def as_dict(self) -> Dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def load_settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    """Build settings from the defaults, overridden by ``MSP_*`` variables.

    Blank values are ignored, so an empty variable never blanks out a phone
    number in the assistant's replies.
    """
    environ = os.environ if environ is None else environ
    overrides = {}
    for f in fields(Settings):
        value = environ.get(ENV_PREFIX + f.name.upper())
        if value is not None and value.strip():
            overrides[f.name] = value.strip()
    return Settings(**overrides)


def int_setting(settings: Settings, name: str, *, minimum: int = 0, error=ValueError) -> int:
    """A setting that is a whole number of at least ``minimum``; ``error`` (a message for staff) if not."""
    raw = getattr(settings, name)
    label = f"{ENV_PREFIX}{name.upper()}"
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise error(f"The setting {label} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise error(f"The setting {label} must not be negative." if minimum == 0 else
                    f"The setting {label} must be at least {minimum}.")
    return value


def env_text(env: Mapping[str, str], name: str) -> Optional[str]:
    """An environment variable's value without surrounding spaces; None when unset or blank."""
    value = (env.get(name) or "").strip()
    return value or None


def env_yes_no(env: Mapping[str, str], name: str, default: bool) -> bool:
    """``yes`` or ``no`` (any case) from the environment (``default`` when unset); ValueError naming it if not."""
    value = (env_text(env, name) or ("yes" if default else "no")).lower()
    if value not in ("yes", "no"):
        raise ValueError(f"{name} must be yes or no.")
    return value == "yes"


def env_positive_number(env: Mapping[str, str], name: str, default: float) -> float:
    """A number more than 0 from the environment (``default`` when unset); ValueError naming it if not."""
    value = env_text(env, name)
    if value is None:
        return default
    try:
        parsed = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if parsed <= 0:
        raise ValueError(f"{name} must be more than 0")
    return parsed


def backoff_seconds(attempts: int, first: float, most: float) -> float:
    """Seconds to wait after ``attempts`` tries: ``first``, doubling each try, never more than ``most``."""
    return min(most, first * 2 ** max(0, attempts - 1))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
