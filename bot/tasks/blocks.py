"""Block Kit for corrective tasks: the owner's DM with its buttons, and the task lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.common.duedates import format_day, relative
from bot.common.timeparse import format_time
from storage.models import Improvement, Incident, Task

DONE = "task_done"
SNOOZE_DAY = "task_snooze_day"
SNOOZE_WEEK = "task_snooze_week"
#: Button action id → snooze length in days (None: done).
ACTIONS: dict[str, int | None] = {DONE: None, SNOOZE_DAY: 1, SNOOZE_WEEK: 7}
LIST_LIMIT = 40


def _when(day: dt.date, today: dt.date) -> str:
    """``Fri 4 Dec 2026 (in 3 days)``, ``… (today)``, ``… (2 days overdue)``."""
    return f"{format_day(day)} ({relative(day, today).removeprefix('due ')})"


def due_text(task: Task, today: dt.date) -> str:
    """``due Fri 4 Dec 2026 (in 3 days)``, ``due … (2 days overdue)`` or ``no due date``."""
    return "no due date" if task.due_date is None else f"due {_when(task.due_date, today)}"


def assigned_headline(task: Task, incident: Incident) -> str:
    return (f":clipboard: You own *{task.ref}* from *{incident.ref}*, added by "
            f"<@{task.created_by}>.")


def reminder_headline(task: Task, incident: Incident, today: dt.date) -> str:
    state = ("still open (no due date)" if task.due_date is None
             else relative(task.due_date, today))
    icon = ":rotating_light:" if task.due_date and task.due_date < today else ":alarm_clock:"
    return f"{icon} Reminder: *{task.ref}* from *{incident.ref}* is {state}."


def state_headline(task: Task, incident: Incident, today: dt.date, viewer: str) -> str | None:
    """The headline of a DM refreshed after a change; None while it still needs doing."""
    if task.status == "done":
        return f":white_check_mark: *{task.ref}* is done. Thank you!"
    if task.status == "dropped":
        return f":wastebasket: *{task.ref}* was dropped: {task.drop_reason or 'no reason given'}"
    if task.owner_user_id != viewer:
        return f":arrow_right: *{task.ref}* now belongs to <@{task.owner_user_id}>."
    return None


def _quote(text: str) -> str:
    return "\n".join(f">{line}" for line in text.splitlines() or [""])


def task_dm(task: Task, incident: Incident, today: dt.date, headline: str, *,
            note: str | None = None, buttons: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """The owner's DM: what, from which incident, when due, who leads; Done / Snooze buttons.

    ``today`` is the owner's (due dates are days in their time zone).
    """
    where = f"<#{incident.channel_id}>" if incident.channel_id else incident.ref
    lead = f"<@{incident.lead_user_id}>" if incident.lead_user_id else "_none_"
    due = "No due date" if task.due_date is None else _when(task.due_date, today)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _quote(task.text)}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Incident*\n{incident.ref}: {incident.title[:150]} "
                                       f"({where})"},
            {"type": "mrkdwn", "text": f"*Due*\n{due}"},
            {"type": "mrkdwn", "text": f"*Lead*\n{lead}"},
        ]},
    ]
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    if buttons and task.status == "open":
        value = str(task.id)
        blocks.append({"type": "actions", "block_id": f"task-{task.id}", "elements": [
            {"type": "button", "action_id": DONE, "value": value, "style": "primary",
             "text": {"type": "plain_text", "text": "Done"}},
            {"type": "button", "action_id": SNOOZE_DAY, "value": value,
             "text": {"type": "plain_text", "text": "Snooze a day"}},
            {"type": "button", "action_id": SNOOZE_WEEK, "value": value,
             "text": {"type": "plain_text", "text": "Snooze a week"}},
        ]})
    text = f"{task.ref} from {incident.ref}: {task.text[:200]} — {due_text(task, today)}"
    return text, blocks


def next_reminder_note(task: Task, zone: ZoneInfo, prefix: str = "Next reminder") -> str | None:
    if task.next_reminder_at is None or task.status != "open":
        return None
    return f"{prefix}: {format_time(task.next_reminder_at, zone)} (your time)"


def task_line(task: Task, today_of: Callable[[str], dt.date], *, incident: Incident | None
              = None) -> str:
    """``• *T-7* Add an alert — @bob · due Fri 4 Dec 2026 (in 3 days)`` (+ state when closed)."""
    where = ""
    if incident is not None:
        place = f" <#{incident.channel_id}>" if incident.channel_id else ""
        where = f" · {incident.ref}{place}"
    text = task.text if len(task.text) <= 200 else task.text[:199] + "…"
    if task.status == "done":
        return f"• :white_check_mark: ~*{task.ref}* {text}~ — <@{task.owner_user_id}> · done{where}"
    if task.status == "dropped":
        return (f"• :wastebasket: ~*{task.ref}* {text}~ — dropped: "
                f"{task.drop_reason or 'no reason given'}{where}")
    stopped = (f" · :warning: reminders stopped (`{task.reminders_stopped}`)"
               if task.reminders_stopped else "")
    return (f"• *{task.ref}* {text} — <@{task.owner_user_id}> · "
            f"{due_text(task, today_of(task.owner_user_id))}{stopped}{where}")


def incident_tasks(incident: Incident, tasks: Sequence[Task], improvements: Sequence[Improvement],
                   today_of: Callable[[str], dt.date]) -> str:
    """``/incident tasks``: the incident's tasks (open first) and its improvements."""
    if not tasks and not improvements:
        return (f"{incident.ref} has no corrective tasks yet. Add one with "
                "`/incident task @owner <text> due <date>`, or a broader improvement with "
                "`/incident improvement <text>`.")
    open_count = sum(t.status == "open" for t in tasks)
    ordered = sorted(tasks, key=lambda t: (t.status != "open", t.number))
    lines = [f"*Corrective tasks of {incident.ref}* ({open_count} open of {len(tasks)}):"]
    lines += [task_line(t, today_of) for t in ordered[:LIST_LIMIT]] or ["_none yet_"]
    if len(ordered) > LIST_LIMIT:
        lines.append(f"…and {len(ordered) - LIST_LIMIT} more.")
    if improvements:
        lines.append(f"*Improvements* ({len(improvements)}):")
        lines += [f"• {i.text} — <@{i.created_by}>" for i in improvements[:LIST_LIMIT]]
    return "\n".join(lines)


def my_tasks(rows: Sequence[tuple[Task, Incident]], today: dt.date) -> str:
    """``/incident mytasks``: my open tasks across incidents, soonest due first."""
    if not rows:
        return "You have no open corrective tasks. :tada:"
    lines = [f"*Your open tasks* ({len(rows)}):"]
    lines += [task_line(t, lambda _: today, incident=i) for t, i in rows[:LIST_LIMIT]]
    if len(rows) > LIST_LIMIT:
        lines.append(f"…and {len(rows) - LIST_LIMIT} more.")
    lines.append("Mark one done with `/incident done T-<n>`.")
    return "\n".join(lines)
