"""Due work rows: scheduled, claimed once under a lease, and a person's change wins."""

from __future__ import annotations

import datetime as dt

from storage import due
from storage.db import Database

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def test_a_row_is_claimed_when_due_and_only_by_one_worker(db: Database) -> None:
    with db.session() as s:
        due.schedule(s, "nudge", "incident:1", T0 + 10 * MIN, now=T0)
        due.schedule(s, "digest", "digest", T0, now=T0)
    with db.session() as s:
        assert due.claim(s, "nudge", T0) == []
    with db.session() as s:
        rows = due.claim(s, "nudge", T0 + 10 * MIN)
        assert [r.key for r in rows] == ["incident:1"]
        due.lease(s, rows, "a", T0 + 15 * MIN)
    with db.session() as s:  # leased: another worker finds nothing until the lease ends
        assert due.claim(s, "nudge", T0 + 11 * MIN) == []
        assert [r.lease_owner for r in due.claim(s, "nudge", T0 + 15 * MIN)] == ["a"]
    with db.session() as s:
        assert due.done(s, rows[0].id, "a", now=T0 + 11 * MIN, next_at=T0 + 60 * MIN,
                        message=("C1", "1.0"))
    with db.session() as s:
        row = due.get(s, "nudge", "incident:1")
        assert row is not None
        assert (row.runs, row.due_at, row.lease_owner, row.message_ts) == (
            1, T0 + 60 * MIN, None, "1.0")


def test_a_change_during_a_delivery_wins_over_its_record(db: Database) -> None:
    with db.session() as s:
        due.schedule(s, "nudge", "incident:1", T0, now=T0)
    with db.session() as s:
        rows = due.claim(s, "nudge", T0)
        due.lease(s, rows, "a", T0 + 5 * MIN)
    with db.session() as s:  # an update posted meanwhile moves the nudge on
        due.schedule(s, "nudge", "incident:1", T0 + 30 * MIN, now=T0)
    with db.session() as s:
        assert not due.done(s, rows[0].id, "a", now=T0, next_at=T0 + 5 * MIN)
        row = due.get(s, "nudge", "incident:1")
        assert row is not None and (row.due_at, row.runs) == (T0 + 30 * MIN, 0)


def test_a_snooze_holds_a_due_row_back(db: Database) -> None:
    with db.session() as s:
        due.schedule(s, "nudge", "incident:1", T0, now=T0, hold_until=T0 + 30 * MIN)
    with db.session() as s:
        assert due.claim(s, "nudge", T0 + 29 * MIN) == []
        assert len(due.claim(s, "nudge", T0 + 30 * MIN)) == 1
    with db.session() as s:  # a reschedule keeps the snooze unless told
        due.schedule(s, "nudge", "incident:1", T0, now=T0)
        assert due.claim(s, "nudge", T0 + 29 * MIN) == []


def test_a_refused_row_backs_off(db: Database) -> None:
    with db.session() as s:
        due.schedule(s, "digest", "digest", T0, now=T0)
    with db.session() as s:
        rows = due.claim(s, "digest", T0)
        due.lease(s, rows, "a", T0 + 5 * MIN)
    with db.session() as s:
        assert due.fail(s, rows[0].id, "a", retry_at=T0 + 2 * MIN)
    with db.session() as s:
        assert due.claim(s, "digest", T0 + MIN) == []
        assert len(due.claim(s, "digest", T0 + 2 * MIN)) == 1
