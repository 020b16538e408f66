"""Due work rows other than task reminders: schedule, claim under a lease, record.

A row (``DueWork``) is one piece of recurring work, named by ``kind`` and ``key`` (an
incident's update nudge: ``nudge`` / ``incident:<id>``). ``due_at`` is when it is next looked
at. A claim locks due rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (replicas take
disjoint rows without waiting; SQLite's ``BEGIN IMMEDIATE`` already serialises claims) and
stamps a lease; recording a delivery clears it only if the lease is still the claimer's, so a
person's change made meanwhile (``schedule`` drops any lease) wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import DueWork


def get(session: Session, kind: str, key: str, *, for_update: bool = False) -> DueWork | None:
    """The ``kind``/``key`` row, if it was ever scheduled."""
    stmt = select(DueWork).where(DueWork.kind == kind, DueWork.key == key)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def schedule(session: Session, kind: str, key: str, due_at: dt.datetime | None, *,
             now: dt.datetime, incident_id: int | None = None,
             hold_until: dt.datetime | bool | None = False) -> DueWork:
    """Create or move the ``kind``/``key`` row to ``due_at`` (None: nothing due).

    Any lease is dropped and any back-off ended: a pass delivering the old schedule loses
    its record (``done`` returns False), so the change wins. ``hold_until`` replaces the
    snooze when given (None clears it; ``False``, the default, keeps it).
    """
    values = {"kind": kind, "key": key, "incident_id": incident_id, "due_at": due_at,
              "created_at": now, "failures": 0, "runs": 0}
    changes = {"due_at": due_at, "lease_owner": None, "lease_until": None, "failures": 0,
               "retry_at": None}
    if hold_until is not False:
        values["hold_until"] = changes["hold_until"] = hold_until
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(DueWork).values(**values).on_conflict_do_update(
        index_elements=["kind", "key"], set_=changes))
    row = get(session, kind, key)
    assert row is not None
    session.refresh(row)
    return row


def claim(session: Session, kind: str, now: dt.datetime, *, after_id: int = 0,
          limit: int = 20) -> list[DueWork]:
    """Lock rows of ``kind`` due at ``now`` and not leased (or whose lease expired).

    Check each in the same transaction (is it still due?), then ``lease`` those to deliver.
    """
    stmt = (select(DueWork)
            .where(DueWork.kind == kind, DueWork.id > after_id, DueWork.due_at <= now,
                   or_(DueWork.lease_until.is_(None), DueWork.lease_until <= now),
                   or_(DueWork.retry_at.is_(None), DueWork.retry_at <= now),
                   or_(DueWork.hold_until.is_(None), DueWork.hold_until <= now))
            .order_by(DueWork.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def lease(session: Session, rows: Sequence[DueWork], worker: str, until: dt.datetime) -> None:
    """Mark ``rows`` as being delivered by ``worker`` until ``until`` (then anyone may retry).

    The loaded rows keep the lease they were claimed with (a pass reads it to tell a row left
    by a pass that died).
    """
    if rows:
        session.execute(sql_update(DueWork.__table__)
                        .where(DueWork.__table__.c.id.in_([r.id for r in rows]))
                        .values(lease_owner=worker, lease_until=until))


def done(session: Session, row_id: int, worker: str, *, now: dt.datetime,
         next_at: dt.datetime | None, message: tuple[str, str] | None = None) -> bool:
    """Record a delivery and the next time; False if ``worker`` lost the lease meanwhile."""
    values: dict[str, object] = {
        "runs": DueWork.runs + 1, "last_run_at": now, "due_at": next_at, "lease_owner": None,
        "lease_until": None, "failures": 0, "retry_at": None}
    if message is not None:
        values["message_channel_id"], values["message_ts"] = message
    result = session.execute(sql_update(DueWork)
                             .where(DueWork.id == row_id, DueWork.lease_owner == worker)
                             .values(**values))
    return result.rowcount == 1


def move(session: Session, row_id: int, due_at: dt.datetime | None) -> None:
    """Set a claimed-but-not-due row's next look (found not due after all: no delivery)."""
    session.execute(sql_update(DueWork).where(DueWork.id == row_id).values(due_at=due_at))


def fail(session: Session, row_id: int, worker: str, *, retry_at: dt.datetime) -> bool:
    """Count a refused delivery and hold the row back until ``retry_at`` (still due)."""
    result = session.execute(
        sql_update(DueWork).where(DueWork.id == row_id, DueWork.lease_owner == worker)
        .values(failures=DueWork.failures + 1, retry_at=retry_at, lease_owner=None,
                lease_until=None))
    return result.rowcount == 1


def release(session: Session, row_id: int, worker: str) -> bool:
    """Give a claimed row back, still due (a transient failure)."""
    result = session.execute(
        sql_update(DueWork).where(DueWork.id == row_id, DueWork.lease_owner == worker)
        .values(lease_owner=None, lease_until=None))
    return result.rowcount == 1


def forget_message(session: Session, row_id: int) -> None:
    """The row's last message was withdrawn (a nudge answered by an update)."""
    session.execute(sql_update(DueWork).where(DueWork.id == row_id)
                    .values(message_channel_id=None, message_ts=None))


def ensure(session: Session, kind: str, key: str, due_at: dt.datetime | None, *,
           now: dt.datetime, incident_id: int | None = None) -> bool:
    """Create the ``kind``/``key`` row unless it exists (then nothing changes: unlike
    ``schedule``, a lease held by another replica's pass is kept). True if it was created."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = session.execute(insert(DueWork).values(
        kind=kind, key=key, incident_id=incident_id, due_at=due_at, created_at=now,
        failures=0, runs=0).on_conflict_do_nothing(index_elements=["kind", "key"]))
    return bool(result.rowcount)
