"""Sitrep's first message about an incident in a channel other than its own: the thread root.

Status updates go in the thread of this message, so stakeholders follow one thread per
incident. The first root recorded for a channel stays (insert-or-nothing), so two updates
racing to start a thread agree on the one that was kept.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Announcement


def root(session: Session, incident_id: int, channel_id: str) -> str | None:
    """The ``ts`` of the incident's announcement in ``channel_id``, if one was recorded."""
    return session.scalar(select(Announcement.ts).where(
        Announcement.incident_id == incident_id, Announcement.channel_id == channel_id))


def record(session: Session, *, incident_id: int, channel_id: str, ts: str,
           now: dt.datetime) -> str:
    """Record ``ts`` as the incident's root in ``channel_id`` unless one is recorded already;
    returns the root that is kept."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(Announcement).values(
        incident_id=incident_id, channel_id=channel_id, ts=ts, created_at=now,
    ).on_conflict_do_nothing(index_elements=["incident_id", "channel_id"]))
    kept = root(session, incident_id, channel_id)
    assert kept is not None
    return kept
