"""Block Kit for corrective tasks: the owner's DM with its buttons, and the task lists.

Task texts, reasons and titles are stored as typed: they are escaped with ``mrkdwn`` here
and fitted to Slack's limits (``bot.slack.limits``); long lists end with "… and N more".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.common.duedates import format_day, relative
from bot.common.text import mrkdwn
from bot.common.timeparse import format_time
from bot.slack import limits
from storage.models import Improvement, Incident, Task

DONE = "task_done"
SNOOZE_DAY = "task_snooze_day"
SNOOZE_WEEK = "task_snooze_week"
#: Button action id → snooze length in days (None: done).
ACTIONS: dict[str, int | None] = {DONE: None, SNOOZE_DAY: 1, SNOOZE_WEEK: 7}
#: Characters of a task's (or an improvement's) text shown in a list line.
LINE_TEXT = 200
#: Where a list cut short can be read in full.
MORE_HINT = "(`/incident postmortem` lists them all)"


def _when(day: dt.date, today: dt.date) -> str:
    """``Fri 4 Dec 2026 (in 3 days)``, ``… (today)``, ``… (2 days overdue)``."""
    return f"{format_day(day)} ({relative(day, today).removeprefix('due ')})"


def due_text(task: Task, today: dt.date) -> str:
    """``due Fri 4 Dec 2026 (in 3 days)``, ``due … (2 days overdue)`` or ``no due date``."""
    return "no due date" if task.due_date is None else f"due {_when(task.due_date, today)}"


#: How a private incident is named to someone who may not see it (``access.may_see``): its
#: task is theirs, but its number, title, channel and lead are not.
UNNAMED = "a private incident"


def incident_ref(incident: Incident, named: bool = True) -> str:
    """``*INC-7*``, or ``a private incident`` to someone who may not see it."""
    return f"*{incident.ref}*" if named else UNNAMED


def assigned_headline(task: Task, incident: Incident, named: bool = True) -> str:
    return (f":clipboard: You own *{task.ref}* from {incident_ref(incident, named)}, added by "
            f"<@{task.created_by}>.")


def reminder_headline(task: Task, incident: Incident, today: dt.date,
                      named: bool = True) -> str:
    state = ("still open (no due date)" if task.due_date is None
             else relative(task.due_date, today))
    icon = ":rotating_light:" if task.due_date and task.due_date < today else ":alarm_clock:"
    return f"{icon} Reminder: *{task.ref}* from {incident_ref(incident, named)} is {state}."


def state_headline(task: Task, incident: Incident, today: dt.date, viewer: str) -> str | None:
    """The headline of a DM refreshed after a change; None while it still needs doing."""
    if task.status == "done":
        return f":white_check_mark: *{task.ref}* is done. Thank you!"
    if task.status == "dropped":
        return f":wastebasket: *{task.ref}* was dropped: {_reason(task)}"
    if task.owner_user_id != viewer:
        return f":arrow_right: *{task.ref}* now belongs to <@{task.owner_user_id}>."
    return None


def _quote(text: str) -> str:
    return "\n".join(f">{line}" for line in text.splitlines() or [""])


def _reason(task: Task) -> str:
    return limits.fit(mrkdwn(task.drop_reason), LINE_TEXT) if task.drop_reason \
        else "no reason given"


def short(text: str, limit: int = LINE_TEXT) -> str:
    """Stored text as mrkdwn, cut to ``limit`` (at whole characters, never in an entity)."""
    return limits.fit(mrkdwn(text), limit)


def task_dm(task: Task, incident: Incident, today: dt.date, headline: str, *,
            note: str | None = None, buttons: bool = True,
            named: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """The owner's DM: what, from which incident, when due, who leads; Done / Snooze buttons.

    ``today`` is the owner's (due dates are days in their time zone). ``named=False``: the
    owner may not see the (private) incident, so it is not named.
    """
    where = f"<#{incident.channel_id}>" if incident.channel_id else incident.ref
    lead = f"<@{incident.lead_user_id}>" if incident.lead_user_id else "_none_"
    about = f"{incident.ref}: {mrkdwn(incident.title)} ({where})"
    if not named:
        about, lead = UNNAMED.capitalize() + " (ask whoever gave you the task)", "_private_"
    due = "No due date" if task.due_date is None else _when(task.due_date, today)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": limits.fit(headline, limits.SECTION_TEXT)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": limits.fit(
            _quote(mrkdwn(task.text)), limits.SECTION_TEXT)}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": limits.fit(
                f"*Incident*\n{about}",
                limits.FIELD_TEXT)},
            {"type": "mrkdwn", "text": f"*Due*\n{due}"},
            {"type": "mrkdwn", "text": f"*Lead*\n{lead}"},
        ]},
    ]
    if note:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": limits.fit(note, limits.SECTION_TEXT)}]})
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
    source = incident.ref if named else UNNAMED
    text = f"{task.ref} from {source}: {short(task.text)} — {due_text(task, today)}"
    return limits.fit(text, limits.UPDATE_TEXT), blocks


def next_reminder_note(task: Task, zone: ZoneInfo, prefix: str = "Next reminder") -> str | None:
    if task.next_reminder_at is None or task.status != "open":
        return None
    return f"{prefix}: {format_time(task.next_reminder_at, zone)} (your time)"


def task_line(task: Task, today_of: Callable[[str], dt.date], *, incident: Incident | None
              = None, named: bool = True) -> str:
    """``• *T-7* Add an alert — @bob · due Fri 4 Dec 2026 (in 3 days)`` (+ state when closed)."""
    where = ""
    if incident is not None and not named:
        where = f" · {UNNAMED}"
    elif incident is not None:
        place = f" <#{incident.channel_id}>" if incident.channel_id else ""
        where = f" · {incident.ref}{place}"
    text = short(task.text)
    if task.status == "done":
        return f"• :white_check_mark: ~*{task.ref}* {text}~ — <@{task.owner_user_id}> · done{where}"
    if task.status == "dropped":
        return f"• :wastebasket: ~*{task.ref}* {text}~ — dropped: {_reason(task)}{where}"
    stopped = (f" · :warning: reminders stopped (`{task.reminders_stopped}`)"
               if task.reminders_stopped else "")
    return (f"• *{task.ref}* {text} — <@{task.owner_user_id}> · "
            f"{due_text(task, today_of(task.owner_user_id))}{stopped}{where}")


def incident_tasks(incident: Incident, tasks: Sequence[Task], improvements: Sequence[Improvement],
                   today_of: Callable[[str], dt.date]) -> str:
    """``/incident tasks``: the incident's tasks (open first) and its improvements."""
    if not tasks and not improvements:
        return (f"{incident.ref} has no corrective tasks yet. Add one with "
                "`/incident task @owner &lt;text&gt; due &lt;date&gt;`, or a broader "
                "improvement with `/incident improvement &lt;text&gt;`.")
    open_count = sum(t.status == "open" for t in tasks)
    ordered = sorted(tasks, key=lambda t: (t.status != "open", t.number))
    header = f"*Corrective tasks of {incident.ref}* ({open_count} open of {len(tasks)}):"
    # Tasks first (open ones on top), in two thirds of the room when there are improvements;
    # the improvements get what the tasks leave.
    room = limits.READABLE_TEXT - len(header) - 1
    if improvements:
        room = room * 2 // 3
    shown, left_out = limits.fit_lines([task_line(t, today_of) for t in ordered], room)
    lines = [header, *(shown or ["_none yet_"])]
    if left_out:
        lines.append(limits.and_more(left_out, "more tasks", MORE_HINT))
    if improvements:
        title = f"*Improvements* ({len(improvements)}):"
        room = limits.READABLE_TEXT - sum(len(line) + 1 for line in lines) - len(title) - 1
        shown, left_out = limits.fit_lines(
            [f"• {short(i.text)} — <@{i.created_by}>" for i in improvements], room)
        lines += [title, *shown]
        if left_out:
            lines.append(limits.and_more(left_out, "more improvements", MORE_HINT))
    return "\n".join(lines)


def my_tasks(rows: Sequence[tuple[Task, Incident]], today: dt.date,
             named: Callable[[Incident], bool] = lambda _: True) -> str:
    """``/incident mytasks``: my open tasks across incidents, soonest due first; an incident
    the owner may not see (``named``) is not named."""
    if not rows:
        return "You have no open corrective tasks. :tada:"
    header = f"*Your open tasks* ({len(rows)}):"
    footer = "Mark one done with `/incident done T-&lt;n&gt;`."
    shown, left_out = limits.fit_lines(
        [task_line(t, lambda _: today, incident=i, named=named(i)) for t, i in rows],
        limits.READABLE_TEXT - len(header) - len(footer) - 2)
    lines = [header, *shown]
    if left_out:
        lines.append(limits.and_more(left_out, "more, due later"))
    lines.append(footer)
    return "\n".join(lines)
