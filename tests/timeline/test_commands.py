"""Notes, the timeline listing and removal, incident events, and the message shortcut."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from bot.common.clock import FixedClock
from bot.sandbox.sandbox import Sandbox
from tests.timeline.support import (
    command,
    database_down,
    entries,
    ephemerals,
    open_incident,
    post,
    react,
    stored_messages,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def paris(transport: str, database_url: str) -> Iterator[Sandbox]:
    """A sandbox whose incidents run in Europe/Paris, on a summer afternoon."""
    clock = FixedClock(dt.datetime(2024, 5, 3, 14, 0, tzinfo=PARIS))
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 timezone=PARIS) as sb:
        yield sb


def test_notes_are_backdated_in_the_incident_timezone_and_listed_in_order(paris: Sandbox) -> None:
    sb = paris
    channel = open_incident(sb)
    said = command(sb, channel, "note 13:40 first alert fired <!channel>", user="U0ALICE")
    assert said.startswith("<@U0ALICE> noted on the timeline at 2024-05-03 13:40 CEST")
    assert "<!channel>" not in said and "@channel" in said
    command(sb, channel, "note -5m checked the dashboards", user="U0BOB")
    command(sb, channel, "note failover done")
    command(sb, channel, "note 2024-05-03 11:05am two at the same time: first")
    command(sb, channel, "note 2024-05-03 11:05 two at the same time: second")
    notes = entries(sb, kind="note")
    assert [(n.occurred_at.astimezone(PARIS).strftime("%H:%M"), n.author_name) for n in notes] == [
        ("11:05", "lee"), ("11:05", "lee"), ("13:40", "alice"), ("13:55", "bob"),
        ("14:00", "lee")]
    assert notes[0].text.endswith("first") and notes[1].text.endswith("second")
    listing = command(sb, channel, "timeline")
    assert listing.startswith("*INC-1 timeline* — 6 entries, times in Europe/Paris")
    lines = listing.splitlines()[1:7]
    # Listed in time order, each under the number it got when it was added (opened is 1):
    # backdating a note renumbers nothing.
    assert [line.split(" ", 1)[0] for line in lines] == [f"`{n}`" for n in (5, 6, 2, 3, 1, 4)]
    assert "*2024-05-03 11:05 CEST* :memo: *lee*: two at the same time: first" in lines[0]
    assert "*13:55 CEST* :memo: *bob*: checked the dashboards" in lines[3]
    assert ":rotating_light: Incident opened by <@U0LEAD>" in lines[4]  # opened at 14:00
    assert lines[5].endswith(":memo: *lee*: failover done")
    assert sb.fake.responses[-1]["response_type"] == "ephemeral"


def test_bad_notes_get_friendly_answers_and_store_nothing(paris: Sandbox) -> None:
    sb = paris
    channel = open_incident(sb)
    for text, expected in [("note", "Usage: `/incident note [&lt;time&gt;] &lt;text&gt;`"),
                           ("note 10:05", "Say what happened"),
                           ("note 2024-05-04 09:00 tomorrow", "can't be in the future"),
                           ("note 2024-02-30 10:00 nope", "not a real date"),
                           ("note " + "x" * 3001, "keep it under 3000")]:
        answer = command(sb, channel, text)
        assert expected in answer, (text, answer)
    assert entries(sb, kind="note") == []
    assert "incident's channel" in command(sb, sb.general, "note hello")
    assert "incident's channel" in command(sb, sb.general, "timeline")


def test_remove_takes_the_numbered_entry_off(paris: Sandbox) -> None:
    sb = paris
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE", "pinned then removed by number")
    react(sb, channel, message["ts"], "U0BOB")
    command(sb, channel, "note kept")
    listing = command(sb, channel, "timeline")
    line = next(x for x in listing.splitlines() if "pinned then removed" in x)
    number = line.split("`")[1]
    said = command(sb, channel, f"timeline remove {number}")
    assert said.startswith(f"<@U0LEAD> removed entry {number} from the timeline")
    assert "pinned then removed by number" in said
    assert [e.kind for e in entries(sb)] == ["event", "note"]
    assert "no entry 9" in command(sb, channel, "timeline remove 9").lower()
    assert "Usage" in command(sb, channel, "timeline everything")
    assert command(sb, channel, "timeline 1") == command(sb, channel, "timeline")
    # Its pin is gone with it: pinning again puts it back.
    react(sb, channel, message["ts"], "U0CARA")
    assert [e.kind for e in entries(sb)] == ["event", "note", "message"]


def test_the_incidents_own_events_are_on_the_timeline(paris: Sandbox) -> None:
    sb = paris
    channel = open_incident(sb)
    for text in ("started 13:20", "status identified", "severity sev1", "lead <@U0ALICE|alice>",
                 "resolve rolled back", "reopen"):
        command(sb, channel, text)
    kinds = [e.event_type for e in entries(sb, kind="event")]
    assert kinds == ["opened", "started", "status", "severity", "lead", "resolved", "reopened"]
    listing = command(sb, channel, "timeline")
    for part in (":rotating_light: Incident opened", ":clock1: Impact start set to 2024-05-03 "
                 "13:20 CEST — <@U0LEAD>", ":arrows_counterclockwise: Status changed from "
                 "investigating to identified — <@U0LEAD>", ":warning: Severity changed",
                 ":bust_in_silhouette: Lead changed to <@U0ALICE>",
                 ":white_check_mark: Incident resolved", ":leftwards_arrow_with_hook: Reopened"):
        assert part in listing, part


def test_a_long_timeline_is_paged_and_numbered_across_pages(paris: Sandbox) -> None:
    sb = paris
    channel = open_incident(sb)
    for n in range(60):
        command(sb, channel, f"note -{120 - n}m step {n:02d} " + "details " * 25)
    first = command(sb, channel, "timeline")
    assert "(page 1 of " in first and "`/incident timeline 2` shows the next page." in first
    pages = int(first.split("(page 1 of ")[1].split(")")[0])
    seen: list[str] = []
    for page in range(1, pages + 1):
        text = command(sb, channel, f"timeline {page}")
        assert len(text) < 4000
        seen += [line.split("`")[1] for line in text.splitlines() if line.startswith("`")
                 and line[1].isdigit()]
    # The 60 backdated notes (2 to 61) come before the opening (1), which they predate.
    assert seen == [str(n) for n in range(2, 62)] + ["1"]
    assert "try `/incident timeline 1`" in command(sb, channel, f"timeline {pages + 1}")


def test_shortcut_in_an_incident_channel_adds_at_once_and_outlives_pins(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE", "restarting the consumer")
    before = len(sb.fake.responses)
    reply = sb.sim.message_shortcut("add_to_timeline", user="U0BOB", channel=channel,
                                    message=message)
    assert reply.status == 200 and reply.body == ""
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > before)
    answer = sb.fake.responses[before]
    assert answer["response_type"] == "ephemeral" and "Added to the *INC-1* timeline" in answer[
        "text"]
    (entry,) = entries(sb, kind="message")
    assert (entry.actor_user_id, entry.text, entry.author_name) == (
        "U0BOB", "restarting the consumer", "alice")
    react(sb, channel, message["ts"], "U0LEAD")
    react(sb, channel, message["ts"], "U0LEAD", add=False)
    assert len(entries(sb, kind="message")) == 1  # added on purpose: a pin's removal keeps it
    sb.sim.message_shortcut("add_to_timeline", user="U0BOB", channel=channel, message=message)
    assert sb.fake.wait_for(lambda: any("already on" in r.get("text", "")
                                        for r in sb.fake.responses))


def test_shortcut_elsewhere_asks_which_open_incident(sandbox: Sandbox) -> None:
    sb = sandbox
    open_incident(sb, "sev2 Checkout failing", 1)
    open_incident(sb, "sev1 Search down", 2)
    alerts = sb.fake.add_channel("alerts", members=["U0LEAD"])
    alert = sb.fake.integration_message(alerts, "Grafana", "[FIRING] search p99 > 2s")
    sb.sim.message_shortcut("add_to_timeline", user="U0LEAD", channel=alerts, message=alert)
    view = sb.fake.wait_for_calls("views.open")[0].args["view"]
    options = view["blocks"][0]["element"]["options"]
    assert [o["text"]["text"] for o in options] == ["INC-2 · SEV1 · Search down",
                                                    "INC-1 · SEV2 · Checkout failing"]
    choose = {"incident": {"value": {"type": "static_select", "selected_option": options[0]}}}
    assert sb.fake.wait_for(lambda: bool(stored_messages(sb, alerts)))  # kept after the modal
    done = sb.sim.view_submission(view, choose, user="U0LEAD").json()
    assert done["response_action"] == "update" and "INC-2" in str(done["view"])
    (entry,) = entries(sb, number=2, kind="message")
    assert (entry.message_channel_id, entry.author_name, entry.text) == (
        alerts, "Grafana", "[FIRING] search p99 > 2s")
    assert entry.permalink and f"/archives/{alerts}/" in entry.permalink
    assert entries(sb, number=1, kind="message") == []
    nothing = {"incident": {"value": {"type": "static_select", "selected_option": None}}}
    assert sb.sim.view_submission(view, nothing).json()["response_action"] == "errors"
    with database_down(sb):
        down = sb.sim.view_submission(view, choose).json()
    assert down["response_action"] == "errors" and "unavailable" in down["errors"]["incident"]
    # Deleting the alert takes it off INC-2's timeline too.
    sb.fake.delete_message(alerts, alert["ts"])
    sb.sim.message_deleted(alert, alerts)
    assert entries(sb, number=2, kind="message") == []


def test_shortcut_with_no_open_incident_says_so(sandbox: Sandbox) -> None:
    sb = sandbox
    message = sb.fake.user_message(sb.general, "U0ALICE", "is something down?")
    sb.sim.message_shortcut("add_to_timeline", user="U0ALICE", channel=sb.general,
                            message=message)
    assert sb.fake.wait_for(lambda: bool(sb.fake.responses))
    assert "no open incident" in sb.fake.responses[0]["text"]
    assert not sb.fake.calls_to("views.open")


def test_pins_show_in_the_listing_with_link_and_pinners(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    root = post(sb, channel, "U0ALICE", "a *bold* claim &lt;script&gt; &amp; more\nsecond line")
    reply = post(sb, channel, "U0BOB", "in the thread", thread_ts=root["ts"])
    react(sb, channel, root["ts"], "U0LEAD")
    sb.deps.clock.advance(seconds=5)  # type: ignore[attr-defined]
    react(sb, channel, root["ts"], "U0CARA")
    react(sb, channel, reply["ts"], "U0LEAD")
    ephemerals(sb, 3)
    listing = command(sb, channel, "timeline")
    first = next(x for x in listing.splitlines() if "bold" in x)
    assert ":pushpin: *alice*: a *bold* claim &lt;script&gt; &amp; more second line" in first
    assert f"(<https://fake.slack.com/archives/{channel}/p{root['ts'].replace('.', '')}|message>)"\
        in first
    assert first.endswith("— pinned by <@U0LEAD>, <@U0CARA>")
    threaded = next(x for x in listing.splitlines() if "in the thread" in x)
    assert "|in thread>)" in threaded
