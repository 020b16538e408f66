import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.common.duedates import days_overdue, format_day, parse_due, relative
from bot.common.errors import UserError

PARIS = ZoneInfo("Europe/Paris")
AUCKLAND = ZoneInfo("Pacific/Auckland")
HONOLULU = ZoneInfo("Pacific/Honolulu")
# Wednesday 2026-11-25, 12:00 UTC: 13:00 in Paris, Thursday 01:00 in Auckland,
# Wednesday 02:00 in Honolulu.
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("text, expected", [
    ("2026-12-01", "2026-12-01"),
    ("2026-12-1", "2026-12-01"),
    ("today", "2026-11-25"),
    ("Tomorrow", "2026-11-26"),
    ("friday", "2026-11-27"),
    ("fri", "2026-11-27"),
    ("wednesday", "2026-12-02"),  # a weekday is never today: next week's
    ("in 3d", "2026-11-28"),
    ("in 3 days", "2026-11-28"),
    ("3d", "2026-11-28"),
    ("in 2w", "2026-12-09"),
    ("in 1 week", "2026-12-02"),
    ("next week", "2026-11-30"),  # next Monday
    ("next  Friday", "2026-12-04"),
    ("next month", "2026-12-01"),
])
def test_due_dates_in_paris(text: str, expected: str) -> None:
    assert parse_due(text, PARIS, NOW).isoformat() == expected


def test_due_dates_are_read_in_the_owners_zone() -> None:
    # Already Thursday in Auckland, still Wednesday in Honolulu.
    assert parse_due("tomorrow", AUCKLAND, NOW) == dt.date(2026, 11, 27)
    assert parse_due("tomorrow", HONOLULU, NOW) == dt.date(2026, 11, 26)
    assert parse_due("today", AUCKLAND, NOW) == dt.date(2026, 11, 26)
    assert parse_due("thursday", AUCKLAND, NOW) == dt.date(2026, 12, 3)
    assert parse_due("thursday", HONOLULU, NOW) == dt.date(2026, 11, 26)
    assert parse_due("next week", AUCKLAND, NOW) == dt.date(2026, 11, 30)


@pytest.mark.parametrize("text, message", [
    ("", "Say when"),
    ("someday", "couldn't read"),
    ("2026-02-30", "not a real date"),
    ("2026-11-24", "in the past"),
    ("2099-01-01", "five years"),
    ("next fortnight", "couldn't read"),
    ("in -3d", "couldn't read"),
    ("fr", "couldn't read"),
])
def test_bad_due_dates_explain(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as exc:
        parse_due(text, PARIS, NOW)
    assert "`2026-12-01`" in exc.value.message or "past" in message or "five" in message


def test_relative_wording_and_overdue_days() -> None:
    today = dt.date(2026, 11, 25)
    assert relative(today, today) == "due today"
    assert relative(dt.date(2026, 11, 26), today) == "due tomorrow"
    assert relative(dt.date(2026, 11, 30), today) == "due in 5 days"
    assert relative(dt.date(2026, 11, 24), today) == "1 day overdue"
    assert relative(dt.date(2026, 11, 20), today) == "5 days overdue"
    assert days_overdue(dt.date(2026, 11, 20), today) == 5
    assert days_overdue(dt.date(2026, 11, 30), today) == 0
    assert days_overdue(None, today) == 0
    assert format_day(dt.date(2026, 12, 4)) == "Fri 4 Dec 2026"
