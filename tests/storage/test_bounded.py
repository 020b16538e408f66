"""Storage stays bounded (issue 13, item 6): text capped at Slack's 40,000 characters, kept
messages of resolved incidents and old processed event ids purged in small batches."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select

from bot.background import purge_stored
from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.incidents import rules as incidents
from bot.settings import Settings
from bot.slack import limits
from bot.timeline import rules as timeline
from bot.timeline.rules import Message
from storage import events
from storage.db import Database
from storage.models import STORED_TEXT, ChannelMessage, Incident, ProcessedEvent, cap

MEGABYTE = "é" * 1_000_000
DAY = dt.timedelta(days=1)


def test_the_cap_is_slacks_own_message_limit() -> None:
    assert STORED_TEXT == limits.MESSAGE_TEXT == 40_000
    short = "x" * STORED_TEXT
    assert cap(short) == short
    capped = cap(MEGABYTE)
    assert capped is not None and len(capped) == STORED_TEXT
    assert capped.startswith("é" * 39_000) and capped.endswith("too long to keep]")
    assert "1,000,000 characters" in capped


def test_every_path_in_stores_at_most_the_cap(db: Database, clock: FixedClock) -> None:
    inc = incidents.open_incident(db, clock, team_id="T1", user_id="U1", title="Down")
    incidents.attach_channel(db, inc.id, "C1", "inc-1-down")
    message = Message("C1", "1714734000.000100", MEGABYTE, "U5", bot_name="b" * 5000,
                      files=tuple(f"file-{n}" for n in range(500)))
    assert timeline.remember(db, clock, message, "T1")  # a Core upsert
    timeline.message_edited(db, clock, message, "T1")  # the upsert's update path
    timeline.pin(db, clock, event_id="E1", incident_id=inc.id, message=message, user_id="U2",
                 author_name="a" * 5000, text=MEGABYTE, link=None)  # ORM objects
    with db.session() as s:
        s.get(Incident, inc.id).summary = MEGABYTE  # type: ignore[union-attr]
    with db.session() as s:
        kept = s.scalars(select(ChannelMessage)).one()
        assert len(kept.text) == STORED_TEXT and len(kept.bot_name or "") == 255
        assert len((kept.files or {})["names"]) == timeline.MAX_FILES
        assert len(s.get(Incident, inc.id).summary or "") == STORED_TEXT  # type: ignore[union-attr]
    (entry,) = [e for e in timeline.timeline(db, inc.id).entries if e.kind == "message"]
    assert len(entry.text) == STORED_TEXT and len(entry.author_name or "") == 255


def _deps(db: Database, clock: FixedClock, **settings: object) -> Deps:
    return Deps(settings=dataclasses.replace(Settings(), **settings), db=db, clock=clock)


def _kept(db: Database) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(select(ChannelMessage.channel_id, func.count())
                         .group_by(ChannelMessage.channel_id)).all()
    return {c: n for c, n in rows}


def test_kept_messages_go_a_retention_period_after_resolution(db: Database,
                                                             clock: FixedClock) -> None:
    start = clock.now()
    deps = _deps(db, clock, channel_message_retention_days=30)
    resolved = incidents.open_incident(db, clock, team_id="T1", user_id="U1", title="Gone")
    reopened = incidents.open_incident(db, clock, team_id="T1", user_id="U1", title="Back")
    live = incidents.open_incident(db, clock, team_id="T1", user_id="U1", title="Live")
    for n, inc in enumerate((resolved, reopened, live), 1):
        incidents.attach_channel(db, inc.id, f"C{n}", f"inc-{n}")
        for i in range(7):
            timeline.remember(db, clock, Message(f"C{n}", f"1714734000.{i:06d}", "hi", "U5"),
                              "T1")
    timeline.remember_any(db, clock, Message("CALERTS", "1714734000.000001", "alert", None))
    incidents.resolve(db, clock, resolved.id, "U1")
    incidents.resolve(db, clock, reopened.id, "U1")
    incidents.reopen(db, clock, reopened.id, "U1")

    clock.set(start + 29 * DAY)
    assert purge_stored(deps, None, batch=3) == (0, 0, 0)  # type: ignore[arg-type]
    assert _kept(db) == {"C1": 7, "C2": 7, "C3": 7, "CALERTS": 1}

    clock.set(start + 31 * DAY)
    assert purge_stored(deps, None, batch=3, max_batches=2) == (0, 6, 0)  # type: ignore[arg-type]
    assert sum(_kept(db).values()) == 22 - 6  # a backlog drains over runs, a batch at a time
    assert purge_stored(deps, None, batch=3) == (0, 2, 0)  # type: ignore[arg-type]
    assert _kept(db) == {"C2": 7, "C3": 7}  # reopened and live incidents keep theirs
    # What was pinned stays on the timeline: only the kept copies of messages go.
    assert incidents.get(db, resolved.id, "T1").status == "resolved"


def test_processed_event_ids_are_forgotten_after_a_week(db: Database,
                                                        clock: FixedClock) -> None:
    start = clock.now()
    deps = _deps(db, clock)
    with db.session() as s:
        for n in range(5):
            events.claim(s, f"Ev{n}", start)
        events.claim(s, "EvNEW", start + 5 * DAY)
    clock.set(start + 6 * DAY)
    assert purge_stored(deps, None, batch=2) == (0, 0, 0)  # type: ignore[arg-type]
    clock.set(start + 7 * DAY + dt.timedelta(seconds=1))
    assert purge_stored(deps, None, batch=2) == (5, 0, 0)  # type: ignore[arg-type]
    with db.session() as s:
        assert list(s.scalars(select(ProcessedEvent.event_id))) == ["EvNEW"]
        assert not events.claim(s, "EvNEW", clock.now())  # still a duplicate


def test_reaction_marks_are_forgotten_with_the_event_ids(db: Database, clock: FixedClock) -> None:
    """A mark (and a tombstone) outlives the redeliveries it orders, then goes."""
    from storage import timeline as stored
    from storage.models import ReactionMark

    start = clock.now()
    deps = _deps(db, clock)
    with db.session() as s:
        for n in range(3):
            assert stored.mark_reaction(s, channel_id="C1", ts=f"1.{n}", user_id="U1",
                                        event_ts=f"1.{n}", removed=n == 0, now=start)
        assert stored.mark_reaction(s, channel_id="C1", ts="2.0", user_id="U1",
                                    event_ts="2.0", removed=True, now=start + 5 * DAY)
    clock.set(start + 6 * DAY)
    assert purge_stored(deps, None, batch=2) == (0, 0, 0)  # type: ignore[arg-type]
    clock.set(start + 7 * DAY + dt.timedelta(seconds=1))
    assert purge_stored(deps, None, batch=2) == (0, 0, 3)  # type: ignore[arg-type]
    with db.session() as s:
        assert list(s.scalars(select(ReactionMark.message_ts))) == ["2.0"]
