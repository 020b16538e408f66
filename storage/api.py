"""Read-only queries of the JSON API (``bot.web.api``): bounded, and a fixed number of them.

A page of incidents is one ``SELECT`` (``LIMIT`` one more than asked, to know whether
another page follows) plus one for the names of the people it mentions. One incident with
everything recorded about it is at most seven, whatever its size (one per table, never one
per entry or task), like ``storage.postmortem.load``.

Private incidents never leave here: the API answers tokens, not people, and only the members
of a private incident's channel may see it (``bot.incidents.access``), so the queries leave
them out in SQL (a page is never short because of them) and the caller still asks
``may_see`` of each row.

Pages are keyed on ``Incident.id`` (the primary key, so indexed), newest first: the cursor is
the last id seen, which stays right while incidents are being opened, unlike an offset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, false, func, or_, select
from sqlalchemy.orm import Session

from storage import users
from storage.models import (
    Improvement,
    Incident,
    PostmortemVersion,
    SlackUser,
    Task,
    TimelineEntry,
)

#: The largest id or number an ``Integer`` column holds (PostgreSQL's ``integer``): a larger
#: cursor or number is past every row, and binding it would fail ("integer out of range").
MAX_INTEGER = 2**31 - 1
#: The incident facts ``q`` searches, besides the title.
SEARCHED = (Incident.title, Incident.description, Incident.summary, Incident.impact,
            Incident.root_cause, Incident.resolution)


@dataclass(frozen=True)
class IncidentQuery:
    """Which incidents a page lists. ``statuses``/``severity``/``team_id`` ``None``: any."""

    statuses: tuple[str, ...] | None = None
    severity: str | None = None
    team_id: str | None = None
    started_after: dt.datetime | None = None
    started_before: dt.datetime | None = None
    #: Case-insensitive text contained in the title or one of the facts.
    text: str | None = None
    #: Only incidents older than this id (the cursor): ``None`` for the first page.
    before_id: int | None = None


def incident_page(session: Session, query: IncidentQuery, limit: int) -> Sequence[Incident]:
    """Up to ``limit + 1`` public incidents matching ``query``, newest first (by id)."""
    stmt = select(Incident).where(Incident.is_private == false())
    if query.statuses is not None:
        stmt = stmt.where(Incident.status.in_(query.statuses))
    if query.severity is not None:
        stmt = stmt.where(Incident.severity == query.severity)
    if query.team_id is not None:
        stmt = stmt.where(Incident.team_id == query.team_id)
    if query.started_after is not None:
        stmt = stmt.where(Incident.started_at >= query.started_after)
    if query.started_before is not None:
        stmt = stmt.where(Incident.started_at < query.started_before)
    if query.text:
        needle = query.text.lower()
        stmt = stmt.where(or_(*(func.lower(column).contains(needle, autoescape=True)
                                for column in SEARCHED)))
    if query.before_id is not None and query.before_id <= MAX_INTEGER:
        stmt = stmt.where(Incident.id < query.before_id)
    return session.scalars(stmt.order_by(Incident.id.desc()).limit(limit + 1)).all()


def public_by_number(session: Session, number: int, team_id: str | None) -> Sequence[Incident]:
    """The public incidents numbered ``number`` (in ``team_id``, or in any workspace: then
    at most two, enough to tell that the number is ambiguous)."""
    if number > MAX_INTEGER:
        return []
    stmt = select(Incident).where(Incident.number == number, Incident.is_private == false())
    if team_id is not None:
        stmt = stmt.where(Incident.team_id == team_id)
    return session.scalars(stmt.order_by(Incident.team_id).limit(2)).all()


@dataclass(frozen=True)
class IncidentRecord:
    """Everything the API tells of one incident, read in one transaction."""

    entries: Sequence[Row[Any]]
    tasks: Sequence[Row[Any]]
    improvements: Sequence[Row[Any]]
    #: Published postmortem versions, oldest first (without their Markdown) …
    versions: Sequence[Row[Any]]
    #: … and the latest one's Markdown (``None``: never published).
    latest_markdown: str | None


ENTRY_COLUMNS = (
    TimelineEntry.seq, TimelineEntry.kind, TimelineEntry.event_type,
    TimelineEntry.occurred_at, TimelineEntry.author_user_id, TimelineEntry.author_name,
    TimelineEntry.actor_user_id, TimelineEntry.text, TimelineEntry.permalink,
)
TASK_COLUMNS = (
    Task.number, Task.owner_user_id, Task.text, Task.due_date, Task.status,
    Task.drop_reason, Task.created_at, Task.completed_at,
)
VERSION_COLUMNS = (
    PostmortemVersion.version, PostmortemVersion.published_by, PostmortemVersion.published_at,
)


def incident_record(session: Session, incident_id: int) -> IncidentRecord:
    """The incident's timeline (in order), tasks, improvements and postmortem versions:
    five statements (``ix_entry_order`` serves the timeline's)."""
    entries = session.execute(
        select(*ENTRY_COLUMNS).where(TimelineEntry.incident_id == incident_id)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.sort_ts, TimelineEntry.id)
    ).all()
    tasks = session.execute(
        select(*TASK_COLUMNS).where(Task.incident_id == incident_id).order_by(Task.number)
    ).all()
    improvements = session.execute(
        select(Improvement.text, Improvement.created_by, Improvement.created_at)
        .where(Improvement.incident_id == incident_id)
        .order_by(Improvement.created_at, Improvement.id)
    ).all()
    versions = session.execute(
        select(*VERSION_COLUMNS).where(PostmortemVersion.incident_id == incident_id)
        .order_by(PostmortemVersion.version)
    ).all()
    latest = None
    if versions:
        latest = session.scalar(
            select(PostmortemVersion.markdown).where(
                PostmortemVersion.incident_id == incident_id,
                PostmortemVersion.version == versions[-1].version))
    return IncidentRecord(entries, tasks, improvements, versions, latest)


def names(session: Session, user_ids: Iterable[str | None]) -> dict[str, str]:
    """Cached display names of ``user_ids`` (one statement; unknown people are left out)."""
    people: Sequence[SlackUser] = users.get_many(session, (u for u in user_ids if u))
    return {p.user_id: p.display_name for p in people}
