"""Due dates as typed: ``2026-12-01``, ``tomorrow``, ``friday``, ``in 3d``, ``next week``.

A due date is a calendar day in the *owner's* time zone: ``tomorrow`` typed in Paris at 23:00
for an owner in Auckland (where it is already tomorrow) means the day after the owner's today.
No date library: the grammar is small on purpose, and every reply shows the resolved date so
a misread is seen at once.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from bot.common.errors import UserError
from bot.common.text import quote

DUE_EXAMPLES = "`2026-12-01`, `tomorrow`, `friday`, `in 3d` or `next week`"
#: Farthest due date accepted; anything later is almost certainly a typo.
MAX_AHEAD = dt.timedelta(days=5 * 366)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ALIASES = {"tues": 1, "wednes": 2, "thur": 3, "thurs": 3}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_IN = re.compile(r"^(?:in\s+)?(\d{1,4})\s*(d|days?|w|wks?|weeks?)$")
_NEXT = re.compile(r"^next\s+(\w+)$")


def local_today(zone: ZoneInfo, now: dt.datetime) -> dt.date:
    """The calendar day it is in ``zone`` at ``now``."""
    return now.astimezone(zone).date()


def weekday_index(word: str) -> int | None:
    """``fri``/``friday`` → 4; None if ``word`` is not a weekday."""
    word = word.lower()
    if word in _WEEKDAY_ALIASES:
        return _WEEKDAY_ALIASES[word]
    if len(word) >= 3:
        for i, name in enumerate(WEEKDAYS):
            if name.startswith(word):
                return i
    return None


def _resolve(raw: str, today: dt.date) -> dt.date | None:
    text = " ".join(raw.lower().split())
    if text in ("today", "tod"):
        return today
    if text in ("tomorrow", "tmrw", "tmr", "tomorow"):
        return today + dt.timedelta(days=1)
    if m := _ISO.match(text):
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise UserError(f"`{raw}` is not a real date. Try {DUE_EXAMPLES}.") from None
    if m := _IN.match(text):
        count = int(m.group(1))
        days = count * 7 if m.group(2).startswith("w") else count
        return today + dt.timedelta(days=days)
    next_monday = today + dt.timedelta(days=7 - today.weekday())
    if text == "next week":
        return next_monday
    if text == "next month":
        return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    if m := _NEXT.match(text):
        day = weekday_index(m.group(1))
        return None if day is None else next_monday + dt.timedelta(days=day)
    day = weekday_index(text)
    if day is not None:  # the coming one; on a Friday, "friday" means a week from today
        return today + dt.timedelta(days=(day - today.weekday() - 1) % 7 + 1)
    return None


def parse_due(raw: str, zone: ZoneInfo, now: dt.datetime) -> dt.date:
    """The day ``raw`` names, read in ``zone``; ``UserError`` (with examples) if it can't be.

    A weekday means the next such day (never today); ``next week`` is next Monday and
    ``next friday`` the Friday of next week. Past days are refused.
    """
    today = local_today(zone, now)
    text = raw.strip()
    if not text:
        raise UserError(f"Say when it is due: {DUE_EXAMPLES}.")
    day = _resolve(text, today)
    if day is None:
        raise UserError(f"I couldn't read `{quote(text)}` as a due date. Try {DUE_EXAMPLES}.")
    if day < today:
        raise UserError(f"{format_day(day)} is in the past; pick today or a later day.")
    if day - today > MAX_AHEAD:
        raise UserError(f"{format_day(day)} is more than five years away; pick a nearer day.")
    return day


def format_day(day: dt.date) -> str:
    """``Fri 4 Dec 2026``: the weekday helps catch a misread date."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def relative(day: dt.date, today: dt.date) -> str:
    """``due today``, ``due tomorrow``, ``due in 3 days``, ``1 day overdue``, ``5 days overdue``."""
    delta = (day - today).days
    if delta == 0:
        return "due today"
    if delta == 1:
        return "due tomorrow"
    if delta > 1:
        return f"due in {delta} days"
    late = -delta
    return f"{late} day{'s' if late != 1 else ''} overdue"


def days_overdue(day: dt.date | None, today: dt.date) -> int:
    """How many days past ``day`` it is (0 when not overdue or undated)."""
    return max(0, (today - day).days) if day else 0
