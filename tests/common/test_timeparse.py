import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.common.errors import UserError
from bot.common.timeparse import (
    Frame,
    describe_period,
    format_duration,
    other_days_hint,
    parse_time,
    read_time,
    split_leading_time,
)

PARIS = ZoneInfo("Europe/Paris")
LA = ZoneInfo("America/Los_Angeles")
UTC = ZoneInfo("UTC")
NOW = dt.datetime(2024, 5, 3, 12, 0, tzinfo=dt.UTC)  # 14:00 in Paris


@pytest.mark.parametrize("text, expected", [
    ("10:00", "2024-05-03T08:00:00+00:00"),
    ("10:00am", "2024-05-03T08:00:00+00:00"),
    ("10am", "2024-05-03T08:00:00+00:00"),
    ("1:30pm", "2024-05-03T11:30:00+00:00"),
    ("2024-05-01 10:00", "2024-05-01T08:00:00+00:00"),
    ("2024-05-01T23:15", "2024-05-01T21:15:00+00:00"),
    ("-15m", "2024-05-03T11:45:00+00:00"),
    ("-2h", "2024-05-03T10:00:00+00:00"),
    ("23:00", "2024-05-02T21:00:00+00:00"),  # later than now today → yesterday
    ("12:00 AM", "2024-05-02T22:00:00+00:00"),
])
def test_parse_time_in_incident_zone(text: str, expected: str) -> None:
    assert parse_time(text, PARIS, NOW).isoformat() == expected


@pytest.mark.parametrize("text", ["", "10", "25:00", "13pm", "2024-02-30 10:00", "soon",
                                  "10:61", "2024-05-01 lunch"])
def test_bad_times_raise_friendly_errors(text: str) -> None:
    with pytest.raises(UserError) as err:
        parse_time(text, PARIS, NOW)
    assert "10:00" in err.value.message


def test_dst_gap_and_fold() -> None:
    # 02:30 does not exist on 2024-03-31 in Paris; it is read as 03:30 CEST.
    assert parse_time("2024-03-31 02:30", PARIS, NOW).isoformat() == "2024-03-31T01:30:00+00:00"
    # 02:30 happens twice on 2024-10-27; the first (CEST) is taken.
    assert parse_time("2024-10-27 02:30", PARIS, NOW).isoformat() == "2024-10-27T00:30:00+00:00"


def test_split_leading_time() -> None:
    when, rest = split_leading_time("10:05 restarted the db", PARIS, NOW)
    assert when and when.when.isoformat() == "2024-05-03T08:05:00+00:00"
    assert rest == "restarted the db"
    when, rest = split_leading_time("2024-05-01 10:05 rolled back", PARIS, NOW)
    assert when and when.when.day == 1 and rest == "rolled back"
    assert split_leading_time("restarted at 10:05", PARIS, NOW) == (None, "restarted at 10:05")
    assert split_leading_time("404s everywhere", PARIS, NOW) == (None, "404s everywhere")


# -- bare times of an incident recorded after the fact ---------------------------------------

#: Typed years later: the first seed's outage began on 2024-05-03 at 10:00 UTC.
TYPED = dt.datetime(2026, 3, 12, 15, 4, tzinfo=dt.UTC)
SEED1 = Frame(dt.datetime(2024, 5, 3, 10, 0, tzinfo=dt.UTC),
              dt.datetime(2024, 5, 3, 10, 0, tzinfo=dt.UTC))


def utc(text: str) -> str:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).isoformat()


def test_a_live_incident_reads_the_most_recent_occurrence() -> None:
    reading = read_time("10:10", UTC, TYPED)
    assert reading.when.isoformat() == "2026-03-12T10:10:00+00:00"
    assert not reading.on_incident_days and reading.others == ()
    assert read_time("16:00", UTC, TYPED).when.day == 11  # later today: yesterday's


@pytest.mark.parametrize("text, expected", [
    ("10:10", "2024-05-03T10:10:00+00:00"),  # the example
    ("11:30", "2024-05-03T11:30:00+00:00"),
    ("9:55am", "2024-05-03T09:55:00+00:00"),  # just before the start: the same day
    ("23:00", "2024-05-03T23:00:00+00:00"),  # counted from the start: 13 h after, not 11 before
    ("2024-05-04 01:00", "2024-05-04T01:00:00+00:00"),  # a date means that date
    ("-15m", "2026-03-12T14:49:00+00:00"),  # relative to now, as always
])
def test_an_incident_recorded_after_the_fact_reads_its_own_days(text: str, expected: str) -> None:
    assert read_time(text, UTC, TYPED, SEED1).when.isoformat() == expected


def test_the_nearest_day_wins_and_ties_go_after_the_start() -> None:
    evening = Frame(dt.datetime(2024, 5, 3, 22, 0, tzinfo=dt.UTC),
                    dt.datetime(2024, 5, 3, 22, 0, tzinfo=dt.UTC))
    # 01:00 is 3 h after a 22:00 start (next day), 21 h before it (same day).
    assert read_time("01:00", UTC, TYPED, evening).when.isoformat() == "2024-05-04T01:00:00+00:00"
    # 20:00 is 2 h before the start: a moment before the impact, on its day.
    assert read_time("20:00", UTC, TYPED, evening).when.isoformat() == "2024-05-03T20:00:00+00:00"
    # 14:00 is 8 h before the start or 16 h after it: time before counts double, a tie;
    # after the start wins, and the other day, nearer, is named.
    tie = read_time("14:00", UTC, TYPED, evening)
    assert tie.when.isoformat() == "2024-05-04T14:00:00+00:00"
    assert [o.isoformat() for o in tie.others] == ["2024-05-03T14:00:00+00:00"]


def test_the_story_so_far_extends_the_days() -> None:
    """Notes typed in order through a long night: each lands after the one before."""
    night = Frame(dt.datetime(2024, 5, 3, 22, 0, tzinfo=dt.UTC),
                  dt.datetime(2024, 5, 4, 9, 0, tzinfo=dt.UTC))
    assert read_time("11:00", UTC, TYPED, night).when.isoformat() == "2024-05-04T11:00:00+00:00"


def test_several_days_inside_the_incident_take_the_first_and_name_the_others() -> None:
    long = Frame(dt.datetime(2024, 5, 3, 8, 0, tzinfo=dt.UTC),
                 dt.datetime(2024, 5, 5, 12, 0, tzinfo=dt.UTC))
    reading = read_time("10:00", UTC, TYPED, long)
    assert reading.when.isoformat() == "2024-05-03T10:00:00+00:00"
    assert [o.date().isoformat() for o in reading.others] == ["2024-05-04", "2024-05-05"]
    hint = other_days_hint(reading, UTC)
    assert hint == (" _(on the incident's own day; for another day, give the date: "
                    "`2024-05-04 10:00`)_")
    assert other_days_hint(read_time("10:10", UTC, TYPED, SEED1), UTC) == ""


def test_the_days_are_the_incident_zones_days_not_utcs() -> None:
    """9:00 AM to 5:30 PM in Los Angeles ends after midnight UTC; 5:15pm is the same local day."""
    june = Frame(dt.datetime(2023, 6, 15, 9, 0, tzinfo=LA), dt.datetime(2023, 6, 15, 9, 0,
                                                                         tzinfo=LA))
    for text, expected in [("9:10am", "2023-06-15T09:10:00-07:00"),
                           ("1:00pm", "2023-06-15T13:00:00-07:00"),
                           ("5:15pm", "2023-06-15T17:15:00-07:00"),  # 00:15 UTC next day
                           ("8:45 AM", "2023-06-15T08:45:00-07:00")]:
        assert read_time(text, LA, TYPED, june).when.isoformat() == utc(expected), text


def test_daylight_saving_on_the_incidents_days() -> None:
    """Los Angeles springs forward at 02:00 on 2023-03-12 and falls back at 02:00 on 11-05."""
    spring = Frame(dt.datetime(2023, 3, 12, 1, 30, tzinfo=LA),
                   dt.datetime(2023, 3, 12, 1, 30, tzinfo=LA))
    after = read_time("3:15am", LA, TYPED, spring).when
    assert after.isoformat() == utc("2023-03-12T03:15:00-07:00")  # 45 real minutes later
    gap = read_time("2:30am", LA, TYPED, spring).when  # does not exist: moved on an hour
    assert gap.astimezone(LA).isoformat() == "2023-03-12T03:30:00-07:00"
    autumn = Frame(dt.datetime(2023, 11, 5, 0, 30, tzinfo=LA),
                   dt.datetime(2023, 11, 5, 0, 30, tzinfo=LA))
    twice = read_time("1:30am", LA, TYPED, autumn).when  # happens twice: the first
    assert twice.astimezone(LA).isoformat() == "2023-11-05T01:30:00-07:00"
    ended = read_time("3:30am", LA, TYPED, autumn).when
    assert format_duration(ended - autumn.start) == "4h"  # 00:30 PDT to 03:30 PST


def test_a_frame_in_the_future_falls_back_to_the_most_recent_time() -> None:
    soon = Frame(TYPED + dt.timedelta(days=3), TYPED + dt.timedelta(days=3))
    assert read_time("10:00", UTC, TYPED, soon).when.isoformat() == "2026-03-12T10:00:00+00:00"


def test_describe_period_names_dates_and_zones_only_as_needed() -> None:
    start = dt.datetime(2024, 5, 3, 10, 0, tzinfo=dt.UTC)
    assert describe_period(start, start + dt.timedelta(minutes=90), UTC) == \
        "from 10:00 to 11:30 on 2024-05-03 (UTC)"
    assert describe_period(dt.datetime(2023, 6, 15, 9, tzinfo=LA),
                           dt.datetime(2023, 6, 15, 13, tzinfo=LA), LA) == \
        "from 09:00 to 13:00 on 2023-06-15 (PDT)"
    assert describe_period(dt.datetime(2024, 5, 3, 23, tzinfo=PARIS),
                           dt.datetime(2024, 5, 4, 0, 30, tzinfo=PARIS), PARIS) == \
        "from 2024-05-03 23:00 to 2024-05-04 00:30 (CEST)"
    assert describe_period(dt.datetime(2023, 11, 5, 0, 30, tzinfo=LA),
                           dt.datetime(2023, 11, 5, 3, 30, tzinfo=LA), LA) == \
        "from 2023-11-05 00:30 PDT to 2023-11-05 03:30 PST"


def test_format_duration() -> None:
    assert format_duration(dt.timedelta(0)) == "0m"
    assert format_duration(dt.timedelta(minutes=90)) == "1h 30m"
    assert format_duration(dt.timedelta(seconds=20)) == "<1m"
    assert format_duration(dt.timedelta(days=2, hours=4, minutes=5)) == "2d 4h"
    assert format_duration(dt.timedelta(minutes=45)) == "45m"


def test_absurd_relative_times_are_user_errors() -> None:
    with pytest.raises(UserError, match="too far back"):
        parse_time("-99999999999m", PARIS, NOW)
