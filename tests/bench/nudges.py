"""Benchmark of update nudges: two replicas over a simulated day of five open incidents.

``measure(database_url)`` opens five incidents (two sev1, two sev2, one sev3) through the
real Bolt app and the fake Slack, then walks a controlled clock through 24 hours, a minute at
a time. At each minute two replicas (two engines, two Web API clients, the same database)
run a pass of all due work at once, as their schedulers would. It counts the nudges Slack
received per incident and nudge number: the expected count (every 30 min, 1 h, 4 h: 150),
and duplicates (target 0); and times the passes. The incidents are left in the benchmark's
own fresh database.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import threading
import time
from collections import Counter
from typing import Any

from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.due.slack import run_due
from bot.nudges.slack import NUDGE
from bot.sandbox.sandbox import Sandbox
from bot.slack.client import make_client
from storage.db import Database

START = dt.datetime(2031, 3, 4, 9, 0, tzinfo=dt.UTC)
SEVERITIES = ("sev1", "sev1", "sev2", "sev2", "sev3")
MINUTES = 24 * 60
EXPECTED = 48 + 48 + 24 + 24 + 6


def _metadata(args: dict[str, Any]) -> dict[str, Any]:
    raw = args.get("metadata") or {}
    return json.loads(raw) if isinstance(raw, str) else raw


def _open(sb: Sandbox) -> None:
    for n, severity in enumerate(SEVERITIES):
        done = len(sb.fake.responses)
        sb.sim.command(f"start {severity} Outage {n}", user="U0LEAD", channel=sb.general)
        assert sb.fake.wait_for(lambda d=done: len(sb.fake.responses) > d)
    assert sb.fake.wait_for(lambda: len(sb.fake.calls_to("pins.add")) >= len(SEVERITIES))


def measure(database_url: str) -> list[tuple[str, float, str]]:
    """Rows of (metric, value, unit) for update nudges."""
    clock = FixedClock(START)
    with Sandbox(database_url, clock=clock) as sb:
        _open(sb)
        other = Deps(settings=sb.settings, db=Database(database_url), clock=clock)
        replicas = [(sb.deps, sb.app.client), (other, make_client(sb.settings))]
        barrier = threading.Barrier(len(replicas))
        took: list[float] = []
        lock = threading.Lock()

        def replica(deps: Deps, client: Any) -> None:
            barrier.wait()
            began = time.perf_counter()
            run_due(deps, client)
            with lock:
                took.append(time.perf_counter() - began)

        try:
            for minute in range(MINUTES + 1):
                clock.set(START + dt.timedelta(minutes=minute))
                threads = [threading.Thread(target=replica, args=pair) for pair in replicas]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
        finally:
            other.db.dispose()
        keys = Counter(
            (meta["event_payload"]["incident"], meta["event_payload"]["nudge"])
            for call in sb.fake.calls_to("chat.postMessage")
            if (meta := _metadata(call.args)).get("event_type") == NUDGE)
    sent = sum(keys.values())
    took.sort()
    return [
        ("nudges: sent by 2 replicas over a simulated day of 5 incidents", sent, "nudges"),
        ("nudges: expected (sev1 30m, sev2 1h, sev3 4h)", EXPECTED, "nudges"),
        ("nudges: duplicates", sum(n - 1 for n in keys.values()), "nudges"),
        ("nudges: pass of all due work, median", statistics.median(took) * 1e3, "ms"),
        ("nudges: pass of all due work, p99", took[int(len(took) * 0.99)] * 1e3, "ms"),
    ]
