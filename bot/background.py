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
from bot.due import slack as due_work
from storage import channel_messages, events, timeline
from storage.db import is_unavailable

log = logging.getLogger(__name__)

#: Extra periodic jobs from feature modules: (name, seconds(settings), run(deps, client)).
JOBS: list[tuple[str, Callable[[Deps], int], Callable[[Deps, WebClient], object]]] = []
JOBS.append(("due_work", due_work.poll_seconds, due_work.run_due))

#: Slack redelivers for minutes; a week covers that with room for a long outage's replay.
PROCESSED_EVENT_RETENTION = dt.timedelta(days=7)
#: Rows deleted per transaction: short locks, never a long stall of the event path.
PURGE_BATCH = 500
#: Batches per table and run: a backlog drains over several runs, each run stays short.
PURGE_MAX_BATCHES = 40
PURGE_SECONDS = 600


def _in_batches(deps: Deps, purge: Callable[..., int], cutoff: dt.datetime,
                batch: int, max_batches: int) -> int:
    total = 0
    for _ in range(max_batches):
        with deps.db.session() as s:
            done = purge(s, cutoff, batch)
        total += done
        if done < batch:
            break
    return total


def purge_stored(deps: Deps, _client: WebClient, *, batch: int = PURGE_BATCH,
                 max_batches: int = PURGE_MAX_BATCHES) -> tuple[int, int, int]:
    """Keep storage bounded: forget processed event ids and reaction marks after a week, and
    the kept messages of incidents resolved ``CHANNEL_MESSAGE_RETENTION_DAYS`` ago (what was
    pinned is on the timeline). Small batches, each its own transaction; returns (events,
    messages, marks)."""
    now = deps.clock.now()
    forgotten = _in_batches(deps, events.purge_before, now - PROCESSED_EVENT_RETENTION,
                            batch, max_batches)
    retention = dt.timedelta(days=deps.settings.channel_message_retention_days)
    messages = _in_batches(deps, channel_messages.purge_batch, now - retention, batch,
                           max_batches)
    marks = _in_batches(deps, timeline.purge_reaction_marks, now - PROCESSED_EVENT_RETENTION,
                        batch, max_batches)
    if forgotten or messages or marks:
        log.info("purged %d processed event id(s) and %d reaction mark(s) older than %d days, "
                 "and %d kept message(s) of incidents resolved over %d days ago", forgotten,
                 marks, PROCESSED_EVENT_RETENTION.days, messages, retention.days)
    return forgotten, messages, marks


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
    scheduler.add_job(_safe("purge_stored", purge_stored, deps, client, PURGE_SECONDS),
                      "interval", seconds=PURGE_SECONDS, id="purge_stored",
                      name="purge_stored")
    for name, seconds, job in JOBS:
        interval = seconds(deps)
        scheduler.add_job(_safe(name, job, deps, client, interval), "interval",
                          seconds=interval, id=name, name=name,
                          next_run_time=dt.datetime.now(dt.UTC))
    scheduler.start()
    return scheduler
