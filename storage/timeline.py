"""Timeline entries: add (idempotently), list in order, find by number, remove; who pinned
which message.

Every entry gets the next number of its incident (``seq``) as it is added; numbers are
never reused or shifted, so the ``3`` someone read in ``/incident timeline`` stays entry 3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Incident, ReactionMark, TimelineEntry, TimelineReaction


def next_seq(session: Session, incident_id: int, step: int = 1) -> int:
    """Take the incident's next entry number (atomic: the incident row is locked until commit).

    Two replicas adding entries to one incident at once queue on that row, so they can
    never take the same number. ``step=-1`` gives back the number just taken (the lock is
    still held, so nobody took one since).
    """
    table = Incident.__table__
    return int(session.execute(
        update(table).where(table.c.id == incident_id)
        .values(last_entry_seq=table.c.last_entry_seq + step)
        .returning(table.c.last_entry_seq)
    ).scalar_one())


def add(session: Session, *, incident_id: int, kind: str, occurred_at: dt.datetime,
        now: dt.datetime, **fields: Any) -> TimelineEntry:
    """Append an entry (a note, an event, or a message without uniqueness concerns)."""
    entry = TimelineEntry(
        incident_id=incident_id, seq=next_seq(session, incident_id), kind=kind,
        occurred_at=occurred_at, created_at=now, **fields
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


def by_seq(session: Session, incident_id: int, seq: int, *,
           for_update: bool = False) -> TimelineEntry | None:
    """Entry number ``seq`` of the incident, if it (still) exists."""
    stmt = select(TimelineEntry).where(TimelineEntry.incident_id == incident_id,
                                       TimelineEntry.seq == seq)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def latest_of(session: Session, incident_id: int, kinds: tuple[str, ...], *,
              since: dt.datetime, before: dt.datetime) -> dt.datetime | None:
    """The latest time of an entry of ``kinds`` in ``[since, before)`` (``None``: none)."""
    return session.scalar(
        select(func.max(TimelineEntry.occurred_at)).where(
            TimelineEntry.incident_id == incident_id, TimelineEntry.kind.in_(kinds),
            TimelineEntry.occurred_at >= since, TimelineEntry.occurred_at < before))


def latest_event(session: Session, incident_id: int,
                 event_type: str) -> TimelineEntry | None:
    """The incident's most recently recorded event of ``event_type`` (``None``: none yet)."""
    return session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "event",
               TimelineEntry.event_type == event_type)
        .order_by(TimelineEntry.id.desc()).limit(1)).first()


# -- pinned messages and who pinned them ------------------------------------------------------

def _insert(session: Session, model: type[Any]):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def add_message(session: Session, *, incident_id: int, channel_id: str, ts: str,
                occurred_at: dt.datetime, now: dt.datetime, **fields: Any,
                ) -> tuple[TimelineEntry, bool]:
    """The entry for message ``ts``, inserted unless one exists: ``(entry, created)``.

    ``uq_entry_message`` decides, so two replicas or a redelivered event cannot double it.
    A message already there gives its number back, so numbers have no gaps.
    """
    stmt = (
        _insert(session, TimelineEntry)
        .values(incident_id=incident_id, seq=next_seq(session, incident_id), kind="message",
                message_channel_id=channel_id, message_ts=ts, sort_ts=ts,
                occurred_at=occurred_at, created_at=now, **fields)
        .on_conflict_do_nothing(index_elements=[
            TimelineEntry.incident_id, TimelineEntry.message_channel_id, TimelineEntry.message_ts])
        .returning(TimelineEntry.id)
    )
    new_id = session.execute(stmt).scalar()
    if new_id is None:
        next_seq(session, incident_id, -1)
    entry = message_entry(session, incident_id, channel_id, ts)
    assert entry is not None, "entry vanished inside its own transaction"
    return entry, new_id is not None


def message_entry(session: Session, incident_id: int, channel_id: str,
                  ts: str) -> TimelineEntry | None:
    return session.scalars(select(TimelineEntry).where(
        TimelineEntry.incident_id == incident_id, TimelineEntry.message_channel_id == channel_id,
        TimelineEntry.message_ts == ts)).first()


def entries_for_message(session: Session, channel_id: str, ts: str) -> Sequence[TimelineEntry]:
    """Entries of message ``ts`` in every incident (a shortcut can file it under several)."""
    return session.scalars(select(TimelineEntry).where(
        TimelineEntry.message_channel_id == channel_id, TimelineEntry.message_ts == ts)).all()


def delete_entry(session: Session, entry: TimelineEntry) -> None:
    """Remove ``entry``, and for a message the reactions that kept it alive."""
    if entry.kind == "message" and entry.message_channel_id and entry.message_ts:
        session.execute(delete(TimelineReaction).where(
            TimelineReaction.incident_id == entry.incident_id,
            TimelineReaction.channel_id == entry.message_channel_id,
            TimelineReaction.message_ts == entry.message_ts))
    session.delete(entry)
    session.flush()


def add_reaction(session: Session, *, incident_id: int, channel_id: str, ts: str, user_id: str,
                 now: dt.datetime) -> bool:
    """Record that ``user_id`` has the timeline emoji on ``ts``; False if already recorded."""
    stmt = (
        _insert(session, TimelineReaction)
        .values(incident_id=incident_id, channel_id=channel_id, message_ts=ts, user_id=user_id,
                created_at=now)
        .on_conflict_do_nothing(index_elements=[
            TimelineReaction.incident_id, TimelineReaction.channel_id,
            TimelineReaction.message_ts, TimelineReaction.user_id])
        .returning(TimelineReaction.user_id)  # rowcount is -1 on PostgreSQL for this insert
    )
    return session.execute(stmt).scalar() is not None


def remove_reaction(session: Session, *, incident_id: int, channel_id: str, ts: str,
                    user_id: str) -> bool:
    result = session.execute(delete(TimelineReaction).where(
        TimelineReaction.incident_id == incident_id, TimelineReaction.channel_id == channel_id,
        TimelineReaction.message_ts == ts, TimelineReaction.user_id == user_id))
    return bool(result.rowcount)


def reactors(session: Session, incident_id: int, channel_id: str, ts: str) -> list[str]:
    """Who still has the timeline emoji on ``ts``, earliest first."""
    return list(session.scalars(
        select(TimelineReaction.user_id)
        .where(TimelineReaction.incident_id == incident_id,
               TimelineReaction.channel_id == channel_id, TimelineReaction.message_ts == ts)
        .order_by(TimelineReaction.created_at, TimelineReaction.user_id)))


def reactors_by_message(session: Session, incident_id: int) -> dict[tuple[str, str], list[str]]:
    """``(channel, ts) → users`` for every pinned message of an incident (one query)."""
    found: dict[tuple[str, str], list[str]] = {}
    rows = session.execute(
        select(TimelineReaction.channel_id, TimelineReaction.message_ts, TimelineReaction.user_id)
        .where(TimelineReaction.incident_id == incident_id)
        .order_by(TimelineReaction.created_at, TimelineReaction.user_id))
    for channel_id, ts, user_id in rows:
        found.setdefault((channel_id, ts), []).append(user_id)
    return found


def _ts_number(ts: str) -> Decimal:
    try:
        return Decimal(ts)
    except InvalidOperation:
        return Decimal(0)


def mark_reaction(session: Session, *, channel_id: str, ts: str, user_id: str, event_ts: str,
                  removed: bool, now: dt.datetime) -> bool:
    """Record a pin (``removed=False``) or unpin of ``user_id`` on ``ts`` at Slack's
    ``event_ts``; False, recording nothing, if a later event of theirs was already applied.

    The mark row is locked until commit, so two replicas applying one person's pin and
    unpin at once take turns, and the later event in Slack's time wins whatever the order
    of arrival.
    """
    session.execute(
        _insert(session, ReactionMark)
        .values(channel_id=channel_id, message_ts=ts, user_id=user_id, event_ts="0",
                removed=removed, updated_at=now)
        .on_conflict_do_nothing(index_elements=[
            ReactionMark.channel_id, ReactionMark.message_ts, ReactionMark.user_id]))
    mark = session.scalars(select(ReactionMark).where(
        ReactionMark.channel_id == channel_id, ReactionMark.message_ts == ts,
        ReactionMark.user_id == user_id).with_for_update()).one()
    if _ts_number(mark.event_ts) >= _ts_number(event_ts):
        return False
    mark.event_ts, mark.removed, mark.updated_at = event_ts, removed, now
    session.flush()
    return True


def purge_reaction_marks(session: Session, cutoff: dt.datetime, limit: int) -> int:
    """Forget at most ``limit`` reaction marks last changed before ``cutoff``; how many.

    A mark only has to outlive the late copies of the events it orders: Slack's redeliveries
    (minutes) and an inbox's backlog. Processed event ids are forgotten after a week, after
    which no redelivery is recognised anyway, so marks go with them.
    """
    keys = session.execute(
        select(ReactionMark.channel_id, ReactionMark.message_ts, ReactionMark.user_id)
        .where(ReactionMark.updated_at < cutoff).limit(limit)).all()
    if not keys:
        return 0
    session.execute(delete(ReactionMark).where(
        tuple_(ReactionMark.channel_id, ReactionMark.message_ts, ReactionMark.user_id)
        .in_([tuple(k) for k in keys])))
    return len(keys)
