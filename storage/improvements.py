"""Improvements: broader corrective measures with no owner (read by the postmortem)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Improvement


def add(session: Session, *, incident_id: int, text: str, created_by: str,
        now: dt.datetime) -> Improvement:
    improvement = Improvement(incident_id=incident_id, text=text, created_by=created_by,
                              created_at=now)
    session.add(improvement)
    session.flush()
    return improvement


def for_incident(session: Session, incident_id: int) -> Sequence[Improvement]:
    return session.scalars(
        select(Improvement).where(Improvement.incident_id == incident_id)
        .order_by(Improvement.id)
    ).all()
