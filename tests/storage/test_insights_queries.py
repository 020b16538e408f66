"""The insights' queries: a fixed number of statements whatever the number of incidents,
buckets that agree with the rules' at their edges, and privacy (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.insights import report, rules
from storage import insights as repo
from storage.db import Database
from storage.insights import Scope
from tests.insights import fixtures
from tests.insights.fixtures import NOW, TEAM, add
from tests.storage.test_postmortem_queries import counting

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
#: Six SELECTs (one of them WITH … SELECT) (+ SQLite's BEGIN IMMEDIATE).
SELECTS = 6


def _gather(db: Database, scope: Scope) -> tuple[rules.Insights, list[str]]:
    with counting(db) as statements, db.session() as s:
        ins = report.gather(s, scope, NOW, PARIS, 5)
    return ins, statements


def test_statement_count_does_not_grow_with_the_incidents(db: Database) -> None:
    add(db, started=NOW - dt.timedelta(days=3), resolved=NOW - dt.timedelta(days=2),
        tasks=[("U0ANN", dt.date(2026, 3, 1), "open")])
    small, first = _gather(db, Scope.of(TEAM))
    private = fixtures.bulk(db, 1500)
    large, second = _gather(db, Scope.of(TEAM, private[:50]))
    for statements in (first, second):
        selects = [s for s in statements
                   if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        assert len(selects) == SELECTS, statements
    assert len(first) == len(second) <= SELECTS + 1
    assert small.monthly.total == 1 and large.monthly.total > 1000
    assert large.overdue.total > 0 and large.overdue.owners


def test_counts_bucket_at_the_local_edges_like_the_rules(db: Database) -> None:
    months = rules.months(NOW, PARIS)
    march = months[-1].start  # 2026-02-28 23:00 UTC
    assert march == dt.datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    for started, severity in ((march, "sev1"), (march - dt.timedelta(microseconds=1), "sev2"),
                              (months[0].start, "sev3"),
                              (months[0].start - dt.timedelta(seconds=1), "sev1"),
                              (NOW, "sev4"), (NOW + dt.timedelta(days=30), "sev1")):
        add(db, started=started, severity=severity)
    with db.session() as s:
        rows = repo.counts(s, Scope.of(TEAM), rules.edges(months))
    assert sorted(rows) == [(0, "sev3", 1), (10, "sev2", 1), (11, "sev1", 1), (11, "sev4", 1)]
    weeks = rules.weeks(NOW, PARIS)
    with db.session() as s:
        weekly = repo.counts(s, Scope.of(TEAM), rules.edges(weeks))
    expected: dict[tuple[int, str], int] = {}
    for started, severity in ((march, "sev1"), (march - dt.timedelta(microseconds=1), "sev2"),
                              (NOW, "sev4")):
        index = rules.index_of(started, weeks)
        assert index is not None
        expected[(index, severity)] = expected.get((index, severity), 0) + 1
    assert {(b, s): n for b, s, n in weekly} == expected


def test_private_incidents_count_only_when_given(db: Database) -> None:
    start = NOW - dt.timedelta(days=1)
    add(db, started=start, resolved=start + dt.timedelta(hours=1),
        tasks=[("U0ANN", dt.date(2026, 3, 1), "open")])
    secret = add(db, started=start, private=True, channel="C0SECRET",
                 resolved=start + dt.timedelta(hours=2), severity="sev1",
                 tasks=[("U0BOB", dt.date(2026, 3, 1), "open")])
    add(db, started=start, team="T0OTHER", tasks=[("U0CARA", dt.date(2026, 3, 1), "open")])
    outsider, _ = _gather(db, Scope.of(TEAM))
    member, _ = _gather(db, Scope.of(TEAM, [secret]))
    developer, _ = _gather(db, Scope.of(None, every_private=True))
    assert outsider.monthly.total == 1 and outsider.overdue.total == 1
    assert outsider.monthly.rows[-1].by_severity["sev1"] == 0
    assert [o.user_id for o in outsider.overdue.owners] == ["U0ANN"]
    assert outsider.durations[-1].resolve.count == 1
    assert outsider.on_time[-1].pending == 1
    assert member.monthly.total == 2 and member.overdue.total == 2
    assert member.durations[-1].resolve.count == 2 and member.on_time[-1].pending == 2
    assert developer.monthly.total == 3 and developer.overdue.total == 3
    with db.session() as s:
        found = repo.private_incidents(s, TEAM)
        assert [(i.id, i.channel_id, i.created_by) for i in found] == [
            (secret, "C0SECRET", "U0CREATOR")]
        assert repo.private_incidents(s, "T0OTHER") == []


def test_resolutions_use_the_latest_resolution_and_the_first_version(db: Database) -> None:
    resolved = dt.datetime(2026, 2, 2, 9, tzinfo=UTC)  # a Monday
    add(db, started=resolved - dt.timedelta(hours=2), resolved=resolved,
        published=[resolved + dt.timedelta(days=3), resolved + dt.timedelta(days=30)])
    add(db, started=resolved, resolved=resolved + dt.timedelta(hours=1))
    add(db, started=resolved)  # open: never counted
    months = rules.months(NOW, PARIS)
    with db.session() as s:
        rows = repo.resolutions(s, Scope.of(TEAM), months[0].start, months[-1].end)
    assert not rows.truncated
    first = resolved.timestamp()
    assert sorted(rows.rows) == [(pytest.approx(first), pytest.approx(first + 3 * 86400)),
                                 (pytest.approx(first + 3600), None)]


def test_bounded_selects_say_when_rows_were_left_out(db: Database) -> None:
    for day in range(3):
        add(db, started=NOW - dt.timedelta(days=day + 1), detected=NOW - dt.timedelta(days=day),
            resolved=NOW - dt.timedelta(hours=1))
    months = rules.months(NOW, PARIS)
    with db.session() as s:
        rows = repo.durations(s, Scope.of(TEAM), rules.edges(months), limit=2)
        resolved = repo.resolutions(s, Scope.of(TEAM), NOW - dt.timedelta(days=30), NOW,
                                    limit=2)
    assert rows.truncated and len(rows.rows) == 2
    assert rows.rows == [  # the latest declared first
        (11, pytest.approx(86400.0), pytest.approx(3 * 86400 - 3600.0)),
        (11, pytest.approx(86400.0), pytest.approx(2 * 86400 - 3600.0))]
    assert resolved.truncated and len(resolved.rows) == 2


def test_durations_are_exact_to_the_millisecond(db: Database) -> None:
    start = dt.datetime(2026, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
    add(db, started=start, detected=start + dt.timedelta(seconds=59, milliseconds=877),
        ended=start + dt.timedelta(days=3, milliseconds=1))
    months = rules.months(NOW, PARIS)
    with db.session() as s:
        ((bucket, detect, resolve),) = repo.durations(s, Scope.of(TEAM), rules.edges(months)).rows
    assert bucket == 11
    assert round(detect, 3) == 59.877 and round(resolve, 3) == 3 * 86400 + 0.001


def test_overdue_owners_with_names_most_first(db: Database) -> None:
    fixtures.name(db, "U0ANN", "ann")
    yesterday, today = dt.date(2026, 3, 11), dt.date(2026, 3, 12)
    add(db, started=NOW - dt.timedelta(days=9), tasks=[
        ("U0ANN", yesterday, "open"), ("U0ANN", yesterday, "open"), ("U0ANN", today, "open"),
        ("U0BOB", yesterday, "open"), ("U0BOB", yesterday, "done"), ("U0CARA", None, "open"),
        ("U0DAN", dt.date(2025, 1, 1), "open"), ("U0EVE", yesterday, "dropped")])
    with db.session() as s:
        total, owners = repo.overdue(s, Scope.of(TEAM), today, top=2)
    assert total == 4
    assert owners == [("U0ANN", "ann", 2), ("U0BOB", None, 1)]
