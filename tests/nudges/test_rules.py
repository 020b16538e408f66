"""Update nudge rules: when an incident is due for an update, and when it is nudged again."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.due.pump import DUE
from bot.nudges import rules as nudges
from bot.settings import DEFAULT_UPDATE_EVERY
from storage.models import Incident

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def incident(severity: str = "sev1", status: str = "investigating",
             last: dt.datetime | None = None, next_at: dt.datetime | None = None) -> Incident:
    return Incident(id=1, number=1, team_id="T", title="x", severity=severity, status=status,
                    created_by="U", created_at=T0, started_at=T0, updated_at=T0,
                    last_update_at=last, next_update_at=next_at)


@pytest.mark.parametrize(("severity", "after"), [("sev1", 30), ("sev2", 60), ("sev3", 240)])
def test_each_severity_is_due_after_its_own_interval(severity: str, after: int) -> None:
    inc = incident(severity)
    assert nudges.update_due(inc, DEFAULT_UPDATE_EVERY) == T0 + after * MIN
    assert nudges.verdict(inc, DEFAULT_UPDATE_EVERY, T0 + (after - 1) * MIN) == T0 + after * MIN
    assert nudges.verdict(inc, DEFAULT_UPDATE_EVERY, T0 + after * MIN) is DUE


def test_sev4_monitoring_and_resolved_are_never_nudged() -> None:
    late = T0 + 24 * 60 * MIN
    assert nudges.verdict(incident("sev4"), DEFAULT_UPDATE_EVERY, late) is None
    assert nudges.verdict(incident(status="monitoring"), DEFAULT_UPDATE_EVERY, late) is None
    assert nudges.verdict(incident(status="resolved"), DEFAULT_UPDATE_EVERY, late) is None
    assert nudges.verdict(None, DEFAULT_UPDATE_EVERY, late) is None


def test_an_update_moves_the_due_time_on() -> None:
    inc = incident(last=T0 + 25 * MIN, next_at=T0 + 55 * MIN)
    assert nudges.verdict(inc, DEFAULT_UPDATE_EVERY, T0 + 30 * MIN) == T0 + 55 * MIN
    assert nudges.overdue_by(inc, DEFAULT_UPDATE_EVERY, T0 + 60 * MIN) == 5 * MIN
    assert nudges.since_update(inc, T0 + 60 * MIN) == 35 * MIN


def test_a_nudge_repeats_every_interval_until_an_update() -> None:
    assert nudges.next_nudge(incident("sev2"), DEFAULT_UPDATE_EVERY, T0) == T0 + 60 * MIN
    assert nudges.next_nudge(incident(status="monitoring"), DEFAULT_UPDATE_EVERY, T0) is None
