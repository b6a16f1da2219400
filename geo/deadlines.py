"""Due dates from a category's handling time, in working or calendar days.

Working days skip weekends and the jurisdiction's public holidays (the ``holidays`` package), and
the deadline is the end of that day in the jurisdiction's own time zone: "within 5 working days"
means what a resident and a field worker read it to mean.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_working_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def due_at(submitted_at: datetime, *, days: int, kind: str, timezone: str, country: str) -> datetime:
    local = submitted_at.astimezone(ZoneInfo(timezone))
    day = local.date()
    if kind == "calendar":
        day += timedelta(days=days)
    else:
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if is_working_day(day, country):
                remaining -= 1
    end_of_day = datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(timezone))
    return end_of_day.astimezone(submitted_at.tzinfo)
