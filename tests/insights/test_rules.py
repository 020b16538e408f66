"""The insights' arithmetic: buckets across DST and month/week/year ends, percentiles,
series from rows, postmortems on time (by the follow-up's working days)."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.insights import rules
from bot.postmortem import followup

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
AUCKLAND = ZoneInfo("Pacific/Auckland")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --- buckets -----------------------------------------------------------------------------

def test_weeks_are_iso_weeks_in_the_zone_the_current_one_last() -> None:
    now = utc(2026, 3, 12, 15, 0)  # a Thursday
    weeks = rules.weeks(now, PARIS)
    assert len(weeks) == 26
    assert weeks[-1].label == "2026-W11" and weeks[-1].first_day == dt.date(2026, 3, 9)
    assert weeks[-1].start == utc(2026, 3, 8, 23, 0)  # Monday 00:00 CET
    assert weeks[0].first_day == dt.date(2025, 9, 15)
    assert all(a.end == b.start for a, b in itertools.pairwise(weeks))
    assert all(w.first_day.weekday() == 0 for w in weeks)


def test_a_week_across_the_dst_change_is_one_week_of_167_hours() -> None:
    now = utc(2026, 4, 2, 12, 0)  # Paris moved to summer time on Sunday 29 March
    week = rules.weeks(now, PARIS)[-2]
    assert week.first_day == dt.date(2026, 3, 23)
    assert week.start == utc(2026, 3, 22, 23, 0)  # CET
    assert week.end == utc(2026, 3, 29, 22, 0)  # next Monday 00:00 CEST
    assert week.end - week.start == dt.timedelta(hours=167)
    # 23:30 local on Sunday 29 March (after the change) is still that week
    assert rules.index_of(utc(2026, 3, 29, 21, 30), rules.weeks(now, PARIS)) == 24
    assert rules.index_of(utc(2026, 3, 29, 22, 0), rules.weeks(now, PARIS)) == 25


def test_week_labels_follow_iso_years() -> None:
    weeks = rules.weeks(utc(2027, 1, 6, 12), UTC, count=3)
    assert [w.label for w in weeks] == ["2026-W52", "2026-W53", "2027-W01"]
    assert weeks[1].first_day == dt.date(2026, 12, 28)


def test_months_cross_the_year_in_the_zone() -> None:
    # 1 January 2026 10:00 in Auckland is still 31 December in UTC
    now = utc(2025, 12, 31, 21, 0)
    months = rules.months(now, AUCKLAND)
    assert months[-1].label == "2026-01" and months[0].label == "2025-02"
    assert months[-1].start == utc(2025, 12, 31, 11, 0)  # midnight NZDT (+13)
    assert rules.months(now, UTC)[-1].label == "2025-12"
    assert all(a.end == b.start for a, b in itertools.pairwise(months))


def test_a_moment_belongs_to_the_bucket_holding_it_in_the_zone() -> None:
    months = rules.months(utc(2026, 3, 12), PARIS)
    # 28 Feb 23:30 UTC is already 1 March in Paris
    assert months[rules.index_of(utc(2026, 2, 28, 23, 30), months)].label == "2026-03"
    assert months[rules.index_of(utc(2026, 2, 28, 22, 59), months)].label == "2026-02"
    assert rules.index_of(months[0].start - dt.timedelta(seconds=1), months) is None
    assert rules.index_of(months[-1].end, months) is None
    assert rules.index_of(months[0].start, months) == 0
    assert rules.index_of(utc(2026, 3, 1), []) is None


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1),
                    timezones=st.just(UTC)),
       st.sampled_from([UTC, PARIS, AUCKLAND, ZoneInfo("America/Sao_Paulo")]))
def test_now_is_always_in_the_last_bucket(now: dt.datetime, zone: ZoneInfo) -> None:
    for buckets in (rules.weeks(now, zone), rules.months(now, zone)):
        assert rules.index_of(now, buckets) == len(buckets) - 1
        local = now.astimezone(zone).date()
        assert buckets[-1].first_day <= local


# --- statistics --------------------------------------------------------------------------

def test_percentiles_interpolate_between_the_nearest_ranks() -> None:
    assert rules.percentile([], 50) is None
    assert rules.percentile([7], 90) == 7
    assert rules.percentile([1, 2, 3, 4], 50) == 2.5
    assert rules.percentile([4, 1, 3, 2], 90) == pytest.approx(3.7)  # rank 2.7
    assert rules.percentile(range(1, 11), 90) == pytest.approx(9.1)
    assert rules.percentile([1, 2], 0) == 1 and rules.percentile([1, 2], 100) == 2
    with pytest.raises(ValueError):
        rules.percentile([1], 101)


@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1))
def test_median_is_the_usual_median_and_p90_matches_statistics_inclusive(
        values: list[float]) -> None:
    summary = rules.summarize(values)
    assert summary.count == len(values)
    # Rounded to the millisecond: half a millisecond off at most, plus float error (0.0625
    # rounds to 0.062, its binary value being just below).
    within = 0.00051
    assert summary.median == pytest.approx(statistics.median(values), abs=within)
    if len(values) > 1:
        expected = statistics.quantiles(values, n=10, method="inclusive")[8]
        assert summary.p90 == pytest.approx(expected, abs=within)
    assert summary.median <= summary.p90  # type: ignore[operator]


def test_format_seconds() -> None:
    assert rules.format_seconds(None) == "—"
    assert rules.format_seconds(5400) == "1h 30m"
    assert rules.format_seconds(2 * 86400 + 4 * 3600) == "2d 4h"


# --- series ------------------------------------------------------------------------------

def test_count_series_has_every_bucket_and_severity_with_zeros() -> None:
    months = rules.months(utc(2026, 3, 12), UTC, count=3)
    counts = rules.count_series(months, [(0, "sev1", 2), (2, "sev3", 1), (2, "sev1", 4),
                                         (1, "weird<b>", 1), (9, "sev1", 100)])
    assert counts.severities == ("sev1", "sev2", "sev3", "sev4", "weird<b>")
    assert [r.total for r in counts.rows] == [2, 1, 5]
    assert counts.rows[2].by_severity == {"sev1": 4, "sev2": 0, "sev3": 1, "sev4": 0,
                                          "weird<b>": 0}
    assert counts.total == 8
    empty = rules.count_series(months, [])
    assert empty.severities == rules.SEVERITIES and empty.total == 0


def test_durations_per_bucket() -> None:
    months = rules.months(utc(2026, 3, 12), UTC, count=2)
    rows = [
        (1, 600.0, 3600.0),
        (1, 1800.0004, 10800.0),
        (1, None, None),  # still open, detection not recorded
        (1, -300.0, None),  # detected "before" the start: left out
        (0, 240.0, 2 * 86400 + 3600.0),
        (5, 1.0, 1.0),  # outside
    ]
    feb, mar = rules.duration_series(months, rows)
    assert mar.detect == rules.Summary(2, 1200, 1680)
    assert mar.resolve == rules.Summary(2, 7200, 10080)
    assert feb.detect == rules.Summary(1, 240, 240)
    assert feb.resolve.count == 1 and feb.resolve.median == 2 * 86400 + 3600
    empty = rules.duration_series(months, [])
    assert empty[0].detect == rules.Summary(0, None, None)


ZONES = [UTC, PARIS, AUCKLAND, ZoneInfo("America/Sao_Paulo"), ZoneInfo("Africa/Cairo"),
         ZoneInfo("America/Santiago"), ZoneInfo("Asia/Gaza")]


@given(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1),
                    timezones=st.just(UTC)),
       st.integers(min_value=1, max_value=30), st.sampled_from(ZONES))
def test_due_moments_are_the_followups_own(resolved: dt.datetime, days: int,
                                           zone: ZoneInfo) -> None:
    resolved = resolved.replace(microsecond=resolved.microsecond // 1000 * 1000)
    expected = followup.add_working_days(resolved, days, zone)
    start = (resolved - dt.timedelta(days=40)).date()
    due = rules.DueMoments(days, zone, start, start + dt.timedelta(days=120))
    assert due(resolved) == expected
    assert due(resolved) == expected  # cached
    assert due.epoch(resolved.timestamp()) == pytest.approx(expected.timestamp(), abs=1e-6)
    outside = rules.DueMoments(days, zone)  # no days prepared: the exact way
    assert outside.epoch(resolved.timestamp()) == pytest.approx(expected.timestamp(), abs=1e-6)


def test_due_moments_around_a_dst_change_on_a_weekday() -> None:
    cairo = ZoneInfo("Africa/Cairo")  # summer time starts on the last Friday of April
    due = rules.DueMoments(1, cairo, dt.date(2024, 4, 1), dt.date(2024, 5, 31))
    for hours in range(0, 24 * 7):
        moment = dt.datetime(2024, 4, 22, tzinfo=UTC) + dt.timedelta(hours=hours, minutes=7)
        expected = followup.add_working_days(moment, 1, cairo)
        assert due.epoch(moment.timestamp()) == pytest.approx(expected.timestamp()), moment


def test_on_time_counts_by_month_of_resolution() -> None:
    now = utc(2026, 3, 12, 15)  # Thursday
    months = rules.months(now, PARIS, count=2)
    friday = utc(2026, 2, 6, 9)  # 10:00 in Paris; due 5 working days later: Fri 13 Feb 10:00
    rows = [
        (friday, utc(2026, 2, 13, 9)),  # on the minute: on time
        (friday, utc(2026, 2, 13, 9, 0, 0, 1000)),  # a millisecond late
        (friday, None),  # missing
        (utc(2026, 3, 11, 9), None),  # resolved yesterday: not due yet
        (utc(2026, 3, 2, 9), utc(2026, 3, 3)),  # on time
        (utc(2025, 3, 2, 9), utc(2025, 3, 3)),  # outside the window
    ]
    seconds = [(r.timestamp(), p.timestamp() if p else None) for r, p in rows]
    feb, mar = rules.on_time_series(months, seconds, now, 5, PARIS)
    assert (feb.on_time, feb.late, feb.missing, feb.pending) == (1, 1, 1, 0)
    assert feb.share == pytest.approx(1 / 3)
    assert (mar.on_time, mar.late, mar.missing, mar.pending) == (1, 0, 0, 1)
    assert mar.share == 1
    assert rules.OnTimeRow(months[0]).share is None


def test_overdue_is_before_today_in_the_zone() -> None:
    assert rules.overdue_before(utc(2026, 3, 12, 23, 30), PARIS) == dt.date(2026, 3, 13)
    assert rules.overdue_before(utc(2026, 3, 12, 23, 30), UTC) == dt.date(2026, 3, 12)
    overdue = rules.Overdue(7, (rules.Owner("U1", "ann", 4), rules.Owner("U2", None, 2)))
    assert overdue.others == 1
