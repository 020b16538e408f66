"""When the impact began, was detected and ended: read as the person means, end to end.

A live incident reads a bare time as its most recent occurrence; one recorded after the fact
reads it on the incident's own days. Every reply names the stored time with date and zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.common.clock import FixedClock
from bot.incidents import rules as incidents
from bot.sandbox.sandbox import Sandbox
from storage.models import Incident, TimelineEntry
from tests.timeline.support import command, open_incident

LA = ZoneInfo("America/Los_Angeles")


def incident(sb: Sandbox) -> Incident:
    with sb.db.session() as s:
        return s.scalars(select(Incident)).one()


def test_a_live_incident_reads_bare_times_as_their_most_recent_occurrence(
        sandbox: Sandbox) -> None:
    sb = sandbox  # the clock reads 2026-03-12 15:04 UTC
    channel = open_incident(sb)
    assert command(sb, channel, "started 14:30") == (
        "<@U0LEAD>: Impact start set to 2026-03-12 14:30 UTC.")
    assert command(sb, channel, "detected 14:50") == (
        "<@U0LEAD>: Detection time set to 2026-03-12 14:50 UTC.")
    inc = incident(sb)
    assert not incidents.recorded_after_the_fact(inc, ZoneInfo("UTC"))
    assert inc.detected_at.isoformat() == "2026-03-12T14:50:00+00:00"


def test_an_incident_recorded_after_the_fact_reads_bare_times_on_its_own_days(
        sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    command(sb, channel, "started 2024-05-03 22:00")
    assert incidents.recorded_after_the_fact(incident(sb), ZoneInfo("UTC"))
    assert command(sb, channel, "detected 22:10") == (
        "<@U0LEAD>: Detection time set to 2024-05-03 22:10 UTC.")
    # 01:30 is three hours into the night, not 20 h before the start (nor today).
    assert command(sb, channel, "note 01:30 failover done").startswith(
        "<@U0LEAD> noted on the timeline at 2024-05-04 01:30 UTC")
    # 13:00 is 9 h before the start, or 11.5 h after the latest note: time before the
    # start counts double, so the later one wins, and the reply says how to give the other.
    said = command(sb, channel, "note 13:00 still throttled")
    assert said.startswith("<@U0LEAD> noted on the timeline at 2024-05-04 13:00 UTC")
    assert said.endswith("_(on the incident's own day; for another day, give the date: "
                         "`2024-05-03 13:00`)_")
    assert command(sb, channel, "ended 16:30") == (
        "<@U0LEAD>: Impact end set to 2024-05-04 16:30 UTC.")
    inc = incident(sb)
    assert (inc.started_at.isoformat(), inc.ended_at.isoformat()) == (
        "2024-05-03T22:00:00+00:00", "2024-05-04T16:30:00+00:00")
    # A date or a relative time still means exactly that.
    assert command(sb, channel, "note -10m written up today").startswith(
        "<@U0LEAD> noted on the timeline at 2026-03-12 ")


def test_los_angeles_days_and_daylight_saving(transport: str, database_url: str) -> None:
    """Typed in spring 2026 about a November 2023 night in Los Angeles, across the fall-back."""
    clock = FixedClock(dt.datetime(2026, 3, 12, 15, 4, tzinfo=dt.UTC))
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport, timezone=LA) as sb:
        channel = open_incident(sb)
        assert command(sb, channel, "started 2023-11-05 12:30am") == (
            "<@U0LEAD>: Impact start set to 2023-11-05 00:30 PDT.")
        assert command(sb, channel, "note 1:30am first of the two 1:30s").startswith(
            "<@U0LEAD> noted on the timeline at 2023-11-05 01:30 PDT")
        assert command(sb, channel, "ended 3:30am") == (
            "<@U0LEAD>: Impact end set to 2023-11-05 03:30 PST.")
        inc = incident(sb)
        assert inc.ended_at - inc.started_at == dt.timedelta(hours=4)


def test_detected_is_checked_and_correctable(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    command(sb, channel, "started 2024-05-03 10:00")
    for text, expected in [
        ("detected", "Usage: `/incident detected"),
        ("detected 09:30", "can't be before the impact began (2024-05-03 10:00 UTC)"),
        ("detected 2027-01-01 10:00", "can't be in the future"),
        ("detected soonish", "couldn't read"),
    ]:
        assert expected in command(sb, channel, text), text
    assert incident(sb).detected_at is None
    command(sb, channel, "detected 10:20")
    assert command(sb, channel, "detected 10:20") == (
        "The detection is already set to 2024-05-03 10:20 UTC.")
    assert command(sb, channel, "started 10:30").startswith(
        "The start must be at or before the detection (2024-05-03 10:20 UTC)")
    assert command(sb, channel, "detected 10:05") == (
        "<@U0LEAD>: Detection time set to 2024-05-03 10:05 UTC.")
    with sb.db.session() as s:
        events = s.scalars(select(TimelineEntry.text).where(
            TimelineEntry.event_type == "detected").order_by(TimelineEntry.seq)).all()
    assert events == ["Detection time set to 2024-05-03 10:20 UTC",
                      "Detection time set to 2024-05-03 10:05 UTC"]
    card = str(sb.fake.calls_to("chat.update")[-1].args["blocks"])
    assert "2024-05-03 10:00 UTC" in card


@pytest.mark.parametrize("ended, expected", [("11:30", "2024-05-03 11:30"),
                                             ("01:00", "2024-05-04 01:00")])
def test_ended_counts_from_the_start(sandbox: Sandbox, ended: str, expected: str) -> None:
    """An end earlier in the day than the start is the next morning (an overnight outage)."""
    sb = sandbox
    channel = open_incident(sb)
    command(sb, channel, "started 2024-05-03 10:00")
    assert command(sb, channel, f"ended {ended}") == (
        f"<@U0LEAD>: Impact end set to {expected} UTC.")


def test_resolving_says_which_end_it_stored(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    assert command(sb, channel, "resolve") == (
        "<@U0LEAD>: Incident resolved. Impact end recorded as 2026-03-12 15:04 UTC "
        "(`/incident ended &lt;time&gt;` corrects it).")
    command(sb, channel, "reopen")
    sb.deps.clock.advance(minutes=30)  # type: ignore[attr-defined]
    assert command(sb, channel, "ended 15:20") == (
        "<@U0LEAD>: Impact end set to 2026-03-12 15:20 UTC.")
    assert command(sb, channel, "resolve") == "<@U0LEAD>: Incident resolved."  # kept as set
