"""Faults: forged or stale requests, a starved connection pool, a struggling Slack."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bot.common.clock import FixedClock
from bot.sandbox.sandbox import Sandbox
from storage.db import PoolSettings
from storage.models import Incident, TimelineEntry


def _count(sb: Sandbox, model: type) -> int:
    with sb.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.http_only  # signatures are HTTP's; a Socket Mode connection is the app's own
@pytest.mark.parametrize("forge", ["missing", "wrong", "stale", "future"])
def test_unsigned_forged_or_stale_requests_are_refused(sandbox: Sandbox, forge: str) -> None:
    sb = sandbox
    body = sb.sim.command_body("start Forged incident", channel=sb.general)
    now = int(time.time())
    kwargs: dict = {
        "missing": {"signature": ""},
        "wrong": {"signature": "v0=" + "0" * 64},
        "stale": {"timestamp": now - 301},
        "future": {"timestamp": now + 301},
    }[forge]
    reply = sb.sim.send(body, "application/x-www-form-urlencoded", **kwargs)
    assert reply.status == 401
    event = sb.sim.event_body({"type": "reaction_added", "user": "U0LEAD", "reaction": "pushpin",
                               "item": {"type": "message", "channel": sb.general, "ts": "1.2"},
                               "event_ts": "1.3"})
    assert sb.sim.send(event, "application/json", **kwargs).status == 401
    time.sleep(0.2)  # give any (wrongly) accepted work the chance to show up
    assert sb.fake.calls_to("conversations.create") == []
    assert _count(sb, Incident) == 0


def test_pool_exhaustion_200_commands_against_5_connections(transport: str, database_url: str,
                                                            clock: FixedClock) -> None:
    pool = PoolSettings(size=5, max_overflow=0, timeout=10, connect_timeout=2)
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 pool=pool) as sb:
        sb.sim.command("start Pool test", channel=sb.general)
        channel = sb.incident_channel(1)["id"]
        sb.fake.wait_for_calls("pins.add")
        texts = [f"impact wave {n}" for n in range(200)]

        def send(text: str) -> tuple[int, float]:
            started = time.monotonic()
            reply = sb.sim.command(text, channel=channel, user="U0ALICE")
            return reply.status, time.monotonic() - started

        with ThreadPoolExecutor(max_workers=200) as burst:
            results = list(burst.map(send, texts))
        assert all(status == 200 for status, _ in results)
        assert max(elapsed for _, elapsed in results) < 3.0
        assert sb.fake.wait_for(lambda: len(sb.fake.calls_to("chat.update")) >= 200, 60)
        with sb.db.session() as s:
            impacts = s.scalars(select(TimelineEntry.id).where(
                TimelineEntry.event_type == "impact")).all()
        assert len(impacts) == 200  # every one carried out, none doubled
        assert not [r for r in sb.fake.responses if "unavailable" in r.get("text", "")]


def test_slack_struggling_for_a_while_loses_and_doubles_nothing(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.fake.fail("conversations.create", "ratelimited", times=2, retry_after=1)
    sb.fake.fail("chat.postMessage", "http_500", times=1)
    sb.fake.fail("pins.add", "ratelimited", times=1, retry_after=1)
    sb.sim.command("start Flaky Slack", channel=sb.general)
    sb.fake.wait_for_calls("pins.add", 2, timeout=15)
    assert sb.fake.wait_for(lambda: any("is open" in r.get("text", "")
                                        for r in sb.fake.responses), 10)
    assert len([c for c in sb.fake.channels.values() if c["name"].startswith("inc-1")]) == 1
    channel = sb.incident_channel(1)["id"]
    cards = [m for m in sb.fake.messages(channel) if m.get("blocks")]
    assert len(cards) == 1 and sb.fake.pinned(channel) == [cards[0]["ts"]]
    assert _count(sb, Incident) == 1


def test_slack_timeouts_are_retried(transport: str, database_url: str, clock: FixedClock) -> None:
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 slack_timeout=1) as sb:
        sb.fake.timeout_seconds = 2  # longer than the client's timeout
        sb.fake.fail("conversations.invite", "timeout", times=1)
        sb.sim.command("start Slow Slack", channel=sb.general)
        assert sb.fake.wait_for(lambda: any("is open" in r.get("text", "")
                                            for r in sb.fake.responses), 40)
        invites = sb.fake.calls_to("conversations.invite")
        assert len(invites) == 2


def test_a_timed_out_post_is_not_repeated(
        transport: str, database_url: str, clock: FixedClock) -> None:
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 slack_timeout=1) as sb:
        sb.fake.timeout_seconds = 2
        sb.fake.fail("chat.postMessage", "timeout", times=1)
        sb.sim.command("start Slow card", channel=sb.general)
        assert sb.fake.wait_for(lambda: any("Slack" in r.get("text", "")
                                            for r in sb.fake.responses), 30)
        assert len(sb.fake.calls_to("chat.postMessage")) == 1
        assert _count(sb, Incident) == 1
