"""Incident rows: create, find, list, change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import counters
from storage.models import Incident

OPEN_STATUSES = ("investigating", "identified", "monitoring")


def create(session: Session, *, team_id: str, now: dt.datetime, **fields: Any) -> Incident:
    """Insert a new incident numbered after the workspace's last one."""
    incident = Incident(
        team_id=team_id,
        number=counters.next_value(session, team_id, "incident"),
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(incident)
    session.flush()
    return incident


def get(session: Session, incident_id: int, *, for_update: bool = False) -> Incident | None:
    stmt = select(Incident).where(Incident.id == incident_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def by_channel(session: Session, channel_id: str, *, team_id: str | None,
               for_update: bool = False) -> Incident | None:
    """The incident of workspace ``team_id`` whose dedicated channel is ``channel_id``.

    ``team_id`` is required so that every caller decides: a request resolves objects only
    in its own workspace; ``None`` (any workspace) is for the bot's own bookkeeping.
    """
    stmt = select(Incident).where(Incident.channel_id == channel_id)
    if team_id is not None:
        stmt = stmt.where(Incident.team_id == team_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def unfinished_start(session: Session, *, team_id: str, user_id: str, title: str,
                     since: dt.datetime) -> Incident | None:
    """The latest incident ``user_id`` opened with ``title`` since ``since`` whose setup
    (channel or card) never finished, if any: a retry of that start resumes it."""
    return session.scalars(
        select(Incident).where(
            Incident.team_id == team_id, Incident.created_by == user_id,
            Incident.title == title, Incident.created_at >= since,
            Incident.status != "resolved",
            (Incident.channel_id.is_(None)) | (Incident.card_ts.is_(None)))
        .order_by(Incident.created_at.desc(), Incident.id.desc())
        .with_for_update()).first()


def by_number(session: Session, team_id: str, number: int) -> Incident | None:
    return session.scalars(
        select(Incident).where(Incident.team_id == team_id, Incident.number == number)
    ).first()


def list_open(session: Session, team_id: str) -> Sequence[Incident]:
    """Open incidents of a workspace, newest first."""
    return session.scalars(
        select(Incident)
        .where(Incident.team_id == team_id, Incident.status.in_(OPEN_STATUSES))
        .order_by(Incident.number.desc())
    ).all()


def update(session: Session, incident: Incident, *, now: dt.datetime, **fields: Any) -> Incident:
    """Set ``fields`` on ``incident`` and stamp ``updated_at``."""
    for name, value in fields.items():
        setattr(incident, name, value)
    incident.updated_at = now
    session.flush()
    return incident
