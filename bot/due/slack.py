"""Slack side of due work: one pass of everything due, as the scheduler and ``remind`` run it.

Task reminders go first (their rows are the tasks, ``bot.tasks.notify``), then each
``Kind`` of due work rows in ``kinds``' order, all through the same pump
(``bot.due.pump``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot import metrics
from bot.deps import Deps
from bot.digest.slack import DigestKind
from bot.due.pump import Kind, KindReport, pump
from bot.nudges.slack import NudgeKind
from bot.postmortem.followup_slack import FollowupKind
from bot.tasks import notify
from bot.tasks.reminders import SweepReport


def kinds(deps: Deps, client: WebClient) -> list[Kind]:
    """Every kind of due work rows, in the order a pass serves them."""
    found: list[Kind] = [NudgeKind(deps, client), FollowupKind(deps, client)]
    if deps.settings.digest_channel:
        found.append(DigestKind(deps, client))
    return found


@dataclass
class DueReport:
    """What one pass of all due work did."""

    reminders: SweepReport
    kinds: dict[str, KindReport] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [f"reminder pass: {self.reminders}",
                *(f"{name} pass: {report}" for name, report in self.kinds.items())]


def run_due(deps: Deps, client: WebClient, *, force: bool = False,
            now: dt.datetime | None = None) -> DueReport:
    """One pass of all due work (the background job, ``remind`` and the demo call this).

    ``force`` (``remind --now``) treats now as a reminder slot for every task owner; the
    other kinds send only what is due.
    """
    reminders = notify.run_reminders(deps, client, force=force, now=now)
    if reminders.paused is not None:  # Slack refuses Sitrep itself: nothing else gets out
        return DueReport(reminders)
    reports = pump(deps.db, kinds(deps, client), now or deps.clock.now())
    for name, report in reports.items():
        for outcome in ("sent", "recovered", "retried", "backed_off", "superseded"):
            if count := getattr(report, outcome):
                metrics.DUE_WORK.labels(name, outcome).inc(count)
    return DueReport(reminders, reports)


def poll_seconds(deps: Deps) -> int:
    """How often the scheduler runs a pass: ``REMINDER_POLL_SECONDS``."""
    return deps.settings.reminder_poll_seconds
