"""Compiling a postmortem costs a fixed number of SQL statements, whatever the incident size."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import event

from bot.common.text import mentioned_users
from bot.postmortem import compile as postmortem
from storage import postmortem as repo
from storage import timeline
from storage.db import Database
from tests.postmortem.fixtures import NOW, at, seed_large, seed_realistic

MAX_STATEMENTS = 6  # five SELECTs (+ SQLite's BEGIN IMMEDIATE)


@contextlib.contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_statement_count_does_not_grow_with_the_incident(db: Database) -> None:
    small = seed_realistic(db)
    large = seed_large(db, entries=2_000, tasks=150, team_id="T0LARGE")
    counts = []
    for incident_id in (small, large):
        with counting(db) as statements:
            pm = postmortem.compile_incident(db, incident_id, ZoneInfo("Europe/Paris"), now=NOW,
                                             resolve_names=lambda ids: {})
        counts.append(len(statements))
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 5, statements
    assert counts[0] == counts[1] <= MAX_STATEMENTS
    assert len(pm.timeline) == 2_000 + 2 and len(pm.tasks) == 150
    assert [e.text for e in pm.timeline if e.kind == "milestone"] == ["Impact began",
                                                                       "Impact ended"]
    assert pm.lead == "lee"  # names came with the same queries


def test_entries_are_ordered_by_time_then_ts_then_insertion(db: Database) -> None:
    incident_id = seed_realistic(db)
    with db.session() as s:
        for text, sort_ts in (("b", "2"), ("a", "1"), ("c", "2")):
            timeline.add(s, incident_id=incident_id, kind="note", occurred_at=at(500), now=at(500),
                         sort_ts=sort_ts, text=text)
    with db.session() as s:
        record = repo.load(s, incident_id, mentioned_users)
        in_order = [e.text for e in timeline.ordered(s, incident_id)]
    assert record is not None
    assert [e.text for e in record.entries[-3:]] == ["a", "b", "c"]
    assert [e.text for e in record.entries] == in_order
    assert {"U0LEAD", "U0ALICE", "U0BOB", "U0CARA"} <= record.user_ids
    assert set(record.people) == {"U0LEAD", "U0ALICE", "U0BOB", "U0CARA"}


def test_load_of_a_missing_incident_is_none(db: Database) -> None:
    with db.session() as s:
        assert repo.load(s, 999) is None
