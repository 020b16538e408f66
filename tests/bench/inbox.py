"""The inbox under stress: acks while Slack rate-limits every read, commands and health
checks during a pin stall, and how fast a spool filled during an outage is applied.

In-process (the sandbox: fake Slack, the real Bolt app over HTTP, the database given).
"""

from __future__ import annotations

import os
import time
import urllib.request

from bot.sandbox.sandbox import Sandbox
from tests.bench.ack_latency import p99
from tests.timeline.support import database_down, open_incident

#: Pins of messages the bot never saw, sent while every history read is rate-limited.
STALL = int(os.environ.get("BENCH_INBOX_STALL", "24"))
EVENTS = int(os.environ.get("BENCH_INBOX_EVENTS", "300"))
COMMANDS = int(os.environ.get("BENCH_INBOX_COMMANDS", "100"))
REPLAY = int(os.environ.get("BENCH_INBOX_REPLAY", "2000"))

Row = tuple[str, float, str]


def _ms(samples: list[float]) -> float:
    return p99(samples) * 1000


def _pins(sb: Sandbox, channel: str, count: int) -> list[float]:
    """Pin ``count`` messages the bot never saw; the ack time of each."""
    acks = []
    for n in range(count):
        message = sb.fake.user_message(channel, "U0ALICE", f"old {n}")
        event = sb.fake.add_reaction(channel, message["ts"], "pushpin", "U0LEAD")
        started = time.perf_counter()
        assert sb.sim.event(event, settle=False).status == 200
        acks.append(time.perf_counter() - started)
    return acks


def _rate_limited(sb: Sandbox, channel: str) -> list[Row]:
    sb.fake.fail("conversations.history", "ratelimited", times=-1, retry_after=1)
    acks = _pins(sb, channel, STALL)
    commands, health = [], []
    for _ in range(COMMANDS):
        started = time.perf_counter()
        assert sb.sim.command("help", channel=channel).status == 200
        commands.append(time.perf_counter() - started)
        started = time.perf_counter()
        with urllib.request.urlopen(f"{sb.server.url}/healthz", timeout=10):  # type: ignore[union-attr]
            pass
        health.append(time.perf_counter() - started)
    acks += _pins(sb, channel, EVENTS - STALL)
    rows = [(f"pin ack p99, every history read rate-limited ({EVENTS} pins)", _ms(acks), "ms"),
            ("pins still waiting for Slack then", float(sb.inbox.spool.depth), "events"),
            (f"/incident help ack p99 during a {STALL}-pin stall", _ms(commands), "ms"),
            (f"/healthz p99 during a {STALL}-pin stall", _ms(health), "ms")]
    sb.fake.clear_failures()
    sb.inbox.wait_idle(timeout=600)
    return rows


def _replay(sb: Sandbox, channel: str) -> list[Row]:
    with database_down(sb):
        for n in range(REPLAY // 2):
            message = sb.fake.user_message(channel, "U0ALICE", f"during the outage {n}")
            assert sb.sim.message(message, channel, settle=False).status == 200
            event = sb.fake.add_reaction(channel, message["ts"], "pushpin", "U0LEAD")
            assert sb.sim.event(event, settle=False).status == 200
        depth = sb.inbox.spool.depth
    started = time.perf_counter()
    sb.inbox.poke()
    while sb.inbox.spool.depth:
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    return [(f"inbox replay after an outage ({depth} events: messages and their pins)",
             depth / seconds, "events/s")]


def measure(database_url: str) -> list[Row]:
    with Sandbox(database_url) as sb:
        channel = open_incident(sb)
        return _rate_limited(sb, channel) + _replay(sb, channel)
