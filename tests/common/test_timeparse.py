import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.common.errors import UserError
from bot.common.timeparse import format_duration, parse_time, split_leading_time

PARIS = ZoneInfo("Europe/Paris")
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
    assert when and when.isoformat() == "2024-05-03T08:05:00+00:00" and rest == "restarted the db"
    when, rest = split_leading_time("2024-05-01 10:05 rolled back", PARIS, NOW)
    assert when and when.day == 1 and rest == "rolled back"
    assert split_leading_time("restarted at 10:05", PARIS, NOW) == (None, "restarted at 10:05")
    assert split_leading_time("404s everywhere", PARIS, NOW) == (None, "404s everywhere")


def test_format_duration() -> None:
    assert format_duration(dt.timedelta(minutes=90)) == "1h 30m"
    assert format_duration(dt.timedelta(seconds=20)) == "<1m"
    assert format_duration(dt.timedelta(days=2, hours=4, minutes=5)) == "2d 4h"
    assert format_duration(dt.timedelta(minutes=45)) == "45m"


def test_absurd_relative_times_are_user_errors() -> None:
    with pytest.raises(UserError, match="too far back"):
        parse_time("-99999999999m", PARIS, NOW)
