"""What the web view's pages read: bounded queries, a fixed number per page.

- ``incident_page``: incidents newest first (``started_at``, then id), filtered, one page
  at a time after a key (keyset pagination on ``ix_incident_started``): one statement
  however many incidents there are.
- ``incident_record``: one page of an incident's timeline (keyset on ``ix_entry_order``),
  its tasks, improvements, published versions and the names of everyone in them: six
  statements whatever the incident's size.
- ``postmortem_version``: one published version (the latest, or by number).
- ``open_tasks``: open corrective tasks with their incidents, bounded.

Privacy is not decided here: rows come with their ``Incident`` so that the caller asks
``bot.incidents.access`` about each one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, and_, case, func, or_, select, tuple_, type_coerce
from sqlalchemy.orm import Session, load_only

from storage import users
from storage.models import (
    Improvement,
    Incident,
    PostmortemVersion,
    SlackUser,
    Task,
    TimelineEntry,
    UTCDateTime,
)

#: The facts a text search looks in, besides the title.
SEARCHED = (Incident.title, Incident.description, Incident.summary, Incident.impact,
            Incident.root_cause, Incident.resolution, Incident.detection,
            Incident.escalation, Incident.misleading)
#: What the list shows of an incident (long facts stay in the database).
LISTED = (Incident.id, Incident.team_id, Incident.number, Incident.title, Incident.severity,
          Incident.status, Incident.lead_user_id, Incident.created_by, Incident.started_at,
          Incident.ended_at, Incident.channel_id, Incident.channel_name, Incident.is_private)
#: Timeline columns an incident page shows (plain rows, not ORM objects).
ENTRY_COLUMNS = (
    TimelineEntry.id, TimelineEntry.sort_ts, TimelineEntry.seq, TimelineEntry.kind,
    TimelineEntry.event_type,
    TimelineEntry.occurred_at, TimelineEntry.actor_user_id, TimelineEntry.author_user_id,
    TimelineEntry.author_name, TimelineEntry.text, TimelineEntry.permalink,
    TimelineEntry.thread_ts, TimelineEntry.edited_by, TimelineEntry.edited_at,
)
TASK_COLUMNS = (Task.number, Task.owner_user_id, Task.text, Task.due_date, Task.status,
                Task.drop_reason, Task.completed_at)


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents a list shows. ``team_id`` None: every workspace's (``WEB_AUTH=none``)."""

    team_id: str | None = None
    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    #: Impact started at or after ``started_from`` and before ``started_before`` (UTC).
    started_from: dt.datetime | None = None
    started_before: dt.datetime | None = None
    #: Words that must all appear (case-insensitively) in the title or a fact.
    words: tuple[str, ...] = ()


#: A list's position: (``started_at``, id) of the last incident shown.
Key = tuple[dt.datetime, int]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def incident_page(session: Session, where: IncidentFilter, *, after: Key | None,
                  limit: int) -> Sequence[Incident]:
    """Up to ``limit`` incidents matching ``where``, newest first, after ``after``.

    One statement. Only the listed columns are loaded (``LISTED``): the others must not be
    read from the rows returned.
    """
    stmt = select(Incident).options(load_only(*LISTED))
    if where.team_id is not None:
        stmt = stmt.where(Incident.team_id == where.team_id)
    if where.statuses:
        stmt = stmt.where(Incident.status.in_(where.statuses))
    if where.severities:
        stmt = stmt.where(Incident.severity.in_(where.severities))
    if where.started_from is not None:
        stmt = stmt.where(Incident.started_at >= where.started_from)
    if where.started_before is not None:
        stmt = stmt.where(Incident.started_at < where.started_before)
    for word in where.words:
        pattern = _like(word)
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\") for column in SEARCHED)))
    if after is not None:
        stmt = stmt.where(tuple_(Incident.started_at, Incident.id) < tuple_(*after))
    stmt = stmt.order_by(Incident.started_at.desc(), Incident.id.desc()).limit(limit)
    return session.scalars(stmt).all()


def find(session: Session, team_id: str | None, number: int) -> Incident | None:
    """Incident ``number`` of workspace ``team_id`` (``None``: the first workspace's that
    has one, for ``WEB_AUTH=none``)."""
    stmt = select(Incident).where(Incident.number == number)
    if team_id is not None:
        stmt = stmt.where(Incident.team_id == team_id)
    return session.scalars(stmt.order_by(Incident.team_id).limit(1)).first()


@dataclass(frozen=True)
class IncidentRecord:
    """What an incident's page shows besides the incident row itself."""

    #: One page of the timeline, in time order (at most the limit asked, plus one to tell
    #: whether more follow).
    entries: Sequence[Row[Any]]
    #: How many entries the whole timeline has, and its latest ``resolved`` event.
    entry_count: int
    last_resolved: dt.datetime | None
    tasks: Sequence[Row[Any]]
    improvements: Sequence[Row[Any]]
    #: Published versions, oldest first: (version, published_by, published_at).
    versions: Sequence[Row[Any]]
    people: dict[str, SlackUser] = field(default_factory=dict)


#: A timeline's position: (``occurred_at``, ``sort_ts``, id) of the last entry shown.
EntryKey = tuple[dt.datetime, str, int]


def incident_record(session: Session, incident: Incident, *, after: EntryKey | None = None,
                    limit: int = 500,
                    mentioned: Callable[[str], Iterable[str]] = lambda _: ()) -> IncidentRecord:
    """What ``incident``'s page shows, in six statements whatever its size: ``limit`` + 1
    timeline entries after ``after`` (keyset on ``ix_entry_order``), the timeline's size and
    latest resolution, tasks, improvements, versions, and the names of everyone in them.

    ``mentioned(text)`` names the user ids a text mentions, so their names come in the one
    ``slack_users`` query with the authors', owners' and role holders'.
    """
    iid = incident.id
    order = (TimelineEntry.occurred_at, TimelineEntry.sort_ts, TimelineEntry.id)
    stmt = select(*ENTRY_COLUMNS).where(TimelineEntry.incident_id == iid)
    if after is not None:
        stmt = stmt.where(tuple_(*order) > tuple_(*after))
    entries = session.execute(stmt.order_by(*order).limit(limit + 1)).all()
    resolved = case((and_(TimelineEntry.kind == "event", TimelineEntry.event_type == "resolved"),
                     TimelineEntry.occurred_at))
    count, last_resolved = session.execute(
        select(func.count(), type_coerce(func.max(resolved), UTCDateTime()))
        .where(TimelineEntry.incident_id == iid)).one()
    tasks = session.execute(
        select(*TASK_COLUMNS).where(Task.incident_id == iid).order_by(Task.number)).all()
    improvements = session.execute(
        select(Improvement.text).where(Improvement.incident_id == iid)
        .order_by(Improvement.created_at, Improvement.id)).all()
    versions = session.execute(
        select(PostmortemVersion.version, PostmortemVersion.published_by,
               PostmortemVersion.published_at)
        .where(PostmortemVersion.incident_id == iid).order_by(PostmortemVersion.version)).all()

    ids = {incident.lead_user_id or "", incident.created_by or ""}
    ids.update(str(u) for u in (incident.roles or {}).values() if u)
    ids.update(e.actor_user_id or "" for e in entries)
    ids.update(e.author_user_id or "" for e in entries)
    ids.update(e.edited_by or "" for e in entries)
    ids.update(t.owner_user_id for t in tasks)
    ids.update(v.published_by for v in versions)
    texts = [incident.title, incident.summary or "", incident.impact or "",
             incident.root_cause or "", incident.resolution or "", incident.detection or "",
             incident.escalation or "", incident.misleading or "",
             *(e.text for e in entries), *(t.text for t in tasks),
             *(i.text for i in improvements)]
    ids.update(mentioned("\n".join(texts)))  # one pass over all the text
    ids.discard("")
    people = {u.user_id: u for u in users.get_many(session, ids)}
    return IncidentRecord(entries, int(count or 0), last_resolved, tasks, improvements,
                          versions, people)


def postmortem_version(session: Session, incident_id: int,
                       version: int | None) -> PostmortemVersion | None:
    """Published version ``version`` of the incident's postmortem (``None``: the latest)."""
    stmt = select(PostmortemVersion).where(PostmortemVersion.incident_id == incident_id)
    if version is not None:
        stmt = stmt.where(PostmortemVersion.version == version)
    return session.scalars(stmt.order_by(PostmortemVersion.version.desc()).limit(1)).first()


@dataclass(frozen=True)
class OpenTasks:
    """Open tasks (each with its incident), at most the limit asked, and their owners'
    names. (No total: a count would tell of private incidents' tasks.)"""

    rows: Sequence[Row[Any]]
    people: dict[str, SlackUser] = field(default_factory=dict)


def open_tasks(session: Session, team_id: str | None, *, owner: str | None = None,
               due_before: dt.date | None = None, limit: int) -> OpenTasks:
    """Open tasks of ``team_id`` (``None``: every workspace), by owner then due date.

    ``owner`` keeps one person's, ``due_before`` only those due before that day (overdue).
    Two statements: the tasks, the owners' names.
    """
    conditions = [Task.status == "open"]
    if team_id is not None:
        conditions.append(Task.team_id == team_id)
    if owner is not None:
        conditions.append(Task.owner_user_id == owner)
    if due_before is not None:
        conditions.append(Task.due_date < due_before)
    listed = load_only(Incident.team_id, Incident.number, Incident.title, Incident.severity,
                       Incident.status, Incident.channel_id, Incident.is_private,
                       Incident.created_by)
    rows = session.execute(
        select(*TASK_COLUMNS, Task.team_id, Incident).options(listed)
        .join(Incident, Incident.id == Task.incident_id).where(and_(*conditions))
        .order_by(Task.owner_user_id, Task.due_date.is_(None), Task.due_date, Task.number)
        .limit(limit)).all()
    people = {u.user_id: u for u in users.get_many(session, {r.owner_user_id for r in rows})}
    return OpenTasks(rows, people)
