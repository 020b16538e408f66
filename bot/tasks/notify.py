"""Slack side of corrective tasks: DMs to owners, notices in incident channels, reminder passes.

``SlackMessenger`` is what the reminder sweep (``bot.tasks.reminders``) delivers through. It
sorts Slack's refusals the way the sweep needs them (``bot.slack.errors`` says which is
which): an owner who is gone (``user_not_found``, ``user_disabled`` … or deactivated, which
``users.info`` says, as Slack still accepts DMs to deactivated people) is ``Unreachable``;
a refusal of Sitrep itself (``account_inactive``, ``invalid_auth``, ``missing_scope``,
``messages_tab_disabled`` …) is ``Paused`` and blames no one; 5xx, timeouts and
``ratelimited`` after the client's own ``Retry-After`` retries are ``Retry`` (due next
pass); any other refusal is ``Failed`` and that task backs off.

Every reminder carries message metadata naming its task and which reminder of the task it
is (``REMINDER``), so a reminder whose send was never recorded (the process was killed after
Slack accepted it) is found in the owner's DM history instead of being sent twice
(``find_reminder``), and a post answered 5xx is checked before it is repeated (``post_once``).
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
from bot.due.outcome import Failed, Outcome, Paused, Retry, Sent, Unreachable
from bot.incidents import privacy
from bot.slack import errors, limits
from bot.slack.client import error_code, find_posted, is_timeout, join_and_post, post_once, reason
from bot.slack.commands import Ctx
from bot.tasks import blocks as task_blocks
from bot.tasks import reminders
from bot.tasks import rules as tasks
from bot.tasks.reminders import Overdue, Reminder, SweepReport
from storage.models import Incident, Task

log = logging.getLogger(__name__)
#: Reminders of a claimed batch sent at once (each to a different DM; Slack allows about one
#: message per second per conversation, and the client honours Retry-After beyond that).
SEND_WORKERS = 4
#: Metadata event types: a reminder (task, its n-th reminder, the slot) and the DM telling
#: an owner a task is theirs.
REMINDER = "sitrep_task_reminder"
#: Slack stamps messages with its clock: the history read starts this much before the claim.
CLOCK_SKEW = dt.timedelta(minutes=1)
ASSIGNED = "sitrep_task_assigned"
#: ... and the notices in an incident's channel: overdue tasks, an owner who is gone.
ESCALATION = "sitrep_overdue_escalation"
UNREACHABLE = "sitrep_owner_unreachable"


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

    def send_dm(self, task: Task, owner: str, text: str, blocks: list,
                metadata: dict | None = None) -> Outcome:
        known = task.dm_channel_id
        for attempt in range(2):
            try:
                channel = (self.dm_channel(owner, known) if attempt == 0 else
                           self.client.conversations_open(users=owner)["channel"]["id"])
                resp = post_once(self.client, channel, text=text, blocks=blocks,
                                 metadata=metadata)
            except SlackApiError as exc:
                code = error_code(exc)
                if code == "channel_not_found" and attempt == 0:
                    # A remembered DM that is gone: open it afresh, which says if they are.
                    self._dm_channels.pop(owner, None)
                    continue
                return classify(code)
            except Exception as exc:  # timeouts and dropped connections: try again next pass
                # A timed-out post may still land: the sweep checks before sending it again.
                return Retry(exc.__class__.__name__, uncertain=is_timeout(exc))
            self._dm_channels[owner] = resp["channel"]
            return Sent(resp["channel"], resp["ts"])
        raise AssertionError("unreachable")

    def remind(self, reminder: Reminder) -> Outcome:
        task, incident = reminder.task, reminder.incident
        if self.deps.people.get(self.client, task.owner_user_id).deleted:
            # Slack accepts DMs to a deactivated person (the conversation remains), so only
            # their profile tells: https://github.com/slackapi/python-slack-sdk/issues/1156
            return Unreachable("user_disabled")
        named = self.names(incident, task.owner_user_id)
        text, blocks = task_blocks.task_dm(
            task, incident, reminder.today,
            task_blocks.reminder_headline(task, incident, reminder.today, named), named=named)
        return self.send_dm(task, task.owner_user_id, text, blocks, reminder_reason(reminder))

    def names(self, incident: Incident, user_id: str) -> bool:
        """Whether a DM to ``user_id`` may name ``incident`` (``access.may_see``)."""
        return privacy.can_see(self.deps, self.client, incident, user_id)

    def find_reminder(self, reminder: Reminder, since: dt.datetime) -> Sent | None:
        """The reminder, if Slack already has it in the owner's DM (one history read)."""
        channel = self.dm_channel(reminder.task.owner_user_id, reminder.task.dm_channel_id)
        found = find_posted(self.client, channel, reminder_reason(reminder),
                            oldest=since.timestamp() - CLOCK_SKEW.total_seconds(),
                            keys=("task", "reminder"))
        return Sent(channel, found["ts"]) if found is not None else None

    def paused(self) -> str | None:
        problem = self.deps.slack_health.sending_blocked()
        return problem.code if problem is not None else None

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
        day = self.deps.clock.now().astimezone(dt.UTC).date().isoformat()
        return self.post(incident, "\n".join([header, *lines]),
                         reason(ESCALATION, incident=incident.ref, day=day))

    def owner_unreachable(self, incident: Incident, owner: str, code: str,
                          tasks: list[Task]) -> None:
        lead = f"<@{incident.lead_user_id}>" if incident.lead_user_id else "Heads up"
        refs = ", ".join(f"*{t.ref}*" for t in tasks)
        example = tasks[0].ref
        self.post(incident, f":warning: {lead}: I can't reach <@{owner}> any more (`{code}`), "
                            f"so I've stopped reminding them about {refs}. Give "
                            f"{'it' if len(tasks) == 1 else 'each'} a new owner with "
                            f"`/incident reassign {example} @someone`.",
                  reason(UNREACHABLE, incident=incident.ref, owner=owner))

    def post(self, incident: Incident, text: str, metadata: dict | None = None) -> bool:
        if not incident.channel_id:
            return False
        try:
            join_and_post(self.client, incident.channel_id, text=text, metadata=metadata)
        except SlackApiError as exc:
            log.warning("posting in %s's channel failed: %s", incident.ref, error_code(exc))
            return False
        return True


def reminder_reason(reminder: Reminder) -> dict:
    """A reminder's metadata: the task, which of its reminders this is, and the slot."""
    task = reminder.task
    return reason(REMINDER, task=task.ref, reminder=task.reminder_count + 1,
                  slot=reminder.slot.isoformat(timespec="minutes"))


def classify(code: str) -> Outcome:
    """The sweep's reading of a refused DM (``bot.slack.errors``)."""
    kind = errors.classify(code)
    if kind is errors.Kind.PERSON_GONE:
        return Unreachable(code)
    if errors.is_app_problem(code):
        return Paused(code)
    if kind is errors.Kind.TRANSIENT:
        return Retry(code)
    return Failed(code)


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
    named = messenger.names(incident, task.owner_user_id)
    text, blocks = task_blocks.task_dm(
        task, incident, local_today(zone, deps.clock.now()),
        task_blocks.assigned_headline(task, incident, named),
        note=task_blocks.next_reminder_note(task, zone, "First reminder"), named=named)
    outcome = messenger.send_dm(task, task.owner_user_id, text, blocks,
                                reason(ASSIGNED, task=task.ref, owner=task.owner_user_id))
    if isinstance(outcome, Sent):
        tasks.note_delivered(deps.db, task.id, outcome.channel_id, outcome.ts)
        return None
    if isinstance(outcome, Unreachable):
        tasks.stop_reminders(deps.db, task.id, outcome.code)
        return (f":warning: {task.ref} is recorded, but I can't reach <@{task.owner_user_id}> "
                f"(`{outcome.code}`), so there will be no reminders. Reassign it with "
                f"`/incident reassign {task.ref} @someone`.")
    if isinstance(outcome, Paused):
        if errors.classify(outcome.code) is errors.Kind.DMS_OFF:
            return (f":warning: {task.ref} is recorded, but Slack refuses every direct message "
                    "from Sitrep: its Messages tab is turned off. Neither this message nor any "
                    f"reminder can reach <@{task.owner_user_id}> until a Slack admin turns it "
                    "on (app settings → App Home → Messages Tab). The operator's log says so "
                    "too.")
        return (f":warning: {task.ref} is recorded, but Slack refuses Sitrep's own access "
                f"(`{outcome.code}`), so I could not DM <@{task.owner_user_id}>, and no "
                "reminders go out until an admin fixes the app's installation (the operator's "
                "log says what is wrong).")
    why = outcome.reason if isinstance(outcome, Retry) else outcome.code
    return (f":warning: {task.ref} is recorded, but Slack would not let me DM "
            f"<@{task.owner_user_id}> just now (`{why}`). I'll try again at the first "
            "reminder.")


def refresh_dm(deps: Deps, client: WebClient, channel: str | None, ts: str | None, task: Task,
               incident: Incident, viewer: str, note: str | None = None) -> None:
    """Update a DM about ``task`` in place to say where it stands (failures are logged)."""
    if not (channel and ts):
        return
    zone = deps.people.get(client, viewer).zone(deps.settings.timezone)
    now = deps.clock.now()
    today = local_today(zone, now)
    named = privacy.can_see(deps, client, incident, viewer)
    headline = task_blocks.state_headline(task, incident, today, viewer)
    buttons = headline is None
    if headline is None:
        headline = task_blocks.reminder_headline(task, incident, today, named)
    text, blocks = task_blocks.task_dm(task, incident, today, headline, note=note,
                                       buttons=buttons, named=named)
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
