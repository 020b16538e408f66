"""``/incident start``: time to the ack and to the channel being ready (card pinned)."""

from __future__ import annotations

import statistics
import time

from bot.sandbox.sandbox import Sandbox

RUNS = 100


def measure(database_url: str) -> list[tuple[str, float, str]]:
    acks: list[float] = []
    ready: list[float] = []
    with Sandbox(database_url) as sb:
        for n in range(1, RUNS + 1):
            sent = time.time()
            reply = sb.sim.command(f"start sev2 Benchmark incident {n}", channel=sb.general)
            acks.append(time.time() - sent)
            assert reply.status == 200
            pins = sb.fake.wait_for_calls("pins.add", n, timeout=30)
            ready.append(pins[n - 1].at - sent)
    ms = 1000
    return [
        ("start: ack median", statistics.median(acks) * ms, "ms"),
        ("start: ack p99", sorted(acks)[int(len(acks) * 0.99) - 1] * ms, "ms"),
        ("start: channel ready median", statistics.median(ready) * ms, "ms"),
        ("start: channel ready p99", sorted(ready)[int(len(ready) * 0.99) - 1] * ms, "ms"),
    ]
