"""The postmortem: compiled from what was recorded during the incident, rendered by templates.

``compile_incident`` reads the incident in a fixed number of queries (``storage.postmortem``)
and turns it into a ``Postmortem``: plain, readable strings (times in the incident time
zone, mentions as names, broadcasts inert) that templates only have to lay out. ``missing``
says what is still to be recorded, and ``publish`` stores a numbered version.

The timeline is the incident's story (``bot.timeline.rules.Story``): pinned messages and
notes, and the milestones at their own times (impact began, detected, declared during the
impact, live changes, impact ended); never the record-keeping. The figures:

- time to detect = detected − impact start;
- time to resolve = impact end − impact start;

each only when both ends are recorded (so never measured against the moment of typing).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.common import text as slacktext
from bot.common.clock import Clock
from bot.common.errors import NotFound, UserError
from bot.common.timeparse import describe_period, format_duration, format_time
from bot.postmortem.templates import Rendered, Templates
from bot.timeline.rules import STORY_KINDS, Story, last_resolved, story_of
from storage import incidents as incident_repo
from storage import postmortem as repo
from storage.db import Database

#: Output format → template name (an operator's ``TEMPLATES_DIR`` overrides by name).
TEMPLATES = {"md": "postmortem.md.j2", "html": "postmortem.html.j2",
             "slack": "postmortem.slack.j2"}

#: Looks up display names Sitrep has not cached yet (the shell asks Slack); may return fewer.
NameResolver = Callable[[list[str]], Mapping[str, str]]

_SAFE_LINK = re.compile(r"^https://[^\s<>|]+$")


#: The milestones Sitrep knows from the incident itself: ``event_type`` → line.
MILESTONES = {"started": "Impact began", "detected": "Issue detected", "ended": "Impact ended"}


@dataclass(frozen=True)
class Entry:
    """One timeline line: its time (with the date when the incident spans days), who, what.

    ``kind`` is ``message``, ``note``, ``event`` (a live change, by ``author``) or
    ``milestone`` (impact began, detected, ended: no author).
    """

    time: str
    author: str
    text: str
    kind: str
    event_type: str | None
    permalink: str | None


@dataclass(frozen=True)
class TaskLine:
    ref: str
    text: str
    owner: str
    due: str | None
    status: str
    done: bool
    dropped: bool
    overdue: bool
    drop_reason: str | None


@dataclass(frozen=True)
class Postmortem:
    """Everything a template needs, as display-ready text (``None``: not recorded yet)."""

    incident_id: int
    ref: str
    title: str
    severity: str
    status: str
    lead: str | None
    channel: str | None
    timezone: str
    started: str
    ended: str | None
    duration: str | None
    #: ``from 10:00 to 11:30 on 2024-05-03 (UTC)`` once the end is known.
    period: str | None
    #: When it was declared (opened in Sitrep), by whom; and whether that was after the fact.
    declared: str
    declared_by: str | None
    recorded_after_the_fact: bool
    detected: str | None
    detection: str | None
    time_to_detect: str | None
    time_to_resolve: str | None
    summary: str | None
    impact: str | None
    root_cause: str | None
    resolution: str | None
    escalation: str | None
    misleading: str | None
    spans_days: bool
    #: The one day every timeline time is on (``None`` when they span days).
    timeline_day: str | None
    timeline: tuple[Entry, ...]
    improvements: tuple[str, ...]
    tasks: tuple[TaskLine, ...]
    generated_at: str
    last_version: int | None = None
    #: For Slack, a long timeline is cut: ``timeline_omitted`` entries after the first
    #: ``timeline_cut_at`` are left out (the uploaded file has them all).
    timeline_omitted: int = 0
    timeline_cut_at: int = 0
    version: int | None = None
    published_by: str | None = None

    @property
    def noted_entries(self) -> int:
        """Entries people added (pins and notes), as opposed to Sitrep's own events."""
        return sum(e.kind in ("message", "note") for e in self.timeline)


@dataclass(frozen=True)
class Missing:
    """Something a complete postmortem needs, and the subcommands that record it."""

    what: str
    commands: tuple[str, ...] = ()


def compile_incident(db: Database, incident_id: int, tz: ZoneInfo, *, now: dt.datetime,
                     resolve_names: NameResolver | None = None) -> Postmortem:
    """Read the incident (a fixed number of queries) and build its postmortem.

    Names come from the ``slack_users`` cache read with it; ids it lacks go to
    ``resolve_names`` once, together (never one look-up per entry).
    """
    with db.session() as s:
        record = repo.load(s, incident_id, slacktext.mentioned_users)
    if record is None:
        raise NotFound("That incident no longer exists.")
    names = {uid: u.display_name for uid, u in record.people.items()}
    wanted = record.user_ids - names.keys()
    if resolve_names is not None and wanted:
        names.update(resolve_names(sorted(wanted)))
    return build(record, tz, names, now)


def build(record: repo.Record, tz: ZoneInfo, names: Mapping[str, str],
          now: dt.datetime) -> Postmortem:
    """The postmortem of ``record``: pure, no I/O."""
    inc = record.incident

    def name(uid: str | None) -> str | None:
        return names.get(uid, uid) if uid else None

    channels = {inc.channel_id: inc.channel_name} if inc.channel_id else {}

    def readable(text: str | None) -> str | None:
        if not text:
            return None
        plain = slacktext.readable(text, lambda u: names.get(u, u),
                                   lambda c: channels.get(c) or c)
        return plain.strip() or None

    story = story_of(inc, tz, last_resolved(record.entries))
    timeline, day = _timeline(record, story, tz, names, readable)
    today = now.astimezone(tz).date()
    tasks = tuple(
        TaskLine(
            ref=f"T-{t.number}", text=readable(t.text) or "", owner=name(t.owner_user_id) or "",
            due=t.due_date.isoformat() if t.due_date else None, status=t.status,
            done=t.status == "done", dropped=t.status == "dropped",
            overdue=t.status == "open" and t.due_date is not None and t.due_date < today,
            drop_reason=readable(t.drop_reason),
        )
        for t in record.tasks
    )
    start, end, detected = inc.started_at, inc.ended_at, inc.detected_at
    return Postmortem(
        incident_id=inc.id,
        ref=inc.ref,
        title=readable(inc.title) or inc.ref,
        severity=inc.severity.upper(),
        status=inc.status,
        lead=name(inc.lead_user_id),
        channel=inc.channel_name,
        timezone=tz.key,
        started=format_time(start, tz),
        ended=format_time(end, tz) if end else None,
        duration=format_duration(end - start) if end and end >= start else None,
        period=describe_period(start, end, tz) if end and end >= start else None,
        declared=format_time(inc.created_at, tz),
        declared_by=name(inc.created_by),
        recorded_after_the_fact=story.after_the_fact,
        detected=format_time(detected, tz) if detected else None,
        detection=readable(inc.detection),
        time_to_detect=(format_duration(detected - start)
                        if detected and detected >= start else None),
        time_to_resolve=format_duration(end - start) if end and end >= start else None,
        summary=readable(inc.summary),
        impact=readable(inc.impact),
        root_cause=readable(inc.root_cause),
        resolution=readable(inc.resolution),
        escalation=readable(inc.escalation),
        misleading=readable(inc.misleading),
        spans_days=day is None,
        timeline_day=day,
        timeline=timeline,
        improvements=tuple(r for r in (readable(i.text) for i in record.improvements) if r),
        tasks=tasks,
        generated_at=format_time(now, tz),
        last_version=record.last_version,
    )


def _timeline(record: repo.Record, story: Story, tz: ZoneInfo, names: Mapping[str, str],
              readable: Callable[[str | None], str | None],
              ) -> tuple[tuple[Entry, ...], str | None]:
    """The story's entries and milestones in time order, and the one day they are all on.

    When they span days (``None`` day), each time shows its date. Milestones go first
    among entries at the same moment, except the impact's end, which goes last.

    This is the hot loop of a 10,000-entry postmortem: rows are unpacked in the order of
    ``storage.postmortem.ENTRY_COLUMNS`` and times formatted without ``strftime``.
    """
    inc = record.incident
    tells = story.tells
    rows = [(row, row[2].astimezone(tz)) for row in record.entries
            if row[0] in STORY_KINDS or tells(row[0], row[1], row[2])]
    marks = [(inc.started_at, "started"), (inc.detected_at, "detected"),
             (inc.ended_at, "ended")]
    milestones = sorted(((at, kind, at.astimezone(tz)) for at, kind in marks if at is not None),
                        key=lambda m: m[0])  # stable: began, detected, ended on a tie
    days = {local.date() for _, _, local in milestones}
    days.update(local.date() for _, local in rows)
    single = next(iter(days)) if len(days) == 1 else None

    def clock(local: dt.datetime) -> str:
        hhmm = f"{local.hour:02d}:{local.minute:02d}"
        if single is not None:
            return hhmm
        return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {hhmm}"

    entries = []
    for (kind, event_type, _at, actor, author, author_name, text, link), local in rows:
        hhmm = f"{local.hour:02d}:{local.minute:02d}"  # inline: 10,000 calls add up
        if single is None:
            hhmm = f"{local.year:04d}-{local.month:02d}-{local.day:02d} {hhmm}"
        entries.append(Entry(
            time=hhmm,
            author=_author(author, author_name, actor, names),
            text=readable(text) or "",
            kind=kind,
            event_type=event_type,
            permalink=link if link and _SAFE_LINK.match(link) else None,
        ))
    times = [row[2] for row, _ in rows]
    placed = [((bisect.bisect_right if kind == "ended" else bisect.bisect_left)(times, at),
               Entry(clock(local), "", MILESTONES[kind], "milestone", kind, None))
              for at, kind, local in milestones]
    for index, milestone in reversed(placed):  # from the last, so indexes stay right
        entries.insert(index, milestone)
    day = single.isoformat() if single is not None else None
    return tuple(entries), day


def _author(author: str | None, author_name: str | None, actor: str | None,
            names: Mapping[str, str]) -> str:
    """Who wrote the entry: the poster of a pinned message, else who acted; Sitrep if none.

    A current display name beats the name stored when the message was pinned, which beats
    a bare user id.
    """
    for candidate in (names.get(author or ""), author_name, names.get(actor or ""), author,
                      actor):
        if candidate:
            return candidate
    return "Sitrep"


def missing(pm: Postmortem, timeline_emoji: str = "pushpin") -> list[Missing]:
    """What the postmortem still lacks, most important first, with how to record it."""
    found: list[Missing] = []
    for value, what, command in (
        (pm.summary, "No summary yet", "summary <text>"),
        (pm.impact, "The impact is not recorded", "impact <text>"),
        (pm.root_cause, "No root cause yet", "cause <text>"),
        (pm.resolution, "No resolution recorded", "resolution <text>"),
        (pm.detection, "How it was detected is not recorded", "detection <text>"),
    ):
        if not value:
            found.append(Missing(what, (command,)))
    if pm.detected is None:
        found.append(Missing("When it was detected is not recorded", ("detected <time>",)))
    if pm.ended is None:
        found.append(Missing("The incident has no end time yet", ("resolve", "ended <time>")))
    if not pm.noted_entries:
        found.append(Missing(f"Nothing on the timeline yet besides Sitrep's own events "
                             f"(react with :{timeline_emoji}: to a message)",
                             ("note <text>",)))
    if not pm.tasks and not pm.improvements:
        found.append(Missing("No corrective tasks or improvements",
                             ("task @owner <text> due <date>", "improvement <text>")))
    undated = [t.ref for t in pm.tasks if t.status == "open" and not t.due]
    if undated:
        many = len(undated) > 1
        listed = ", ".join(undated[:5]) + (f" and {len(undated) - 5} more"
                                           if len(undated) > 5 else "")
        found.append(Missing(f"{listed} {'have' if many else 'has'} no due date",
                             (f"due {undated[0]} <date>",)))
    return found


def render(pm: Postmortem, templates: Templates, fmt: str = "md") -> Rendered:
    """``pm`` through the template of ``fmt`` (``md``, ``html`` or ``slack``)."""
    return templates.render(TEMPLATES[fmt], pm=pm)


def for_slack(pm: Postmortem, keep: int = 120, max_chars: int = 48_000) -> Postmortem:
    """``pm`` with a long timeline cut to its beginning and its end.

    At most ``keep`` entries and ``max_chars`` of their text, half from each end: posting
    ten thousand lines would flood the channel, and the uploaded file has them all.
    """
    entries = pm.timeline
    if len(entries) <= keep and sum(len(e.text) for e in entries) <= max_chars:
        return pm
    head = _take(entries, keep // 2, max_chars // 2)
    rest = entries[len(head):]
    tail = _take(rest[::-1], keep - len(head), max_chars - sum(len(e.text) for e in head))
    tail.reverse()
    omitted = len(entries) - len(head) - len(tail)
    return dataclasses.replace(pm, timeline=(*head, *tail), timeline_omitted=omitted,
                               timeline_cut_at=len(head))


def _take(entries: tuple[Entry, ...], count: int, chars: int) -> list[Entry]:
    """The leading entries, up to ``count`` of them and ``chars`` of text."""
    taken: list[Entry] = []
    for entry in entries[:count]:
        chars -= len(entry.text)
        if chars < 0:
            break
        taken.append(entry)
    return taken


def only_team(db: Database) -> str:
    """The workspace of a single-workspace database (``UserError`` if none or several)."""
    with db.session() as s:
        teams = repo.team_ids(s)
    if not teams:
        raise NotFound("There are no incidents in this database yet.")
    if len(teams) > 1:
        raise UserError("This database holds incidents of several workspaces; say which "
                        "one with --team.")
    return teams[0]


@dataclass(frozen=True)
class Published:
    """A stored version: its postmortem (numbered) and the Markdown that was stored."""

    postmortem: Postmortem
    markdown: Rendered


def publish(db: Database, clock: Clock, templates: Templates, pm: Postmortem, *,
            user_id: str, user_name: str | None = None) -> Published:
    """Number and store the next version of ``pm``'s Markdown; posting is the shell's job.

    The incident row is locked while the number is taken, so concurrent publishes get
    consecutive versions.
    """
    now = clock.now()
    with db.session() as s:
        if incident_repo.get(s, pm.incident_id, for_update=True) is None:
            raise NotFound("That incident no longer exists.")
        version = repo.next_version(s, pm.incident_id)
        numbered = dataclasses.replace(pm, version=version, published_by=user_name or user_id,
                                       generated_at=format_time(now, ZoneInfo(pm.timezone)))
        markdown = render(numbered, templates, "md")
        repo.add_version(s, incident_id=pm.incident_id, version=version,
                         markdown=markdown.text, published_by=user_id, now=now,
                         snapshot=snapshot(numbered))
    return Published(numbered, markdown)


def snapshot(pm: Postmortem) -> dict[str, Any]:
    """``pm`` as JSON data, stored with each published version.

    The web view renders a version from it through the HTML template (``from_snapshot``):
    the same data the published Markdown came from, so version 3 reads as it was published
    whatever was recorded since, and user text stays data (autoescaped), never markup.
    """
    return dataclasses.asdict(pm)


def from_snapshot(data: Mapping[str, Any]) -> Postmortem:
    """The ``Postmortem`` a ``snapshot`` was taken of.

    Fields added to ``Postmortem`` since take their defaults and fields since removed are
    ignored; a snapshot that cannot be read raises ``TypeError`` or ``ValueError``.
    """

    def only(kind: type, values: Mapping[str, Any]) -> dict[str, Any]:
        names = {f.name for f in dataclasses.fields(kind)}
        return {k: v for k, v in values.items() if k in names}

    fields = only(Postmortem, data)
    fields["timeline"] = tuple(Entry(**only(Entry, e)) for e in data.get("timeline") or ())
    fields["tasks"] = tuple(TaskLine(**only(TaskLine, t)) for t in data.get("tasks") or ())
    fields["improvements"] = tuple(str(i) for i in data.get("improvements") or ())
    return Postmortem(**fields)
