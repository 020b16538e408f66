"""What the postmortem follow-up and the weekly digest read: when incidents were resolved,
whether their postmortem was published, and the open work across a workspace.

Each function is one statement whatever the number of incidents (no query per row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from storage.incidents import OPEN_STATUSES
from storage.models import DueWork, Incident, PostmortemVersion, SlackUser, Task, TimelineEntry


def resolved_at_of():  # type: ignore[no-untyped-def]
    """The time of an incident's latest ``resolved`` event (correlated to ``Incident``; the
    insights count postmortems on time from the same moment)."""
    return (select(func.max(TimelineEntry.occurred_at))
            .where(TimelineEntry.incident_id == Incident.id, TimelineEntry.kind == "event",
                   TimelineEntry.event_type == "resolved")
            .scalar_subquery())


def _published():  # type: ignore[no-untyped-def]
    return exists().where(PostmortemVersion.incident_id == Incident.id)


def resolution(session: Session, incident_id: int) -> tuple[Incident, dt.datetime | None,
                                                             bool] | None:
    """The incident, when it was last resolved (None if never), and whether any version of
    its postmortem is published; None if the incident is gone."""
    row = session.execute(select(Incident, resolved_at_of(), _published())
                          .where(Incident.id == incident_id)).first()
    if row is None:
        return None
    return row[0], row[1], bool(row[2])


def unpublished_without_row(session: Session, kind: str, since: dt.datetime,
                            limit: int = 100) -> Sequence[tuple[int, dt.datetime]]:
    """(incident id, resolved at) of resolved incidents resolved after ``since`` with no
    published postmortem and no ``kind`` row yet (resolved before the follow-up existed)."""
    resolved_at = resolved_at_of()
    has_row = exists().where(DueWork.kind == kind, DueWork.incident_id == Incident.id)
    stmt = (select(Incident.id, resolved_at)
            .where(Incident.status == "resolved", ~_published(), ~has_row,
                   resolved_at >= since)
            .order_by(Incident.id).limit(limit))
    return [(row[0], row[1]) for row in session.execute(stmt)]


def open_incidents(session: Session, team_id: str) -> Sequence[Incident]:
    """Every open incident of the workspace."""
    return session.scalars(select(Incident).where(
        Incident.team_id == team_id, Incident.status.in_(OPEN_STATUSES))).all()


def resolved_unpublished(session: Session, team_id: str
                         ) -> Sequence[tuple[Incident, dt.datetime | None]]:
    """Resolved incidents of the workspace with no published postmortem, and when each was
    last resolved."""
    rows = session.execute(select(Incident, resolved_at_of()).where(
        Incident.team_id == team_id, Incident.status == "resolved", ~_published()))
    return [(row[0], row[1]) for row in rows]


def overdue_candidates(session: Session, team_id: str, before: dt.date
                       ) -> Sequence[tuple[Task, Incident]]:
    """Open tasks of the workspace due before ``before`` (a day later than any owner's
    today: the rule decides in each owner's zone), with their incidents."""
    rows = session.execute(
        select(Task, Incident).join(Incident, Incident.id == Task.incident_id)
        .where(and_(Task.team_id == team_id, Task.status == "open",
                    Task.due_date.is_not(None), Task.due_date < before)))
    return [(row[0], row[1]) for row in rows]


def zones(session: Session, user_ids: Sequence[str]) -> dict[str, str | None]:
    """The cached time zone name of each user Sitrep has looked up (``slack_users``)."""
    if not user_ids:
        return {}
    rows = session.execute(select(SlackUser.user_id, SlackUser.tz)
                           .where(SlackUser.user_id.in_(set(user_ids))))
    return {row[0]: row[1] for row in rows}
