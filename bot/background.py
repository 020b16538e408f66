"""Periodic work inside ``serve`` and ``socket``, pumped by APScheduler 3.

State lives in database rows, never in an APScheduler job store: each job is a short
sweep that is safe to run on every replica at once.

What the log says: each job's own line when a run did something (``reminder pass: 2
reminders sent, …``), a warning when a run took longer than its interval (the next one
starts late), and APScheduler's own warnings when a run was missed or skipped altogether.
APScheduler's INFO lines at every run are silenced in ``bot.logs``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.deps import Deps
from bot.tasks import notify
from storage import events
from storage.db import is_unavailable

log = logging.getLogger(__name__)

#: Extra periodic jobs from feature modules: (name, seconds(settings), run(deps, client)).
JOBS: list[tuple[str, Callable[[Deps], int], Callable[[Deps, WebClient], object]]] = []
JOBS.append(("task_reminders", notify.poll_seconds, notify.run_reminders))

PROCESSED_EVENT_RETENTION = dt.timedelta(days=3)


def purge_processed_events(deps: Deps, _client: WebClient) -> int:
    """Forget event ids older than Slack's redelivery window (it retries for minutes)."""
    with deps.db.session() as s:
        purged = events.purge_before(s, deps.clock.now() - PROCESSED_EVENT_RETENTION)
    if purged:
        log.info("forgot %d processed event id(s) older than Slack's redelivery window", purged)
    return purged


def _safe(name: str, job: Callable[[Deps, WebClient], object], deps: Deps,
          client: WebClient, interval: float,
          timer: Callable[[], float] = time.monotonic) -> Callable[[], None]:
    """``job`` as a scheduler job: failures logged, and a run longer than ``interval`` told."""

    def run() -> None:
        started = timer()
        try:
            job(deps, client)
        except Exception as exc:
            if is_unavailable(exc):  # an outage, not a bug: one line, no traceback
                log.warning("background job %s: database unavailable (%s); it will run "
                            "again", name, exc.__class__.__name__)
            else:
                log.exception("background job %s failed; it will run again", name)
        took = timer() - started
        if took > interval:
            log.warning("background job %s took %.1f s, longer than its %g s interval: "
                        "the next run starts late", name, took, interval)

    return run


def start_background(deps: Deps, client: WebClient) -> BackgroundScheduler:
    """Start the scheduler with every job; call ``shutdown()`` on exit."""
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    hour = 3600
    scheduler.add_job(_safe("purge_processed_events", purge_processed_events, deps, client,
                            hour),
                      "interval", seconds=hour, id="purge_processed_events",
                      name="purge_processed_events")
    for name, seconds, job in JOBS:
        interval = seconds(deps)
        scheduler.add_job(_safe(name, job, deps, client, interval), "interval",
                          seconds=interval, id=name, name=name,
                          next_run_time=dt.datetime.now(dt.UTC))
    scheduler.start()
    return scheduler
