"""Periodic work inside ``serve`` and ``socket``, pumped by APScheduler 3.

State lives in database rows, never in an APScheduler job store: each job is a short
sweep that is safe to run on every replica at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.deps import Deps
from bot.tasks import notify
from storage import events

log = logging.getLogger(__name__)

#: Extra periodic jobs from feature modules: (name, seconds(settings), run(deps, client)).
JOBS: list[tuple[str, Callable[[Deps], int], Callable[[Deps, WebClient], object]]] = []
JOBS.append(("task_reminders", notify.poll_seconds, notify.run_reminders))

PROCESSED_EVENT_RETENTION = dt.timedelta(days=3)


def purge_processed_events(deps: Deps, _client: WebClient) -> int:
    """Forget event ids older than Slack's redelivery window (it retries for minutes)."""
    with deps.db.session() as s:
        return events.purge_before(s, deps.clock.now() - PROCESSED_EVENT_RETENTION)


def _safe(name: str, job: Callable[[Deps, WebClient], object], deps: Deps,
          client: WebClient) -> Callable[[], None]:
    def run() -> None:
        try:
            job(deps, client)
        except Exception:
            log.exception("background job %s failed; it will run again", name)

    return run


def start_background(deps: Deps, client: WebClient) -> BackgroundScheduler:
    """Start the scheduler with every job; call ``shutdown()`` on exit."""
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    scheduler.add_job(_safe("purge_processed_events", purge_processed_events, deps, client),
                      "interval", hours=1, id="purge_processed_events")
    for name, seconds, job in JOBS:
        scheduler.add_job(_safe(name, job, deps, client), "interval", seconds=seconds(deps),
                          id=name, next_run_time=dt.datetime.now(dt.UTC))
    scheduler.start()
    return scheduler
