from __future__ import annotations

from datetime import UTC, datetime

from geo.deadlines import due_at


def test_working_days_skip_weekends_and_dutch_holidays() -> None:
    # Thursday 23 April 2026, 10:00 in Amsterdam; Monday 27 April is King's Day.
    submitted = datetime(2026, 4, 23, 8, 0, tzinfo=UTC)
    due = due_at(submitted, days=3, kind="working", timezone="Europe/Amsterdam", country="NL")
    # Fri 24 (1), [Sat, Sun, King's Day Mon 27 skipped], Tue 28 (2), Wed 29 (3): end of that day, local time.
    assert due == datetime(2026, 4, 29, 21, 59, 59, tzinfo=UTC)


def test_calendar_days_count_every_day() -> None:
    submitted = datetime(2026, 12, 24, 23, 30, tzinfo=UTC)  # already 25 December in Amsterdam
    due = due_at(submitted, days=2, kind="calendar", timezone="Europe/Amsterdam", country="NL")
    assert due == datetime(2026, 12, 27, 22, 59, 59, tzinfo=UTC)
