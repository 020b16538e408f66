"""Parse the times people type under pressure: ``10:00``, ``10am``, ``2024-05-03 10:00``, ``-15m``.

Times are read in the incident time zone and returned in UTC. A bare time of day (no date)
means what the person means:

- during a live incident, the most recent such moment: ``23:50`` typed at 00:10 is last
  night (``read_time`` without a ``Frame``);
- for an incident recorded after the fact, the moment on the incident's own days
  (``read_time`` with the incident's ``Frame``): ``10:10`` after the impact began on
  2024-05-03 at 10:00 is 2024-05-03 10:10, whatever today is. When another day is
  plausible too, the ``Reading`` names it, so the reply can say how to give it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
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
#: On an incident's own days, another day's occurrence this close to the incident (or in
#: it) is plausible too, and the reply says how to give it.
PLAUSIBLE = dt.timedelta(hours=12)


@dataclass(frozen=True)
class Frame:
    """The days of an incident recorded after the fact: from its impact start to ``end``.

    ``end`` is the impact end when it is known, else the latest moment recorded of the
    story so far (or the start itself).
    """

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Reading:
    """A typed time as understood: ``when``, and other days it could plausibly have meant.

    ``on_incident_days`` is set when a bare time was placed on the incident's own days
    rather than at its most recent occurrence.
    """

    when: dt.datetime
    others: tuple[dt.datetime, ...] = ()
    on_incident_days: bool = False


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

    A bare time is its most recent occurrence. Raises ``UserError`` with examples when
    ``text`` is not a time it understands.
    """
    return read_time(text, tz, now).when


def read_time(text: str, tz: ZoneInfo, now: dt.datetime, frame: Frame | None = None) -> Reading:
    """Parse ``text`` as a moment, read in ``tz``; a bare time is placed by ``frame``.

    Without a frame (a live incident) a bare time is its most recent occurrence; with one
    (recorded after the fact) it is placed on the incident's own days by ``on_days``.
    Dates and ``-15m`` mean the same either way.
    """
    raw = text.strip()
    rel = _RELATIVE.match(raw)
    if rel:
        unit = _UNITS[rel.group(2)[0].lower()]
        try:
            return Reading(now - dt.timedelta(**{unit: int(rel.group(1))}))
        except OverflowError:
            raise UserError(f"`{raw}` is too far back. Try {TIME_EXAMPLES}.") from None
    date_match = _DATE.match(raw)
    if date_match:
        try:
            day = dt.date(*(int(g) for g in date_match.groups()[:3]))
        except ValueError:
            raise UserError(f"`{raw}` is not a real date. Try {TIME_EXAMPLES}.") from None
        clock = _clock(date_match.group(4)) if date_match.group(4) else dt.time(0, 0)
        if clock is None:
            raise UserError(f"I couldn't read the time in `{quote(raw)}`. Try {TIME_EXAMPLES}.")
        return Reading(_localize(day, clock, tz))
    clock = _clock(raw)
    if clock is None:
        raise UserError(f"I couldn't read `{quote(raw)}` as a time. Try {TIME_EXAMPLES}.")
    if frame is not None:
        placed = on_days(clock, tz, frame, now)
        if placed is not None:
            return placed
    return Reading(most_recent(clock, tz, now))


def most_recent(clock: dt.time, tz: ZoneInfo, now: dt.datetime) -> dt.datetime:
    """The latest moment at ``clock`` in ``tz`` that is not in the future (a little grace)."""
    today = now.astimezone(tz).date()
    moment = _localize(today, clock, tz)
    if moment - now > _FUTURE_GRACE:
        moment = _localize(today - dt.timedelta(days=1), clock, tz)
    return moment


def on_days(clock: dt.time, tz: ZoneInfo, frame: Frame, now: dt.datetime) -> Reading | None:
    """``clock`` on the incident's own days, counted from its impact start.

    The candidates are ``clock`` on each local day from the day before the start to the day
    after ``frame.end`` (never in the future). The one inside the frame wins, the first
    from the start if several are; otherwise the one nearest to the frame, where time
    before the start counts double (times are counted from the start: only one shortly
    before it, such as the deploy that caused it, is read on the day before), and on a tie
    the one after the start. Other candidates inside the frame or within ``PLAUSIBLE`` of
    it are returned as ``others``. ``None`` when every candidate is in the future.
    """
    first = frame.start.astimezone(tz).date() - dt.timedelta(days=1)
    last = frame.end.astimezone(tz).date() + dt.timedelta(days=1)
    candidates = []
    day = first
    while day <= last:
        moment = _localize(day, clock, tz)
        if moment - now <= _FUTURE_GRACE:
            candidates.append(moment)
        day += dt.timedelta(days=1)
    if not candidates:
        return None

    def distance(moment: dt.datetime) -> dt.timedelta:
        if moment < frame.start:
            return frame.start - moment
        return max(moment - frame.end, dt.timedelta(0))

    def weight(moment: dt.datetime) -> dt.timedelta:
        return distance(moment) * (2 if moment < frame.start else 1)

    best = min(candidates, key=lambda m: (weight(m), m < frame.start, m))
    others = tuple(m for m in candidates if m != best and distance(m) < PLAUSIBLE)
    return Reading(best, others, on_incident_days=True)


def _localize(day: dt.date, clock: dt.time, tz: ZoneInfo) -> dt.datetime:
    """Wall-clock time in ``tz`` to UTC.

    With ``fold=0`` a time skipped by a DST jump moves forward by the jump (02:30 → 03:30),
    and a repeated time means its first occurrence.
    """
    return dt.datetime.combine(day, clock, tzinfo=tz).astimezone(dt.UTC)


def split_leading_time(text: str, tz: ZoneInfo, now: dt.datetime,
                       frame: Frame | None = None) -> tuple[Reading | None, str]:
    """Split an optional leading time off ``text`` (``"10:05 restarted db"``).

    Tries the longest prefix first (``2024-05-03 10:05`` before ``2024-05-03``); a bare time
    is placed by ``frame`` as in ``read_time``. Returns ``(None, text)`` when the text does
    not start with a time.
    """
    words = text.strip().split(" ")
    for size in (3, 2, 1):
        if len(words) <= size - 1:
            continue
        head = " ".join(words[:size])
        if not head or not (head[0].isdigit() or head[0] == "-"):
            continue
        try:
            reading = read_time(head, tz, now, frame)
        except UserError:
            continue
        return reading, " ".join(words[size:]).strip()
    return None, text.strip()


def format_time(moment: dt.datetime, tz: ZoneInfo, with_date: bool = True) -> str:
    """``2024-05-03 10:05 CEST`` (or ``10:05 CEST``) in ``tz``."""
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M %Z" if with_date else "%H:%M %Z")


def describe_period(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> str:
    """``from 10:00 to 11:30 on 2024-05-03 (UTC)``, naming dates and zones only as needed.

    Across days: ``from 2024-05-03 23:00 to 2024-05-04 00:30 (CEST)``; across a change of
    offset (daylight saving): each end with its own zone.
    """
    a, b = start.astimezone(tz), end.astimezone(tz)
    if a.tzname() != b.tzname():
        return f"from {format_time(start, tz)} to {format_time(end, tz)}"
    if a.date() == b.date():
        return f"from {a:%H:%M} to {b:%H:%M} on {a:%Y-%m-%d} ({a.tzname()})"
    return f"from {a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} ({a.tzname()})"


def other_days_hint(reading: Reading, tz: ZoneInfo) -> str:
    """`` (for another day, give the date: `2024-05-04 10:10`)`` when one is plausible, else ``""``.

    Slack mrkdwn, for the reply that stored ``reading.when``.
    """
    if not reading.others:
        return ""
    example = reading.others[0].astimezone(tz).strftime("%Y-%m-%d %H:%M")
    where = "on the incident's own day; " if reading.on_incident_days else ""
    return f" _({where}for another day, give the date: `{example}`)_"


def format_duration(delta: dt.timedelta) -> str:
    """``1h 30m``, ``2d 4h``, ``45m``, ``<1m``, ``0m`` (exactly none)."""
    if not delta:
        return "0m"
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
