"""Timeline rules without Slack: text, time, links, ordering, uniqueness, pins and notes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.common.clock import FixedClock
from bot.common.errors import UserError
from bot.incidents import rules as incidents
from bot.timeline import render, rules
from bot.timeline.events import message_text, parse_message
from bot.timeline.rules import Message
from storage import timeline as repo
from storage.db import Database
from storage.models import TimelineEntry

NOW = dt.datetime(2024, 5, 3, 12, 0, tzinfo=dt.UTC)


def test_timeline_emoji_and_ts() -> None:
    assert rules.is_timeline_emoji("pushpin", "pushpin")
    assert rules.is_timeline_emoji("pushpin::skin-tone-2", "pushpin")
    assert not rules.is_timeline_emoji("round_pushpin", "pushpin")
    assert not rules.is_timeline_emoji(None, "pushpin")
    assert rules.is_ts("1714730700.000100") and not rules.is_ts("1714730700") and not rules.is_ts(1)


def test_message_time_is_exact_to_the_microsecond() -> None:
    assert rules.message_time("1714730700.000100") == dt.datetime(2024, 5, 3, 10, 5, 0, 100,
                                                                 tzinfo=dt.UTC)
    assert rules.message_time("1714730700.5").microsecond == 500000
    with pytest.raises(ValueError):
        rules.message_time("soon")


def test_permalinks_match_chat_get_permalink() -> None:
    assert rules.permalink("https://acme.slack.com/", "C1", "1714730700.000100") == \
        "https://acme.slack.com/archives/C1/p1714730700000100"
    assert rules.permalink("https://acme.slack.com", "C1", "2.000002", "1.000001") == \
        "https://acme.slack.com/archives/C1/p2000002?thread_ts=1.000001&cid=C1"
    assert rules.permalink("https://acme.slack.com", "C1", "1.000001", "1.000001").endswith(
        "/p1000001")


def test_entry_text_is_readable_with_names_links_and_files() -> None:
    message = Message("C1", "1.000001", "<@U1> fixed <#C2> & see <https://x.io/a|the graph> "
                      "<!here>\x07", files=("graph.png",))
    text = rules.entry_text(message, {"U1": "ann"}.get, {"C2": "db"}.get)  # type: ignore[arg-type]
    assert text == "@ann fixed #db & see the graph (https://x.io/a) @here\n[file: graph.png]"


def test_parse_message_from_slack_shapes() -> None:
    reply = parse_message({"type": "message", "user": "U1", "text": "hi", "ts": "2.000002",
                           "thread_ts": "1.000001", "files": [{"name": "a.log"}]}, "C1")
    assert reply == Message("C1", "2.000002", "hi", "U1", None, "1.000001", ("a.log",))
    assert reply.in_thread
    alert = parse_message({"subtype": "bot_message", "bot_id": "B1", "username": "PagerDuty",
                           "ts": "3.000003", "text": "",
                           "attachments": [{"fallback": "CPU high"}]}, "C1")
    assert alert is not None and (alert.bot_name, alert.text, alert.user_id) == (
        "PagerDuty", "CPU high", None)
    app = parse_message({"user": "U9", "bot_id": "B9", "bot_profile": {"name": "Deploys"},
                         "ts": "4.000004", "text": "deployed"}, "C1")
    assert app is not None and app.bot_name == "Deploys"
    assert parse_message({"text": "no ts"}, "C1") is None
    assert message_text({"text": "t", "attachments": [{"title": "T", "text": "x",
                                                        "fallback": "ignored"}, "junk"]}) == \
        "t\nT\nx"


def _entry(n: int, kind: str, text: str, when: dt.datetime, **kw: object) -> TimelineEntry:
    return TimelineEntry(id=n, seq=n, incident_id=1, kind=kind, text=text, occurred_at=when,
                         **kw)


def test_render_escapes_messages_keeps_markup_of_events_and_clips() -> None:
    message = _entry(1, "message", "<!channel> a<b & " + "x" * 400, NOW, author_name="a*n",
                     permalink="https://acme.slack.com/archives/C1/p1", actor_user_id="U2")
    line = render.entry_line(1, message, "*14:00 CEST*", [])
    assert "&lt;!channel&gt; a&lt;b &amp; " in line and "<!channel>" not in line
    assert "…" in line and len(line) < 500 and line.endswith("— pinned by <@U2>")
    event = _entry(2, "event", "Lead changed to <@U3>", NOW, event_type="lead",
                   actor_user_id="U2")
    assert render.entry_line(2, event, "t", []) == \
        "`2` t :bust_in_silhouette: Lead changed to <@U3> — <@U2>"
    note = _entry(3, "note", "<@U3> restarted\n" + "y" * 400, NOW, author_name="ann")
    assert "@U3 restarted" in render.entry_line(3, note, "t", [])  # clipped as plain text


def test_pages_number_across_pages_and_name_the_zone() -> None:
    tz = ZoneInfo("America/New_York")
    entries = [_entry(n, "note", f"step {n} " + "z" * 200, NOW + dt.timedelta(hours=n),
                      author_name="ann") for n in range(1, 41)]
    inc = incidents_stub()
    tl = rules.Timeline(inc, entries)
    pages = render.pages(tl, tz)
    assert len(pages) > 1 and all(len(p) <= render.PAGE_LIMIT for p in pages)
    numbers = [line.split("`")[1] for p in pages for line in p.splitlines()]
    assert numbers == [str(n) for n in range(1, 41)]
    assert pages[0].splitlines()[0].startswith("`1` *2024-05-03 09:00 EDT*")
    assert " *10:00 EDT* " in pages[0].splitlines()[1]  # same day: time only
    assert all(p.splitlines()[0].split("*")[1].startswith("2024-05-") for p in pages)
    first = render.timeline_page(tl, tz, 1)
    assert "times in America/New_York (page 1 of" in first


def incidents_stub():  # type: ignore[no-untyped-def]
    from storage.models import Incident

    return Incident(id=1, number=7, title="t", severity="sev2", status="investigating",
                    started_at=NOW, created_at=NOW, ended_at=None)


# -- with a database (SQLite and PostgreSQL) -------------------------------------------------

@pytest.fixture
def incident(db: Database):  # type: ignore[no-untyped-def]
    clock = FixedClock(NOW)
    inc = incidents.open_incident(db, clock, team_id="T1", user_id="U1", title="DB down")
    incidents.attach_channel(db, inc.id, "C1", "inc-1-db-down")
    return inc


def test_equal_times_keep_their_order_and_ts_breaks_ties(db: Database, incident) -> None:  # type: ignore[no-untyped-def]
    clock = FixedClock(NOW)
    at = NOW - dt.timedelta(hours=1)  # 11:00:00, like both messages below
    for text in ("first", "second", "third"):
        rules.add_note(db, clock, incident_id=incident.id, user_id="U1", author_name="ann",
                      text=text, when=at)
    with db.session() as s:
        for ts in ("1714734000.000300", "1714734000.000200"):  # both at 11:00:00.000…
            repo.add_message(s, incident_id=incident.id, channel_id="C1", ts=ts,
                             occurred_at=rules.message_time(ts).replace(microsecond=0), now=NOW,
                             text=ts)
    texts = [e.text for e in rules.timeline(db, incident.id).entries]
    assert texts == ["first", "second", "third", "1714734000.000200", "1714734000.000300",
                     "Incident opened by <@U1> (sev3): DB down"]


def test_pins_unpins_and_shortcuts(db: Database, incident) -> None:  # type: ignore[no-untyped-def]
    clock = FixedClock(NOW)
    message = Message("C1", "1714734000.000100", "hello", "U5")
    assert rules.pin(db, clock, event_id="E1", incident_id=incident.id, message=message,
                    user_id="U2", author_name="eve", text="hello", link=None).status == "ignored"
    assert not rules.remember(db, clock, message, "T2")  # C1 is not an incident of T2
    assert rules.remember(db, clock, message, "T1")
    assert not rules.remember(db, clock, Message("C9", "1.000001", "elsewhere"), "T1")
    pin = {"incident_id": incident.id, "message": message, "author_name": "eve",
           "text": "hello", "link": None}
    assert rules.pin(db, clock, event_id="E2", user_id="U2", **pin).status == "added"
    assert rules.pin(db, clock, event_id="E2", user_id="U2", **pin).status == "duplicate"
    assert rules.pin(db, clock, event_id="E3", user_id="U3", **pin).status == "already"
    assert rules.unpin(db, clock, event_id="E4", channel_id="C1", ts=message.ts,
                      user_id="U2", team_id="T1").status == "kept"
    assert rules.unpin(db, clock, event_id="E5", channel_id="C1", ts=message.ts,
                      user_id="U3", team_id="T1").status == "removed"
    assert rules.pin(db, clock, event_id=None, user_id="U4", source="shortcut", **pin
                    ).status == "added"
    assert rules.pin(db, clock, event_id="E6", user_id="U2", **pin).status == "already"
    assert rules.unpin(db, clock, event_id="E7", channel_id="C1", ts=message.ts,
                      user_id="U2", team_id="T1").status == "kept"  # added on purpose
    assert rules.message_deleted(db, "C1", message.ts) == 1
    assert rules.message_deleted(db, "C1", message.ts) == 0
    assert [e.kind for e in rules.timeline(db, incident.id).entries] == ["event"]


def test_notes_validate_and_remove_checks_the_number(db: Database, incident) -> None:  # type: ignore[no-untyped-def]
    clock = FixedClock(NOW)
    with pytest.raises(UserError, match="Say what happened"):
        rules.add_note(db, clock, incident_id=incident.id, user_id="U1", author_name="a",
                      text="  \x07 ")
    with pytest.raises(UserError, match="future"):
        rules.add_note(db, clock, incident_id=incident.id, user_id="U1", author_name="a",
                      text="later", when=NOW + dt.timedelta(hours=1))
    note = rules.add_note(db, clock, incident_id=incident.id, user_id="U1", author_name="a",
                         text="<!here> ok", when=NOW + dt.timedelta(minutes=4))
    assert note.text == "<!here> ok"  # as typed; outputs disarm it
    with pytest.raises(UserError, match="no entry 3 on INC-1's timeline"):
        rules.remove(db, incident.id, 3)
    assert rules.remove(db, incident.id, 2).text == "<!here> ok"
    with pytest.raises(UserError, match="no entry 2"):  # numbers are never reused
        rules.remove(db, incident.id, 2)
    assert [e.kind for e in rules.timeline(db, incident.id).entries] == ["event"]


def test_reaction_events_apply_in_slack_time_and_removals_are_remembered(
        db: Database, incident) -> None:  # type: ignore[no-untyped-def]
    clock = FixedClock(NOW)
    message = Message("C1", "1714734000.000100", "hello", "U5")
    assert rules.remember(db, clock, message, "T1")
    pin = {"incident_id": incident.id, "message": message, "author_name": "eve",
           "text": "hello", "link": None, "user_id": "U2"}
    unpin = {"channel_id": "C1", "ts": message.ts, "user_id": "U2", "team_id": "T1"}

    def messages() -> list[str]:
        return [e.text for e in rules.timeline(db, incident.id).entries if e.kind == "message"]

    # The unpin (t=20) arrives before its pin (t=10): the late pin changes nothing.
    assert rules.unpin(db, clock, event_id="E2", event_ts="1714734020.000000",
                       **unpin).status == "ignored"
    assert rules.pin(db, clock, event_id="E1", event_ts="1714734010.000000",
                     **pin).status == "stale"
    assert messages() == []
    # A pin after the removal (t=30) counts; a redelivered copy of the old one still not.
    assert rules.pin(db, clock, event_id="E3", event_ts="1714734030.000000",
                     **pin).status == "added"
    assert rules.unpin(db, clock, event_id="E4", event_ts="1714734040.000000",
                       **unpin).status == "removed"
    assert rules.pin(db, clock, event_id="E5", event_ts="1714734035.000000",
                     **pin).status == "stale"
    assert messages() == []
    # An old unpin arriving after a newer pin does not remove it.
    assert rules.pin(db, clock, event_id="E6", event_ts="1714734050.000000",
                     **pin).status == "added"
    assert rules.unpin(db, clock, event_id="E7", event_ts="1714734045.000000",
                       **unpin).status == "stale"
    assert messages() == ["hello"]
    # Another person's events are ordered on their own.
    assert rules.pin(db, clock, event_id="E8", event_ts="1714734001.000000",
                     **{**pin, "user_id": "U3"}).status == "already"


def test_pins_resolve_incidents_only_in_their_own_workspace(db: Database, incident) -> None:  # type: ignore[no-untyped-def]
    """C1 is T1's incident channel: a reaction or an unpin that says T2 finds no incident."""
    clock = FixedClock(NOW)
    message = Message("C1", "1714734000.000100", "hello", "U5")
    assert rules.remember(db, clock, message, "T1")
    assert rules.pin_target(db, "C1", message.ts, "T2").incident is None
    target = rules.pin_target(db, "C1", message.ts, "T1")
    assert target.incident is not None and target.message is not None
    rules.pin(db, clock, event_id="E1", incident_id=incident.id, message=message, user_id="U2",
              author_name="eve", text="hello", link=None)
    assert rules.unpin(db, clock, event_id="E2", channel_id="C1", ts=message.ts, user_id="U2",
                       team_id="T2").status == "ignored"
    assert len(rules.timeline(db, incident.id).entries) == 2  # opened + the pin, still there
    edited = Message("C9", "1714734000.000200", "new words", "U5")
    assert rules.message_edited(db, clock, edited, "T1") == 0  # not an incident channel
