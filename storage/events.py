"""Processed Slack event ids: the database decides whether an event is new."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import ProcessedEvent


def claim(session: Session, event_id: str, now: dt.datetime) -> bool:
    """Record ``event_id``; False if it was already recorded (a retry or another replica).

    The claim commits with the caller's transaction, so an event whose handling fails is
    not marked processed and Slack's redelivery gets a fresh try.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(ProcessedEvent)
        .values(event_id=event_id, received_at=now)
        .on_conflict_do_nothing(index_elements=[ProcessedEvent.event_id])
        .returning(ProcessedEvent.event_id)  # rowcount is -1 here on PostgreSQL (psycopg 3)
    )
    return session.execute(stmt).scalar() is not None


def purge_before(session: Session, cutoff: dt.datetime, limit: int | None = None) -> int:
    """Forget event ids received before ``cutoff``: at most ``limit`` of them (one small
    batch, so the transaction and its locks stay short), or all with ``None``."""
    if limit is None:
        result = session.execute(delete(ProcessedEvent).where(
            ProcessedEvent.received_at < cutoff))
        return result.rowcount or 0
    ids = list(session.scalars(select(ProcessedEvent.event_id)
                               .where(ProcessedEvent.received_at < cutoff).limit(limit)))
    if not ids:
        return 0
    session.execute(delete(ProcessedEvent).where(ProcessedEvent.event_id.in_(ids)))
    return len(ids)
