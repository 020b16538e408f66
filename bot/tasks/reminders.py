"""Reminders: when an open task's owner hears about it, and the sweep that tells them.

The schedule, in the owner's own time zone, from ``REMINDER_CRON`` slots:

- a task with a due date is reminded at every slot from ``REMINDER_LEAD_DAYS`` days before
  its due day on, overdue days included, until it is done or dropped;
- a task with no due date is reminded at the first slot of each week (Monday to Sunday);
- nothing comes within ``QUIET_AFTER_DM`` of the DM telling someone they own a task, and a
  snooze ("a day", "a week") moves the next reminder to the first slot at least that far off.

Slots come from APScheduler's ``CronTrigger`` evaluated in the owner's zone, so 09:00 stays
09:00 local across daylight-saving changes. A wall time that a change skips fires at the
moved-forward instant; one that a change repeats fires once (its first occurrence).

The state is in the task rows, and APScheduler only pumps ``sweep``: it claims due rows
under a lease (``storage.tasks``) in small batches sized to the sending parallelism, asks a
``Messenger`` (the Slack shell) to deliver, and records the results and next slots in the
transaction that claims the next batch (while this one is sent). A pass that dies after claiming
leaves the lease to expire; a claimed row is never dropped. A row found with an expired
lease still owned by a pass was claimed and never recorded nor given back: Slack may have
accepted its reminder before the pass died, so the owner's DM is read for that reminder's
metadata (one read, only then) and a reminder found there is recorded, not sent again.

What a refused delivery means decides what happens next (``Outcome``): the owner is gone
(their reminders stop and the lead is told), Sitrep itself is refused (its token, a scope,
the Messages tab: the pass stops, nobody is blamed, and passes wait while the messenger says
sending is paused), Slack is struggling (due again next pass), or a reason not understood
(that task backs off: ``retry_delay`` doubles from a minute up to a day). A row backing off
is not claimed until its ``retry_at``; a reminder sent (or found already delivered) ends
its back-off.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from bot.common.cron import next_slot
from bot.common.duedates import days_overdue, local_today
from bot.due.lease import LEASE, retry_delay, worker_id
from bot.due.outcome import Failed, Outcome, Paused, Retry, Sent
from storage import escalations
from storage import incidents as incident_repo
from storage import tasks as repo
from storage.db import Database
from storage.models import Incident, Task

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.common.clock import Clock

log = logging.getLogger(__name__)

#: Rows claimed per sending worker at a time. The next batch is claimed while one is being
#: sent, so a killed pass holds at most twice this many rows per worker for the lease.
CLAIM_PER_WORKER = 2
#: No reminder this soon after the DM that told the owner about the task.
QUIET_AFTER_DM = dt.timedelta(hours=1)
#: A forced pass (``remind --now``) skips tasks reminded this recently (a repeated run).
FORCE_MIN_GAP = dt.timedelta(hours=1)
SNOOZE_DAYS = {"day": 1, "week": 7}


@dataclass(frozen=True)
class Policy:
    """The reminder settings: ``REMINDER_CRON``, ``REMINDER_LEAD_DAYS``, ``ESCALATE_AFTER_DAYS``."""

    cron: str = "0 9 * * mon-fri"
    lead_days: int = 2
    escalate_after_days: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        return cls(settings.reminder_cron, settings.reminder_lead_days,
                   settings.escalate_after_days)


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def next_reminder(due: dt.date | None, zone: ZoneInfo, policy: Policy, after: dt.datetime, *,
                  inclusive: bool = False) -> dt.datetime | None:
    """When a task due on ``due`` (None: undated) is next reminded after ``after``."""
    if due is None:
        week = week_start(after.astimezone(zone).date())
        first = next_slot(policy.cron, zone, local_midnight(week, zone), inclusive=True)
        if first is not None and (first > after or (inclusive and first == after)):
            return first
        return next_slot(policy.cron, zone, local_midnight(week + dt.timedelta(days=7), zone),
                         inclusive=True)
    window = local_midnight(due - dt.timedelta(days=policy.lead_days), zone)
    if window > after:
        return next_slot(policy.cron, zone, window, inclusive=True)
    return next_slot(policy.cron, zone, after, inclusive=inclusive)


def first_reminder(due: dt.date | None, zone: ZoneInfo, policy: Policy,
                   now: dt.datetime) -> dt.datetime | None:
    """The first reminder of a task someone was just told about (assigned, new due date)."""
    return next_reminder(due, zone, policy, now + QUIET_AFTER_DM, inclusive=True)


def snoozed_reminder(due: dt.date | None, zone: ZoneInfo, policy: Policy, now: dt.datetime,
                     days: int) -> dt.datetime | None:
    """The next reminder after "snooze a day/week": the first slot at least that long away.

    With daily slots, "a day" pressed on Monday's 09:00 reminder skips Tuesday's (anything
    shorter would change nothing); the length is local wall time, so DST does not shift it.
    """
    local = now.astimezone(zone)
    resume = (local + dt.timedelta(days=days)).astimezone(dt.UTC)
    return next_reminder(due, zone, policy, resume, inclusive=True)


def due_at_forced_slot(task: Task, zone: ZoneInfo, policy: Policy, now: dt.datetime) -> bool:
    """Whether ``task`` is reminded when ``now`` is treated as a slot (``remind --now``).

    A task is skipped if it was reminded in the last hour, or snoozed: its next reminder is
    later than the next slot the schedule alone would give it.
    """
    if task.status != repo.OPEN or task.reminders_stopped:
        return False
    if task.last_reminded_at and now - task.last_reminded_at < FORCE_MIN_GAP:
        return False
    if task.next_reminder_at is not None:
        if task.next_reminder_at <= now:
            return True
        natural = next_reminder(task.due_date, zone, policy, now)
        if natural is not None and task.next_reminder_at > natural:
            return False
    today = local_today(zone, now)
    if task.due_date is not None:
        return today >= task.due_date - dt.timedelta(days=policy.lead_days)
    told = max(task.created_at, task.last_reminded_at or task.created_at)
    return told < local_midnight(week_start(today), zone)


# -- the sweep ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reminder:
    """One reminder to deliver: the task, its incident, and the owner's zone and day."""

    task: Task
    incident: Incident
    zone: ZoneInfo
    today: dt.date
    #: The slot this reminder is for (``now`` in a forced pass).
    slot: dt.datetime

    @property
    def overdue_days(self) -> int:
        return days_overdue(self.task.due_date, self.today)




@dataclass(frozen=True)
class Overdue:
    task: Task
    days: int


class Messenger(Protocol):
    """What the sweep needs from Slack; ``bot.tasks.notify.SlackMessenger`` implements it."""

    def zone_of(self, user_id: str) -> ZoneInfo: ...

    def remind(self, reminder: Reminder) -> Outcome: ...

    def find_reminder(self, reminder: Reminder, since: dt.datetime) -> Sent | None:
        """The reminder if it was delivered after ``since`` (it carries its own mark)."""
        ...

    def escalate(self, incident: Incident, overdue: list[Overdue]) -> bool: ...

    def owner_unreachable(self, incident: Incident, owner: str, code: str,
                          tasks: list[Task]) -> None: ...

    def paused(self) -> str | None:
        """Why no reminder can be sent at the moment (an app problem), or None."""
        ...


@dataclass
class SweepReport:
    """What one pass did (logged, printed by ``remind``, measured by the benchmark)."""

    sent: int = 0
    retried: int = 0
    backed_off: int = 0
    owners_unreachable: int = 0
    escalated: int = 0
    superseded: int = 0
    #: Claimed, then given back unsent for the next pass (owner just gone, out of time, or
    #: Slack refusing Sitrep itself).
    skipped: int = 0
    #: Left unrecorded by a pass that died, found already delivered: recorded, not re-sent.
    recovered: int = 0
    #: Why this pass sent nothing more: Slack refuses Sitrep itself (``Paused``).
    paused: str | None = None
    sent_task_ids: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"{self.sent} reminder{'s' if self.sent != 1 else ''} sent, "
                f"{self.retried} left due for the next pass, "
                f"{self.backed_off} backing off, "
                f"{self.owners_unreachable} owner(s) unreachable, "
                f"{self.escalated} escalation(s)"
                + (f", {self.skipped} given back unsent" if self.skipped else "")
                + (f", {self.recovered} found already delivered" if self.recovered else ""))
        return text + (f"; sending paused: {self.paused}" if self.paused else "")


class _Pass:
    def __init__(self, db: Database, policy: Policy, messenger: Messenger, now: dt.datetime,
                 worker: str) -> None:
        self.db, self.policy, self.messenger, self.now = db, policy, messenger, now
        self.worker = worker
        self.force = False
        self.report = SweepReport()
        self.zones: dict[str, ZoneInfo] = {}
        self.gone: set[str] = set()
        self.to_escalate: set[int] = set()
        #: Rows claimed with a dead pass's expired lease: task id → when that lease began.
        self.unsure: dict[int, dt.datetime] = {}
        #: Delivered, to be recorded with the next claim.
        self.pending: list[repo.SentReminder] = []
        self.paused: str | None = None  # Slack refused Sitrep itself: send nothing more
        self.lock = threading.Lock()  # deliveries of one batch may run in parallel

    def zone(self, owner: str) -> ZoneInfo:
        with self.lock:
            zone = self.zones.get(owner)
        if zone is None:
            zone = self.messenger.zone_of(owner)
            with self.lock:
                self.zones[owner] = zone
        return zone

    def claim(self, force: bool, after_id: int,
              batch: int) -> tuple[list[repo.TaskRow], int | None]:
        """Record what was delivered, then lease the next batch (one transaction).

        Returns the batch and the id to continue after (None: no more).
        """
        with self.db.session() as s:
            self.record(s)
            if force:
                rows = repo.reminder_candidates(s, self.now, after_id=after_id, limit=batch * 4)
                if not rows:
                    return [], None
                last = rows[-1][0].id
                # Zones were looked up before this transaction (no Slack call inside it).
                due = [(t, i) for t, i in rows if t.owner_user_id in self.zones
                       and due_at_forced_slot(t, self.zones[t.owner_user_id], self.policy,
                                              self.now)]
                if len(due) > batch:  # lease no more than a batch; continue after it
                    due = due[:batch]
                    last = due[-1][0].id
                rows = due
            else:
                rows = repo.due_for_reminder(s, self.now, after_id=after_id, limit=batch)
                if not rows:
                    return [], None
                last = rows[-1][0].id
            for task, _ in rows:
                if task.lease_owner is not None and task.lease_until is not None:
                    # Claimed by a pass that neither recorded nor gave it back: it may
                    # have been delivered just before that pass died.
                    self.unsure[task.id] = task.lease_until - LEASE
            repo.lease(s, [t for t, _ in rows], self.worker, self.now + LEASE)
        return rows, last

    def record(self, session: Session) -> None:
        """Record the delivered reminders of the last batch and their next slots."""
        with self.lock:
            pending, self.pending = self.pending, []
        self.report.superseded += repo.record_sent(session, pending, self.worker, now=self.now)

    def release(self, rows: Iterable[repo.TaskRow]) -> None:
        with self.db.session() as s:
            for task, _ in rows:
                repo.release(s, task.id, self.worker)

    def deliver(self, task: Task, incident: Incident, deadline: float) -> None:
        if (task.owner_user_id in self.gone or self.paused is not None
                or time.monotonic() > deadline):
            # Its owner just left (reminders stopped), Slack refuses Sitrep itself, or Slack
            # is so slow that the lease could run out: give it back, still due.
            self.release([(task, incident)])
            with self.lock:
                self.report.skipped += 1
            return
        since = self.unsure.get(task.id)
        found: Sent | None = None
        try:
            zone = self.zone(task.owner_user_id)
            slot = self.now if self.force or task.next_reminder_at is None \
                else min(task.next_reminder_at, self.now)
            reminder = Reminder(task, incident, zone, local_today(zone, self.now), slot)
            if since is not None:
                found = self.messenger.find_reminder(reminder, since)
            outcome = found or self.messenger.remind(reminder)
        except Exception:
            log.exception("reminder for %s failed; it stays due", task.ref)
            # A row whose delivery is unknown keeps its lease: it is checked again, not sent.
            outcome = Retry("error", uncertain=since is not None)
        if isinstance(outcome, Sent):
            next_at = next_reminder(task.due_date, zone, self.policy, self.now)
            with self.lock:
                self.pending.append((task.id, next_at, outcome.channel_id, outcome.ts))
                if found is not None:
                    self.report.recovered += 1
                else:
                    self.report.sent += 1
                    self.report.sent_task_ids.append(task.id)
                if reminder.overdue_days > self.policy.escalate_after_days:
                    self.to_escalate.add(incident.id)
        elif isinstance(outcome, Retry):
            log.info("reminder for %s not delivered (%s); due next pass", task.ref,
                     outcome.reason)
            if not outcome.uncertain:
                self.release([(task, incident)])
            with self.lock:
                self.report.retried += 1
        elif isinstance(outcome, Paused):
            # Not the owner's doing: keep it due, and stop this pass (the messenger's health
            # says when to try again; the operator has been told).
            self.release([(task, incident)])
            with self.lock:
                self.paused = self.report.paused = outcome.code
        elif isinstance(outcome, Failed):
            failures = (task.send_failures or 0) + 1
            delay = retry_delay(failures)
            log.warning("reminder for %s refused (%s), %d time(s) in a row; next try in %s",
                        task.ref, outcome.code, failures, delay)
            with self.db.session() as s:
                repo.record_failure(s, task.id, self.worker, retry_at=self.now + delay)
            with self.lock:
                self.report.backed_off += 1
        else:
            self.stop_owner(task.owner_user_id, outcome.code)

    def stop_owner(self, owner: str, code: str) -> None:
        """The owner has left: no more reminders to them; each incident's lead is told once."""
        with self.lock:
            if owner in self.gone:
                return
            self.gone.add(owner)
            self.report.owners_unreachable += 1
        with self.db.session() as s:
            stopped = repo.stop_reminders_for_owner(s, owner, code)
        by_incident: dict[int, tuple[Incident, list[Task]]] = {}
        for task, incident in stopped:
            by_incident.setdefault(incident.id, (incident, []))[1].append(task)
        for incident, tasks in by_incident.values():
            try:
                self.messenger.owner_unreachable(incident, owner, code, tasks)
            except Exception:
                log.exception("could not tell %s's lead that %s is unreachable", incident.ref,
                              owner)

    def escalate(self, incident_id: int) -> None:
        """List the incident's long-overdue tasks in its channel, once per UTC day."""
        with self.db.session() as s:
            incident = incident_repo.get(s, incident_id)
            tasks = list(repo.open_in_incident(s, incident_id))
        if incident is None or not incident.channel_id:
            return
        overdue = []
        for task in tasks:
            days = days_overdue(task.due_date,
                                local_today(self.zone(task.owner_user_id), self.now))
            if days > self.policy.escalate_after_days:
                overdue.append(Overdue(task, days))
        if not overdue:
            return
        day = self.now.astimezone(dt.UTC).date()
        with self.db.session() as s:
            if not escalations.claim(s, incident_id, day, self.now):
                return
        try:
            posted = self.messenger.escalate(incident, overdue)
        except Exception:
            log.exception("escalating overdue tasks of %s failed", incident.ref)
            posted = False
        if posted:
            self.report.escalated += 1
        else:
            with self.db.session() as s:
                escalations.unclaim(s, incident_id, day)


def sweep(db: Database, clock: Clock, policy: Policy, messenger: Messenger, *,
          now: dt.datetime | None = None, force: bool = False, batch: int | None = None,
          workers: int = 1, worker: str | None = None) -> SweepReport:
    """One reminder pass: send every due reminder once, then escalate long-overdue tasks.

    ``force`` treats ``now`` as a slot for everyone (``incident-bot remind --now``). Safe to
    run on every replica at once: claims are disjoint and leased. ``workers`` > 1 delivers
    a claimed batch in parallel (Slack's latency, not ours, bounds a pass); a batch is
    ``CLAIM_PER_WORKER`` rows per worker unless ``batch`` says otherwise.
    """
    batch = batch or max(1, workers) * CLAIM_PER_WORKER
    run = _Pass(db, policy, messenger, now or clock.now(), worker or worker_id())
    run.force = force
    paused = messenger.paused()
    if paused is not None:
        log.debug("reminder pass skipped: sending is paused (%s)", paused)
        run.report.paused = paused
        return run.report
    if force:
        with db.session() as s:
            owners = repo.open_owners(s)
        for owner in owners:
            run.zone(owner)
    pool = ThreadPoolExecutor(workers, "sitrep-remind") if workers > 1 else None
    sending: list[Future[None]] = []
    try:
        after_id: int | None = 0
        while after_id is not None and run.paused is None:
            # The next batch is claimed (and what has been delivered recorded) while the
            # workers still send the last one: a pass holds at most two batches (a batch
            # claimed as Slack refused Sitrep itself is given back unsent by ``deliver``).
            rows, after_id = run.claim(force, after_id, batch)
            for future in sending:
                future.result()
            deadline = time.monotonic() + LEASE.total_seconds() / 2
            if pool is None:
                for task, incident in rows:
                    run.deliver(task, incident, deadline)
            else:
                sending = [pool.submit(run.deliver, task, incident, deadline)
                           for task, incident in rows]
        for future in sending:
            future.result()
        with db.session() as s:
            run.record(s)
    finally:
        if pool is not None:
            pool.shutdown()
    for incident_id in sorted(run.to_escalate):
        try:
            run.escalate(incident_id)
        except Exception:
            log.exception("escalation check of incident %s failed; next pass retries",
                          incident_id)
    report = run.report
    if report.sent or report.retried or report.owners_unreachable or report.skipped \
            or report.escalated or report.backed_off or report.paused or report.recovered:
        log.info("reminder pass: %s", report)
    return report

