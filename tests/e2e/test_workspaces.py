"""Two workspaces in one database (issue 13, item 5): nothing of workspace A is reached from B.

The simulator signs requests for team B (``sim.team_id``) at the same bot, sharing A's user
ids, so that only the workspace tells them apart: a button, a 📌, a message, the shortcut and
its modal, and the commands must each resolve objects within the caller's workspace.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import func, select

from bot.sandbox.sandbox import Sandbox
from storage.models import ChannelMessage, Task, TimelineEntry
from tests.tasks.test_slack import buttons, dm_messages
from tests.timeline.support import command, entries, open_incident, post, react

OTHER = "T0OTHER"


@contextlib.contextmanager
def as_workspace(sb: Sandbox, team_id: str) -> Iterator[None]:
    mine = sb.sim.team_id
    sb.sim.team_id = team_id
    try:
        yield
    finally:
        sb.sim.team_id = mine


def _task(sb: Sandbox) -> Task:
    with sb.db.session() as s:
        return s.scalars(select(Task)).one()


def _replied(sb: Sandbox, before: int) -> str:
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > before), "no reply"
    return str(sb.fake.responses[before]["text"])


def test_buttons_of_another_workspace_do_not_reach_the_task(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    command(sb, channel, "task <@U0BOB|bob> Rotate the TLS certificate due friday")
    assert sb.fake.wait_for(lambda: dm_messages(sb, "U0BOB"))
    (dm,) = dm_messages(sb, "U0BOB")
    before = _task(sb)
    for action_id in ("task_done", "task_snooze_day", "task_snooze_week"):
        count = len(sb.fake.responses)
        with as_workspace(sb, OTHER):  # bob's user id, pressed in workspace B
            reply = sb.sim.block_action(buttons(dm)[action_id], user="U0BOB",
                                        channel=sb.fake.dm_channel_id("U0BOB"), message=dm)
        assert reply.status == 200
        assert "not in this workspace" in _replied(sb, count)
    after = _task(sb)
    assert (after.status, after.next_reminder_at) == ("open", before.next_reminder_at)
    assert [e.event_type for e in entries(sb) if e.event_type == "task_done"] == []


def test_pins_and_messages_of_another_workspace_do_not_reach_the_timeline(
        sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    mine = post(sb, channel, "U0ALICE", "primary is failing over")
    with as_workspace(sb, OTHER):
        theirs = post(sb, channel, "U0ALICE", "said in workspace B")
        reply, _ = react(sb, channel, mine["ts"], "U0CARA")
        assert reply.status == 200
    with sb.db.session() as s:
        stored = set(s.scalars(select(ChannelMessage.ts).where(
            ChannelMessage.channel_id == channel)))
    assert mine["ts"] in stored and theirs["ts"] not in stored
    assert entries(sb, kind="message") == []
    reply, _ = react(sb, channel, mine["ts"], "U0LEAD")  # the same pin in A works
    assert reply.status == 200 and len(entries(sb, kind="message")) == 1
    with as_workspace(sb, OTHER):
        react(sb, channel, mine["ts"], "U0LEAD", add=False)
    assert len(entries(sb, kind="message")) == 1  # B's unpin did not remove A's entry


def test_the_shortcut_and_its_modal_stay_in_their_workspace(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    alert = sb.fake.integration_message(sb.general, "PagerDuty", "p99 latency > 2s")
    with as_workspace(sb, OTHER):
        count = len(sb.fake.responses)
        sb.sim.message_shortcut("add_to_timeline", user="U0LEAD", channel=channel,
                                message=alert)
        assert "no open incident" in _replied(sb, count)
        view = {"type": "modal", "callback_id": "timeline_choose",
                "private_metadata": f'{{"channel": "{sb.general}", "ts": "{alert["ts"]}"}}'}
        with sb.db.session() as s:
            incident_id = s.scalar(select(func.min(TimelineEntry.incident_id)))
        answer = sb.sim.view_submission(view, {"incident": {"value": {
            "type": "static_select", "selected_option": {"value": str(incident_id)}}}})
    assert answer.status == 200
    assert "not in this workspace" in answer.body
    assert entries(sb, kind="message") == []
