"""When it is safe to text someone, read deterministically from the words on record.

The enquiry's ``safe_times`` (or the council's default window) is a list of
windows separated by commas, semicolons or "and"; each window is an optional
set of days and a time range::

    Mon-Fri 10:00-16:00
    weekdays 9am-12pm, Sat 10-12
    Tuesday and Thursday 18:00-20:00
    6pm-8pm                      (every day)

Times are in the council's time zone. Anything this reader does not
understand is an error (:class:`SafeTimesError`, with the words it could not
read), never a guess: the caller refuses to send and says why.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import FrozenSet, List, Optional, Tuple
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_WORDS = {
    "mon": 0, "monday": 0, "mondays": 0, "tue": 1, "tues": 1, "tuesday": 1, "tuesdays": 1,
    "wed": 2, "weds": 2, "wednesday": 2, "wednesdays": 2, "thu": 3, "thur": 3, "thurs": 3,
    "thursday": 3, "thursdays": 3, "fri": 4, "friday": 4, "fridays": 4, "sat": 5,
    "saturday": 5, "saturdays": 5, "sun": 6, "sunday": 6, "sundays": 6,
}
_DAY_GROUPS = {
    "weekdays": frozenset(range(5)), "weekday": frozenset(range(5)),
    "weekends": frozenset({5, 6}), "weekend": frozenset({5, 6}),
    "daily": frozenset(range(7)), "everyday": frozenset(range(7)),
}
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?"
_RANGE = re.compile(rf"^{_TIME}\s*(?:-|–|to|until)\s*{_TIME}$")


class SafeTimesError(ValueError):
    """The safe times could not be read; the message says what, for staff."""


@dataclass(frozen=True)
class Window:
    days: FrozenSet[int]
    start: time
    end: time

    def contains(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.start <= local.time() < self.end


def _clock(hour: str, minute: Optional[str], meridiem: Optional[str], words: str) -> time:
    h, m = int(hour), int(minute or 0)
    if meridiem:
        if not 1 <= h <= 12:
            raise SafeTimesError(f"{words!r}: {h}{meridiem} is not a time.")
        h = h % 12 + (12 if meridiem == "pm" else 0)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise SafeTimesError(f"{words!r}: {hour}:{minute or '00'} is not a time.")
    return time(23, 59, 59, 999999) if h == 24 else time(h, m)


def _days(words: str, whole: str) -> FrozenSet[int]:
    words = words.replace("every day", "everyday").strip()
    if not words:
        return frozenset(range(7))
    days = set()
    for part in re.split(r"\s*(?:,|\band\b|&|/)\s*|\s+", words):
        if not part:
            continue
        if part in _DAY_GROUPS:
            days |= _DAY_GROUPS[part]
            continue
        span = re.fullmatch(r"([a-z]+)\s*(?:-|–|to)\s*([a-z]+)", part)
        if span and span.group(1) in _DAY_WORDS and span.group(2) in _DAY_WORDS:
            first, last = _DAY_WORDS[span.group(1)], _DAY_WORDS[span.group(2)]
            day = first
            while True:
                days.add(day)
                if day == last:
                    break
                day = (day + 1) % 7
            continue
        if part in _DAY_WORDS:
            days.add(_DAY_WORDS[part])
            continue
        raise SafeTimesError(f"{whole!r}: cannot read {part!r} as days.")
    return frozenset(days)


def parse(text: str) -> Tuple[Window, ...]:
    """The windows the words describe. Raises :class:`SafeTimesError` if any part is unclear."""
    if not isinstance(text, str) or not text.strip():
        raise SafeTimesError("No safe times are written down.")
    lowered = re.sub(r"\s+", " ", text.strip().lower())
    windows: List[Window] = []
    for clause in re.split(r"\s*[;,]\s*|(?<=[\dm])\s+and\s+", lowered):
        clause = clause.strip()
        if not clause:
            continue
        found = re.search(rf"{_TIME}\s*(?:-|–|to|until)\s*{_TIME}$", clause)
        if not found:
            raise SafeTimesError(f"{clause!r}: no time range such as 10:00-16:00.")
        rng = _RANGE.match(found.group(0))
        sh, sm, sa, eh, em, ea = rng.groups()
        end = _clock(eh, em, ea, clause)
        if sa is None and ea is not None and 1 <= int(sh) <= 12:
            # "6-8pm" is 6pm to 8pm; "9-12pm" and "11-1pm" start in the morning.
            sa = ea
            if ea == "pm" and _clock(sh, sm, sa, clause) >= end:
                sa = "am"
        start = _clock(sh, sm, sa, clause)
        if end <= start:
            raise SafeTimesError(f"{clause!r}: the end is not after the start.")
        prefix = clause[:found.start()].strip()
        prefix = re.sub(r"^(on|at|only|between|from)\s+|\s+(between|from|at)$", "", prefix).strip()
        windows.append(Window(_days(prefix, clause), start, end))
    if not windows:
        raise SafeTimesError("No safe times are written down.")
    return tuple(windows)


def allows(text: str, when: datetime, tz_name: str) -> bool:
    """True when ``when`` (aware) falls inside a window. Raises SafeTimesError if unreadable."""
    if when.tzinfo is None:
        raise ValueError("naive datetime given; use an aware datetime")
    local = when.astimezone(ZoneInfo(tz_name))
    return any(window.contains(local) for window in parse(text))


def next_allowed(text: str, after: datetime, tz_name: str, *, horizon_days: int = 8) -> Optional[datetime]:
    """The first moment at or after ``after`` (to the minute) inside a window, in UTC; None if none within the horizon."""
    windows = parse(text)
    zone = ZoneInfo(tz_name)
    local = after.astimezone(zone)
    candidates = []
    for offset in range(horizon_days + 1):
        day = (local + timedelta(days=offset)).date()
        for window in windows:
            if day.weekday() not in window.days:
                continue
            start = datetime.combine(day, window.start, tzinfo=zone)
            end = datetime.combine(day, window.end, tzinfo=zone)
            if end <= local:
                continue
            candidates.append(max(start, local))
        if candidates:
            return min(candidates).astimezone(timezone.utc)
    return None
