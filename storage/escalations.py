"""Overdue-task escalations: claimed by inserting, at most one per incident and UTC day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Escalation


def claim(session: Session, incident_id: int, day: dt.date, now: dt.datetime) -> bool:
    """Record today's escalation of ``incident_id``; False if a replica already did."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(Escalation)
        .values(incident_id=incident_id, day=day, created_at=now)
        .on_conflict_do_nothing(index_elements=[Escalation.incident_id, Escalation.day])
        .returning(Escalation.incident_id)
    )
    # RETURNING, not rowcount: an ORM-enabled INSERT reports rowcount -1 on psycopg 3.
    return session.execute(stmt).first() is not None


def unclaim(session: Session, incident_id: int, day: dt.date) -> None:
    """Forget a claim whose message could not be posted, so a later pass tries again."""
    session.execute(
        delete(Escalation).where(Escalation.incident_id == incident_id, Escalation.day == day)
    )
