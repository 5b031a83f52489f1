"""Staffed hours for the live handoff: days, hours in the council's time zone, bank holidays from `holidays`."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.handoff.hours import HoursError, bank_holiday, check, is_staffed
from bot.settings import load_settings


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


DEFAULT = load_settings({})


@pytest.mark.parametrize("when, staffed", [
    (utc(2026, 12, 29, 10, 0), True),    # a Tuesday, in winter (UTC = London)
    (utc(2026, 12, 29, 8, 59), False),   # before nine
    (utc(2026, 12, 29, 17, 0), False),   # five o'clock: closed
    (utc(2026, 12, 26, 12, 0), False),   # Saturday (Boxing Day too)
    (utc(2026, 12, 28, 10, 0), False),   # Monday: Boxing Day (substitute day), a bank holiday in England
    (utc(2026, 4, 3, 10, 0), False),     # Good Friday
    (utc(2026, 7, 1, 8, 30), True),      # 09:30 in London (summer time)
    (utc(2026, 7, 1, 16, 30), False),    # 17:30 in London
])
def test_default_hours_monday_to_friday_nine_to_five_without_english_bank_holidays(when, staffed):
    assert is_staffed(when, DEFAULT) is staffed


def test_bank_holidays_come_from_the_library_and_differ_by_region():
    assert bank_holiday(date(2026, 12, 28), "England")
    assert bank_holiday(date(2026, 1, 2), "England") is None
    assert bank_holiday(date(2026, 1, 2), "Scotland")  # 2 January is a bank holiday in Scotland only
    friday = utc(2026, 1, 2, 11, 0)
    assert is_staffed(friday, DEFAULT)
    assert not is_staffed(friday, load_settings({"MSP_HANDOFF_BANK_HOLIDAYS": "Scotland"}))
    # "none": a service that runs on bank holidays too
    assert is_staffed(utc(2026, 12, 28, 10, 0), load_settings({"MSP_HANDOFF_BANK_HOLIDAYS": "none"}))


def test_days_and_hours_are_settings():
    weekend = load_settings({"MSP_HANDOFF_DAYS": "Sat-Sun", "MSP_HANDOFF_HOURS": "10:00-14:00",
                             "MSP_HANDOFF_BANK_HOLIDAYS": "none"})
    assert is_staffed(utc(2026, 12, 27, 11, 0), weekend)  # Sunday
    assert not is_staffed(utc(2026, 12, 29, 11, 0), weekend)  # Tuesday
    assert not is_staffed(utc(2026, 12, 27, 15, 0), weekend)


def test_unreadable_settings_are_refused_with_the_setting_named():
    with pytest.raises(HoursError, match="MSP_HANDOFF_BANK_HOLIDAYS"):
        check(load_settings({"MSP_HANDOFF_BANK_HOLIDAYS": "Atlantis"}))
    with pytest.raises(HoursError, match="MSP_HANDOFF_HOURS"):
        check(load_settings({"MSP_HANDOFF_HOURS": "whenever"}))
    check(DEFAULT)
    with pytest.raises(ValueError):
        is_staffed(datetime(2026, 12, 29, 10, 0), DEFAULT)


def test_the_claim_timeout_is_a_positive_number_of_minutes():
    from datetime import timedelta

    from bot.handoff.timeouts import TimeoutSettingError, claim_timeout, notice

    assert claim_timeout(DEFAULT) == timedelta(minutes=3)
    assert claim_timeout(load_settings({"MSP_HANDOFF_CLAIM_TIMEOUT_MINUTES": "0.5"})) == timedelta(seconds=30)
    for bad in ("0", "-1", "soon"):
        with pytest.raises(TimeoutSettingError, match="MSP_HANDOFF_CLAIM_TIMEOUT_MINUTES"):
            claim_timeout(load_settings({"MSP_HANDOFF_CLAIM_TIMEOUT_MINUTES": bad}))
    words = notice(DEFAULT)
    assert "keep waiting" in words and DEFAULT.council_phone in words and "call 999." in words
    # The question comes last: its yes and no buttons follow it (bot/handoff/texts.py).
    assert words.endswith("Would you like a call back? Please answer yes or no.")
