"""Safe times read deterministically: what is understood, and what is refused."""
from __future__ import annotations

from datetime import datetime, time, timezone

import pytest

from bot.surveys.safe_times import SafeTimesError, allows, next_allowed, parse

UTC = timezone.utc
LONDON = "Europe/London"


@pytest.mark.parametrize("text,expected", [
    ("Mon-Fri 10:00-16:00", [({0, 1, 2, 3, 4}, time(10), time(16))]),
    ("weekdays 9am-12pm, Sat 10-12", [({0, 1, 2, 3, 4}, time(9), time(12)), ({5}, time(10), time(12))]),
    ("Tuesday and Thursday 18:00-20:00", [({1, 3}, time(18), time(20))]),
    ("6-8pm", [(set(range(7)), time(18), time(20))]),
    ("11-1pm", [(set(range(7)), time(11), time(13))]),
    ("mon 9-11 and wed 14.30 to 15:00", [({0}, time(9), time(11)), ({2}, time(14, 30), time(15))]),
    ("Fri-Mon 10:00-12:00", [({4, 5, 6, 0}, time(10), time(12))]),
    ("every day 00:00-24:00", [(set(range(7)), time(0), time(23, 59, 59, 999999))]),
])
def test_understood(text, expected):
    assert [(set(w.days), w.start, w.end) for w in parse(text)] == expected


@pytest.mark.parametrize("text", ["", "   ", "weekdays after 6pm", "between 10 and 4", "evenings",
                                  "Mon-Fri 16:00-10:00", "Someday 10-12", "25:00-26:00", "13pm-2pm"])
def test_anything_unclear_is_refused_not_guessed(text):
    with pytest.raises(SafeTimesError):
        parse(text)


def test_allows_uses_the_councils_time_zone():
    rule = "Mon-Fri 10:00-16:00"
    assert allows(rule, datetime(2026, 3, 4, 10, 0, tzinfo=UTC), LONDON)       # GMT
    assert not allows(rule, datetime(2026, 3, 4, 16, 0, tzinfo=UTC), LONDON)
    assert allows(rule, datetime(2026, 6, 3, 9, 30, tzinfo=UTC), LONDON)       # 10:30 BST
    assert not allows(rule, datetime(2026, 6, 3, 9, 30, tzinfo=UTC), "UTC")    # 09:30 in UTC
    assert not allows(rule, datetime(2026, 6, 3, 15, 0, tzinfo=UTC), LONDON)   # 16:00 BST
    assert not allows(rule, datetime(2026, 6, 6, 11, 0, tzinfo=UTC), LONDON)   # a Saturday
    with pytest.raises(ValueError):
        allows(rule, datetime(2026, 3, 4, 10, 0), LONDON)


def test_next_allowed():
    rule = "Mon-Fri 10:00-16:00"
    friday_evening = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    assert next_allowed(rule, friday_evening, LONDON) == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    inside = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
    assert next_allowed(rule, inside, LONDON) == inside
