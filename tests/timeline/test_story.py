"""Pure rules: when an incident counts as recorded after the fact, and which entries tell its
story (the postmortem's timeline) rather than its audit trail."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.incidents.rules import recorded_after_the_fact
from bot.timeline.rules import Story, story_of
from storage.models import Incident

UTC = ZoneInfo("UTC")
LA = ZoneInfo("America/Los_Angeles")


def at(day: int, hour: int, minute: int = 0, tz: ZoneInfo = UTC) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=tz)


def incident(started: dt.datetime, declared: dt.datetime, ended: dt.datetime | None = None,
             status: str = "investigating") -> Incident:
    return Incident(started_at=started, created_at=declared, ended_at=ended, status=status)


@pytest.mark.parametrize("started, declared, ended, tz, after", [
    (at(3, 10), at(3, 10), None, UTC, False),  # opened as it began
    (at(3, 9), at(3, 10), at(3, 11), UTC, False),  # declared during the impact
    (at(3, 10), at(9, 15), None, UTC, True),  # began on an earlier day: the write-up
    (at(3, 10), at(9, 15), at(3, 11, 30), UTC, True),  # ended before it was declared
    (at(3, 10), at(3, 12), at(3, 11), UTC, True),  # the same day, declared once over
    (at(3, 10), at(9, 15), at(9, 15, 30), UTC, False),  # a slow burn, resolved live
    # Across midnight but just before: handled live (the most recent occurrence is meant).
    (at(3, 23, 30), at(4, 0, 10), None, UTC, False),
    (at(3, 11, 30), at(4, 0, 10), None, UTC, True),  # 12 h 40 m before, an earlier day
    # Days are the incident zone's: 16:30 to 17:10 in Los Angeles is 23:30 to 00:10 UTC,
    # and 23:00 to 15:00 the next day there is one UTC day (06:00 to 22:00).
    (at(3, 16, 30, LA), at(3, 17, 10, LA), None, LA, False),
    (at(3, 23, 0, LA), at(4, 15, 0, LA), None, LA, True),
    (at(3, 23, 0, LA), at(4, 15, 0, LA), None, UTC, False),
])
def test_recorded_after_the_fact(started: dt.datetime, declared: dt.datetime,
                                 ended: dt.datetime | None, tz: ZoneInfo, after: bool) -> None:
    assert recorded_after_the_fact(incident(started, declared, ended), tz) is after


def test_a_live_incident_tells_its_changes_until_its_last_resolution() -> None:
    inc = incident(at(3, 9), at(3, 10), at(3, 11), status="resolved")
    story = story_of(inc, UTC, last_resolved=at(3, 11))
    assert story == Story(after_the_fact=False, declared_during_impact=True,
                          live_until=at(3, 11))
    assert story.tells("note", None, at(1, 0)) and story.tells("message", None, at(9, 0))
    assert story.tells("event", "opened", at(3, 10))
    for change in ("status", "severity", "lead", "resolved", "reopened"):
        assert story.tells("event", change, at(3, 10, 30)), change
        assert not story.tells("event", change, at(4, 9)), change  # after: record-keeping
    for audit in ("started", "ended", "detected", "impact", "cause", "task_added",
                  "task_done", None):
        assert not story.tells("event", audit, at(3, 10, 30)), audit


def test_an_incident_recorded_after_the_fact_tells_only_what_people_put_on_it() -> None:
    inc = incident(at(3, 10), at(9, 15), at(3, 11, 30), status="resolved")
    story = story_of(inc, UTC, last_resolved=at(9, 16))
    assert story.after_the_fact and not story.declared_during_impact
    assert not story.tells("event", "opened", at(9, 15))
    assert not story.tells("event", "status", at(9, 15, 30))
    assert not story.tells("event", "severity", at(3, 10, 30))  # whatever its time says
    assert story.tells("note", None, at(3, 10, 5))


def test_declared_before_the_impact_began_is_not_a_milestone() -> None:
    """Opened on a warning, impact later: the declaration is not part of the impact."""
    inc = incident(at(3, 10), at(3, 9, 30))
    assert not story_of(inc, UTC, None).tells("event", "opened", at(3, 9, 30))
    open_ = incident(at(3, 9), at(3, 10))
    assert story_of(open_, UTC, None).tells("event", "status", at(20, 0))  # still live
