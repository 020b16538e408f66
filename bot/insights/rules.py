"""The insights' arithmetic: buckets of time, percentiles, and the series the charts draw.

Pure and deterministic given ``now`` and a zone: no clock, no database, no Slack.

- **Buckets.** An ISO week starts on Monday at midnight and a month on its first day at
  midnight, both in ``INCIDENT_TIMEZONE``, so a week across a daylight-saving change is
  167 or 169 hours long and still one week. ``weeks`` and ``months`` are the last ``count``
  of them, the current (partial) one last. A moment belongs to the bucket whose
  ``[start, end)`` holds it.
- **Percentiles** interpolate linearly between the two nearest ranks (Hyndman and Fan's
  type 7: NumPy's default, PostgreSQL's ``percentile_cont``, Excel's ``PERCENTILE.INC``):
  the p-th percentile of sorted ``x[0..n-1]`` is at rank ``(n - 1) * p / 100``. The median
  is the 50th, so it is the usual median (the mean of the two middle values when ``n`` is
  even). No values: no percentile (``None``), never zero.
- **Time to detect** is ``detected_at - started_at``, for incidents whose detection time is
  recorded and not before the start; **time to resolve** is ``ended_at - started_at``, for
  incidents whose end is known and not before the start (as the postmortem computes them).
  Both are counted in the month the incident started, to the millisecond (the database
  computes them, and SQLite's date functions keep milliseconds).
- **On time.** A resolved incident's postmortem is due ``POSTMORTEM_DUE_DAYS`` working days
  after its (latest) resolution, by the follow-up's own arithmetic
  (``bot.postmortem.followup.add_working_days``); it was published on time when its first
  version was published by then. Counted in the month of the resolution: on time, late,
  missing (due and still unpublished) or pending (not due yet, unpublished; left out of the
  share).
- **Overdue** tasks are open tasks due before today in ``INCIDENT_TIMEZONE``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.common.timeparse import format_duration
from bot.postmortem.followup import WEEKEND, add_working_days

WEEKS = 26
MONTHS = 12
#: Severities in the order the charts stack them; any other stored value follows, sorted.
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
#: Owners listed by name under overdue tasks; the rest are counted together.
TOP_OWNERS = 10


@dataclass(frozen=True)
class Bucket:
    """One week or month: ``[start, end)`` in UTC, from local midnight to local midnight."""

    label: str
    first_day: dt.date
    start: dt.datetime
    end: dt.datetime


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The start of ``day`` in ``zone``, in UTC."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def week_of(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The Monday of the ISO week holding ``moment`` in ``zone``."""
    day = moment.astimezone(zone).date()
    return day - dt.timedelta(days=day.weekday())


def month_of(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The first day of the month holding ``moment`` in ``zone``."""
    return moment.astimezone(zone).date().replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _buckets(days: Sequence[dt.date], zone: ZoneInfo, label: str) -> list[Bucket]:
    edges = [local_midnight(d, zone) for d in days]
    return [Bucket(_label(days[i], label), days[i], edges[i], edges[i + 1])
            for i in range(len(days) - 1)]


def _label(day: dt.date, kind: str) -> str:
    if kind == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def weeks(now: dt.datetime, zone: ZoneInfo, count: int = WEEKS) -> list[Bucket]:
    """The last ``count`` ISO weeks in ``zone``, oldest first, the one holding ``now`` last."""
    monday = week_of(now, zone)
    days = [monday - dt.timedelta(weeks=count - 1 - i) for i in range(count + 1)]
    return _buckets(days, zone, "week")


def months(now: dt.datetime, zone: ZoneInfo, count: int = MONTHS) -> list[Bucket]:
    """The last ``count`` calendar months in ``zone``, oldest first, ``now``'s last."""
    first = month_of(now, zone)
    days = [_add_months(first, i - (count - 1)) for i in range(count + 1)]
    return _buckets(days, zone, "month")


def edges(buckets: Sequence[Bucket]) -> list[dt.datetime]:
    """Every bucket's start and the last one's end: what the database buckets with."""
    return [b.start for b in buckets] + [buckets[-1].end] if buckets else []


def index_of(moment: dt.datetime, buckets: Sequence[Bucket]) -> int | None:
    """The index of the bucket holding ``moment``, or None outside them all."""
    if not buckets or moment < buckets[0].start or moment >= buckets[-1].end:
        return None
    return bisect.bisect_right([b.start for b in buckets], moment) - 1


# --- statistics ---------------------------------------------------------------------------

def percentile(values: Iterable[float], p: float) -> float | None:
    """The ``p``-th percentile (0–100) by linear interpolation between closest ranks."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile out of range: {p}")
    xs = sorted(values)
    if not xs:
        return None
    rank = (len(xs) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(xs) - 1)
    return xs[low] + (xs[high] - xs[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """How many durations, their median and 90th percentile, in seconds."""

    count: int
    median: float | None
    p90: float | None


def summarize(seconds: Sequence[float]) -> Summary:
    """Count, median and p90, to the millisecond (what both databases keep alike)."""
    ordered = sorted(seconds)
    median, p90 = percentile(ordered, 50), percentile(ordered, 90)
    return Summary(len(ordered), None if median is None else round(median, 3),
                   None if p90 is None else round(p90, 3))


def format_seconds(seconds: float | None) -> str:
    """``1h 30m``, ``2d 4h``; an em dash for no value."""
    if seconds is None:
        return "—"
    return format_duration(dt.timedelta(seconds=round(seconds)))


# --- series ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CountRow:
    bucket: Bucket
    #: Severity → incidents, in ``Counts.severities`` order (zeros included).
    by_severity: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())


@dataclass(frozen=True)
class Counts:
    """Incidents per bucket and severity."""

    severities: tuple[str, ...]
    rows: tuple[CountRow, ...]

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rows)


def count_series(buckets: Sequence[Bucket],
                 counted: Iterable[tuple[int, str, int]]) -> Counts:
    """Incidents per bucket and severity from ``(bucket index, severity, count)`` rows.

    The usual severities are always columns; another stored value appears after them only
    when some incident has it.
    """
    cells: dict[tuple[int, str], int] = {}
    for index, severity, count in counted:
        if 0 <= index < len(buckets):
            cells[(index, severity)] = cells.get((index, severity), 0) + int(count)
    extra = sorted({sev for _, sev in cells} - set(SEVERITIES))
    severities = (*SEVERITIES, *extra)
    rows = tuple(CountRow(b, {sev: cells.get((i, sev), 0) for sev in severities})
                 for i, b in enumerate(buckets))
    return Counts(severities, rows)


@dataclass(frozen=True)
class DurationRow:
    bucket: Bucket
    detect: Summary
    resolve: Summary


def duration_series(buckets: Sequence[Bucket],
                    incidents: Iterable[tuple[int, float | None, float | None]]
                    ) -> tuple[DurationRow, ...]:
    """Median and p90 time to detect and to resolve per bucket of the incidents' start,
    from ``(bucket index, seconds to detect, seconds to resolve)`` rows (None: not
    recorded; a negative time, a detection or end recorded before the start, is left out).
    """
    detect: list[list[float]] = [[] for _ in buckets]
    resolve: list[list[float]] = [[] for _ in buckets]
    count = len(buckets)
    for index, to_detect, to_resolve in incidents:
        if 0 <= index < count:
            if to_detect is not None and to_detect >= 0:
                detect[index].append(to_detect)
            if to_resolve is not None and to_resolve >= 0:
                resolve[index].append(to_resolve)
    return tuple(DurationRow(b, summarize(detect[i]), summarize(resolve[i]))
                 for i, b in enumerate(buckets))


class DueMoments:
    """When a postmortem is due, exactly as ``followup.due_moment`` says, fast.

    ``due(resolved_at)`` takes a datetime; ``epoch(seconds)`` POSIX seconds (for ten
    thousand rows). The working-day walk is done once per local day, not per incident, and
    for each day of ``[since, until)`` a shortcut is prepared: resolved on a weekend, due at
    the due day's midnight; on a day of 24 hours whose due day also has 24 hours, the time
    of day is the time since midnight, so due at the due day's midnight plus that. Around a
    daylight saving change (or outside those days) ``due`` works it out itself.
    """

    def __init__(self, due_days: int, zone: ZoneInfo, since: dt.date | None = None,
                 until: dt.date | None = None) -> None:
        self.due_days, self.zone = due_days, zone
        self._days: dict[dt.date, dt.date] = {}
        self._starts: list[float] = []
        #: Per prepared day: (True, due midnight) on a weekend, (False, shift) on a plain
        #: day (due = resolved + shift), None around a change of offset.
        self._shortcuts: list[tuple[bool, float] | None] = []
        if since is None or until is None or until <= since:
            return
        count = (until - since).days
        margin = 2 * due_days + 7  # calendar days a due day can be after its day, at most
        midnights = [local_midnight(since + dt.timedelta(days=i), zone).timestamp()
                     for i in range(count + margin + 1)]
        self._starts = midnights[:count + 1]
        for i in range(count):
            day = since + dt.timedelta(days=i)
            index = (self.due_day(day) - since).days
            due_start, due_end = midnights[index], midnights[index + 1]
            if day.weekday() in WEEKEND:
                self._shortcuts.append((True, due_start))
            elif midnights[i + 1] - midnights[i] == 86400 and due_end - due_start == 86400:
                self._shortcuts.append((False, due_start - midnights[i]))
            else:
                self._shortcuts.append(None)

    def due_day(self, day: dt.date) -> dt.date:
        if day not in self._days:
            due = add_working_days(local_midnight(day, self.zone), self.due_days, self.zone)
            self._days[day] = due.astimezone(self.zone).date()
        return self._days[day]

    def __call__(self, resolved_at: dt.datetime) -> dt.datetime:
        local = resolved_at.astimezone(self.zone)
        day = local.date()
        clock = dt.time(0) if day.weekday() in WEEKEND else local.time().replace(tzinfo=None)
        return dt.datetime.combine(self.due_day(day), clock,
                                   tzinfo=self.zone).astimezone(dt.UTC)

    def epoch(self, resolved_at: float) -> float:
        """``due`` for POSIX seconds, in POSIX seconds."""
        index = bisect.bisect_right(self._starts, resolved_at) - 1
        if 0 <= index < len(self._shortcuts):
            shortcut = self._shortcuts[index]
            if shortcut is not None:
                weekend, value = shortcut
                return value if weekend else resolved_at + value
        return self(dt.datetime.fromtimestamp(resolved_at, dt.UTC)).timestamp()


@dataclass(frozen=True)
class OnTimeRow:
    bucket: Bucket
    on_time: int = 0
    late: int = 0
    #: Due, and still no version published.
    missing: int = 0
    #: Not due yet, no version published: not counted in the share.
    pending: int = 0

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.missing

    @property
    def share(self) -> float | None:
        """Published on time, as a fraction of those due (None when none were)."""
        return self.on_time / self.due if self.due else None


def on_time_series(buckets: Sequence[Bucket],
                   resolutions: Iterable[tuple[float, float | None]],
                   now: dt.datetime, due_days: int, zone: ZoneInfo) -> tuple[OnTimeRow, ...]:
    """Postmortems published on time per bucket of resolution, from ``(resolved at, first
    version published at or None)`` rows in POSIX seconds."""
    if not buckets:
        return ()
    due = DueMoments(due_days, zone, buckets[0].first_day,
                     buckets[-1].end.astimezone(zone).date())
    starts = [b.start.timestamp() for b in buckets]
    end, now_s = buckets[-1].end.timestamp(), now.timestamp()
    tally = [[0, 0, 0, 0] for _ in buckets]
    first = starts[0]
    for resolved_at, published_at in resolutions:
        if resolved_at < first or resolved_at >= end:
            continue
        index = bisect.bisect_right(starts, resolved_at) - 1
        deadline = due.epoch(resolved_at)
        if published_at is not None:
            tally[index][0 if published_at <= deadline else 1] += 1
        else:
            tally[index][2 if deadline <= now_s else 3] += 1
    return tuple(OnTimeRow(b, *t) for b, t in zip(buckets, tally, strict=True))


def overdue_before(now: dt.datetime, zone: ZoneInfo) -> dt.date:
    """Open tasks due before this day (today in ``zone``) are overdue."""
    return now.astimezone(zone).date()


@dataclass(frozen=True)
class Owner:
    user_id: str
    name: str | None
    count: int


@dataclass(frozen=True)
class Overdue:
    total: int
    owners: tuple[Owner, ...]

    @property
    def others(self) -> int:
        """Overdue tasks of owners not listed."""
        return self.total - sum(o.count for o in self.owners)


@dataclass(frozen=True)
class Insights:
    """Everything the page shows, for one viewer at ``now``."""

    now: dt.datetime
    zone: str
    due_days: int
    weekly: Counts
    monthly: Counts
    durations: tuple[DurationRow, ...]
    on_time: tuple[OnTimeRow, ...]
    overdue: Overdue
    notes: tuple[str, ...] = field(default=())
