"""📌 pins end to end: how many the bot stores per second, and what one costs in Web API calls.

Each pin is a signed ``reaction_added`` event over HTTP into the real Bolt app (sandbox),
answered only once the entry is committed (``process_before_response``), so a 200 means
stored. Messages are posted first as ``message`` events, as in a real incident channel.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from bot.sandbox.sandbox import Sandbox
from storage.models import TimelineEntry

SEQUENTIAL = 300
CONCURRENT = 600
SENDERS = 8
UNSEEN = 50


def _open_incident(sb: Sandbox) -> str:
    sb.sim.command("start sev2 Benchmark incident", channel=sb.general)
    sb.fake.wait_for_calls("pins.add", timeout=30)
    return sb.incident_channel(1)["id"]


def _post(sb: Sandbox, channel: str, n: int, users: list[str]) -> list[dict[str, Any]]:
    messages = []
    for i in range(n):
        message = sb.fake.user_message(channel, users[i % len(users)], f"step {i}: all good")
        assert sb.sim.message(message, channel).status == 200
        messages.append(message)
    return messages


def _pin_events(sb: Sandbox, channel: str, messages: list[dict[str, Any]]) -> list[dict]:
    return [sb.fake.add_reaction(channel, m["ts"], sb.settings.timeline_emoji, "U0LEAD")
            for m in messages]


def _stored(sb: Sandbox) -> int:
    with sb.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(TimelineEntry)
                            .where(TimelineEntry.kind == "message")) or 0)


def _settle(sb: Sandbox, confirmations: int) -> None:
    assert sb.fake.wait_for(lambda: len(sb.fake.ephemerals) >= confirmations, timeout=60)


def measure(database_url: str) -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    with Sandbox(database_url) as sb:
        channel = _open_incident(sb)
        users = ["U0ALICE", "U0BOB", "U0CARA", "U0LEAD"]
        warm = _post(sb, channel, len(users), users)  # names and the workspace URL get cached
        for event in _pin_events(sb, channel, warm):
            assert sb.sim.event(event).status == 200
        _settle(sb, len(warm))

        # Sequential: one Slack delivery at a time; also the per-pin latency.
        events = _pin_events(sb, channel, _post(sb, channel, SEQUENTIAL, users))
        sb.fake.reset_calls()
        latencies = []
        started = time.perf_counter()
        for event in events:
            sent = time.perf_counter()
            assert sb.sim.event(event).status == 200
            latencies.append(time.perf_counter() - sent)
        elapsed = time.perf_counter() - started
        _settle(sb, len(warm) + SEQUENTIAL)
        calls = Counter(c.method for c in sb.fake.calls)
        assert _stored(sb) == len(warm) + SEQUENTIAL
        rows += [
            ("pins stored per second, one delivery at a time", SEQUENTIAL / elapsed, "pins/s"),
            ("pin event answered (stored) median", statistics.median(latencies) * 1000, "ms"),
            ("pin event answered (stored) p99",
             sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000, "ms"),
            ("Web API calls per pin, message seen (total)",
             sum(calls.values()) / SEQUENTIAL, "calls"),
            ("Web API reads per pin, message seen",
             sum(n for m, n in calls.items() if m != "chat.postEphemeral") / SEQUENTIAL,
             "calls"),
        ]

        # Concurrent: SENDERS deliveries in flight, as Slack does for a busy channel.
        events = _pin_events(sb, channel, _post(sb, channel, CONCURRENT, users))
        queue = list(enumerate(events))
        lock = threading.Lock()
        failures: list[int] = []

        def sender() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    _, event = queue.pop()
                status = sb.sim.event(event).status
                if status != 200:
                    failures.append(status)

        threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        assert not failures, failures
        assert _stored(sb) == len(warm) + SEQUENTIAL + CONCURRENT
        rows.append((f"pins stored per second, {SENDERS} deliveries in flight",
                     CONCURRENT / elapsed, "pins/s"))
        _settle(sb, len(warm) + SEQUENTIAL + CONCURRENT)

        # Messages the bot never saw (posted before it joined): one history read each.
        unseen = [sb.fake.user_message(channel, users[i % 4], f"old {i}") for i in range(UNSEEN)]
        events = _pin_events(sb, channel, unseen)
        sb.fake.reset_calls()
        done = len(sb.fake.ephemerals)
        for event in events:
            assert sb.sim.event(event).status == 200
        _settle(sb, done + UNSEEN)
        rows.append(("Web API calls per pin, message never seen (total)",
                     len(sb.fake.calls) / UNSEEN, "calls"))
    return rows


if __name__ == "__main__":
    import sys
    import tempfile

    url = sys.argv[1] if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as tmp:
        for metric, value, unit in measure(url or f"sqlite:///{tmp}/bench.db"):
            print(f"{metric:55} {value:10.2f} {unit}")
