"""When staff are on duty to chat: the staffed days and hours, minus bank holidays.

Settings (``bot.settings``): ``handoff_days`` and ``handoff_hours`` (read as
one window by ``bot.surveys.safe_times``, e.g. "Mon-Fri" and "09:00-17:00",
in ``council_timezone``) and ``handoff_bank_holidays``: the part of the UK
whose bank holidays close the service, taken from the maintained ``holidays``
library (England and Wales share theirs), or "none".
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Optional
from zoneinfo import ZoneInfo

from bot.settings import Settings, get_settings
from bot.surveys import safe_times

#: handoff_bank_holidays -> the ``holidays`` library's subdivision of GB.
REGIONS = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern ireland": "NIR"}


class HoursError(ValueError):
    """The staffed hours settings cannot be read (the message names the setting)."""


def bank_holiday(day: date, region: str) -> Optional[str]:
    """The bank holiday's name if ``day`` is one in ``region`` ("England", ...), else None."""
    key = region.strip().lower()
    if key in ("none", "no", ""):
        return None
    subdiv = REGIONS.get(key)
    if subdiv is None:
        raise HoursError(f"MSP_HANDOFF_BANK_HOLIDAYS must be one of England, Wales, Scotland, "
                         f"Northern Ireland or none, not {region!r}.")
    return _calendar(subdiv, day.year).get(day)


@lru_cache(maxsize=16)
def _calendar(subdiv: str, year: int):
    import holidays

    return holidays.country_holidays("GB", subdiv=subdiv, years=year)


def window(settings: Settings) -> str:
    return f"{settings.handoff_days} {settings.handoff_hours}"


def check(settings: Optional[Settings] = None) -> None:
    """Raise HoursError if the settings cannot be read (start-up and tests)."""
    settings = settings or get_settings()
    try:
        safe_times.parse(window(settings))
        ZoneInfo(settings.council_timezone)
    except (safe_times.SafeTimesError, ValueError, KeyError) as error:
        raise HoursError(f"MSP_HANDOFF_DAYS / MSP_HANDOFF_HOURS: {error}") from None
    bank_holiday(date(2000, 1, 1), settings.handoff_bank_holidays)


def is_staffed(when: Optional[datetime] = None, settings: Optional[Settings] = None) -> bool:
    """Whether a member of staff should be on duty to chat at ``when`` (default now; aware, any zone)."""
    settings = settings or get_settings()
    when = when or datetime.now(timezone.utc)
    if when.tzinfo is None:
        raise ValueError("naive datetime given; use an aware datetime")
    local = when.astimezone(ZoneInfo(settings.council_timezone))
    if bank_holiday(local.date(), settings.handoff_bank_holidays):
        return False
    try:
        return safe_times.allows(window(settings), when, settings.council_timezone)
    except safe_times.SafeTimesError as error:
        raise HoursError(f"MSP_HANDOFF_DAYS / MSP_HANDOFF_HOURS: {error}") from None
