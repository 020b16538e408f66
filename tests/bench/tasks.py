"""Benchmark of task reminders: one pass's throughput, and duplicates with two replicas.

``measure(database_url)`` seeds an incident with ``TASKS`` tasks that are all due, runs one
reminder pass through the real Slack shell against the fake Slack (a DM per task: the
first to each owner also opens the DM), then makes them all due again and runs two replicas
(two engines, two Web API clients) at once, counting DMs per task. A last pass sends
``LATENCY_TASKS`` reminders with ``LATENCY`` added to every Web API answer, closer to real
Slack, where the parallel sends of a batch matter. The incidents and their tasks are deleted
afterwards, so the database is left as it was found.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections import Counter
from typing import Any

from sqlalchemy import delete, text, update

from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.sandbox.sandbox import Sandbox
from bot.slack.client import make_client
from bot.tasks.notify import run_reminders
from bot.tasks.reminders import Policy, next_reminder
from storage import incidents as incident_repo
from storage import tasks as repo
from storage.db import Database
from storage.models import Incident, SlackUser, Task

TASKS = int(os.environ.get("BENCH_TASKS", "10000"))
LATENCY_TASKS = 200
LATENCY = 0.05
OWNERS = 40
ZONES = ("Europe/Paris", "America/New_York", "Pacific/Auckland", "Pacific/Honolulu", "UTC")
START = dt.datetime(2031, 3, 4, 9, 0, tzinfo=dt.UTC)  # a Tuesday


def _dm_counts(sb: Sandbox, since: int, ids: set[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for call in sb.fake.calls_to("chat.postMessage")[since:]:
        blocks = call.args.get("blocks") or []
        if blocks and blocks[-1].get("type") == "actions":
            value = blocks[-1]["elements"][0]["value"]
            if value in ids:
                counts[value] += 1
    return counts


def _seed(sb: Sandbox, count: int = TASKS) -> tuple[int, set[str]]:
    owners = [f"U0BENCH{n:03d}" for n in range(OWNERS)]
    for n, owner in enumerate(owners):
        sb.fake.add_user(owner, owner.lower(), tz=ZONES[n % len(ZONES)])
    with sb.db.session() as s:
        incident = incident_repo.create(
            s, team_id=sb.fake.team_id, now=START, title="Benchmark", severity="sev3",
            status="resolved", lead_user_id="U0LEAD", created_by="U0LEAD", started_at=START)
        ids = set()
        for n in range(count):
            task = repo.create(s, team_id=sb.fake.team_id, incident_id=incident.id,
                               owner_user_id=owners[n % OWNERS], text=f"Corrective task {n}",
                               due_date=START.date() - dt.timedelta(days=1), created_by="U0LEAD",
                               now=START, next_reminder_at=START)
            ids.add(str(task.id))
    if sb.db.engine.dialect.name == "postgresql":
        # Statistics, as autovacuum gathers them after a bulk insert: without them the
        # planner scans every due row for each small claim (a fresh table's artefact).
        with sb.db.engine.connect() as conn:
            conn.execute(text("ANALYZE tasks"))
            conn.commit()
    return incident.id, ids


def _two_replicas(sb: Sandbox, database_url: str) -> tuple[float, int]:
    other = Deps(settings=sb.settings, db=Database(database_url), clock=sb.deps.clock)
    pairs = [(sb.deps, sb.app.client), (other, make_client(sb.settings))]
    barrier = threading.Barrier(len(pairs))
    sent: list[int] = []
    errors: list[BaseException] = []

    def replica(deps: Deps, client: Any) -> None:
        try:
            barrier.wait()
            sent.append(run_reminders(deps, client).sent)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=pair) for pair in pairs]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    other.db.dispose()
    if errors:
        raise errors[0]
    return elapsed, sum(sent)


def _bare_loop(sb: Sandbox, owners: list[str], blocks: list[dict[str, Any]],
               count: int = TASKS) -> float:
    """The same Web API calls (a DM opened per owner, a DM per task) from a plain loop with
    ``slack_sdk`` and nothing else: the floor a reminder pass is compared with. Seconds."""
    client = make_client(sb.settings)
    began = time.perf_counter()
    channels = [client.conversations_open(users=owner)["channel"]["id"] for owner in owners]
    for n in range(count):
        client.chat_postMessage(channel=channels[n % len(channels)], text=f"Reminder {n}",
                                blocks=blocks)
    return time.perf_counter() - began


def measure(database_url: str) -> list[tuple[str, float, str]]:
    """Rows of (metric, value, unit) for the tasks feature."""
    clock = FixedClock(START)
    with Sandbox(database_url, clock=clock) as sb:
        incident_id, ids = _seed(sb)
        seeded = [incident_id]
        try:
            before = len(sb.fake.calls)
            began = time.perf_counter()
            report = run_reminders(sb.deps, sb.app.client)
            one_pass = time.perf_counter() - began
            calls = len(sb.fake.calls) - before
            one = _dm_counts(sb, 0, ids)
            assert report.sent == TASKS == len(one), (report, len(one))
            sample = sb.fake.calls_to("chat.postMessage")[-1].args.get("blocks") or []
            owners = sorted({t for t in sb.fake.users if t.startswith("U0BENCH")})
            bare = _bare_loop(sb, owners, sample)

            # The next slot for everyone: the same tasks, due again, sent by two replicas.
            later = max(next_reminder(START.date(), dt.UTC, Policy.from_settings(sb.settings),
                                      START) or START, START + dt.timedelta(days=1))
            with sb.db.session() as s:
                s.execute(update(Task).where(Task.incident_id == incident_id)
                          .values(next_reminder_at=later))
            clock.set(later)
            since = len(sb.fake.calls_to("chat.postMessage"))
            two_elapsed, two_sent = _two_replicas(sb, database_url)
            two = _dm_counts(sb, since, ids)
            duplicates = sum(n - 1 for n in two.values() if n > 1)
            missed = len(ids - set(two))

            slow_incident, _ = _seed(sb, LATENCY_TASKS)
            seeded.append(slow_incident)
            sb.fake.latency = LATENCY
            began = time.perf_counter()
            slow = run_reminders(sb.deps, sb.app.client)
            slow_rate = slow.sent / (time.perf_counter() - began)
            slow_bare = LATENCY_TASKS / _bare_loop(sb, owners, sample, LATENCY_TASKS)
            sb.fake.latency = 0.0
        finally:
            with sb.db.session() as s:
                s.execute(delete(Incident).where(Incident.id.in_(seeded)))
                s.execute(delete(SlackUser).where(SlackUser.user_id.like("U0BENCH%")))
    return [
        (f"reminder pass over {TASKS} due: reminders/s, one replica", TASKS / one_pass,
         "reminders/s"),
        ("bare slack_sdk loop, same calls: DMs/s", TASKS / bare, "DMs/s"),
        ("reminder pass time / bare loop time", one_pass / bare, "x"),
        ("reminders/s, two replicas at once", two_sent / two_elapsed, "reminders/s"),
        ("duplicate reminders, two replicas", duplicates, "reminders"),
        ("missed reminders, two replicas", missed, "reminders"),
        ("Web API calls per reminder", calls / TASKS, "calls"),
        (f"reminders/s with {LATENCY * 1000:.0f} ms Slack latency ({LATENCY_TASKS} due)",
         slow_rate, "reminders/s"),
        (f"bare loop with {LATENCY * 1000:.0f} ms Slack latency", slow_bare, "DMs/s"),
    ]


if __name__ == "__main__":  # ad hoc: python -m tests.bench.tasks [database_url]
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tmp}/bench.db"
        for name, value, unit in measure(url):
            print(f"{name:45s} {value:10.2f} {unit}")
