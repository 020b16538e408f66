"""``/incident update`` end to end: the Bolt app and the fake Slack, on SQLite and PostgreSQL,
over HTTP and Socket Mode."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.common.clock import FixedClock
from bot.postmortem import compile as postmortem
from bot.postmortem.templates import Templates
from bot.sandbox.sandbox import Sandbox
from bot.updates.slack import UPDATE
from storage import due
from storage.models import Announcement, Incident, TimelineEntry
from tests.incidents.test_slack import in_channel, last_reply, start

ANNOUNCED = "sitrep_incident_announced"


@pytest.fixture
def sb(database_url: str, clock: FixedClock, transport: str) -> Iterator[Sandbox]:
    """A sandbox announcing in #incidents (ANNOUNCE_CHANNEL), which Sitrep is in."""
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 announce_channel="incidents") as box:
        box.incidents = box.fake.add_channel(  # type: ignore[attr-defined]
            "incidents", members=[box.fake.bot_user_id, "U0ALICE"])
        yield box


def updates_in(sb: Sandbox, channel: str) -> list[dict[str, Any]]:
    return [m for m in sb.fake.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == UPDATE]


def tagged(sb: Sandbox, channel: str, event_type: str) -> list[dict[str, Any]]:
    return [m for m in sb.fake.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == event_type]


def incident(sb: Sandbox) -> Incident:
    with sb.db.session() as s:
        return s.scalars(select(Incident).order_by(Incident.id.desc())).first()  # type: ignore[return-value]


def update_entries(sb: Sandbox) -> list[TimelineEntry]:
    with sb.db.session() as s:
        return list(s.scalars(select(TimelineEntry).where(TimelineEntry.event_type == "update")
                              .order_by(TimelineEntry.id)))


def roots(sb: Sandbox) -> dict[str, str]:
    with sb.db.session() as s:
        return {a.channel_id: a.ts for a in s.scalars(select(Announcement))}


def nudge_due(sb: Sandbox, incident_id: int) -> dt.datetime | None:
    """When the incident's nudge row is due (it mirrors ``next_update_at``)."""
    with sb.db.session() as s:
        row = due.get(s, "nudge", f"incident:{incident_id}")
        assert row is not None
        return row.due_at


def posted_update(sb: Sandbox, channel: str, text: str, user: str = "U0LEAD",
                  where: tuple[str, ...] = ()) -> str:
    """``/incident update <text>`` in ``channel``; waits until the update is in ``where``."""
    counts = {c: len(updates_in(sb, c)) for c in where}
    in_channel(sb, channel, text, user=user)
    for c in where:
        assert sb.fake.wait_for(lambda c=c: len(updates_in(sb, c)) > counts[c]), c
    return last_reply(sb)


def test_updates_go_to_three_channels_and_later_ones_thread(sb: Sandbox) -> None:
    channel = start(sb, "sev2 Login failures")["id"]
    outside = sb.incidents  # type: ignore[attr-defined]
    assert sb.fake.wait_for(lambda: bool(tagged(sb, outside, ANNOUNCED)))
    (announcement,) = tagged(sb, outside, ANNOUNCED)
    assert roots(sb) == {outside: announcement["ts"]}  # the start announcement is the root
    sb.deps.clock.advance(minutes=10)  # type: ignore[attr-defined]
    reply = posted_update(sb, channel, "update identified 30% of <EU> logins fail & retry",
                          where=(channel, outside, sb.general))
    assert "Update #1 of INC-1 posted here" in reply and "Status changed" in reply
    (here,) = updates_in(sb, channel)
    assert "thread_ts" not in here  # the incident's own channel: top level
    assert here["metadata"]["event_payload"] == {"incident": "INC-1", "update": 1,
                                                 "entry": 3, "channel": channel}
    assert "30% of &lt;EU&gt; logins fail &amp; retry" in str(here["blocks"])
    (announced_update,) = updates_in(sb, outside)
    assert announced_update["thread_ts"] == announcement["ts"]
    assert announced_update.get("subtype") == "thread_broadcast"  # the status changed
    (origin,) = updates_in(sb, sb.general)
    assert "thread_ts" not in origin  # no recorded announcement there: it starts the thread
    assert roots(sb) == {outside: announcement["ts"], sb.general: origin["ts"]}
    inc = incident(sb)
    now = sb.deps.clock.now()
    assert inc.status == "identified"
    assert (inc.last_update_at, inc.next_update_at) == (now, now + dt.timedelta(hours=1))
    # The second update goes in each outside channel's thread, without a broadcast.
    sb.deps.clock.advance(minutes=20)  # type: ignore[attr-defined]
    posted_update(sb, channel, "update Rolling back the deploy",
                  where=(channel, outside, sb.general))
    first, _ = updates_in(sb, channel)
    assert first["ts"] == here["ts"]
    second = updates_in(sb, outside)[-1]
    assert second["thread_ts"] == announcement["ts"] and "subtype" not in second
    assert updates_in(sb, sb.general)[-1]["thread_ts"] == origin["ts"]
    assert [e.data["number"] for e in update_entries(sb)] == [1, 2]
    # The card shows the latest update and when the next is due.
    card = sb.fake.calls_to("chat.update")[-1].args
    assert "Latest update* (#2" in str(card["blocks"]) and "Rolling back" in str(card["blocks"])
    assert "Next update* due by 2026-03-12 16:34 UTC" in str(card["blocks"])
    assert nudge_due(sb, inc.id) == incident(sb).next_update_at


def test_a_private_incident_updates_only_its_own_channel(sb: Sandbox) -> None:
    private = start(sb, "private sev1 Leaked key")["id"]
    posted_update(sb, private, "update Key rotated", where=(private,))
    assert updates_in(sb, sb.incidents) == []  # type: ignore[attr-defined]
    assert updates_in(sb, sb.general) == []
    assert "posted here." in last_reply(sb)


def test_updates_to_origin_false_keeps_them_out_of_the_declaring_channel(
        database_url: str, clock: FixedClock, transport: str) -> None:
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 updates_to_origin=False) as sb:
        channel = start(sb, "sev3 Slow search")["id"]
        reply = posted_update(sb, channel, "update Search p99 at 4s", where=(channel,))
        assert updates_in(sb, sb.general) == [] and "posted here." in reply
        assert sb.fake.calls_to("conversations.join") == []  # not even joined


FORM = {
    "status": {"value": {"type": "static_select", "selected_option": {"value": "monitoring"}}},
    "impact": {"value": {"type": "plain_text_input", "value": "Fix deployed; <!here> errors"
                                                                " back to normal"}},
    "next_steps": {"value": {"type": "plain_text_input", "value": "Watch for an hour"}},
    "next_in": {"value": {"type": "static_select", "selected_option": {"value": "none"}}},
}


def open_form(sb: Sandbox, channel: str, text: str = "update") -> dict[str, Any]:
    before = len(sb.fake.calls_to("views.open"))
    assert sb.sim.command(text, channel=channel).status == 200
    return sb.fake.wait_for_calls("views.open", before + 1)[-1].args["view"]


def test_the_form_posts_an_update(sb: Sandbox) -> None:
    channel = start(sb, "sev1 Payments down")["id"]
    view = open_form(sb, channel)
    selects = {b["block_id"]: b["element"].get("initial_option", {}).get("value")
               for b in view["blocks"] if b["type"] == "input"}
    assert selects["status"] == "investigating" and selects["next_in"] == "30m"  # sev1: 30m
    # "No further updates" while still investigating is refused in the form itself.
    values = {**FORM, "status": {"value": {"type": "static_select",
                                           "selected_option": {"value": "investigating"}}}}
    refused = sb.sim.view_submission(view, values)
    assert refused.status == 200 and refused.json()["response_action"] == "errors"
    assert "next_in" in refused.json()["errors"]
    assert update_entries(sb) == []
    # Monitoring with no further updates expected: posted, and nothing is due next.
    reply = sb.sim.view_submission(view, FORM)
    assert reply.status == 200 and reply.body == ""
    assert sb.fake.wait_for(lambda: len(updates_in(sb, sb.incidents)) == 1)  # type: ignore[attr-defined]
    assert sb.fake.wait_for(lambda: any("Update #1" in e["text"] for e in sb.fake.ephemerals))
    (posted,) = updates_in(sb, channel)
    body = str(posted["blocks"])
    assert "Monitoring" in body and "Watch for an hour" in body and "@here" in body
    assert "<!here>" not in body and "No further updates expected" in body
    inc = incident(sb)
    assert inc.status == "monitoring" and inc.next_update_at is None
    assert nudge_due(sb, inc.id) is None
    (entry,) = update_entries(sb)
    assert entry.data["next_steps"] == "Watch for an hour" and entry.data["status"] == "monitoring"
    # A chosen interval is kept, even in monitoring (a promise made to stakeholders).
    view = open_form(sb, channel, "update monitoring")
    initial = {b["block_id"]: b["element"].get("initial_option", {}).get("value")
               for b in view["blocks"] if b["type"] == "input"}
    assert (initial["status"], initial["next_in"]) == ("monitoring", "none")
    sb.sim.view_submission(view, {**FORM, "next_in": {"value": {
        "type": "static_select", "selected_option": {"value": "2h"}}}})
    assert sb.fake.wait_for(lambda: len(update_entries(sb)) == 2)
    assert incident(sb).next_update_at == sb.deps.clock.now() + dt.timedelta(hours=2)


def test_resolving_by_update_resolves_and_expects_no_more(sb: Sandbox) -> None:
    channel = start(sb, "sev2 Login failures")["id"]
    sb.deps.clock.advance(minutes=45)  # type: ignore[attr-defined]
    reply = posted_update(sb, channel, "update resolved: Logins work again for <EU> <!channel>",
                          where=(channel, sb.incidents, sb.general))  # type: ignore[attr-defined]
    assert "Incident resolved" in reply and "Impact end recorded" in reply
    inc = incident(sb)
    assert inc.status == "resolved" and inc.ended_at == sb.deps.clock.now()
    assert inc.next_update_at is None and nudge_due(sb, inc.id) is None
    assert sb.fake.wait_for(lambda: any("time for the postmortem" in m.get("text", "")
                                        for m in sb.fake.messages(channel)))
    assert "Resolved: no further updates" in str(updates_in(sb, channel)[0]["blocks"])
    # The postmortem keeps the update, its words escaped for each format.
    pm = postmortem.compile_incident(sb.db, inc.id, sb.settings.timezone,
                                     now=sb.deps.clock.now())
    lines = [e.text for e in pm.timeline]
    assert "Status update 1 (resolved): Logins work again for <EU> @channel" in lines
    assert "Incident resolved" in lines
    markdown = postmortem.render(pm, Templates(), "md").text
    assert "Status update 1 (resolved): Logins work again for \\<EU> @channel" in markdown
    html = postmortem.render(pm, Templates(), "html").text
    assert "Status update 1 (resolved): Logins work again for &lt;EU&gt; @channel" in html
    slack = postmortem.render(pm, Templates(), "slack").text
    assert "Logins work again for &lt;EU&gt; @channel" in slack and "<!channel>" not in slack
    assert "<!channel>" not in str(updates_in(sb, sb.general))


def test_bad_input_gets_a_friendly_answer(sb: Sandbox) -> None:
    channel = start(sb, "sev2 Login failures")["id"]
    in_channel(sb, sb.general, "update Things are fine")
    assert "incident's channel" in last_reply(sb)
    in_channel(sb, channel, "update " + "x" * 3001)
    assert "keep it under 3000" in last_reply(sb)
    assert update_entries(sb) == []


def test_restricted_updates_are_for_role_holders(
        database_url: str, clock: FixedClock, transport: str) -> None:
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 incident_restrict="roles") as sb:
        channel = start(sb, "sev2 Login failures")["id"]
        in_channel(sb, channel, "update All good now", user="U0ALICE")
        assert "may post status updates" in last_reply(sb) and "<@U0LEAD>" in last_reply(sb)
        in_channel(sb, channel, "update", user="U0ALICE")  # nor the form
        assert "may post status updates" in last_reply(sb)
        assert sb.fake.calls_to("views.open") == [] and update_entries(sb) == []
        posted_update(sb, channel, "update Rolling back", where=(channel,))


@pytest.mark.parametrize("failure", ["http_500_after", "drop_after"])
def test_an_answer_lost_in_a_thread_is_not_posted_twice(sb: Sandbox, failure: str) -> None:
    channel = start(sb, "sev2 Login failures")["id"]
    outside = sb.incidents  # type: ignore[attr-defined]
    assert sb.fake.wait_for(lambda: bool(tagged(sb, outside, ANNOUNCED)))
    # Slack posts the reply in the announcement's thread, then its answer is lost.
    sb.fake.fail("chat.postMessage", failure,
                 when=lambda args: args.get("channel") == outside)
    reply = posted_update(sb, channel, "update Still investigating", where=(channel,))
    assert len(updates_in(sb, outside)) == 1 and "Not posted" not in reply
    (read,) = sb.fake.calls_to("conversations.replies")
    assert read.args["channel"] == outside and read.args["include_all_metadata"] in ("1", True)
    # The origin's first update, lost the same way, is found at the top level.
    sb.fake.fail("chat.postMessage", failure,
                 when=lambda args: args.get("channel") == sb.general)
    posted_update(sb, channel, "update Rolling back", where=(channel,))
    assert len(updates_in(sb, sb.general)) == 2
    first, second = updates_in(sb, sb.general)
    assert second["thread_ts"] == first["ts"] == first["thread_ts"]  # one root, one reply


def test_a_private_incidents_form_from_a_non_member_posts_nothing(sb: Sandbox) -> None:
    private = start(sb, "private sev1 Leaked key")["id"]
    view = open_form(sb, private)
    reply = sb.sim.view_submission(view, FORM, user="U0ALICE")  # not in the channel
    assert reply.status == 200
    assert sb.fake.wait_for(lambda: bool(sb.fake.calls_to("conversations.members")))
    sb.sim.view_submission(view, FORM)  # the lead's own submission goes through
    assert sb.fake.wait_for(lambda: len(update_entries(sb)) == 1)
    assert [e.actor_user_id for e in update_entries(sb)] == ["U0LEAD"]
    assert sb.fake.wait_for(lambda: len(sb.fake.ephemerals) == 1)
    assert len(updates_in(sb, private)) == 1 and sb.fake.ephemerals[0]["user"] == "U0LEAD"


def test_nothing_is_tried_in_a_dm_the_incident_was_declared_in(sb: Sandbox) -> None:
    dm = sb.fake.add_dm("U0LEAD", "U0ALICE")
    sb.sim.command("start sev2 Checkout failing", channel=dm)
    assert sb.fake.wait_for(lambda: any("is open" in r.get("text", "")
                                        for r in list(sb.fake.responses)))
    channel = sb.incident_channel(1)["id"]
    reply = posted_update(sb, channel, "update Payments retried",
                          where=(channel, sb.incidents))  # type: ignore[attr-defined]
    assert "posted here and in <#" in reply and "Not posted" not in reply
    assert all(c.args.get("channel") != dm for c in sb.fake.calls_to("chat.postMessage"))
