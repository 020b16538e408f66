"""``/incident timeline edit|move <n>``, stable entry numbers, and the audit trail, end to end."""

from __future__ import annotations

from sqlalchemy import select

from bot.sandbox.sandbox import Sandbox
from storage.models import TimelineEntry
from tests.timeline.support import command, entries, ephemerals, open_incident, post, react


def numbered(sb: Sandbox) -> dict[int, TimelineEntry]:
    return {e.seq: e for e in entries(sb)}


def test_edit_and_move_correct_an_entry_and_remember_who(sandbox: Sandbox) -> None:
    sb = sandbox  # 2026-03-12 15:04 UTC, a live incident
    channel = open_incident(sb)
    assert command(sb, channel, "note 14:40 restarted the primray", user="U0ALICE") \
        .startswith("<@U0ALICE> noted on the timeline at 2026-03-12 14:40 UTC (entry 2)")
    sb.deps.clock.advance(minutes=3)  # type: ignore[attr-defined]
    said = command(sb, channel, "timeline edit 2 restarted the primary <!channel>", user="U0BOB")
    assert said == ("<@U0BOB> edited timeline entry 2 (2026-03-12 14:40 UTC): restarted the "
                    "primary @channel")
    said = command(sb, channel, "timeline move 2 14:35", user="U0BOB")
    assert said == ("<@U0BOB> moved timeline entry 2 to 2026-03-12 14:35 UTC: restarted the "
                    "primary @channel")
    note = numbered(sb)[2]
    assert (note.text, note.author_name, note.edited_by) == (
        "restarted the primary <!channel>", "alice", "U0BOB")  # as typed; outputs disarm it
    assert note.edited_at.isoformat() == "2026-03-12T15:07:05+00:00"
    listing = command(sb, channel, "timeline")
    line = next(x for x in listing.splitlines() if x.startswith("`2`"))
    assert line == ("`2` *2026-03-12 14:35 UTC* :memo: *alice*: restarted the primary @channel "
                    "_(edited by <@U0BOB>, 2026-03-12 15:07 UTC)_")


def test_numbers_are_stable_whatever_is_added_or_removed(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)  # entry 1: opened
    command(sb, channel, "note second")
    command(sb, channel, "note 14:00 third, backdated before the opening")
    command(sb, channel, "timeline remove 2")
    command(sb, channel, "note fourth")
    assert sorted(numbered(sb)) == [1, 3, 4]
    listing = command(sb, channel, "timeline")
    assert [x.split("`")[1] for x in listing.splitlines() if x.startswith("`")] == ["3", "1", "4"]
    assert "no entry 2 on INC-1's timeline" in command(sb, channel, "timeline edit 2 again")
    assert "no entry 2" in command(sb, channel, "timeline move 2 10:00")


def test_a_pinned_message_moved_and_edited_keeps_its_correction(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    command(sb, channel, "started 2024-05-03 10:00")  # recorded after the fact
    message = post(sb, channel, "U0ALICE", "logins work agian")
    react(sb, channel, message["ts"], "U0LEAD")
    confirmation = ephemerals(sb, 1)[0]["text"]
    assert "(entry 3). `/incident timeline` shows it; `/incident timeline move 3 &lt;time&gt;`" \
        in confirmation
    assert command(sb, channel, "timeline move 3 11:30").startswith(
        "<@U0LEAD> moved timeline entry 3 to 2024-05-03 11:30 UTC: logins work agian")
    command(sb, channel, "timeline edit 3 logins work again")
    # The author's own later edit in Slack no longer overwrites the correction.
    edited = sb.fake.edit_message(channel, message["ts"], "logins work agian!!")
    assert sb.sim.message_changed(edited, message, channel).status == 200
    entry = numbered(sb)[3]
    assert (entry.kind, entry.text, entry.occurred_at.isoformat()) == (
        "message", "logins work again", "2024-05-03T11:30:00+00:00")
    assert entry.message_ts == message["ts"]  # still the same message, and its permalink


def test_what_cannot_be_corrected_is_explained_and_nothing_changes(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    command(sb, channel, "impact Checkout down")  # entry 2: the audit trail
    command(sb, channel, "note something")  # entry 3
    with sb.db.session() as s:
        before = [(e.seq, e.text, e.occurred_at) for e in s.scalars(select(TimelineEntry))]
    for text, expected in [
        ("timeline edit", "Usage: `/incident timeline edit &lt;n&gt; &lt;text&gt;`"),
        ("timeline edit 3", "Usage: `/incident timeline edit"),
        ("timeline move 3", "Usage: `/incident timeline move &lt;n&gt; &lt;time&gt;`"),
        ("timeline edit 1 new words", "Sitrep's own record"),
        ("timeline move 2 10:00", "records when something was done in Sitrep"),
        ("timeline move 1 10:00", "records when something was done in Sitrep"),
        ("timeline move 3 2027-01-01 10:00", "can't be moved into the future"),
        ("timeline move 3 25:00", "couldn't read"),
        ("timeline edit 3 " + "x" * 3001, "keep it under 3000"),
        ("timeline editx 3 hi", "Usage"),
    ]:
        answer = command(sb, channel, text)
        assert expected in answer, (text, answer)
    with sb.db.session() as s:
        after = [(e.seq, e.text, e.occurred_at) for e in s.scalars(select(TimelineEntry))]
    assert after == before


def test_the_listing_shows_the_audit_trail_apart(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    command(sb, channel, "status identified")
    command(sb, channel, "cause pool exhausted")
    command(sb, channel, "note rolled back")
    listing = command(sb, channel, "timeline").splitlines()
    heading = listing.index("*Audit trail* _(what was recorded and when; not in the "
                            "postmortem)_")
    story, audit = listing[1:heading], listing[heading + 1:-1]
    assert [x.split("`")[1] for x in story] == ["1", "2", "4"]  # opened, status, note
    assert [x.split("`")[1] for x in audit] == ["3"] and "Root cause recorded" in audit[0]
    assert audit[0].startswith("`3` *2026-03-12 15:04 UTC*")  # the date again under it
