"""📌 reactions end to end: signed events in, entries stored, confirmations sent to Slack."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from bot.app import build_app
from bot.deps import Deps
from bot.sandbox.sandbox import SIGNING_SECRET, Sandbox
from bot.sandbox.simulator import SlackSimulator
from bot.server import Server
from bot.timeline.rules import message_time
from storage.db import Database
from tests.timeline.support import (
    command,
    database_down,
    entries,
    ephemerals,
    open_incident,
    post,
    react,
    reactions,
    stored_messages,
)

READS = ("conversations.history", "conversations.replies", "chat.getPermalink")


def test_pin_records_the_message_at_its_own_time_with_names_link_and_pinner(
        sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE",
                   f"<@U0BOB> says checkout 502s, see <https://grafana.example/d/1|dashboard> "
                   f"in <#{sb.general}> &amp; <https://status.example>")
    sb.deps.clock.advance(hours=1)  # type: ignore[attr-defined]  (the reaction comes later)
    reply, _ = react(sb, channel, message["ts"], "U0LEAD")
    assert reply.status == 200
    (entry,) = entries(sb, kind="message")
    assert entry.occurred_at == message_time(message["ts"])
    assert entry.sort_ts == entry.message_ts == message["ts"]
    assert (entry.author_user_id, entry.author_name) == ("U0ALICE", "alice")
    assert entry.text == ("@bob says checkout 502s, see dashboard (https://grafana.example/d/1) "
                          "in #general & https://status.example")
    assert entry.permalink == (f"https://fake.slack.com/archives/{channel}/"
                               f"p{message['ts'].replace('.', '')}")
    assert entry.actor_user_id == "U0LEAD" and entry.thread_ts is None
    (note,) = ephemerals(sb, 1)
    assert note["user"] == "U0LEAD" and note["channel"] == channel and "thread_ts" not in note
    assert "Added to the *INC-1* timeline" in note["text"]
    assert not any(sb.fake.calls_to(m) for m in READS)
    assert all(m["text"] != note["text"] for m in sb.fake.messages(channel))  # only Lee saw it


def test_a_pin_of_a_message_the_bot_saw_costs_no_web_api_read(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    first = post(sb, channel, "U0ALICE", "warm-up: names and the workspace URL get cached")
    react(sb, channel, first["ts"], "U0LEAD")
    ephemerals(sb, 1)
    second = post(sb, channel, "U0ALICE", "p99 is back under 300 ms")
    sb.fake.reset_calls()
    react(sb, channel, second["ts"], "U0LEAD")
    ephemerals(sb, 2)
    assert [c.method for c in sb.fake.calls] == ["chat.postEphemeral"]
    assert [e.text for e in entries(sb, kind="message")] == [
        "warm-up: names and the workspace URL get cached", "p99 is back under 300 ms"]


def test_redelivered_and_repeated_pins_give_one_entry(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE", "DB failover started")
    event = sb.fake.add_reaction(channel, message["ts"], "pushpin", "U0LEAD")
    assert sb.sim.event(event, event_id="EvPIN0000001").status == 200
    for retry in (1, 2):
        assert sb.sim.event(event, event_id="EvPIN0000001", retry_num=retry).status == 200
    ephemerals(sb, 1)
    react(sb, channel, message["ts"], "U0BOB")
    notes = ephemerals(sb, 2)
    assert len(entries(sb, kind="message")) == 1
    assert reactions(sb) == [(message["ts"], "U0BOB"), (message["ts"], "U0LEAD")]
    assert [n["user"] for n in notes] == ["U0LEAD", "U0BOB"]
    assert "already on the *INC-1* timeline" in notes[1]["text"]
    assert len(sb.fake.ephemerals) == 2  # the redeliveries confirmed nothing twice


def test_two_replicas_handling_the_same_event_store_it_once(sandbox: Sandbox,
                                                             tmp_path: Path) -> None:
    sb = sandbox
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE", "both replicas get this one")
    settings = dataclasses.replace(sb.settings, spool_dir=tmp_path / "replica-2")
    deps = Deps(settings=settings, db=Database(sb.settings.database_url), clock=sb.deps.clock)
    server = Server(build_app(deps), deps.db).start()
    try:
        other = SlackSimulator(server.url, SIGNING_SECRET, team_id=sb.fake.team_id,
                               bot_user_id=sb.fake.bot_user_id, fake=sb.fake)
        event = sb.fake.add_reaction(channel, message["ts"], "pushpin", "U0LEAD")
        statuses: list[int] = []
        threads = [threading.Thread(target=lambda s=sim: statuses.append(
            s.event(event, event_id="EvTWICE00001").status)) for sim in (sb.sim, other) * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * 6
        ephemerals(sb, 1)
        assert len(entries(sb, kind="message")) == 1
        assert reactions(sb) == [(message["ts"], "U0LEAD")]
        assert len(sb.fake.ephemerals) == 1
    finally:
        server.stop()
        deps.db.dispose()


def test_two_pins_then_one_removal_keeps_the_entry_until_the_last(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE", "rolled back 14:02 deploy")
    react(sb, channel, message["ts"], "U0LEAD")
    react(sb, channel, message["ts"], "U0BOB")
    ephemerals(sb, 2)
    reply, event = react(sb, channel, message["ts"], "U0LEAD", add=False)
    assert reply.status == 200
    assert sb.sim.event(event, retry_num=1).status == 200  # a redelivered removal
    (entry,) = entries(sb, kind="message")
    assert entry.actor_user_id == "U0BOB"  # the pin that keeps it now
    assert reactions(sb) == [(message["ts"], "U0BOB")]
    react(sb, channel, message["ts"], "U0BOB", add=False)
    assert entries(sb, kind="message") == [] and reactions(sb) == []
    notes = ephemerals(sb, 3)
    assert notes[2]["user"] == "U0BOB" and "Removed from the *INC-1* timeline" in notes[2]["text"]
    react(sb, channel, message["ts"], "U0CARA")  # pinning again brings it back
    assert [e.actor_user_id for e in entries(sb, kind="message")] == ["U0CARA"]


def test_other_emoji_and_channels_without_an_incident_do_nothing(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE", "looking into it")
    for emoji in ("eyes", "pushpin_2", "round_pushpin"):
        assert react(sb, channel, message["ts"], "U0LEAD", emoji)[0].status == 200
    elsewhere = post(sb, sb.general, "U0ALICE", "lunch?")
    assert react(sb, sb.general, elsewhere["ts"], "U0LEAD")[0].status == 200
    assert entries(sb, kind="message") == [] and reactions(sb) == []
    assert stored_messages(sb, sb.general) == []  # messages outside incidents are not kept
    assert [m.ts for m in stored_messages(sb, channel)] == [message["ts"]]
    assert not sb.fake.calls_to("chat.postEphemeral") and not sb.fake.calls_to("users.info")


def test_timeline_emoji_is_configurable(
        transport: str, database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 timeline_emoji="bookmark") as sb:
        channel = open_incident(sb)
        message = post(sb, channel, "U0ALICE", "saved for the postmortem")
        react(sb, channel, message["ts"], "U0LEAD")
        assert entries(sb, kind="message") == []
        react(sb, channel, message["ts"], "U0LEAD", "bookmark")
        assert [e.text for e in entries(sb, kind="message")] == ["saved for the postmortem"]


def test_edits_update_the_entry_and_deletes_remove_it(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE", "cause: cert expired?")
    react(sb, channel, message["ts"], "U0LEAD")
    edited = sb.fake.edit_message(channel, message["ts"], "cause: cert expired on <@U0BOB>'s LB")
    assert sb.sim.message_changed(edited, message, channel).status == 200
    (entry,) = entries(sb, kind="message")
    assert entry.text == "cause: cert expired on @bob's LB"
    assert entry.occurred_at == message_time(message["ts"])  # still at the message's time
    # An edit of a message nobody pinned yet is kept, so a later pin shows the new text.
    other = post(sb, channel, "U0BOB", "typo")
    fixed = sb.fake.edit_message(channel, other["ts"], "fixed text")
    sb.sim.message_changed(fixed, other, channel)
    sb.sim.message(other, channel, retry_num=1)  # a late redelivery of the original
    react(sb, channel, other["ts"], "U0LEAD")
    assert [e.text for e in entries(sb, kind="message")] == [entry.text, "fixed text"]
    sb.fake.delete_message(channel, message["ts"])
    assert sb.sim.message_deleted(message, channel).status == 200
    assert [e.text for e in entries(sb, kind="message")] == ["fixed text"]
    assert [m.ts for m in stored_messages(sb, channel)] == [other["ts"]]
    assert reactions(sb) == [(other["ts"], "U0LEAD")]


def test_thread_replies_are_pinned_with_their_thread(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    root = post(sb, channel, "U0ALICE", "investigating the LB")
    reply = post(sb, channel, "U0BOB", "LB health checks failing since 10:02", thread_ts=root["ts"])
    react(sb, channel, reply["ts"], "U0CARA")
    (entry,) = entries(sb, kind="message")
    assert (entry.message_ts, entry.thread_ts) == (reply["ts"], root["ts"])
    assert entry.permalink is not None and entry.permalink.endswith(
        f"?thread_ts={root['ts']}&cid={channel}")
    (note,) = ephemerals(sb, 1)
    assert note["thread_ts"] == root["ts"] and note["user"] == "U0CARA"
    # The thread's parent is deleted but its replies stay: Slack sends a tombstone edit.
    react(sb, channel, root["ts"], "U0CARA")
    tombstone = {**root, "subtype": "tombstone", "text": "This message was deleted."}
    sb.sim.message_changed(tombstone, root, channel)
    assert [e.message_ts for e in entries(sb, kind="message")] == [reply["ts"]]


def test_files_and_alerts_from_other_integrations(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    graph = sb.fake.add_file("latency.png", b"\x89PNG", title="p99 latency", user="U0ALICE")
    shared = post(sb, channel, "U0ALICE", "see the graph", files=[graph])
    alert = sb.fake.integration_message(channel, "PagerDuty", "", attachments=[
        {"fallback": "[Triggered] CPU high", "title": "CPU high on db-1",
         "text": "CPU 97% for 5 minutes"}])
    assert sb.sim.message(alert, channel).status == 200
    react(sb, channel, shared["ts"], "U0LEAD")
    react(sb, channel, alert["ts"], "U0LEAD")
    by_ts = {e.message_ts: e for e in entries(sb, kind="message")}
    assert by_ts[shared["ts"]].text == "see the graph\n[file: p99 latency]"
    assert (by_ts[alert["ts"]].author_name, by_ts[alert["ts"]].author_user_id) == (
        "PagerDuty", None)
    assert by_ts[alert["ts"]].text == "CPU high on db-1\nCPU 97% for 5 minutes"
    assert not any(sb.fake.calls_to(m) for m in READS)


def test_a_message_from_before_the_bot_joined_is_read_once(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    unseen = sb.fake.user_message(channel, "U0ALICE", "posted while the bot was away")
    react(sb, channel, unseen["ts"], "U0LEAD")
    assert [e.text for e in entries(sb, kind="message")] == ["posted while the bot was away"]
    assert len(sb.fake.calls_to("conversations.history")) == 1
    react(sb, channel, unseen["ts"], "U0BOB")  # now kept: no second read
    assert len(sb.fake.calls_to("conversations.history")) == 1
    root = post(sb, channel, "U0BOB", "thread root")
    reply = sb.fake.user_message(channel, "U0CARA", "unseen reply", thread_ts=root["ts"])
    react(sb, channel, reply["ts"], "U0LEAD")
    assert len(sb.fake.calls_to("conversations.history")) == 2
    assert len(sb.fake.calls_to("conversations.replies")) == 1
    entry = entries(sb, kind="message")[-1]
    assert (entry.text, entry.author_name, entry.thread_ts) == ("unseen reply", "cara",
                                                                root["ts"])
    gone = sb.fake.user_message(channel, "U0ALICE", "deleted before the bot could read it")
    sb.fake.delete_message(channel, gone["ts"])
    reply = sb.sim.reaction("reaction_added", user="U0LEAD", channel=channel, ts=gone["ts"],
                            item_user="U0ALICE")
    assert reply.status == 200 and len(entries(sb, kind="message")) == 2


def test_long_and_non_ascii_messages_survive_whole(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    words = "Ünïcödé 🚒 東京 — naïve café, ĳ ﬁ עברית "
    long_text = (words * (40_000 // len(words) + 1))[:39_999] + "!"
    big = post(sb, channel, "U0ALICE", long_text)
    small = post(sb, channel, "U0BOB", "Zürich → 東京: 🔥 fixed ✅")
    react(sb, channel, big["ts"], "U0LEAD")
    react(sb, channel, small["ts"], "U0LEAD")
    texts = [e.text for e in entries(sb, kind="message")]
    assert len(texts[0]) == 40_000 and texts[0] == long_text
    assert texts[1] == "Zürich → 東京: 🔥 fixed ✅"
    listing = command(sb, channel, "timeline")
    assert len(listing) < 4000 and "Zürich → 東京: 🔥 fixed ✅" in listing
    assert all(len(n["text"]) < 4000 for n in ephemerals(sb, 2))


def test_a_pin_during_a_database_outage_is_answered_kept_and_applied_when_it_is_back(
        sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    before = post(sb, channel, "U0ALICE", "posted before the outage")
    event = sb.fake.add_reaction(channel, before["ts"], "pushpin", "U0LEAD")
    during = sb.fake.user_message(channel, "U0BOB", "posted during the outage")
    with database_down(sb):
        assert sb.sim.event(event, event_id="EvOUTAGE0001").status == 200
        assert sb.sim.message(during, channel, event_id="EvOUTAGE0002").status == 200
        assert sb.inbox.spool.depth == 2 and sb.inbox.outage
        assert not sb.fake.ephemerals
        sb.deps.clock.advance(minutes=30)  # type: ignore[attr-defined]  (past Slack's retries)
        assert sb.inbox.wait_idle() and sb.inbox.spool.depth == 2
    assert sb.inbox.wait_idle()
    assert sb.inbox.spool.depth == 0
    # Slack's redeliveries of events already answered change nothing.
    assert sb.sim.message(during, channel, event_id="EvOUTAGE0002", retry_num=1).status == 200
    assert sb.sim.event(event, event_id="EvOUTAGE0001", retry_num=1).status == 200
    react(sb, channel, during["ts"], "U0LEAD")
    assert [e.text for e in entries(sb, kind="message")] == ["posted before the outage",
                                                             "posted during the outage"]
    assert reactions(sb) == sorted([(before["ts"], "U0LEAD"), (during["ts"], "U0LEAD")])
    ephemerals(sb, 2)
    assert len(sb.fake.ephemerals) == 2
    assert not any(sb.fake.calls_to(m) for m in READS)


def test_every_message_subtype_is_answered_and_the_bot_is_in_the_channel(
        sandbox: Sandbox, caplog) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox
    channel = open_incident(sb)
    assert sb.fake.bot_user_id in sb.fake.members(channel)  # so message events reach it
    for subtype in ("channel_join", "channel_topic", "message_replied", "ekm_access_denied"):
        event = {"type": "message", "subtype": subtype, "channel": channel, "user": "U0BOB",
                 "text": "", "ts": "1714730700.000100", "event_ts": "1714730700.000100"}
        assert sb.sim.event(event).status == 200
    assert sb.sim.event({"type": "message", "channel": channel, "text": "no ts"}).status == 200
    assert stored_messages(sb, channel) == []
    assert "nhandled" not in caplog.text


def test_a_late_redelivery_of_a_pin_does_not_bring_back_what_was_unpinned(
        sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE", "pinned, then unpinned")
    pinned = sb.fake.add_reaction(channel, message["ts"], "pushpin", "U0LEAD")
    unpinned = sb.fake.remove_reaction(channel, message["ts"], "pushpin", "U0LEAD")
    # The pin's first delivery failed; its unpin came through; then Slack redelivered the pin.
    assert sb.sim.event(unpinned, event_id="EvUNPIN00001").status == 200
    assert sb.sim.event(pinned, event_id="EvPIN00000001", retry_num=1).status == 200
    assert entries(sb, kind="message") == [] and reactions(sb) == []
    assert sb.inbox.spool.depth == 0 and not sb.fake.ephemerals
    # Pinning it again later works.
    react(sb, channel, message["ts"], "U0BOB")
    assert [e.text for e in entries(sb, kind="message")] == ["pinned, then unpinned"]


def test_the_bots_own_messages_are_kept_so_pinning_the_card_costs_no_read(
        sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    (card_ts,) = sb.fake.pinned(channel)
    card = next(m for m in sb.fake.messages(channel) if m["ts"] == card_ts)
    assert card["user"] == sb.fake.bot_user_id and card["bot_id"] == sb.fake.bot_id
    # Slack sends the bot's own post to it as a message event, like anyone's.
    assert sb.sim.message(card, channel).status == 200
    assert [m.ts for m in stored_messages(sb, channel)] == [card_ts]
    sb.fake.reset_calls()
    react(sb, channel, card_ts, "U0LEAD")
    ephemerals(sb, 1)
    (entry,) = entries(sb, kind="message")
    assert entry.message_ts == card_ts and entry.author_name == "Sitrep"
    assert not any(sb.fake.calls_to(m) for m in READS)
