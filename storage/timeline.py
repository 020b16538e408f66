"""Timeline entries: add (idempotently), list in order, remove."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import TimelineEntry


def add(session: Session, *, incident_id: int, kind: str, occurred_at: dt.datetime,
        now: dt.datetime, **fields: Any) -> TimelineEntry:
    """Append an entry (a note, an event, or a message without uniqueness concerns)."""
    entry = TimelineEntry(
        incident_id=incident_id, kind=kind, occurred_at=occurred_at, created_at=now, **fields
    )
    session.add(entry)
    session.flush()
    return entry


def add_event(session: Session, *, incident_id: int, event_type: str, actor: str | None,
              now: dt.datetime, text: str, occurred_at: dt.datetime | None = None,
              data: dict[str, Any] | None = None) -> TimelineEntry:
    """Record an incident event (status change, lead change, ...) with its actor and time."""
    return add(
        session, incident_id=incident_id, kind="event", event_type=event_type,
        occurred_at=occurred_at or now, now=now, actor_user_id=actor, text=text, data=data,
    )


def ordered(session: Session, incident_id: int) -> Sequence[TimelineEntry]:
    """Entries by time, then Slack ``ts``, then insertion order (equal times stay stable)."""
    return session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident_id)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.sort_ts, TimelineEntry.id)
    ).all()
