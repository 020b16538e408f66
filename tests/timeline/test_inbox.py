"""Events are answered after one durable append, whatever Slack's Web API is doing.

A pin of a message the bot never saw needs a ``conversations.history`` read. While Slack
rate-limits every such read, the events are still answered (they wait in the inbox), the
pins complete once Slack lets the read through, and commands and health checks are answered
meanwhile: they never queue behind events.
"""

from __future__ import annotations

import json
import urllib.request

from bot.sandbox.sandbox import Sandbox
from tests.timeline.support import command, entries, ephemerals, open_incident, react


def _unseen(sb: Sandbox, channel: str, count: int) -> list[dict]:
    """Messages posted in ``channel`` that the bot never got an event for."""
    return [sb.fake.user_message(channel, "U0ALICE", f"from before the bot saw it, #{n}")
            for n in range(count)]


def test_while_slack_rate_limits_every_read_events_are_answered_and_pins_complete_later(
        sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    old = _unseen(sb, channel, 3)
    sb.fake.fail("conversations.history", "ratelimited", times=-1, retry_after=1)
    for message in old:
        reply, _ = react(sb, channel, message["ts"], "U0LEAD", settle=False)
        assert reply.status == 200
    assert sb.inbox.wait_idle(timeout=60)  # tried, and now waiting for Slack's Retry-After
    assert sb.fake.calls_to("conversations.history")
    assert entries(sb, kind="message") == [] and sb.inbox.spool.depth == 3
    assert not sb.fake.ephemerals
    sb.fake.clear_failures()
    sb.deps.clock.advance(minutes=1)  # type: ignore[attr-defined]  (past the Retry-After)
    assert sb.inbox.wait_idle(timeout=60)
    assert [e.text for e in entries(sb, kind="message")] == [m["text"] for m in old]
    assert sb.inbox.spool.depth == 0
    assert [n["user"] for n in ephemerals(sb, 3)] == ["U0LEAD"] * 3


def test_a_24_pin_stall_does_not_delay_commands_or_health_checks(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    old = _unseen(sb, channel, 24)
    sb.fake.fail("conversations.history", "ratelimited", times=-1, retry_after=1)
    for message in old:
        assert react(sb, channel, message["ts"], "U0LEAD", settle=False)[0].status == 200
    # The worker is stuck on Slack's rate limit with all 24 pins still waiting, and yet:
    assert "`/incident start" in command(sb, channel, "help")
    with urllib.request.urlopen(f"{sb.server.url}/healthz", timeout=10) as resp:  # type: ignore[union-attr]
        assert resp.status == 200 and json.loads(resp.read())["inbox"] == 24
    assert sb.inbox.spool.depth == 24 and entries(sb, kind="message") == []
    sb.fake.clear_failures()
    sb.deps.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert sb.inbox.wait_idle(timeout=60)
    assert len(entries(sb, kind="message")) == 24 and sb.inbox.spool.depth == 0
