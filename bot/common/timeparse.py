"""Parse the times people type under pressure: ``10:00``, ``10am``, ``2024-05-03 10:00``, ``-15m``.

Times are read in the incident time zone and returned in UTC. A bare time of day means the
most recent such moment (incidents are recorded after the fact), so ``23:50`` typed at 00:10
means yesterday evening.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from bot.common.errors import UserError
from bot.common.text import quote

TIME_EXAMPLES = "`10:00`, `10:00am`, `2024-05-03 10:00` or `-15m`"

_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm)?$", re.I)
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](.+))?$")
_RELATIVE = re.compile(r"^-\s*(\d+)\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)$", re.I)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
#: How far in the future a bare time may be before it is taken as yesterday's.
_FUTURE_GRACE = dt.timedelta(minutes=5)


def _clock(text: str) -> dt.time | None:
    m = _CLOCK.match(text.strip())
    if not m:
        return None
    hour, minute, second = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    meridiem = (m.group(4) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif m.group(2) is None:
        return None  # a bare number like "10" is too ambiguous
    if hour > 23 or minute > 59 or second > 59:
        return None
    return dt.time(hour, minute, second)


def parse_time(text: str, tz: ZoneInfo, now: dt.datetime) -> dt.datetime:
    """Parse ``text`` as a moment, read in ``tz``; returns an aware UTC datetime.

    Raises ``UserError`` with examples when ``text`` is not a time it understands.
    """
    raw = text.strip()
    rel = _RELATIVE.match(raw)
    if rel:
        unit = _UNITS[rel.group(2)[0].lower()]
        try:
            return now - dt.timedelta(**{unit: int(rel.group(1))})
        except OverflowError:
            raise UserError(f"`{raw}` is too far back. Try {TIME_EXAMPLES}.") from None
    local_now = now.astimezone(tz)
    date_match = _DATE.match(raw)
    if date_match:
        try:
            day = dt.date(*(int(g) for g in date_match.groups()[:3]))
        except ValueError:
            raise UserError(f"`{raw}` is not a real date. Try {TIME_EXAMPLES}.") from None
        clock = _clock(date_match.group(4)) if date_match.group(4) else dt.time(0, 0)
        if clock is None:
            raise UserError(f"I couldn't read the time in `{quote(raw)}`. Try {TIME_EXAMPLES}.")
        return _localize(day, clock, tz)
    clock = _clock(raw)
    if clock is None:
        raise UserError(f"I couldn't read `{quote(raw)}` as a time. Try {TIME_EXAMPLES}.")
    moment = _localize(local_now.date(), clock, tz)
    if moment - now > _FUTURE_GRACE:
        moment = _localize(local_now.date() - dt.timedelta(days=1), clock, tz)
    return moment


def _localize(day: dt.date, clock: dt.time, tz: ZoneInfo) -> dt.datetime:
    """Wall-clock time in ``tz`` to UTC.

    With ``fold=0`` a time skipped by a DST jump moves forward by the jump (02:30 → 03:30),
    and a repeated time means its first occurrence.
    """
    return dt.datetime.combine(day, clock, tzinfo=tz).astimezone(dt.UTC)


def split_leading_time(text: str, tz: ZoneInfo, now: dt.datetime) -> tuple[dt.datetime | None, str]:
    """Split an optional leading time off ``text`` (``"10:05 restarted db"``).

    Tries the longest prefix first (``2024-05-03 10:05`` before ``2024-05-03``). Returns
    ``(None, text)`` when the text does not start with a time.
    """
    words = text.strip().split(" ")
    for size in (3, 2, 1):
        if len(words) <= size - 1:
            continue
        head = " ".join(words[:size])
        if not head or not (head[0].isdigit() or head[0] == "-"):
            continue
        try:
            when = parse_time(head, tz, now)
        except UserError:
            continue
        return when, " ".join(words[size:]).strip()
    return None, text.strip()


def format_time(moment: dt.datetime, tz: ZoneInfo, with_date: bool = True) -> str:
    """``2024-05-03 10:05 CEST`` (or ``10:05 CEST``) in ``tz``."""
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M %Z" if with_date else "%H:%M %Z")


def format_duration(delta: dt.timedelta) -> str:
    """``1h 30m``, ``2d 4h``, ``45m``, ``<1m``."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "<1m"
    days, rem = divmod(minutes, 24 * 60)
    hours, mins = divmod(rem, 60)
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if mins and not days:
        parts.append(f"{mins}m")
    return " ".join(parts)
