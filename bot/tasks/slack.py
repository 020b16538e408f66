"""Corrective task subcommands and the Done / Snooze buttons in owners' DMs.

``task``, ``improvement`` and ``tasks`` work in an incident's channel. ``T-<n>`` is unique in
the workspace, so ``done``, ``reassign``, ``due``, ``drop`` and ``mytasks`` work anywhere
(an owner can close a task from their DM with Sitrep); the incident's channel always hears
about the change.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.common.duedates import DUE_EXAMPLES, local_today, parse_due
from bot.common.errors import UserError
from bot.common.text import mrkdwn
from bot.deps import Deps
from bot.slack import limits
from bot.slack.commands import COMMAND, Ctx, subcommand
from bot.slack.router import guarded
from bot.tasks import blocks as task_blocks
from bot.tasks import notify
from bot.tasks import rules as tasks
from bot.tasks.reminders import Policy

TASK_USAGE = "task @owner <text> [due <date>]"


def _policy(ctx: Ctx) -> Policy:
    return Policy.from_settings(ctx.deps.settings)


def _owner_zone(ctx: Ctx, user_id: str, *, new_owner: bool = False) -> ZoneInfo:
    person = ctx.deps.people.get(ctx.client, user_id)
    if new_owner and person.deleted:
        raise UserError(f"<@{user_id}> is no longer in this workspace; pick someone else.")
    return person.zone(ctx.tz)


def _due(ctx: Ctx, raw: str, zone: ZoneInfo) -> dt.date:
    return parse_due(raw, zone, ctx.deps.clock.now())


def _ref_and_rest(ctx: Ctx, usage: str) -> tuple[int, str]:
    head, _, rest = ctx.args.strip().partition(" ")
    if not head:
        raise UserError(f"Usage: `{COMMAND} {usage}`")
    return tasks.parse_ref(head), rest.strip()


def _today_of(ctx: Ctx) -> Callable[[str], dt.date]:
    """Each owner's today (due dates are days in the owner's time zone)."""
    now = ctx.deps.clock.now()
    return lambda user_id: local_today(_owner_zone(ctx, user_id), now)


def said(change: tasks.TaskChange) -> str:
    """What a change says (it repeats the task's text), escaped and fitted for Slack."""
    return limits.fit(mrkdwn(change.message), limits.READABLE_TEXT - 200)


def _after_change(ctx: Ctx, change: tasks.TaskChange) -> str | None:
    """Tell the incident channel and refresh the DM that described the task before."""
    if not change.changed:
        return said(change)
    if change.stale_dm:
        notify.refresh_dm(ctx.deps, ctx.client, *change.stale_dm, change.task,
                              change.incident, viewer=change.previous_owner or "")
    notify.announce(ctx, change.incident, f"<@{ctx.user_id}>: {said(change)}.")
    if change.incident.channel_id == ctx.channel_id:
        return None
    if not change.incident.channel_id:
        return f"OK: {said(change)}."
    return f"OK: {said(change)}. (I've told <#{change.incident.channel_id}>.)"


@subcommand("task", TASK_USAGE,
            f"Add a corrective task with an owner (due dates: {DUE_EXAMPLES})", order=40)
def add_task(ctx: Ctx) -> str | None:
    head, _, rest = ctx.args.strip().partition(" ")
    owner = tasks.parse_user(head, ctx.user_id)
    if owner is None:
        raise UserError(f"Start with the task's owner, e.g. `{COMMAND} task @alice Add an "
                        "alert on pool usage due friday`.")
    text, due_raw = tasks.split_due(rest)
    zone = _owner_zone(ctx, owner, new_owner=True)
    due = None
    if due_raw is not None:
        try:
            due = _due(ctx, due_raw, zone)
        except UserError as exc:
            raise UserError(f"{exc.message} If “due” belongs to the task itself, end the "
                            "command with a due date (`… due friday`).") from None
    inc = ctx.require_incident()
    change = tasks.add_task(ctx.deps.db, ctx.deps.clock, _policy(ctx), incident_id=inc.id,
                            actor=ctx.user_id, owner=owner, text=text, due=due, zone=zone)
    warning = notify.tell_owner(ctx.deps, ctx.client, change)
    notify.announce(ctx, change.incident, f"<@{ctx.user_id}> {said(change)}.")
    return warning


@subcommand("improvement", "improvement <text>",
            "Record a broader improvement (no owner) for the postmortem", order=41)
def add_improvement(ctx: Ctx) -> str | None:
    inc = ctx.require_incident()
    improvement = tasks.add_improvement(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                                        ctx.args)
    notify.announce(ctx, inc, f"<@{ctx.user_id}> recorded an improvement: "
                                  f"{task_blocks.short(improvement.text, 2000)}")
    return None


@subcommand("tasks", "tasks", "This incident's tasks and improvements", order=42)
def list_tasks(ctx: Ctx) -> str:
    inc = ctx.require_incident()
    found, improvements = tasks.for_incident(ctx.deps.db, inc.id)
    return task_blocks.incident_tasks(inc, found, improvements, _today_of(ctx))


@subcommand("mytasks", "mytasks", "Your open tasks across incidents", needs_incident=False,
            order=43)
def my_tasks(ctx: Ctx) -> str:
    rows = tasks.open_for_owner(ctx.deps.db, ctx.team_id, ctx.user_id)
    today = local_today(_owner_zone(ctx, ctx.user_id), ctx.deps.clock.now())
    return task_blocks.my_tasks(rows, today)


@subcommand("done", "done T-<n>", "Mark a task done", needs_incident=False, order=44)
def done(ctx: Ctx) -> str | None:
    number, _ = _ref_and_rest(ctx, "done T-<n>")
    return _after_change(ctx, tasks.complete(ctx.deps.db, ctx.deps.clock, ctx.team_id, number,
                                             ctx.user_id))


@subcommand("reassign", "reassign T-<n> @user", "Give a task to someone else (they're told)",
            needs_incident=False, order=45)
def reassign(ctx: Ctx) -> str | None:
    number, rest = _ref_and_rest(ctx, "reassign T-<n> @user")
    owner = tasks.parse_user(rest, ctx.user_id)
    if owner is None:
        raise UserError(f"Mention the new owner, e.g. `{COMMAND} reassign T-{number} @alice`.")
    zone = _owner_zone(ctx, owner, new_owner=True)
    change = tasks.reassign(ctx.deps.db, ctx.deps.clock, _policy(ctx), ctx.team_id, number,
                            ctx.user_id, owner, zone)
    warning = notify.tell_owner(ctx.deps, ctx.client, change) if change.changed else None
    reply = _after_change(ctx, change)
    return warning or reply


@subcommand("due", "due T-<n> <date>", "Change a task's due date (the owner's time zone)",
            needs_incident=False, order=46)
def due(ctx: Ctx) -> str | None:
    number, rest = _ref_and_rest(ctx, "due T-<n> <date>")
    if not rest:
        raise UserError(f"Say when T-{number} is due: {DUE_EXAMPLES}.")
    found = tasks.by_number(ctx.deps.db, ctx.team_id, number)
    zone = _owner_zone(ctx, found.owner_user_id) if found else ctx.tz
    when = _due(ctx, rest, zone)
    change = tasks.set_due(ctx.deps.db, ctx.deps.clock, _policy(ctx), ctx.team_id, number,
                           ctx.user_id, when, zone)
    return _after_change(ctx, change)


@subcommand("drop", "drop T-<n> <reason>", "Drop a task that won't be done, saying why",
            needs_incident=False, order=47)
def drop(ctx: Ctx) -> str | None:
    number, rest = _ref_and_rest(ctx, "drop T-<n> <reason>")
    return _after_change(ctx, tasks.drop(ctx.deps.db, ctx.deps.clock, ctx.team_id, number,
                                         ctx.user_id, rest))


def register(app: App, deps: Deps) -> None:
    @app.action(re.compile(r"^task_(done|snooze_day|snooze_week)$"))
    def on_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.run_after_ack(run_button, body, client)

    def run_button(body: dict[str, Any], client: WebClient) -> None:
        respond = Respond(response_url=body.get("response_url"))
        action = body["actions"][0]
        user = body["user"]["id"]
        team_id = str((body.get("team") or {}).get("id") or "")
        container = body.get("container") or {}
        channel, ts = container.get("channel_id"), container.get("message_ts")

        def work() -> str | None:
            try:
                task_id = int(action.get("value", ""))
            except ValueError:
                raise UserError("That button no longer works; try `/incident mytasks`.") \
                    from None
            zone = deps.people.get(client, user).zone(deps.settings.timezone)
            days = task_blocks.ACTIONS.get(action.get("action_id", ""))
            try:
                if days is None:
                    change = tasks.complete(deps.db, deps.clock, team_id, 0, user,
                                            task_id=task_id, owner_only=True)
                    note = None
                else:
                    change = tasks.snooze(deps.db, deps.clock, Policy.from_settings(
                        deps.settings), team_id, task_id, user, days, zone)
                    note = task_blocks.next_reminder_note(change.task, zone, "Snoozed")
            except UserError:
                row = tasks.get(deps.db, team_id, task_id)
                if row is not None:
                    notify.refresh_dm(deps, client, channel, ts, *row, viewer=user)
                raise
            if days is None and change.changed:
                notify.SlackMessenger(deps, client).post(
                    change.incident, f"<@{user}>: {said(change)}.")
            notify.refresh_dm(deps, client, channel, ts, change.task, change.incident,
                                  viewer=user, note=note)
            return None

        guarded(respond, work)

