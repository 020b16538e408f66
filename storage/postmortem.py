"""What a postmortem is compiled from, read with a fixed number of queries; its versions.

A postmortem reads a whole incident: its row, every timeline entry, every task and
improvement, and the names of everyone involved. ``load`` does that in five ``SELECT``
statements whatever the incident's size (one per table, never one per entry or task), so
compiling an incident of ten thousand entries costs the same round trips as one of ten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, func, select
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

#: Timeline columns a postmortem shows (plain rows: no ORM identity map for 10,000 entries).
ENTRY_COLUMNS = (
    TimelineEntry.kind, TimelineEntry.event_type, TimelineEntry.occurred_at,
    TimelineEntry.actor_user_id, TimelineEntry.author_user_id, TimelineEntry.author_name,
    TimelineEntry.text, TimelineEntry.permalink,
)
TASK_COLUMNS = (
    Task.number, Task.owner_user_id, Task.text, Task.due_date, Task.status, Task.drop_reason,
)


@dataclass(frozen=True)
class Record:
    """Everything recorded about one incident, as read in one transaction."""

    incident: Incident
    last_version: int | None
    entries: Sequence[Row[Any]]
    tasks: Sequence[Row[Any]]
    improvements: Sequence[Row[Any]]
    #: Everyone the postmortem names (lead, who declared it, authors, owners, mentions) …
    user_ids: frozenset[str] = frozenset()
    #: … and the cached profiles of those Sitrep knows.
    people: dict[str, SlackUser] = field(default_factory=dict)


def load(session: Session, incident_id: int,
         mentioned: Callable[[str], Iterable[str]] = lambda _: ()) -> Record | None:
    """Read the incident and all it needs in five statements (``None`` if it is gone).

    ``mentioned(text)`` names the user ids a text mentions, so that their names come in the
    same single ``slack_users`` query as the authors' and owners'.
    """
    last_version = (
        select(func.max(PostmortemVersion.version))
        .where(PostmortemVersion.incident_id == Incident.id)
        .scalar_subquery()
    )
    found = session.execute(
        select(Incident, last_version).where(Incident.id == incident_id)
    ).first()
    if found is None:
        return None
    incident, version = found
    entries = session.execute(
        select(*ENTRY_COLUMNS)
        .where(TimelineEntry.incident_id == incident_id)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.sort_ts, TimelineEntry.id)
    ).all()
    tasks = session.execute(
        select(*TASK_COLUMNS).where(Task.incident_id == incident_id).order_by(Task.number)
    ).all()
    improvements = session.execute(
        select(Improvement.text)
        .where(Improvement.incident_id == incident_id)
        .order_by(Improvement.created_at, Improvement.id)
    ).all()

    ids: set[str] = {incident.lead_user_id or "", incident.created_by or ""}
    ids.update(e.actor_user_id or "" for e in entries)
    ids.update(e.author_user_id or "" for e in entries)
    ids.update(t.owner_user_id for t in tasks)
    texts = [*_facts(incident), *(e.text for e in entries), *(t.text for t in tasks),
             *(i.text for i in improvements)]
    ids.update(mentioned("\n".join(texts)))  # one pass over all the text, not one per row
    ids.discard("")
    people = {u.user_id: u for u in users.get_many(session, ids)}
    return Record(incident, version, entries, tasks, improvements, frozenset(ids), people)


def _facts(incident: Incident) -> list[str]:
    return [t for t in (incident.title, incident.summary, incident.impact, incident.root_cause,
                        incident.resolution, incident.detection, incident.escalation,
                        incident.misleading) if t]


def next_version(session: Session, incident_id: int) -> int:
    """The number the next published version gets (1, 2, …).

    Call it with the incident row locked (``for_update``), so that two people publishing at
    once get consecutive numbers instead of a unique-key error.
    """
    last = session.scalar(
        select(func.max(PostmortemVersion.version))
        .where(PostmortemVersion.incident_id == incident_id)
    )
    return (last or 0) + 1


def add_version(session: Session, *, incident_id: int, version: int, markdown: str,
                published_by: str, now: dt.datetime,
                snapshot: dict[str, Any] | None = None) -> PostmortemVersion:
    """Store a published version (``uq_postmortem_version`` keeps numbers unique), with
    the data it was rendered from (``snapshot``) for the web view."""
    row = PostmortemVersion(incident_id=incident_id, version=version, markdown=markdown,
                            published_by=published_by, published_at=now, snapshot=snapshot)
    session.add(row)
    session.flush()
    return row


def versions(session: Session, incident_id: int) -> Sequence[PostmortemVersion]:
    """Published versions of an incident's postmortem, oldest first."""
    return session.scalars(
        select(PostmortemVersion)
        .where(PostmortemVersion.incident_id == incident_id)
        .order_by(PostmortemVersion.version)
    ).all()


def team_ids(session: Session, limit: int = 2) -> Sequence[str]:
    """Workspaces that have incidents (at most ``limit``: the CLI only needs to know if one)."""
    return session.scalars(
        select(Incident.team_id).distinct().order_by(Incident.team_id).limit(limit)
    ).all()
