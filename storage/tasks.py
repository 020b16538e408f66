"""Corrective task rows: create, find, list, change, and claim reminders under a lease.

Reminder state lives in the row (``next_reminder_at``, ``lease_until``/``lease_owner``,
``reminder_count``, ``last_reminded_at``, ``reminders_stopped``, and ``send_failures`` /
``retry_at`` after refusals not understood), so any replica can send a
reminder and a restart forgets nothing. A claim locks due rows with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL (replicas take disjoint rows without waiting) and stamps a lease; on
SQLite the ``BEGIN IMMEDIATE`` transactions already serialise claims.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from storage import counters
from storage.models import Incident, Task

OPEN = "open"
DONE = "done"
DROPPED = "dropped"

TaskRow = tuple[Task, Incident]


def create(session: Session, *, team_id: str, incident_id: int, owner_user_id: str, text: str,
           due_date: dt.date | None, created_by: str, now: dt.datetime,
           next_reminder_at: dt.datetime | None) -> Task:
    """Insert a task numbered after the workspace's last one (``T-<n>``)."""
    task = Task(
        team_id=team_id, number=counters.next_value(session, team_id, "task"),
        incident_id=incident_id, owner_user_id=owner_user_id, text=text, due_date=due_date,
        status=OPEN, created_by=created_by, created_at=now, next_reminder_at=next_reminder_at,
        reminder_count=0,
    )
    session.add(task)
    session.flush()
    return task


def _with_incident() -> Select[tuple[Task, Incident]]:
    return select(Task, Incident).join(Incident, Incident.id == Task.incident_id)


def _one(session: Session, stmt: Select[tuple[Task, Incident]], for_update: bool) -> TaskRow | None:
    if for_update:
        stmt = stmt.with_for_update(of=Task)
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row else None


def by_number(session: Session, team_id: str, number: int, *,
              for_update: bool = False) -> TaskRow | None:
    """``T-<number>`` of workspace ``team_id`` with its incident."""
    return _one(session, _with_incident().where(Task.team_id == team_id,
                                                Task.number == number), for_update)


def get(session: Session, task_id: int, *, team_id: str | None,
        for_update: bool = False) -> TaskRow | None:
    """Task ``task_id`` of workspace ``team_id`` (``None``: the bot's own bookkeeping, any
    workspace). A button carries a task id: it must not reach another workspace's task."""
    stmt = _with_incident().where(Task.id == task_id)
    if team_id is not None:
        stmt = stmt.where(Task.team_id == team_id)
    return _one(session, stmt, for_update)


def for_incident(session: Session, incident_id: int) -> Sequence[Task]:
    """Every task of an incident, oldest first."""
    return session.scalars(
        select(Task).where(Task.incident_id == incident_id).order_by(Task.number)
    ).all()


def open_for_owner(session: Session, team_id: str, owner_user_id: str) -> list[TaskRow]:
    """Open tasks owned by someone across incidents: dated ones by due date, then undated."""
    rows = session.execute(
        _with_incident()
        .where(Task.team_id == team_id, Task.owner_user_id == owner_user_id,
               Task.status == OPEN)
        .order_by(Task.due_date.is_(None), Task.due_date, Task.number)
    ).all()
    return [(t, i) for t, i in rows]


def open_in_incident(session: Session, incident_id: int) -> Sequence[Task]:
    return session.scalars(
        select(Task).where(Task.incident_id == incident_id, Task.status == OPEN)
        .order_by(Task.number)
    ).all()


def open_owners(session: Session) -> list[str]:
    """Owners of open tasks that still get reminders (to look their time zones up)."""
    return list(session.scalars(
        select(Task.owner_user_id).where(Task.status == OPEN, Task.reminders_stopped.is_(None))
        .distinct()
    ))


def known_dm_channel(session: Session, owner_user_id: str) -> str | None:
    """A DM channel already opened with ``owner_user_id`` for any task (saves a Web API call)."""
    return session.scalars(
        select(Task.dm_channel_id).where(Task.owner_user_id == owner_user_id,
                                         Task.dm_channel_id.is_not(None)).limit(1)
    ).first()


def change(session: Session, task: Task, **fields: Any) -> Task:
    """Set ``fields``; any lease is dropped so a reminder being sent cannot overwrite them.

    A person's change also ends any back-off: the next reminder is tried when it is due.
    """
    for name, value in fields.items():
        setattr(task, name, value)
    task.lease_owner = None
    task.lease_until = None
    task.send_failures = 0
    task.retry_at = None
    session.flush()
    return task


# -- reminders ----------------------------------------------------------------------------

Rows = Select[tuple[Task, Incident]]


def _lockable(session: Session, stmt: Rows) -> Rows:
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(of=Task, skip_locked=True)
    return stmt


def _claimable(now: dt.datetime, after_id: int) -> Select[tuple[Task, Incident]]:
    return (
        _with_incident()
        .where(Task.status == OPEN, Task.reminders_stopped.is_(None), Task.id > after_id,
               or_(Task.lease_until.is_(None), Task.lease_until <= now),
               or_(Task.retry_at.is_(None), Task.retry_at <= now))
        .order_by(Task.id)
    )


def due_for_reminder(session: Session, now: dt.datetime, *, after_id: int = 0,
                     limit: int = 50) -> list[TaskRow]:
    """Lock (PostgreSQL: skipping rows another replica holds) open tasks whose reminder is due.

    Call ``lease`` on the ones to send in the same transaction.
    """
    stmt = _claimable(now, after_id).where(Task.next_reminder_at <= now).limit(limit)
    return [(t, i) for t, i in session.execute(_lockable(session, stmt)).all()]


def reminder_candidates(session: Session, now: dt.datetime, *, after_id: int = 0,
                        limit: int = 200) -> list[TaskRow]:
    """Lock open, unleased tasks whatever their next reminder (for a forced pass)."""
    stmt = _claimable(now, after_id).limit(limit)
    return [(t, i) for t, i in session.execute(_lockable(session, stmt)).all()]


def lease(session: Session, tasks: Sequence[Task], worker: str, until: dt.datetime) -> None:
    """Mark ``tasks`` as being reminded by ``worker`` until ``until`` (then anyone may retry).

    One UPDATE for the batch; the loaded rows keep the lease they were claimed with (the
    sweep reads it to tell a dead pass's row).
    """
    if tasks:
        session.execute(sql_update(Task.__table__)
                        .where(Task.__table__.c.id.in_([t.id for t in tasks]))
                        .values(lease_owner=worker, lease_until=until))


#: A delivered reminder to record: (task id, next reminder, DM channel, DM ts).
SentReminder = tuple[int, dt.datetime | None, str, str]


def record_sent(session: Session, sent: Sequence[SentReminder], worker: str, *,
                now: dt.datetime) -> int:
    """Record delivered reminders and their next ones; returns how many ``worker`` lost.

    A lost lease means a person changed the task meanwhile (done, reassigned, new due date):
    their change wins and is not overwritten.
    """
    if not sent:
        return 0
    table = Task.__table__.c
    result = session.execute(  # one Core UPDATE run for the whole batch (executemany)
        sql_update(Task.__table__)
        .where(table.id == bindparam("task_id"), table.lease_owner == worker)
        .values(reminder_count=table.reminder_count + 1, last_reminded_at=now,
                next_reminder_at=bindparam("next_at"), dm_channel_id=bindparam("channel"),
                dm_ts=bindparam("ts"), lease_owner=None, lease_until=None, send_failures=0,
                retry_at=None),
        [{"task_id": task_id, "next_at": next_at, "channel": channel, "ts": ts}
         for task_id, next_at, channel, ts in sent],
    )
    return len(sent) - result.rowcount


def record_failure(session: Session, task_id: int, worker: str, *,
                   retry_at: dt.datetime) -> bool:
    """Count a refused delivery and hold the reminder back until ``retry_at``.

    The reminder stays due (its slot is kept); False if ``worker`` lost the lease.
    """
    result = session.execute(
        sql_update(Task).where(Task.id == task_id, Task.lease_owner == worker)
        .values(send_failures=Task.send_failures + 1, retry_at=retry_at,
                lease_owner=None, lease_until=None)
    )
    return result.rowcount == 1


def release(session: Session, task_id: int, worker: str) -> bool:
    """Give a claimed reminder back, still due (a transient Slack failure)."""
    result = session.execute(
        sql_update(Task).where(Task.id == task_id, Task.lease_owner == worker)
        .values(lease_owner=None, lease_until=None)
    )
    return result.rowcount == 1


def stop_reminders_for_owner(session: Session, owner_user_id: str, reason: str) -> list[TaskRow]:
    """Stop reminding ``owner_user_id`` about every open task; returns the tasks stopped now.

    Only rows not already stopped are returned, so of two replicas that both find the owner
    gone, one tells the lead.
    """
    rows = session.execute(
        _with_incident()
        .where(Task.owner_user_id == owner_user_id, Task.status == OPEN,
               Task.reminders_stopped.is_(None))
        .order_by(Task.id)
        .with_for_update(of=Task)
    ).all()
    stopped = []
    for task, incident in rows:
        task.reminders_stopped = reason[:64]
        task.lease_owner = task.lease_until = None
        stopped.append((task, incident))
    session.flush()
    return stopped
