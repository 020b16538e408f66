"""What an update records, in one transaction, and how the other changes keep the update
clock and its nudge row right: on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.common.clock import FixedClock
from bot.common.errors import UserError
from bot.incidents import rules as incidents
from bot.nudges import rules as nudges
from bot.settings import DEFAULT_UPDATE_EVERY
from bot.updates import rules
from storage import due
from storage.db import Database
from storage.models import DueWork, Incident, TimelineEntry

EVERY = DEFAULT_UPDATE_EVERY
H, M = dt.timedelta(hours=1), dt.timedelta(minutes=1)


def opened(db: Database, clock: FixedClock, severity: str = "sev2") -> Incident:
    return incidents.open_incident(db, clock, team_id="T1", user_id="U1", title="Down",
                                   severity=severity, update_every=EVERY)


def row(db: Database, incident_id: int) -> DueWork:
    with db.session() as s:
        found = due.get(s, incidents.NUDGE, incidents.nudge_key(incident_id))
        assert found is not None
        return found


def current(db: Database, incident_id: int) -> Incident:
    with db.session() as s:
        found = s.get(Incident, incident_id)
        assert found is not None
        return found


def events(db: Database, incident_id: int) -> list[TimelineEntry]:
    with db.session() as s:
        return list(s.scalars(select(TimelineEntry).where(
            TimelineEntry.incident_id == incident_id).order_by(TimelineEntry.id)))


def snooze(db: Database, clock: FixedClock, incident_id: int, until: dt.datetime) -> None:
    inc = current(db, incident_id)
    with db.session() as s:
        due.schedule(s, incidents.NUDGE, incidents.nudge_key(incident_id), inc.next_update_at,
                     now=clock.now(), incident_id=incident_id, hold_until=until)


def test_opening_starts_the_update_clock(db: Database, clock: FixedClock) -> None:
    inc = opened(db, clock, "sev1")
    assert (inc.last_update_at, inc.next_update_at) == (None, clock.now() + 30 * M)
    assert row(db, inc.id).due_at == clock.now() + 30 * M
    quiet = opened(db, clock, "sev4")
    assert quiet.next_update_at is None and row(db, quiet.id).due_at is None
    bare = incidents.open_incident(db, clock, team_id="T1", user_id="U1", title="No clock")
    assert bare.next_update_at is None  # callers that do not say UPDATE_EVERY change nothing


def test_an_update_records_everything_in_one_transaction(db: Database,
                                                         clock: FixedClock) -> None:
    inc = opened(db, clock)
    snooze(db, clock, inc.id, clock.now() + 30 * M)
    clock.advance(minutes=20)
    posted = rules.post_update(db, clock, inc.id, "U2", impact="30% of <EU> logins fail",
                               status="identified", next_steps="Roll back", every=EVERY)
    now = clock.now()
    assert (posted.number, posted.status, posted.previous_status) == (1, "identified",
                                                                      "investigating")
    assert posted.status_change == "Status changed from investigating to identified"
    after = current(db, inc.id)
    assert (after.status, after.last_update_at, after.next_update_at) == ("identified", now,
                                                                          now + H)
    nudge = row(db, inc.id)
    assert (nudge.due_at, nudge.hold_until) == (now + H, None)  # an update ends a snooze
    kinds = [(e.event_type, e.actor_user_id) for e in events(db, inc.id)]
    assert kinds == [("opened", "U1"), ("status", "U2"), ("update", "U2")]
    update = events(db, inc.id)[-1]
    assert update.seq == posted.seq
    assert update.text == "Status update 1 (identified): 30% of <EU> logins fail\nNext: Roll back"
    assert update.data == {"number": 1, "status": "identified", "impact": "30% of <EU> logins fail",
                           "next_steps": "Roll back", "next_update_at": (now + H).isoformat(),
                           "from": "investigating"}
    second = rules.post_update(db, clock, inc.id, "U2", impact="Rolling back", every=EVERY,
                               next_in=15 * M)
    assert (second.number, second.status_change) == (2, None)
    assert current(db, inc.id).next_update_at == now + 15 * M


def test_a_refused_update_changes_nothing(db: Database, clock: FixedClock) -> None:
    inc = opened(db, clock, "sev1")
    with pytest.raises(UserError):
        rules.post_update(db, clock, inc.id, "U1", impact="All fine", status="identified",
                          next_in=incidents.NO_FURTHER, every=EVERY)
    with pytest.raises(UserError):
        rules.post_update(db, clock, inc.id, "U1", impact="   ", every=EVERY)
    assert current(db, inc.id).status == "investigating"  # the status change rolled back
    assert [e.event_type for e in events(db, inc.id)] == ["opened"]


def test_status_and_severity_changes_keep_the_clock_and_the_snooze(
        db: Database, clock: FixedClock) -> None:
    inc = opened(db, clock, "sev3")  # 4h
    hold = clock.now() + 3 * H
    snooze(db, clock, inc.id, hold)
    clock.advance(hours=1)
    incidents.set_severity(db, clock, inc.id, "U1", "sev1", update_every=EVERY)
    after = current(db, inc.id)  # the last update (none: the opening) + sev1's 30m: overdue
    assert after.next_update_at == after.created_at + 30 * M
    assert (row(db, inc.id).due_at, row(db, inc.id).hold_until) == (after.next_update_at, hold)
    clock.advance(minutes=5)
    incidents.set_status(db, clock, inc.id, "U1", "identified", update_every=EVERY)
    after = current(db, inc.id)  # a status change counts as an update
    assert (after.last_update_at, after.next_update_at) == (clock.now(), clock.now() + 30 * M)
    assert row(db, inc.id).hold_until == hold  # not an update: the snooze stays
    incidents.set_status(db, clock, inc.id, "U1", "monitoring", update_every=EVERY)
    assert current(db, inc.id).next_update_at is None and row(db, inc.id).due_at is None
    incidents.set_severity(db, clock, inc.id, "U1", "sev2", update_every=EVERY)
    assert current(db, inc.id).next_update_at is None  # monitoring: still none expected
    incidents.resolve(db, clock, inc.id, "U1", update_every=EVERY)
    assert current(db, inc.id).next_update_at is None
    clock.advance(minutes=10)
    incidents.reopen(db, clock, inc.id, "U1", update_every=EVERY)
    assert current(db, inc.id).next_update_at == clock.now() + H  # sev2 again
    assert row(db, inc.id).due_at == clock.now() + H


def test_the_nudge_row_is_the_one_the_nudges_read() -> None:
    assert (incidents.NUDGE, incidents.nudge_key(7)) == (nudges.KIND, nudges.key(7))


def test_announcement_roots_first_one_wins(db: Database, clock: FixedClock) -> None:
    inc = opened(db, clock)
    assert incidents.announcement_root(db, inc.id, "C1") is None
    assert incidents.record_announcement(db, clock, inc.id, "C1", "1.000001") == "1.000001"
    assert incidents.record_announcement(db, clock, inc.id, "C1", "2.000002") == "1.000001"
    assert incidents.announcement_root(db, inc.id, "C1") == "1.000001"
    assert incidents.announcement_root(db, inc.id, "C2") is None
