"""Slack side of corrective tasks: DMs to owners, notices in incident channels, reminder passes.

``SlackMessenger`` is what the reminder sweep (``bot.tasks.reminders``) delivers through. It
sorts Slack's failures the way the sweep needs them: an owner who has left
(``account_inactive``, ``user_not_found``, ``channel_not_found`` …) is ``Unreachable``;
anything else (5xx, timeouts, ``ratelimited`` after the client's own ``Retry-After`` retries)
is ``Retry``, and the reminder stays due for the next pass.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.common.duedates import local_today
from bot.deps import Deps
from bot.slack import limits
from bot.slack.client import UNREACHABLE_USER_ERRORS, error_code, join_and_post
from bot.slack.commands import Ctx
from bot.tasks import blocks as task_blocks
from bot.tasks import reminders
from bot.tasks import rules as tasks
from bot.tasks.reminders import Outcome, Overdue, Reminder, Retry, Sent, SweepReport, Unreachable
from storage.models import Incident, Task

log = logging.getLogger(__name__)
#: Reminders of a claimed batch sent at once (each to a different DM; Slack allows about one
#: message per second per conversation, and the client honours Retry-After beyond that).
SEND_WORKERS = 4


class SlackMessenger:
    """Delivers reminders as DMs and tells incident channels what needs a lead's eye."""

    def __init__(self, deps: Deps, client: WebClient) -> None:
        self.deps = deps
        self.client = client
        self._dm_channels: dict[str, str] = {}

    def zone_of(self, user_id: str) -> ZoneInfo:
        return self.deps.people.get(self.client, user_id).zone(self.deps.settings.timezone)

    def dm_channel(self, owner: str, known: str | None = None) -> str:
        """The DM with ``owner``: remembered, or from any of their tasks, or opened now."""
        channel = known or self._dm_channels.get(owner) or tasks.known_dm_channel(
            self.deps.db, owner)
        if channel is None:
            channel = self.client.conversations_open(users=owner)["channel"]["id"]
        self._dm_channels[owner] = channel
        return channel

    def send_dm(self, task: Task, owner: str, text: str, blocks: list) -> Outcome:
        try:
            channel = self.dm_channel(owner, task.dm_channel_id)
            resp = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except SlackApiError as exc:
            code = error_code(exc)
            if code in UNREACHABLE_USER_ERRORS:
                return Unreachable(code)
            return Retry(code)
        except Exception as exc:  # timeouts and dropped connections: try again next pass
            return Retry(exc.__class__.__name__)
        return Sent(resp["channel"], resp["ts"])

    def remind(self, reminder: Reminder) -> Outcome:
        task, incident = reminder.task, reminder.incident
        text, blocks = task_blocks.task_dm(
            task, incident, reminder.today,
            task_blocks.reminder_headline(task, incident, reminder.today))
        return self.send_dm(task, task.owner_user_id, text, blocks)

    def escalate(self, incident: Incident, overdue: list[Overdue]) -> bool:
        days = self.deps.settings.escalate_after_days
        lead = (f"<@{incident.lead_user_id}>" if incident.lead_user_id
                else "No lead is set (`/incident lead @someone`)")
        header = (f":rotating_light: {lead}: these corrective tasks of *{incident.ref}* are "
                  f"more than {days} day{'s' if days != 1 else ''} overdue:")
        lines, left_out = limits.fit_lines(
            [f"• *{item.task.ref}* {task_blocks.short(item.task.text)} — "
             f"<@{item.task.owner_user_id}>, {item.days} days overdue" for item in overdue],
            limits.READABLE_TEXT - len(header) - 1)
        if left_out:
            lines.append(limits.and_more(left_out, "more overdue",
                                         "(`/incident tasks` in this channel lists them)"))
        return self.post(incident, "\n".join([header, *lines]))

    def owner_unreachable(self, incident: Incident, owner: str, code: str,
                          tasks: list[Task]) -> None:
        lead = f"<@{incident.lead_user_id}>" if incident.lead_user_id else "Heads up"
        refs = ", ".join(f"*{t.ref}*" for t in tasks)
        example = tasks[0].ref
        self.post(incident, f":warning: {lead}: I can't reach <@{owner}> any more (`{code}`), "
                            f"so I've stopped reminding them about {refs}. Give "
                            f"{'it' if len(tasks) == 1 else 'each'} a new owner with "
                            f"`/incident reassign {example} @someone`.")

    def post(self, incident: Incident, text: str) -> bool:
        if not incident.channel_id:
            return False
        try:
            join_and_post(self.client, incident.channel_id, text=text)
        except SlackApiError as exc:
            log.warning("posting in %s's channel failed: %s", incident.ref, error_code(exc))
            return False
        return True


def run_reminders(deps: Deps, client: WebClient, *, force: bool = False,
                  now: dt.datetime | None = None) -> SweepReport:
    """One reminder pass (the background job, ``remind`` and the demo all call this)."""
    started = time.perf_counter()
    report = reminders.sweep(deps.db, deps.clock, reminders.Policy.from_settings(deps.settings),
                             SlackMessenger(deps, client), force=force, now=now,
                             workers=SEND_WORKERS)
    metrics.REMINDER_PASS_SECONDS.observe(time.perf_counter() - started)
    for outcome, count in (("sent", report.sent), ("failed", report.retried),
                           ("unreachable", report.owners_unreachable),
                           ("skipped", report.skipped)):
        if count:
            metrics.REMINDERS.labels(outcome).inc(count)
    return report


def poll_seconds(deps: Deps) -> int:
    return deps.settings.reminder_poll_seconds


def tell_owner(deps: Deps, client: WebClient, change: tasks.TaskChange) -> str | None:
    """DM a task's (new) owner that it is theirs; a warning for the person acting, if it failed."""
    task, incident = change.task, change.incident
    messenger = SlackMessenger(deps, client)
    zone = messenger.zone_of(task.owner_user_id)
    text, blocks = task_blocks.task_dm(
        task, incident, local_today(zone, deps.clock.now()),
        task_blocks.assigned_headline(task, incident),
        note=task_blocks.next_reminder_note(task, zone, "First reminder"))
    outcome = messenger.send_dm(task, task.owner_user_id, text, blocks)
    if isinstance(outcome, Sent):
        tasks.note_delivered(deps.db, task.id, outcome.channel_id, outcome.ts)
        return None
    if isinstance(outcome, Unreachable):
        tasks.stop_reminders(deps.db, task.id, outcome.code)
        return (f":warning: {task.ref} is recorded, but I can't reach <@{task.owner_user_id}> "
                f"(`{outcome.code}`), so there will be no reminders. Reassign it with "
                f"`/incident reassign {task.ref} @someone`.")
    return (f":warning: {task.ref} is recorded, but Slack would not let me DM "
            f"<@{task.owner_user_id}> just now (`{outcome.reason}`). Reminders will still "
            "follow.")


def refresh_dm(deps: Deps, client: WebClient, channel: str | None, ts: str | None, task: Task,
               incident: Incident, viewer: str, note: str | None = None) -> None:
    """Update a DM about ``task`` in place to say where it stands (failures are logged)."""
    if not (channel and ts):
        return
    zone = deps.people.get(client, viewer).zone(deps.settings.timezone)
    now = deps.clock.now()
    today = local_today(zone, now)
    headline = task_blocks.state_headline(task, incident, today, viewer)
    buttons = headline is None
    if headline is None:
        headline = task_blocks.reminder_headline(task, incident, today)
    text, blocks = task_blocks.task_dm(task, incident, today, headline, note=note,
                                       buttons=buttons)
    try:
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("updating the DM about %s failed: %s", task.ref, error_code(exc))


def announce(ctx: Ctx, incident: Incident, text: str) -> None:
    """Say it in the incident's channel: as the command's reply there, else as a post."""
    if incident.channel_id == ctx.channel_id:
        ctx.respond(text=text, response_type="in_channel")
    elif incident.channel_id:
        try:
            join_and_post(ctx.client, incident.channel_id, text=text)
        except SlackApiError as exc:
            log.warning("announcing in %s's channel failed: %s", incident.ref, error_code(exc))
