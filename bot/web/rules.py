"""What the web pages show, as plain values: filters read from a query string, the list,
an incident's facts and timeline, tasks by owner. Pure: no Flask, no Slack, no database.

Text stays as typed (Slack references made readable: mentions as names); the templates
escape it on output (Jinja2 autoescape), so nothing here is markup.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.common import text as slacktext
from bot.common.timeparse import format_duration, format_time
from bot.timeline.rules import story_of

#: Incidents per page of the list.
PAGE_SIZE = 50
#: Timeline entries per page of an incident's page.
ENTRIES_PAGE = 500
#: Open tasks the tasks page lists at most (filters narrow it).
TASKS_LIMIT = 500
#: A search is at most this long, in at most this many words.
MAX_QUERY = 200
MAX_WORDS = 8
STATUSES = ("investigating", "identified", "monitoring", "resolved")
OPEN = ("investigating", "identified", "monitoring")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
#: ``INC-42`` (the page's address) → 42.
_REF = re.compile(r"^INC-([1-9][0-9]{0,9})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURSOR = re.compile(r"^(-?\d{1,20})\.(\d{1,12})$")
_SAFE_LINK = re.compile(r"^https://[^\s<>|\"']+$")

Args = Mapping[str, Sequence[str]]
Names = Mapping[str, str]


def incident_number(ref: str) -> int | None:
    """``INC-42`` → 42; anything else (``inc-42``, ``INC-0``, ``42``) → None."""
    found = _REF.match(ref)
    return int(found.group(1)) if found else None


def safe_link(url: str | None) -> str | None:
    """A link the page may show: https only (never ``javascript:`` or ``data:``)."""
    return url if url and _SAFE_LINK.match(url) else None


# -- the list's filters -------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """The list's filters as given (to refill the form and build links) and as read."""

    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    day_from: dt.date | None = None
    day_to: dt.date | None = None
    query: str = ""
    words: tuple[str, ...] = ()
    #: Position in the list: (``started_at``, id) of the last incident of the page before.
    after: tuple[dt.datetime, int] | None = None
    errors: tuple[str, ...] = ()

    def started_range(self, tz: ZoneInfo) -> tuple[dt.datetime | None, dt.datetime | None]:
        """``[from, to]`` as whole days in ``tz``: (first instant, instant after the last)."""
        start = _midnight(self.day_from, tz) if self.day_from else None
        end = _midnight(self.day_to + dt.timedelta(days=1), tz) if self.day_to else None
        return start, end

    def query_args(self, after: tuple[dt.datetime, int] | None = None) -> list[tuple[str, str]]:
        """The filters (and a position) as query-string pairs, for links to other pages."""
        pairs = [("status", s) for s in self.statuses]
        pairs += [("severity", s) for s in self.severities]
        if self.day_from:
            pairs.append(("from", self.day_from.isoformat()))
        if self.day_to:
            pairs.append(("to", self.day_to.isoformat()))
        if self.query:
            pairs.append(("q", self.query))
        if after is not None:
            pairs.append(("after", encode_cursor(after)))
        return pairs

    @property
    def active(self) -> bool:
        return bool(self.statuses or self.severities or self.day_from or self.day_to
                    or self.words)


def _midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)


def _first(args: Args, name: str) -> str:
    values = args.get(name) or ()
    return values[0].strip() if values else ""


def read_filters(args: Args) -> Filters:
    """The list's filters from a query string; what cannot be read is left out, and said."""
    errors: list[str] = []
    statuses: list[str] = []
    for value in args.get("status") or ():
        value = value.strip().lower()
        wanted = OPEN if value == "open" else (value,) if value in STATUSES else None
        if value in ("", "any"):
            continue
        if wanted is None:
            errors.append(f"Unknown status {value[:40]!r}: showing every status.")
            continue
        statuses.extend(s for s in wanted if s not in statuses)
    severities: list[str] = []
    for value in args.get("severity") or ():
        value = value.strip().lower()
        if value in ("", "any"):
            continue
        if value not in SEVERITIES:
            errors.append(f"Unknown severity {value[:40]!r}: showing every severity.")
        elif value not in severities:
            severities.append(value)
    days = []
    for name, label in (("from", "From"), ("to", "To")):
        raw = _first(args, name)
        day = None
        if raw:
            try:
                if not _DAY.match(raw):
                    raise ValueError
                day = dt.date.fromisoformat(raw)
            except ValueError:
                errors.append(f"{label} must be a date like 2024-05-03, not {raw[:40]!r}.")
        days.append(day)
    day_from, day_to = days
    if day_from and day_to and day_to < day_from:
        errors.append("The end date is before the start date: nothing can match.")
    query = " ".join(_first(args, "q").split())[:MAX_QUERY]
    words = tuple(dict.fromkeys(w.lower() for w in query.split()))[:MAX_WORDS]
    after = None
    if _first(args, "after"):
        after = decode_cursor(_first(args, "after"))
        if after is None:
            errors.append("That page link is damaged: showing the newest incidents.")
    return Filters(tuple(statuses), tuple(severities), day_from, day_to, query, words, after,
                   tuple(errors))


def encode_cursor(key: tuple[dt.datetime, int]) -> str:
    """(``started_at``, id) → ``1714770000000000.42`` (microseconds since the epoch, id)."""
    moment, incident_id = key
    return f"{_micros(moment)}.{incident_id}"


def decode_cursor(raw: str) -> tuple[dt.datetime, int] | None:
    found = _CURSOR.match(raw)
    moment = _moment(found.group(1)) if found else None
    if found is None or moment is None:
        return None
    return moment, int(found.group(2))


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micros(moment: dt.datetime) -> int:
    """A cursor's time: whole microseconds since the epoch (exact, unlike a float)."""
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def _moment(micros: str) -> dt.datetime | None:
    """The time a cursor's digits stand for; None if out of range (a forged cursor)."""
    try:
        return _EPOCH + dt.timedelta(microseconds=int(micros))
    except OverflowError:
        return None


# -- the list -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Listed:
    """One line of the incident list."""

    ref: str
    title: str
    severity: str
    status: str
    lead: str | None
    started: str
    #: ``1h 30m`` once ended, else ``ongoing``.
    duration: str
    private: bool


def name_of(names: Names) -> Callable[[str], str]:
    return lambda uid: names.get(uid, uid)


def listed(incidents: Iterable[Any], names: Names, tz: ZoneInfo) -> list[Listed]:
    name = name_of(names)
    return [
        Listed(ref=f"INC-{i.number}", title=slacktext.readable(i.title, name) or f"INC-{i.number}",
               severity=i.severity.upper(), status=i.status,
               lead=name(i.lead_user_id) if i.lead_user_id else None,
               started=format_time(i.started_at, tz),
               duration=(format_duration(i.ended_at - i.started_at)
                         if i.ended_at and i.ended_at >= i.started_at else "ongoing"),
               private=bool(i.is_private))
        for i in incidents
    ]


# -- an incident's page -------------------------------------------------------------------------

@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(slots=True)
class EntryView:
    """One timeline line: its number, local time, who, what, and a link into Slack.

    ``audit``: part of the audit trail (what was recorded, and when), not of the story the
    postmortem tells (``bot.timeline.rules.Story``).
    """

    seq: int
    time: str
    kind: str
    label: str
    author: str
    text: str
    permalink: str | None
    in_thread: bool
    edited: str | None
    audit: bool


@dataclass(frozen=True)
class Day:
    """The timeline entries of one local day."""

    day: str
    entries: list[EntryView]


@dataclass(frozen=True)
class TaskView:
    ref: str
    text: str
    owner: str
    owner_id: str
    due: str | None
    status: str
    overdue: bool
    drop_reason: str | None = None
    incident: str | None = None
    incident_title: str | None = None


@dataclass(frozen=True)
class VersionView:
    version: int
    published_by: str
    published_at: str


@dataclass(frozen=True)
class IncidentView:
    ref: str
    title: str
    severity: str
    status: str
    private: bool
    timezone: str
    #: Severity, status, lead, roles, times, channel: short facts, in a list.
    facts: list[Fact]
    #: Summary, impact, root cause, …: what was recorded, as paragraphs.
    narrative: list[Fact]
    #: This page of the timeline, by local day; ``next_entries``: the next page's cursor.
    days: list[Day]
    tasks: list[TaskView]
    improvements: list[str]
    versions: list[VersionView]
    entry_count: int = 0
    next_entries: str | None = None
    later_page: bool = False


KIND_LABELS = {"message": "Pinned message", "note": "Note", "event": "Event"}
NARRATIVE = (("summary", "Summary"), ("description", "Description"), ("impact", "Impact"),
             ("root_cause", "Root cause"), ("resolution", "Resolution"),
             ("detection", "Detection"), ("misleading", "Misleading paths"),
             ("escalation", "Escalated to"))


def role_label(role: str) -> str:
    return role.replace("-", " ").replace("_", " ").capitalize()


def incident_view(incident: Any, record: Any, names: Names, tz: ZoneInfo,
                  today: dt.date, *, limit: int = 500, later_page: bool = False) -> IncidentView:
    """The page of ``incident`` with its ``storage.web.IncidentRecord`` (``limit`` + 1
    entries read: the last only says that more follow)."""
    name = name_of(names)
    channels = ({incident.channel_id: incident.channel_name}
                if incident.channel_id and incident.channel_name else {})

    def readable(value: str | None) -> str:
        if not value:
            return ""
        return slacktext.readable(value, name, lambda c: channels.get(c, c)).strip()

    start, end, detected = incident.started_at, incident.ended_at, incident.detected_at
    facts = [Fact("Severity", incident.severity.upper()), Fact("Status", incident.status),
             Fact("Lead", name(incident.lead_user_id) if incident.lead_user_id else "none")]
    for role, user in (incident.roles or {}).items():
        if user and role != "lead":
            facts.append(Fact(role_label(role), name(str(user))))
    facts.append(Fact("Impact started", format_time(start, tz)))
    if detected:
        facts.append(Fact("Detected", format_time(detected, tz)))
        if detected >= start:
            facts.append(Fact("Time to detect", format_duration(detected - start)))
    if end:
        facts.append(Fact("Impact ended", format_time(end, tz)))
        if end >= start:
            facts.append(Fact("Duration", format_duration(end - start)))
    facts.append(Fact("Declared", f"{format_time(incident.created_at, tz)} by "
                                  f"{name(incident.created_by)}"))
    if incident.next_update_at and incident.status != "resolved":
        facts.append(Fact("Next update due", format_time(incident.next_update_at, tz)))
    if incident.channel_name:
        facts.append(Fact("Channel", f"#{incident.channel_name}"))
    narrative = [Fact(label, readable(getattr(incident, attr)))
                 for attr, label in NARRATIVE if readable(getattr(incident, attr))]
    shown = record.entries[:limit]
    days = timeline_days(incident, shown, record.last_resolved, names, tz, readable)
    more = len(record.entries) > limit and shown
    tasks = [task_view(t, names, today, readable) for t in record.tasks]
    return IncidentView(
        ref=incident.ref, title=readable(incident.title) or incident.ref,
        severity=incident.severity.upper(), status=incident.status,
        private=bool(incident.is_private), timezone=tz.key, facts=facts, narrative=narrative,
        days=days, tasks=tasks,
        improvements=[t for t in (readable(i.text) for i in record.improvements) if t],
        versions=[VersionView(v.version, name(v.published_by), format_time(v.published_at, tz))
                  for v in record.versions],
        entry_count=record.entry_count,
        next_entries=encode_entry_cursor(shown[-1]) if more else None, later_page=later_page)


def task_view(task: Any, names: Names, today: dt.date,
              readable: Callable[[str | None], str] | None = None) -> TaskView:
    name = name_of(names)
    read = readable or (lambda value: slacktext.readable(value or "", name).strip())
    return TaskView(
        ref=f"T-{task.number}", text=read(task.text), owner=name(task.owner_user_id),
        owner_id=task.owner_user_id, due=task.due_date.isoformat() if task.due_date else None,
        status=task.status,
        overdue=task.status == "open" and task.due_date is not None and task.due_date < today,
        drop_reason=read(task.drop_reason) or None)


def timeline_days(incident: Any, entries: Sequence[Any], resolved: dt.datetime | None,
                  names: Names, tz: ZoneInfo,
                  readable: Callable[[str | None], str]) -> list[Day]:
    """Timeline entries by local day, each marked story or audit trail (``Story``, given the
    timeline's latest resolution ``resolved``).

    The hot loop of the page: rows are read once, times formatted without ``strftime``.
    """
    story = story_of(incident, tz, resolved)
    days: list[Day] = []
    for row in entries:
        local = row.occurred_at.astimezone(tz)
        day = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
        kind = row.kind
        if kind == "message":
            author = names.get(row.author_user_id or "") or row.author_name \
                or row.author_user_id or "someone"
        else:
            who = row.author_user_id or row.actor_user_id
            author = names.get(who or "", who or "Sitrep")
        text = readable(row.text) if "<" in row.text else row.text
        edited = None
        if row.edited_by and row.edited_at:
            edited = f"edited by {names.get(row.edited_by, row.edited_by)}, " \
                     f"{format_time(row.edited_at, tz)}"
        view = EntryView(
            row.seq, f"{local.hour:02d}:{local.minute:02d}", kind,
            KIND_LABELS.get(kind, kind), author, text, safe_link(row.permalink),
            bool(row.thread_ts), edited, not story.tells(kind, row.event_type, row.occurred_at))
        if not days or days[-1].day != day:
            days.append(Day(day, []))
        days[-1].entries.append(view)
    return days


_ENTRY_CURSOR = re.compile(r"^(-?\d{1,20})~([0-9.]{0,32})~(\d{1,12})$")


def encode_entry_cursor(row: Any) -> str:
    """A timeline position (``occurred_at``, ``sort_ts``, id) for the next page's link."""
    return f"{_micros(row.occurred_at)}~{row.sort_ts}~{row.id}"


def decode_entry_cursor(raw: str) -> tuple[dt.datetime, str, int] | None:
    found = _ENTRY_CURSOR.match(raw)
    moment = _moment(found.group(1)) if found else None
    if found is None or moment is None:
        return None
    return moment, found.group(2), int(found.group(3))


# -- tasks --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Owner:
    """One owner's open tasks."""

    owner: str
    owner_id: str
    tasks: list[TaskView] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(t.overdue for t in self.tasks)


def tasks_by_owner(rows: Iterable[Any], names: Names, today: dt.date) -> list[Owner]:
    """Open tasks grouped by owner (by name), each owner's soonest due first."""
    groups: dict[str, Owner] = {}
    for row in rows:
        view = task_view(row, names, today)
        view = TaskView(**{**view.__dict__, "incident": f"INC-{row.Incident.number}",
                           "incident_title": slacktext.readable(row.Incident.title,
                                                                name_of(names))})
        group = groups.setdefault(row.owner_user_id, Owner(view.owner, row.owner_user_id))
        group.tasks.append(view)
    return sorted(groups.values(), key=lambda g: (g.owner.lower(), g.owner_id))
