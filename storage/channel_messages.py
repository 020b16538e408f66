"""Messages seen in incident channels: what a 📌 needs, so a pin costs no Web API read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import ChannelMessage, Incident, TimelineEntry


def _insert(session: Session):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ChannelMessage)


def remember(session: Session, *, channel_id: str, ts: str, now: dt.datetime,
             overwrite: bool, thread_ts: str | None, user_id: str | None,
             bot_name: str | None, text: str, files: dict[str, Any] | None) -> None:
    """Store a message; ``overwrite`` replaces a stored copy (an edit), else keeps it.

    A redelivered original must not undo a later edit, hence "keep" for new messages.
    """
    values = {"thread_ts": thread_ts, "user_id": user_id, "bot_name": bot_name, "text": text,
              "files": files}
    stmt = _insert(session).values(channel_id=channel_id, ts=ts, created_at=now, **values)
    keys = [ChannelMessage.channel_id, ChannelMessage.ts]
    if overwrite:
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=values)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    session.execute(stmt)


def get(session: Session, channel_id: str, ts: str, *,
        for_update: bool = False) -> ChannelMessage | None:
    """The stored message; ``for_update`` serialises pins, unpins and deletes of one message."""
    stmt = select(ChannelMessage).where(ChannelMessage.channel_id == channel_id,
                                        ChannelMessage.ts == ts)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def forget(session: Session, channel_id: str, ts: str) -> bool:
    result = session.execute(delete(ChannelMessage).where(
        ChannelMessage.channel_id == channel_id, ChannelMessage.ts == ts))
    return bool(result.rowcount)


def purge_batch(session: Session, cutoff: dt.datetime, limit: int) -> int:
    """Forget at most ``limit`` kept messages that no pin can need any more; how many.

    That is every message of an incident resolved before ``cutoff`` (what was pinned is on
    its timeline already; a reopened incident is not resolved, so it keeps its messages),
    and messages of channels that are no incident's (kept for the shortcut or read for a
    pin elsewhere) stored before ``cutoff``. The resolution time is the recorded time of
    the incident's last ``resolved`` event.
    """
    resolved_at = (select(func.max(TimelineEntry.created_at))
                   .where(TimelineEntry.incident_id == Incident.id,
                          TimelineEntry.event_type == "resolved")
                   .correlate(Incident).scalar_subquery())
    stale_channels = select(Incident.channel_id).where(
        Incident.status == "resolved", Incident.channel_id.is_not(None),
        resolved_at < cutoff)
    incident_channels = select(Incident.channel_id).where(Incident.channel_id.is_not(None))
    keys = session.execute(
        select(ChannelMessage.channel_id, ChannelMessage.ts).where(or_(
            ChannelMessage.channel_id.in_(stale_channels),
            and_(ChannelMessage.created_at < cutoff,
                 ChannelMessage.channel_id.not_in(incident_channels))))
        .limit(limit)).all()
    if not keys:
        return 0
    session.execute(delete(ChannelMessage).where(
        tuple_(ChannelMessage.channel_id, ChannelMessage.ts).in_([tuple(k) for k in keys])))
    return len(keys)
