"""The follow-up's rules: working days, the lead's slot, and ``check`` in the claim's
transaction (published, reopened, the zone cached or not)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.common.clock import FixedClock
from bot.due.pump import DUE
from bot.incidents import rules as incidents
from bot.postmortem import followup
from bot.postmortem.followup import Policy, add_working_days
from storage import due, users
from storage import postmortem as pm_repo
from storage.db import Database

PARIS = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(("moment", "days", "expected"), [
    (utc(2026, 3, 12, 15), 5, utc(2026, 3, 19, 15)),   # Thursday: the next Thursday
    (utc(2026, 3, 13, 10), 1, utc(2026, 3, 16, 10)),   # Friday + 1: Monday, same time
    (utc(2026, 3, 13, 10), 5, utc(2026, 3, 20, 10)),   # Friday + 5: the next Friday
    (utc(2026, 3, 14, 10), 1, utc(2026, 3, 17, 0)),    # Saturday counts from Monday 00:00
    (utc(2026, 3, 15, 23), 5, utc(2026, 3, 23, 0)),    # Sunday + 5: Mon-Fri whole, then Mon
    (utc(2026, 3, 16, 9), 10, utc(2026, 3, 30, 9)),    # two whole weeks
    (utc(2026, 3, 12, 15), 0, utc(2026, 3, 12, 15)),
])
def test_working_days_skip_weekends(moment: dt.datetime, days: int,
                                    expected: dt.datetime) -> None:
    assert add_working_days(moment, days, UTC) == expected


def test_working_days_are_counted_in_the_incident_time_zone() -> None:
    # Friday 23:30 UTC is already Saturday 00:30 in Paris: counted from Monday there.
    assert add_working_days(utc(2026, 3, 13, 23, 30), 1, PARIS) == utc(2026, 3, 16, 23)
    # Across Paris's change to summer time (29 March) the wall time is kept.
    assert add_working_days(utc(2026, 3, 27, 8), 1, PARIS) == utc(2026, 3, 30, 7)


def test_the_slot_and_the_week_after_are_in_the_leads_zone() -> None:
    policy = Policy(5, "0 9 * * mon-fri", UTC)
    due_at = utc(2026, 3, 19, 15)
    assert followup.slot_at_or_after(policy, PARIS, due_at) == utc(2026, 3, 20, 8)
    assert followup.slot_at_or_after(policy, ZoneInfo("Pacific/Auckland"), due_at) == \
        utc(2026, 3, 19, 20)  # Friday 09:00 NZDT
    assert followup.next_week(policy, PARIS, utc(2026, 3, 27, 8), utc(2026, 3, 27, 8, 1)) == \
        utc(2026, 4, 3, 7)  # the same Friday, a week on, in summer time
    # A cron without weekdays' slot on that day: the first slot from that day on.
    weekly = Policy(5, "0 9 * * mon", UTC)
    assert followup.next_week(weekly, UTC, utc(2026, 3, 16, 9), utc(2026, 3, 16, 9)) == \
        utc(2026, 3, 23, 9)


def _resolved(db: Database, clock: FixedClock) -> int:
    inc = incidents.open_incident(db, clock, team_id="T1", user_id="U1", title="Broken")
    incidents.resolve(db, clock, inc.id, "U1")
    return inc.id


def _check(db: Database, incident_id: int, now: dt.datetime, policy: Policy) -> object:
    with db.session() as s:
        row = due.get(s, followup.KIND, followup.key(incident_id))
        assert row is not None
        return followup.check(s, row, now, policy)


def test_check_decides_in_the_claims_transaction(db: Database) -> None:
    clock = FixedClock(utc(2026, 3, 12, 15))
    incident_id = _resolved(db, clock)
    policy = Policy(5, "0 9 * * mon-fri", UTC)
    # The lead's zone is not cached: look again at the due moment, then let Slack say.
    assert _check(db, incident_id, utc(2026, 3, 13), policy) == utc(2026, 3, 19, 15)
    assert _check(db, incident_id, utc(2026, 3, 19, 15), policy) is DUE
    with db.session() as s:
        users.upsert(s, user_id="U1", team_id="T1", display_name="u", tz="Europe/Paris",
                     deleted=False, now=clock.now())
    assert _check(db, incident_id, utc(2026, 3, 19, 15), policy) == utc(2026, 3, 20, 8)
    assert _check(db, incident_id, utc(2026, 3, 20, 8), policy) is DUE
    # Published: never again.
    with db.session() as s:
        pm_repo.add_version(s, incident_id=incident_id, version=1, markdown="# x",
                            published_by="U1", now=clock.now())
    assert _check(db, incident_id, utc(2026, 3, 20, 8), policy) is None


def test_reopen_clears_the_row_and_a_new_lead_makes_it_due_again(db: Database) -> None:
    clock = FixedClock(utc(2026, 3, 12, 15))
    incident_id = _resolved(db, clock)
    key = followup.key(incident_id)
    clock.set(utc(2026, 3, 13))
    incidents.reopen(db, clock, incident_id, "U1")
    with db.session() as s:
        assert due.get(s, followup.KIND, key).due_at is None  # type: ignore[union-attr]
    assert _check(db, incident_id, utc(2026, 3, 30), Policy()) is None  # open: not due
    clock.set(utc(2026, 3, 16))
    incidents.resolve(db, clock, incident_id, "U1")
    clock.set(utc(2026, 3, 30))
    incidents.set_lead(db, clock, incident_id, "U1", "U2")
    with db.session() as s:
        assert due.get(s, followup.KIND, key).due_at == utc(2026, 3, 30)  # type: ignore[union-attr]


def test_backfill_adds_recently_resolved_incidents_once(db: Database) -> None:
    clock = FixedClock(utc(2026, 3, 12, 15))
    old = _resolved(db, clock)
    clock.set(utc(2026, 5, 1))
    recent = _resolved(db, clock)
    with db.session() as s:
        for incident_id in (old, recent):  # as if resolved before the follow-up existed
            s.delete(due.get(s, followup.KIND, followup.key(incident_id)))
    with db.session() as s:
        assert followup.backfill(s, utc(2026, 5, 2)) == 1
    with db.session() as s:
        assert followup.backfill(s, utc(2026, 5, 2)) == 0
        assert due.get(s, followup.KIND, followup.key(old)) is None  # too old to chase
        row = due.get(s, followup.KIND, followup.key(recent))
        assert row is not None and row.due_at == utc(2026, 5, 1)
