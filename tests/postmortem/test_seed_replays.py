"""Golden replays: the two postmortems Sitrep was designed from, recorded after the fact.

Each seed outage (``../shared/seeds/``) is replayed years later, end to end through the Bolt
app and the fake Slack, as a team writing it up would: the alert from its own channel added
with the message shortcut, notes typed with bare times *before* the end is set, a message
posted while writing it up pinned with a reaction and moved to when it happened, the facts,
the end, the corrective measures, then ``/incident postmortem publish``. The golden files
hold the Markdown Sitrep uploads: what it compiles from the replay, not a copy of the seeds.

Seed 1 runs in UTC, seed 2 in America/Los_Angeles. ``UPDATE_GOLDEN=1`` rewrites the golden
files after a deliberate change; review the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.common.clock import FixedClock
from bot.sandbox.fakeslack import block_errors
from bot.sandbox.sandbox import Sandbox
from tests.timeline.support import (
    command,
    ephemerals,
    open_incident,
    post,
    react,
    stored_messages,
)

GOLDEN = Path(__file__).resolve().parent / "golden"
#: When the write-up happens: years after either outage.
WRITE_UP = dt.datetime(2026, 3, 12, 15, 4, 5, tzinfo=dt.UTC)
UTC = ZoneInfo("UTC")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
#: Fake Slack ids come from this seed, so permalinks are the same on every run.
FAKE_SEED = 14


def replay_sandbox(database_url: str, tz: ZoneInfo, transport: str = "http") -> Iterator[Sandbox]:
    clock = FixedClock(WRITE_UP)
    with Sandbox(database_url, clock=clock, migrate=False, seed=FAKE_SEED, timezone=tz,
                 transport=transport) as sb:
        yield sb


@pytest.fixture
def utc_sb(database_url: str, transport: str) -> Iterator[Sandbox]:
    yield from replay_sandbox(database_url, UTC, transport)


@pytest.fixture
def la_sb(database_url: str, transport: str) -> Iterator[Sandbox]:
    yield from replay_sandbox(database_url, LOS_ANGELES, transport)


class WriteUp:
    """A team writing up an incident in Slack, one minute per thing typed or posted."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.channel = ""
        self.replies: list[str] = []

    @property
    def clock(self) -> FixedClock:
        clock = self.sb.deps.clock
        assert isinstance(clock, FixedClock)
        return clock

    def at_the_time(self, when: dt.datetime, channel_name: str, poster: str, text: str, *,
                    integration: bool = False) -> tuple[str, dict[str, Any]]:
        """A message posted in another channel while it happened (before Sitrep knew)."""
        self.clock.set(when)
        channel = self.sb.fake.add_channel(channel_name, members=["U0LEAD", "U0ALICE"])
        if integration:
            message = self.sb.fake.integration_message(channel, poster, text)
        else:
            message = self.sb.fake.user_message(channel, poster, text)
        self.clock.set(WRITE_UP)
        return channel, message

    def open(self, title: str) -> None:
        self.channel = open_incident(self.sb, title)

    def type(self, text: str, user: str = "U0LEAD") -> str:
        """``/incident <text>`` in the incident channel; returns the reply."""
        self.clock.advance(minutes=1)
        reply = command(self.sb, self.channel, text, user=user)
        self.replies.append(reply)
        return reply

    def add_from(self, channel: str, message: dict[str, Any], user: str = "U0LEAD") -> str:
        """The *Add to incident timeline* shortcut on a message in another channel."""
        self.clock.advance(minutes=1)
        sb = self.sb
        before = len(sb.fake.calls_to("views.open"))
        assert sb.sim.message_shortcut("add_to_timeline", user=user, channel=channel,
                                       message=message).status == 200
        view = sb.fake.wait_for_calls("views.open", before + 1)[-1].args["view"]
        option = view["blocks"][0]["element"]["options"][0]
        choose = {"incident": {"value": {"type": "static_select", "selected_option": option}}}
        # The message is kept just after the modal opens; a person is never that fast.
        assert sb.fake.wait_for(lambda: any(m.ts == message["ts"]
                                            for m in stored_messages(sb, channel)))
        done = sb.sim.view_submission(view, choose, user=user).json()
        assert done["response_action"] == "update", done
        return str(done["view"]["blocks"][0]["text"]["text"])

    def pin(self, poster: str, text: str, pinner: str = "U0LEAD") -> int:
        """``poster`` says something in the channel now and ``pinner`` pins it: its number."""
        self.clock.advance(minutes=1)
        message = post(self.sb, self.channel, poster, text)
        seen = len(self.sb.fake.ephemerals)
        react(self.sb, self.channel, message["ts"], pinner)
        confirmation = ephemerals(self.sb, seen + 1)[seen]["text"]
        found = re.search(r"\(entry (\d+)\)", confirmation)
        assert found, confirmation
        return int(found.group(1))

    def publish(self) -> str:
        """``/incident postmortem publish``; returns the Markdown file Sitrep uploaded."""
        reply = self.type("postmortem publish")
        assert reply.startswith("Published version 1 of the INC-1 postmortem"), reply
        complete = self.sb.fake.wait_for_calls("files.completeUploadExternal")[-1]
        return self.sb.fake.uploads[complete.args["files"][0]["id"]].decode()


def check_golden(name: str, markdown: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(markdown, encoding="utf-8")
    assert markdown == path.read_text(encoding="utf-8")


def sections(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("#")]


def timeline_lines(markdown: str) -> list[str]:
    body = markdown.split("## Timeline", 1)[1].split("\n## ", 1)[0]
    return [line for line in body.splitlines() if re.match(r"- \[?\*\*\d", line)]


def replay_seed_1(w: WriteUp) -> str:
    """3 May 2024, 10:00-11:30 UTC: logins fail; a misconfigured database connection pool."""
    support, tickets = w.at_the_time(
        dt.datetime(2024, 5, 3, 10, 0, 40, tzinfo=dt.UTC), "support", "U0CARA",
        "The support inbox is flooding: users say they cannot log in")
    w.open("sev2 Authentication outage")
    assert w.type("started 2024-05-03 10:00") == (
        "<@U0LEAD>: Impact start set to 2024-05-03 10:00 UTC.")
    assert "Added to the *INC-1* timeline at 2024-05-03 10:00 UTC" in w.add_from(support, tickets)
    noted = w.type("note 10:05 Engineers start on the login failures")
    assert noted.startswith("<@U0LEAD> noted on the timeline at 2024-05-03 10:05 UTC")
    w.type("note 10:20 Checking the database servers' health and the network: both look fine",
           user="U0ALICE")
    w.type("note 10:45 Looking at the application's own configuration instead",
           user="U0ALICE")
    w.type("note 11:00 Found it: the auth service's database connection pool is "
           "misconfigured", user="U0BOB")
    w.type("note 11:15 Called in the DevOps team to fix the pool settings")
    fixed = w.pin("U0ALICE", "DevOps corrected the connection pool settings; logins work again")
    assert w.type(f"timeline move {fixed} 11:30").startswith(
        f"<@U0LEAD> moved timeline entry {fixed} to 2024-05-03 11:30 UTC")
    assert w.type("ended 11:30") == "<@U0LEAD>: Impact end set to 2024-05-03 11:30 UTC."
    w.type("summary A misconfigured database connection pool locked users out of "
           "authentication for an hour and a half")
    w.type("impact About 30% of users could not log in")
    w.type("cause Wrong connection pool settings in the authentication service's database")
    w.type("resolution Corrected the pool settings, which let users log in again")
    w.type("improvement Monitor database connections automatically")
    w.type("improvement Better error handling and logging, to catch this earlier")
    w.type("task <@U0ALICE|alice> Add sturdier error handling and logging to the "
           "authentication service due 2026-04-03")
    w.type("task <@U0BOB|bob> Review and tune every database connection pool setting "
           "due 2026-04-17")
    w.type("resolve")
    return w.publish()


def test_seed_1_recorded_after_the_fact_in_utc(utc_sb: Sandbox) -> None:
    markdown = replay_seed_1(WriteUp(utc_sb))
    check_golden("seed-1-authentication-outage.md", markdown)
    assert sections(markdown) == [
        "# INC-1 Postmortem: Authentication outage", "## Issue Summary", "## Timeline",
        "## Root Cause and Resolution", "## Corrective and Preventative Measures",
        "### Improvements", "### Tasks"]
    assert "_Recorded after the fact: declared in Sitrep on 2026-03-12 15:04 UTC by lee._" \
        in markdown
    assert "- **Duration:** 1h 30m, from 10:00 to 11:30 on 2024-05-03 (UTC)" in markdown
    assert "- **Time to resolve:** 1h 30m" in markdown
    assert "Time to detect" not in markdown  # no detection time was recorded
    times = [re.search(r"\*\*(\d\d:\d\d)\*\*", line).group(1)  # type: ignore[union-attr]
             for line in timeline_lines(markdown)]
    assert times == ["10:00", "10:00", "10:05", "10:20", "10:45", "11:00", "11:15", "11:30",
                     "11:30"]
    assert "2026" not in markdown.split("## Timeline")[1].split("## Root")[0]
    summary = markdown.split("## Issue Summary")[1].split("## Timeline")[0]
    assert summary.index("**Duration:**") < summary.index("**Impact:**") \
        < summary.index("**Root cause:**")


def replay_seed_2(w: WriteUp) -> str:
    """15 June 2023, 9:00 AM-1:00 PM Pacific: logins fail; a database connection limit."""
    alerts, alert = w.at_the_time(
        dt.datetime(2023, 6, 15, 9, 0, 30, tzinfo=LOS_ANGELES), "alerts", "Grafana",
        "[FIRING] auth-db: p95 response time above 2s", integration=True)
    w.open("sev1 Customers cannot log in")
    w.type("started 2023-06-15 9:00am")
    assert w.type("detected 9:00am") == "<@U0LEAD>: Detection time set to 2023-06-15 09:00 PDT."
    w.type("detection Monitoring alerts on abnormal database response times")
    w.add_from(alerts, alert)
    noted = w.type("note 9:10am Looking at the database, the network connections and the "
                   "server logs", user="U0ALICE")
    assert noted.startswith("<@U0ALICE> noted on the timeline at 2023-06-15 09:10 PDT")
    w.type("note 9:40am The network looks unstable: running network diagnostics",
           user="U0ALICE")
    w.type("misleading We took it for network instability and spent the morning on network "
           "diagnostics and configuration changes")
    w.type("note 11:30am The network is fine; database connections are at their limit",
           user="U0BOB")
    w.type("note 11:45am Escalated to DevOps and the database administrators")
    w.type("escalation The DevOps and Database Administration teams")
    raised = w.pin("U0CARA", "Connection limit raised and two more servers provisioned")
    w.type(f"timeline move {raised} 12:30pm")
    w.type("note 12:50pm Monitoring thresholds adjusted; logins recovering", user="U0BOB")
    assert w.type("ended 1:00pm") == "<@U0LEAD>: Impact end set to 2023-06-15 13:00 PDT."
    w.type("summary A traffic surge hit the database's connection limit and customers could "
           "not log in for four hours, until limits were raised and servers added")
    w.type("impact The login service was down; customer support calls rose 30% because of "
           "login failures")
    w.type("cause The database's connection limit was reached under a traffic surge, with "
           "nothing to scale automatically")
    w.type("resolution Raised the database connection limits, provisioned more servers for "
           "peak loads and adjusted the monitoring thresholds")
    w.type("improvement Scale critical services automatically")
    w.type("improvement Alert on database thresholds before they are reached")
    for owner, text in (("U0ALICE|alice", "Set up automatic scaling for the authentication "
                                          "service due 2026-04-10"),
                        ("U0CARA|cara", "Review the database connection limits against "
                                        "projected growth due 2026-04-24"),
                        ("U0BOB|bob", "Add alerts on critical database thresholds "
                                      "due 2026-04-10"),
                        ("U0LEAD|lee", "Hold a post-incident review with both teams "
                                       "due 2026-03-19")):
        w.type(f"task <@{owner}> {text}")
    w.type("resolve")
    return w.publish()


def test_seed_2_recorded_after_the_fact_in_los_angeles(la_sb: Sandbox) -> None:
    markdown = replay_seed_2(WriteUp(la_sb))
    check_golden("seed-2-login-outage.md", markdown)
    assert "- **Duration:** 4h, from 09:00 to 13:00 on 2023-06-15 (PDT)" in markdown
    assert "- **Time to detect:** 0m" in markdown and "- **Time to resolve:** 4h" in markdown
    timeline = markdown.split("## Timeline")[1].split("## Root")[0]
    # The second seed's order: detected, detection method, what was done, misleading
    # paths, escalation.
    order = ["**Issue detected:** 2023-06-15 09:00 PDT", "**Detection method:**",
             "Impact began", "**09:10**", "**13:00** Impact ended", "**Misleading paths:**",
             "**Escalated to:**"]
    positions = [timeline.index(part) for part in order]
    assert positions == sorted(positions)
    assert "2026" not in timeline and "Times in America/Los_Angeles, on 2023-06-15." in timeline
    times = [re.search(r"\*\*(\d\d:\d\d)\*\*", line).group(1)  # type: ignore[union-attr]
             for line in timeline_lines(markdown)]
    assert times == sorted(times) and times[0] == "09:00" and times[-1] == "13:00"


@pytest.mark.parametrize("replay", [replay_seed_1, replay_seed_2])
def test_the_replays_publish_within_slacks_limits(replay, database_url: str,  # type: ignore[no-untyped-def]
                                                  transport: str) -> None:
    """Every post of the publish was accepted by the fake, which enforces Block Kit limits."""
    tz = UTC if replay is replay_seed_1 else LOS_ANGELES
    for sb in replay_sandbox(database_url, tz, transport):
        w = WriteUp(sb)
        replay(w)
        posted = [c for c in sb.fake.calls_to("chat.postMessage")
                  if c.args.get("text", "").startswith("INC-1 postmortem, version 1")]
        assert posted, "the postmortem was not posted"
        assert all(not r.startswith(":warning:") for r in w.replies)
        for call in posted:
            assert block_errors(call.args.get("blocks") or []) == []


def test_the_readme_worked_example(utc_sb: Sandbox) -> None:
    """README, "Recording an incident after the fact": the same commands, the same replies."""
    w = WriteUp(utc_sb)
    support, report = w.at_the_time(dt.datetime(2024, 5, 3, 10, 0, 20, tzinfo=dt.UTC),
                                    "support", "U0CARA", "Users cannot log in")
    w.open("sev2 Authentication outage")
    assert w.type("started 2024-05-03 10:00") == (
        "<@U0LEAD>: Impact start set to 2024-05-03 10:00 UTC.")
    assert w.type("detected 10:00") == "<@U0LEAD>: Detection time set to 2024-05-03 10:00 UTC."
    assert "at 2024-05-03 10:00 UTC (entry 4)" in w.add_from(support, report)
    assert w.type("note 10:05 Engineers start on the login failures").startswith(
        "<@U0LEAD> noted on the timeline at 2024-05-03 10:05 UTC (entry 5)")
    w.type("note 11:00 Found it: the connection pool is misconfigured")
    assert w.pin("U0ALICE", "DevOps fixed the pool settings; logins work again") == 7
    assert w.type("timeline move 7 11:30").startswith(
        "<@U0LEAD> moved timeline entry 7 to 2024-05-03 11:30 UTC")
    assert w.type("ended 11:30") == "<@U0LEAD>: Impact end set to 2024-05-03 11:30 UTC."
    w.type("cause Wrong connection pool settings in the authentication database")
    w.type("resolve")
    markdown = w.publish()
    assert markdown.count("Recorded after the fact") == 1
    assert "- **Time to detect:** 0m\n- **Time to resolve:** 1h 30m" in markdown
    assert "1h 30m, from 10:00 to 11:30 on 2024-05-03 (UTC)" in markdown
    assert "2026" not in markdown.split("## Timeline")[1].split("## Root")[0]
