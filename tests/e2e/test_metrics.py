"""``GET /metrics`` end to end: drive the bot through the sandbox, read the counters move.

Metrics are process-wide, so each test reads them before and after and compares.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from bot.due.slack import run_due
from bot.sandbox.sandbox import Sandbox
from bot.tasks import notify
from tests.incidents.test_slack import in_channel, start
from tests.tasks.test_reminders_slack import _overdue_task
from tests.timeline.support import database_down, open_incident, post, react

Sample = tuple[str, frozenset[tuple[str, str]]]


def scrape(sb: Sandbox) -> dict[Sample, float]:
    """Every sample of ``GET /metrics``: (name, labels) → value."""
    with urllib.request.urlopen(sb.server.url + "/metrics", timeout=5) as resp:  # type: ignore[union-attr]
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def moved(before: dict[Sample, float], after: dict[Sample, float], name: str,
          **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_requests_acks_events_and_web_api_calls_are_counted(sandbox: Sandbox) -> None:
    sb = sandbox
    before = scrape(sb)
    sb.fake.fail("conversations.create", "ratelimited", times=1, retry_after=1)
    channel = open_incident(sb)  # a slash command, then five Web API calls after the ack
    message = post(sb, channel, "U0ALICE", "the database is on fire")  # a message event
    reply, event = react(sb, channel, message["ts"], "U0LEAD", event_id="EvMETRICS01")
    assert reply.status == 200
    # Slack redelivers it (it thought we were slow): answered, nothing doubled.
    assert sb.sim.event(event, event_id="EvMETRICS01", retry_num=1,
                        retry_reason="http_timeout").status == 200
    if sb.transport == "http":  # a Socket Mode connection has no signatures to forge
        forged = sb.sim.send("command=/incident&text=help", "application/x-www-form-urlencoded",
                             signature="v0=forged")
        assert forged.status == 401
    with database_down(sb):  # an event the database cannot take waits in the inbox
        assert sb.sim.message(sb.fake.user_message(channel, "U0BOB", "during the outage"),
                              channel).status == 200
        assert scrape(sb)[("sitrep_inbox_depth", frozenset())] == 1
    assert sb.inbox.wait_idle()
    sb.fake.wait_for(lambda: len(sb.fake.ephemerals) >= 1)  # the pin's confirmation
    after = scrape(sb)
    assert after[("sitrep_inbox_depth", frozenset())] == 0
    assert moved(before, after, "sitrep_inbox_applied_total", outcome="applied") == 4
    assert moved(before, after, "sitrep_inbox_applied_total",
                 outcome="database_unavailable") >= 1

    assert moved(before, after, "sitrep_slack_requests_total", kind="command", status="200") == 1
    assert moved(before, after, "sitrep_slack_requests_total", kind="event", status="200") == 4
    assert moved(before, after, "sitrep_slack_requests_total", kind="event", status="500") == 0
    assert moved(before, after, "sitrep_slack_requests_total", kind="command",
                 status="401") == (1 if sb.transport == "http" else 0)
    assert moved(before, after, "sitrep_slack_ack_seconds_count", kind="command") == 1
    assert moved(before, after, "sitrep_slack_ack_seconds_count", kind="event") == 4
    # Every ack inside Slack's 3 seconds (the +Inf bucket minus the 3 s one).
    assert moved(before, after, "sitrep_slack_ack_seconds_bucket", kind="event", le="3.0") == 4
    assert moved(before, after, "sitrep_slack_events_total", type="message",
                 outcome="stored") == 2
    assert moved(before, after, "sitrep_slack_events_total", type="message",
                 outcome="refused") == 0
    assert moved(before, after, "sitrep_slack_events_total", type="reaction_added",
                 outcome="stored") == 2
    assert moved(before, after, "sitrep_slack_events_redelivered_total", type="reaction_added",
                 reason="http_timeout") == 1

    assert moved(before, after, "sitrep_slack_api_calls_total", method="conversations.create",
                 error="ok") == 1
    assert moved(before, after, "sitrep_slack_api_calls_total", method="pins.add",
                 error="ok") == 1
    assert moved(before, after, "sitrep_slack_api_calls_total", method="chat.postEphemeral",
                 error="ok") == 1
    assert moved(before, after, "sitrep_slack_api_call_seconds_count",
                 method="conversations.create") == 1
    assert moved(before, after, "sitrep_slack_rate_limited_total",
                 method="conversations.create") == 1
    assert moved(before, after, "sitrep_slack_rate_limit_wait_seconds_total",
                 method="conversations.create") >= 1.0


def test_reminder_passes_are_counted_by_outcome(sandbox: Sandbox) -> None:
    sb = sandbox
    _overdue_task(sb)
    before = scrape(sb)
    sb.fake.fail("chat.postMessage", "fatal_error", times=1)
    assert notify.run_reminders(sb.deps, sb.app.client).retried == 1
    assert notify.run_reminders(sb.deps, sb.app.client).sent == 1
    after = scrape(sb)
    assert moved(before, after, "sitrep_reminders_total", outcome="failed") == 1
    assert moved(before, after, "sitrep_reminders_total", outcome="sent") == 1
    assert moved(before, after, "sitrep_reminder_pass_seconds_count") == 2
    assert moved(before, after, "sitrep_slack_api_calls_total", method="chat.postMessage",
                 error="fatal_error") == 1


def test_nudges_are_counted_by_kind_and_outcome(sandbox: Sandbox) -> None:
    sb = sandbox
    start_at = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)
    sb.deps.clock.set(start_at)  # type: ignore[attr-defined]
    start(sb, "sev1 Checkout down")
    before = scrape(sb)
    sb.deps.clock.set(start_at + dt.timedelta(minutes=30))  # type: ignore[attr-defined]
    sb.fake.fail("chat.postMessage", "fatal_error", times=1)
    assert run_due(sb.deps, sb.app.client).kinds["nudge"].retried == 1
    sb.deps.clock.set(start_at + dt.timedelta(minutes=31))  # type: ignore[attr-defined]
    assert run_due(sb.deps, sb.app.client).kinds["nudge"].sent == 1
    after = scrape(sb)
    assert moved(before, after, "sitrep_due_work_total", kind="nudge", outcome="retried") == 1
    assert moved(before, after, "sitrep_due_work_total", kind="nudge", outcome="sent") == 1


def test_database_unavailable_answers_and_the_work_queue(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    before = scrape(sb)
    with database_down(sb):
        in_channel(sb, channel, "note the replica is lagging")
    assert "database is unavailable" in sb.fake.responses[-1]["text"]
    assert moved(before, scrape(sb), "sitrep_database_unavailable_answers_total") == 1

    # Work after an ack shows in the queue gauges while it runs (Slack answers slowly)…
    sb.fake.latency = 0.5
    assert sb.sim.command("note watching the replica", channel=channel).status == 200
    during = scrape(sb)
    waiting = (during[("sitrep_work_queued", frozenset())]
               + during[("sitrep_work_running", frozenset())])
    assert waiting >= 1
    sb.fake.latency = 0
    # …and leaves it once done.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = scrape(sb)
        if now[("sitrep_work_queued", frozenset())] + now[("sitrep_work_running",
                                                           frozenset())] == 0:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the work after the ack never finished")
