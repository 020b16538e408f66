"""Property-based tests: no input breaks the grammar, the parsers or text safety."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.common.errors import UserError
from bot.common.text import clean, escape, from_slack, mentioned_users, mrkdwn, to_slack
from bot.common.timeparse import Frame, on_days, parse_time, split_leading_time
from bot.incidents import rules as incidents
from bot.incidents.slack import parse_start
from bot.slack.commands import REGISTRY, split

ZONES = st.sampled_from([ZoneInfo(z) for z in ("UTC", "Europe/Paris", "Pacific/Auckland",
                                               "Pacific/Honolulu", "America/New_York",
                                               "America/Los_Angeles")])
NOWS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1),
                    timezones=st.just(dt.UTC))
SLACKISH = st.text(alphabet=st.sampled_from(list("<>!@#|^&;:-_ abcUCW019\n\t\u202e😀ש")) |
                   st.characters(), max_size=300)
BROADCAST = re.compile(r"<!(channel|here|everyone|subteam)[^>]*>")


@given(SLACKISH)
def test_grammar_never_raises(text: str) -> None:
    inv = split(text)
    assert inv.name == inv.name.lower() and " " not in inv.name
    if REGISTRY.find(inv.name) is None and inv.name:
        assert "/incident help" in REGISTRY.unknown_text(inv.name)
    severity, _title, _private = parse_start(inv.args)
    assert severity in incidents.SEVERITIES


TIMEISH = st.from_regex(r"\A(-\s*\d{1,15}\s*(m|h|d|min|hours)|\d{1,5}(:\d{1,3}){0,2}\s*(am|pm)?"
                        r"|\d{1,6}-\d{1,3}-\d{1,3}( \d{1,3}:\d{1,3})?)\Z")


@settings(max_examples=300)
@given(SLACKISH | TIMEISH, ZONES, NOWS)
def test_time_parser_returns_utc_or_user_error(text: str, tz: ZoneInfo, now: dt.datetime) -> None:
    try:
        when = parse_time(text, tz, now)
    except UserError as err:
        assert err.message
    else:
        assert when.tzinfo is not None and when.utcoffset() == dt.timedelta(0)
    reading, rest = split_leading_time(text, tz, now)
    assert reading is None or reading.when.utcoffset() == dt.timedelta(0)
    assert isinstance(rest, str)


@given(st.integers(0, 23), st.integers(0, 59), ZONES, NOWS)
def test_bare_times_are_never_far_in_the_future(h: int, m: int, tz: ZoneInfo,
                                                now: dt.datetime) -> None:
    when = parse_time(f"{h:02d}:{m:02d}", tz, now)
    assert when - now <= dt.timedelta(minutes=5)
    assert now - when <= dt.timedelta(hours=49)


@settings(max_examples=300)
@given(st.integers(0, 23), st.integers(0, 59), ZONES, NOWS,
       st.integers(0, 72 * 60), st.integers(1, 2000))
def test_bare_times_of_an_earlier_incident_land_on_its_days(
        h: int, m: int, tz: ZoneInfo, start: dt.datetime, minutes: int, days_later: int) -> None:
    """On an incident recorded after the fact, a bare time is never far from its days, never
    in the future, and inside the incident whenever one occurrence is."""
    frame = Frame(start, start + dt.timedelta(minutes=minutes))
    now = frame.end + dt.timedelta(days=days_later)
    reading = on_days(dt.time(h, m), tz, frame, now)
    assert reading is not None and reading.on_incident_days
    when = reading.when
    assert when <= now and when.astimezone(tz).strftime("%H:%M") in (
        f"{h:02d}:{m:02d}", f"{(h + 1) % 24:02d}:{m:02d}")  # moved on by a DST gap only
    assert frame.start - dt.timedelta(hours=25) <= when <= frame.end + dt.timedelta(hours=25)
    inside = [o for o in (when, *reading.others) if frame.start <= o <= frame.end]
    if inside:
        assert frame.start <= when <= frame.end and when == min(inside)
    assert when not in reading.others


@given(SLACKISH)
def test_user_text_never_becomes_a_broadcast_or_a_new_mention(text: str) -> None:
    wire = to_slack(text)  # ``text`` as typed, in Slack's markup: what a command carries
    stored = clean(from_slack(wire))
    for safe in (mrkdwn(stored), mrkdwn(text)):
        assert not BROADCAST.search(safe)
        assert set(mentioned_users(safe)) <= set(mentioned_users(text))
    assert from_slack(wire) == text
    raw = escape(text)
    assert "<" not in raw and ">" not in raw
    assert mentioned_users(raw) == []


@given(SLACKISH)
def test_titles_are_clean_or_rejected(text: str) -> None:
    try:
        title = incidents.clean_title(text)
    except UserError:
        return
    assert title and len(title) <= incidents.TITLE_LIMIT and "\n" not in title
    assert not BROADCAST.search(mrkdwn(title))
    name = incidents.channel_name("inc", 123456, title, attempt=9)
    assert re.fullmatch(r"[a-z0-9_-]{1,80}", name)


DUEISH = st.from_regex(r"\A(in \d{1,12} ?(d|w|days?|weeks?)|next (week|month|friday|mon)|"
                       r"\d{1,6}-\d{1,3}-\d{1,3}|today|tomorrow|fri(day)?|sunday)\Z")


@settings(max_examples=300)
@given(SLACKISH | DUEISH, ZONES, NOWS)
def test_due_date_parser_returns_a_date_or_user_error(text: str, tz: ZoneInfo,
                                                      now: dt.datetime) -> None:
    from bot.common.duedates import local_today, parse_due

    try:
        day = parse_due(text, tz, now)
    except UserError as err:
        assert err.message
    else:
        assert isinstance(day, dt.date) and day >= local_today(tz, now)
