"""Corrective tasks and improvements: add, complete, reassign, re-date, drop, snooze, list.

A task has one owner, an optional due date (a day in the owner's time zone) and a status:
``open``, ``done`` or ``dropped``. Every change is one transaction that updates the row,
reschedules its reminder and appends a ``task_*`` event to the incident's timeline, so the
timeline and the postmortem show who changed what and when. Improvements are broader
measures with no owner; they are listed with the tasks and read by the postmortem.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.common import text as slacktext
from bot.common.clock import Clock
from bot.common.duedates import format_day
from bot.common.errors import NotFound, UserError
from bot.tasks.reminders import Policy, first_reminder, snoozed_reminder
from storage import improvements as improvement_repo
from storage import incidents as incident_repo
from storage import tasks as repo
from storage import timeline
from storage.db import Database
from storage.models import Improvement, Incident, Task

TEXT_LIMIT = 1000
REASON_LIMIT = 500
_REF = re.compile(r"^(?:t-?|#)?(\d{1,9})$", re.I)
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_DUE_TAIL = re.compile(r"(?:^|\s)due\s+(\S+(?:\s+\S+){0,2})\s*$", re.I)


@dataclass(frozen=True)
class TaskChange:
    """A task after a change, what to say about it, and the DM that now tells an old story."""

    task: Task
    incident: Incident
    changed: bool
    message: str
    stale_dm: tuple[str, str] | None = None
    previous_owner: str | None = None


# -- parsing ------------------------------------------------------------------------------

def parse_ref(raw: str) -> int:
    """``T-7``, ``t7``, ``#7`` or ``7`` → 7."""
    match = _REF.match(raw.strip())
    if not match:
        raise UserError(f"`{slacktext.quote(raw, 20)}` is not a task; tasks look like `T-7`.")
    return int(match.group(1))


def parse_user(raw: str, me: str) -> str | None:
    """A mention (``<@U123|bob>``) or ``me`` → a user id; None if ``raw`` is neither."""
    if raw.lower() == "me":
        return me
    match = _MENTION.match(raw)
    return match.group(1) if match else None


def split_due(args: str) -> tuple[str, str | None]:
    """``"Add alerting due friday"`` → ``("Add alerting", "friday")``.

    The due clause is ``due`` and one to three words at the very end; whether they are a
    date is for ``parse_due`` to say (a misspelt date is reported, not kept as text).
    """
    match = _DUE_TAIL.search(args)
    if not match:
        return args.strip(), None
    return args[: match.start()].strip(), match.group(1)


def clean_text(raw: str, what: str, example: str) -> str:
    cleaned = slacktext.clean(raw)
    if not cleaned:
        raise UserError(f"Say what the {what} is, e.g. `{example}`.")
    if len(cleaned) > TEXT_LIMIT:
        raise UserError(f"That {what} is {len(cleaned)} characters; keep it under {TEXT_LIMIT}.")
    return cleaned


def due_phrase(due: dt.date | None) -> str:
    return f"due {format_day(due)}" if due else "no due date"


# -- changes ------------------------------------------------------------------------------

def _event(s: Session, task: Task, event_type: str, actor: str, now: dt.datetime, text: str,
           **data: object) -> None:
    timeline.add_event(s, incident_id=task.incident_id, event_type=event_type, actor=actor,
                       now=now, text=text, data={"task": task.number, **data})


def add_task(db: Database, clock: Clock, policy: Policy, *, incident_id: int, actor: str,
             owner: str, text: str, due: dt.date | None, zone: ZoneInfo) -> TaskChange:
    """Record ``T-<n>`` for ``owner``; its first reminder follows the schedule in ``zone``."""
    text = clean_text(text, "task", "/incident task @alice Add an alert on pool usage")
    now = clock.now()
    with db.session() as s:
        incident = incident_repo.get(s, incident_id)
        if incident is None:
            raise NotFound("That incident no longer exists.")
        task = repo.create(
            s, team_id=incident.team_id, incident_id=incident_id, owner_user_id=owner,
            text=text, due_date=due, created_by=actor, now=now,
            next_reminder_at=first_reminder(due, zone, policy, now),
        )
        message = f"added *{task.ref}* for <@{owner}>: {text} ({due_phrase(due)})"
        _event(s, task, "task_added", actor, now, f"{task.ref} added for <@{owner}>: {text} "
               f"({due_phrase(due)})", owner=owner, due=due.isoformat() if due else None)
    return TaskChange(task, incident, True, message)


Apply = Callable[[Session, Task, Incident, dt.datetime], "str | tuple[str, str, dict]"]


def _change(db: Database, clock: Clock, team_id: str, number: int, actor: str, apply: Apply,
            *, task_id: int | None = None) -> TaskChange:
    """Lock the task, apply a change (or get a reason nothing changed), record the event."""
    now = clock.now()
    with db.session() as s:
        row = (repo.get(s, task_id, team_id=team_id, for_update=True) if task_id is not None
               else repo.by_number(s, team_id, number, for_update=True))
        if row is None or row[0].team_id != team_id:
            if task_id is not None:
                raise NotFound("That task is not in this workspace any more; "
                               "`/incident mytasks` lists yours.")
            raise NotFound(f"There is no task T-{number}. `/incident tasks` lists an "
                           "incident's tasks, `/incident mytasks` yours.")
        task, incident = row
        stale_dm = (task.dm_channel_id, task.dm_ts) if task.dm_channel_id and task.dm_ts \
            else None
        previous_owner = task.owner_user_id
        outcome = apply(s, task, incident, now)
        if isinstance(outcome, str):
            return TaskChange(task, incident, False, outcome)
        event_type, message, data = outcome
        _event(s, task, event_type, actor, now, message, **data)
        return TaskChange(task, incident, True, message, stale_dm, previous_owner)


def _require_open(task: Task) -> None:
    if task.status == repo.DONE:
        raise UserError(f"{task.ref} is already done.")
    if task.status == repo.DROPPED:
        reason = slacktext.mrkdwn(task.drop_reason) if task.drop_reason else "no reason given"
        raise UserError(f"{task.ref} was dropped ({reason}).")


def complete(db: Database, clock: Clock, team_id: str, number: int, actor: str, *,
             task_id: int | None = None, owner_only: bool = False) -> TaskChange:
    """Mark a task done (from a DM button, only its owner may: ``owner_only``)."""

    def apply(s: Session, task: Task, incident: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        if task.status == repo.DONE:
            return f"{task.ref} is already done."
        _require_open(task)
        if owner_only and actor != task.owner_user_id:
            raise UserError(f"{task.ref} now belongs to <@{task.owner_user_id}>.")
        repo.change(s, task, status=repo.DONE, completed_at=now, next_reminder_at=None)
        return "task_done", f"{task.ref} done: {task.text}", {"owner": task.owner_user_id}

    return _change(db, clock, team_id, number, actor, apply, task_id=task_id)


def reassign(db: Database, clock: Clock, policy: Policy, team_id: str, number: int, actor: str,
             new_owner: str, zone: ZoneInfo) -> TaskChange:
    """Give a task to ``new_owner`` (reminders restart on their schedule, in ``zone``)."""

    def apply(s: Session, task: Task, incident: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        _require_open(task)
        if task.owner_user_id == new_owner:
            return f"<@{new_owner}> already owns {task.ref}."
        previous = task.owner_user_id
        repo.change(s, task, owner_user_id=new_owner, reminders_stopped=None, dm_channel_id=None,
                    dm_ts=None, next_reminder_at=first_reminder(task.due_date, zone, policy, now))
        return "task_reassigned", f"{task.ref} reassigned from <@{previous}> to <@{new_owner}>", {
            "from": previous, "to": new_owner}

    return _change(db, clock, team_id, number, actor, apply)


def set_due(db: Database, clock: Clock, policy: Policy, team_id: str, number: int, actor: str,
            due: dt.date, zone: ZoneInfo) -> TaskChange:
    """Move a task's due date (``zone`` is its owner's; the schedule restarts from it)."""

    def apply(s: Session, task: Task, incident: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        _require_open(task)
        if task.due_date == due:
            return f"{task.ref} is already due {format_day(due)}."
        previous = task.due_date
        repo.change(s, task, due_date=due,
                    next_reminder_at=first_reminder(due, zone, policy, now))
        return "task_due", f"{task.ref} now due {format_day(due)}", {
            "from": previous.isoformat() if previous else None, "to": due.isoformat()}

    return _change(db, clock, team_id, number, actor, apply)


def drop(db: Database, clock: Clock, team_id: str, number: int, actor: str,
         reason: str) -> TaskChange:
    """Drop a task that will not be done, saying why (the postmortem shows the reason)."""
    reason = slacktext.clean(reason, REASON_LIMIT)
    if not reason:
        raise UserError(f"Say why T-{number} is dropped, e.g. `/incident drop T-{number} "
                        "covered by T-9`.")

    def apply(s: Session, task: Task, incident: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        _require_open(task)
        repo.change(s, task, status=repo.DROPPED, drop_reason=reason, next_reminder_at=None)
        return "task_dropped", f"{task.ref} dropped: {reason}", {"reason": reason}

    return _change(db, clock, team_id, number, actor, apply)


def snooze(db: Database, clock: Clock, policy: Policy, team_id: str, task_id: int, actor: str,
           days: int, zone: ZoneInfo) -> TaskChange:
    """Quiet a task's reminders for a day or a week (its owner only, in its own workspace;
    not a timeline event)."""
    now = clock.now()
    with db.session() as s:
        row = repo.get(s, task_id, team_id=team_id, for_update=True)
        if row is None:
            raise NotFound("That task is not in this workspace any more; "
                           "`/incident mytasks` lists yours.")
        task, incident = row
        _require_open(task)
        if actor != task.owner_user_id:
            raise UserError(f"{task.ref} now belongs to <@{task.owner_user_id}>.")
        repo.change(s, task, next_reminder_at=snoozed_reminder(task.due_date, zone, policy,
                                                               now, days))
    return TaskChange(task, incident, True, f"{task.ref} snoozed")


def note_delivered(db: Database, task_id: int, dm_channel_id: str, dm_ts: str) -> None:
    """Remember the DM about a task, so a later change can update it in place."""
    with db.session() as s:
        row = repo.get(s, task_id, team_id=None, for_update=True)  # the bot's own record
        if row is not None:
            row[0].dm_channel_id, row[0].dm_ts = dm_channel_id, dm_ts


def stop_reminders(db: Database, task_id: int, reason: str) -> None:
    """No reminders for this task (its owner could not be reached when it was assigned)."""
    with db.session() as s:
        row = repo.get(s, task_id, team_id=None, for_update=True)  # the bot's own record
        if row is not None:
            repo.change(s, row[0], reminders_stopped=reason[:64])


def add_improvement(db: Database, clock: Clock, incident_id: int, actor: str,
                    text: str) -> Improvement:
    text = clean_text(text, "improvement", "/incident improvement Run game days quarterly")
    with db.session() as s:
        return improvement_repo.add(s, incident_id=incident_id, text=text, created_by=actor,
                                    now=clock.now())


# -- reading ------------------------------------------------------------------------------

def for_incident(db: Database, incident_id: int) -> tuple[Sequence[Task], Sequence[Improvement]]:
    with db.session() as s:
        return repo.for_incident(s, incident_id), improvement_repo.for_incident(s, incident_id)


def open_for_owner(db: Database, team_id: str, owner: str) -> list[repo.TaskRow]:
    with db.session() as s:
        return repo.open_for_owner(s, team_id, owner)


def by_number(db: Database, team_id: str, number: int) -> Task | None:
    with db.session() as s:
        row = repo.by_number(s, team_id, number)
        return row[0] if row else None


def get(db: Database, team_id: str, task_id: int) -> repo.TaskRow | None:
    with db.session() as s:
        return repo.get(s, task_id, team_id=team_id)


def known_dm_channel(db: Database, owner: str) -> str | None:
    with db.session() as s:
        return repo.known_dm_channel(s, owner)

