"""Update nudges end to end: the pump through the Slack shell to the fake, on a controlled clock.

Each test walks the clock in steps and runs a pass of all due work at each, as the scheduler
inside ``serve`` would, then looks at what the fake received in the incident's channel.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest

from bot.deps import Deps
from bot.due.slack import run_due
from bot.nudges import blocks
from bot.nudges.slack import NUDGE
from bot.sandbox.sandbox import Sandbox
from bot.slack.client import make_client
from bot.tasks.reminders import LEASE
from storage import due
from storage.db import Database
from tests.incidents.test_slack import in_channel, start

MIN = dt.timedelta(minutes=1)
T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # a Wednesday


def open_incident(sb: Sandbox, title: str, at: dt.datetime = T0) -> str:
    sb.deps.clock.set(at)  # type: ignore[attr-defined]
    return start(sb, title)["id"]


def nudges_posted(sb: Sandbox, channel: str | None = None) -> list[dict[str, Any]]:
    """Every nudge posted (args of chat.postMessage), in order."""
    return [c.args for c in sb.fake.calls_to("chat.postMessage")
            if _metadata(c.args).get("event_type") == NUDGE
            and (channel is None or c.args["channel"] == channel)]


def _metadata(args: dict[str, Any]) -> dict[str, Any]:
    raw = args.get("metadata") or {}
    return json.loads(raw) if isinstance(raw, str) else raw


def walk(sb: Sandbox, start_at: dt.datetime, minutes: int, step: int = 5) -> list[dt.datetime]:
    """Run a pass every ``step`` minutes; returns when each nudge was posted."""
    times = []
    for n in range(0, minutes + 1, step):
        now = start_at + n * MIN
        sb.deps.clock.set(now)  # type: ignore[attr-defined]
        before = len(nudges_posted(sb))
        run_due(sb.deps, sb.app.client)
        times += [now] * (len(nudges_posted(sb)) - before)
    return times


def shown(sb: Sandbox, channel: str) -> list[dict[str, Any]]:
    """The nudges still in the channel (not deleted), as Slack holds them."""
    return [m for m in sb.fake.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == NUDGE]


def test_a_sev1_is_nudged_after_30_minutes_then_every_30(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb, "sev1 Checkout down")
    times = walk(sb, T0, 95)
    assert times == [T0 + 30 * MIN, T0 + 60 * MIN, T0 + 90 * MIN]
    nudge = nudges_posted(sb, channel)[0]
    assert "<@U0LEAD>" in nudge["text"] and "INC-1" in nudge["text"]
    actions = next(b for b in nudge["blocks"] if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == [blocks.POST_UPDATE, blocks.SNOOZE]
    assert len(shown(sb, channel)) == 1  # only one nudge pending: the latest


def test_each_severity_has_its_own_interval_and_sev4_none(sandbox: Sandbox) -> None:
    sb = sandbox
    channels = {sev: open_incident(sb, f"{sev} Something {sev}")
                for sev in ("sev2", "sev3", "sev4")}
    walk(sb, T0, 8 * 60, step=10)
    firsts = {}
    for sev, channel in channels.items():
        posted = nudges_posted(sb, channel)
        firsts[sev] = len(posted)
    assert firsts == {"sev2": 8, "sev3": 2, "sev4": 0}


def test_none_while_monitoring_or_after_resolve(sandbox: Sandbox) -> None:
    sb = sandbox
    monitoring = open_incident(sb, "sev1 Watching the fix")
    resolved = open_incident(sb, "sev1 Fixed quickly")
    sb.deps.clock.set(T0 + 10 * MIN)  # type: ignore[attr-defined]
    in_channel(sb, monitoring, "status monitoring")
    in_channel(sb, resolved, "resolve")
    assert walk(sb, T0 + 10 * MIN, 180) == []


def test_snooze_holds_nudges_back_for_30_minutes(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb, "sev1 Checkout down")
    assert walk(sb, T0, 30) == [T0 + 30 * MIN]
    (message,) = shown(sb, channel)
    snooze = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
              if e["action_id"] == blocks.SNOOZE)
    sb.deps.clock.set(T0 + 32 * MIN)  # type: ignore[attr-defined]
    reply = sb.sim.block_action({"action_id": snooze["action_id"], "value": snooze["value"]},
                                user="U0BOB", channel=channel, message=message)
    assert reply.status == 200
    assert sb.fake.wait_for(lambda: "snoozed" in (shown(sb, channel)[0].get("text") or ""))
    after = shown(sb, channel)[0]
    assert "<@U0BOB> snoozed" in after["text"] and "until 10:02 UTC" in after["text"]
    assert not [b for b in after.get("blocks", []) if b["type"] == "actions"]  # no buttons
    # Due again at 10:00 without the snooze; held to 09:32 + 30 = 10:02.
    assert walk(sb, T0 + 35 * MIN, 40, step=1) == [T0 + 62 * MIN]


def test_a_lead_who_left_is_named_as_gone(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb, "sev1 Checkout down")
    sb.fake.users["U0LEAD"]["deleted"] = True
    walk(sb, T0, 30)
    (nudge,) = nudges_posted(sb, channel)
    assert "no longer in the workspace" in nudge["text"] and "/incident lead" in nudge["text"]


def test_two_replicas_over_a_day_of_five_incidents_nudge_each_once(
        sandbox: Sandbox, database_url: str) -> None:
    sb = sandbox
    severities = ("sev1", "sev1", "sev2", "sev2", "sev3")
    channels = [open_incident(sb, f"{sev} Outage {n}") for n, sev in enumerate(severities)]
    other = Deps(settings=sb.settings, db=Database(database_url), clock=sb.deps.clock)
    replicas = [(sb.deps, sb.app.client), (other, make_client(sb.settings))]
    barrier = threading.Barrier(2)

    def replica(deps: Deps, client: Any) -> None:
        barrier.wait()
        run_due(deps, client)

    try:
        for n in range(0, 24 * 60 + 1, 5):
            sb.deps.clock.set(T0 + n * MIN)  # type: ignore[attr-defined]
            threads = [threading.Thread(target=replica, args=pair) for pair in replicas]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        other.db.dispose()
    keys = [(_metadata(a)["event_payload"]["incident"], _metadata(a)["event_payload"]["nudge"])
            for a in nudges_posted(sb)]
    assert len(keys) == len(set(keys))  # no duplicates
    per_channel = [len(nudges_posted(sb, c)) for c in channels]
    assert per_channel == [48, 48, 24, 24, 6]  # every 30 min, 1 h, 4 h over 24 h


def test_a_restart_in_the_middle_of_an_interval_loses_and_repeats_nothing(
        sandbox: Sandbox, database_url: str) -> None:
    sb = sandbox
    channel = open_incident(sb, "sev1 Checkout down")
    assert walk(sb, T0, 20) == []
    restarted = Deps(settings=sb.settings, db=Database(database_url), clock=sb.deps.clock)
    client = make_client(sb.settings)
    try:
        for n in range(25, 90, 5):
            sb.deps.clock.set(T0 + n * MIN)  # type: ignore[attr-defined]
            run_due(restarted, client)
    finally:
        restarted.db.dispose()
    assert len(nudges_posted(sb, channel)) == 2  # at 30 and 60 min, by the restarted one


class Killed(BaseException):
    """The process dies after Slack accepted the nudge, before it was recorded."""


def test_a_pass_killed_after_posting_is_found_out_not_repeated(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = sandbox
    channel = open_incident(sb, "sev1 Checkout down")
    real = due.done

    def die(*args: Any, **kw: Any) -> bool:
        raise Killed

    monkeypatch.setattr(due, "done", die)
    sb.deps.clock.set(T0 + 30 * MIN)  # type: ignore[attr-defined]
    with pytest.raises(Killed):
        run_due(sb.deps, sb.app.client)
    monkeypatch.setattr(due, "done", real)
    assert len(nudges_posted(sb, channel)) == 1
    assert walk(sb, T0 + 31 * MIN, 4, step=1) == []  # leased: nobody touches it
    sb.deps.clock.set(T0 + 30 * MIN + LEASE)  # type: ignore[attr-defined]
    run_due(sb.deps, sb.app.client)
    assert len(nudges_posted(sb, channel)) == 1  # found by its metadata, recorded
    with sb.db.session() as s:
        row = due.get(s, "nudge", "incident:1")
        assert row is not None and row.runs == 1 and row.message_ts is not None
    assert walk(sb, T0 + 60 * MIN, 0) == []  # next one 30 min after the found one
    assert walk(sb, T0 + 65 * MIN, 0) == [T0 + 65 * MIN]
