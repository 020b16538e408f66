"""Private incidents end to end, with a member and a non-member of the incident's channel:
every place data leaves Sitrep shows the incident only to its channel's members."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.common.clock import FixedClock
from bot.sandbox.sandbox import Sandbox
from bot.tasks import notify
from storage.models import ChannelMessage, Incident, TimelineEntry
from tests.incidents.test_slack import in_channel, last_reply, start
from tests.tasks.test_slack import WED, dm_messages

SECRET = "Leaked signing key"


@pytest.fixture
def sb(database_url: str, clock: FixedClock, transport: str) -> Iterator[Sandbox]:
    """A sandbox that also announces in #incidents (ANNOUNCE_CHANNEL)."""
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 announce_channel="incidents") as sandbox:
        sandbox.incidents = sandbox.fake.add_channel(  # type: ignore[attr-defined]
            "incidents", members=list(sandbox.fake.users)[1:])
        yield sandbox


def everything_in(sb: Sandbox, channel: str) -> str:
    return str(sb.fake.messages(channel))


def leaks_outside(sb: Sandbox, private_channel: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Channels (besides the incident's own and ``allowed``) whose messages name it."""
    return [c["name"] if "name" in c else c["id"] for cid, c in list(sb.fake.channels.items())
            if cid not in (private_channel, *allowed)
            and (SECRET in everything_in(sb, cid) or private_channel in everything_in(sb, cid))]


def open_private(sb: Sandbox) -> dict[str, Any]:
    channel = start(sb, f"private sev1 {SECRET}")
    assert channel["is_private"] is True
    return channel


def refs(text: str) -> list[str]:
    return sorted(w.strip("*") for w in text.split() if w.strip("*").startswith("INC-"))


def test_private_start_is_announced_nowhere_and_listed_only_to_members(sb: Sandbox) -> None:
    public = start(sb, "sev2 Checkout failing")
    assert "Checkout failing" in everything_in(sb, sb.general)  # announced where typed
    assert "Checkout failing" in everything_in(sb, sb.incidents)  # type: ignore[attr-defined]
    private = open_private(sb)
    create = sb.fake.calls_to("conversations.create")[-1]
    assert create.args["is_private"] in (True, "true", "1")
    assert sb.fake.members(private["id"]) == ["U0BOT", "U0LEAD"]  # the opener, invited
    confirmation = sb.fake.responses[-1]
    assert confirmation["response_type"] == "ephemeral" and "private channel" in \
        confirmation["text"]
    assert not [r for r in sb.fake.responses
                if SECRET in str(r) and r.get("response_type") == "in_channel"]
    assert leaks_outside(sb, private["id"]) == []  # not #general, not ANNOUNCE_CHANNEL
    (inc,) = [i for i in stored(sb) if i.is_private]
    assert inc.ref == "INC-2" and inc.channel_id == private["id"]
    # /incident list: the member sees both, a non-member only the public one.
    in_channel(sb, sb.general, "list", user="U0LEAD")
    assert refs(last_reply(sb)) == ["INC-1", "INC-2"]
    in_channel(sb, sb.general, "list", user="U0ALICE")
    assert refs(last_reply(sb)) == ["INC-1"] and "*1 open incident:*" in last_reply(sb)
    assert SECRET not in last_reply(sb) and private["id"] not in last_reply(sb)
    # A role invites Alice: she is a member now, and sees it.
    in_channel(sb, private["id"], "role comms <@U0ALICE|alice>")
    assert "U0ALICE" in sb.fake.members(private["id"])
    in_channel(sb, sb.general, "list", user="U0ALICE")
    assert refs(last_reply(sb)) == ["INC-1", "INC-2"]
    # Removed from the channel, she loses access once the cached membership expires.
    sb.fake.remove_member(private["id"], "U0ALICE")
    in_channel(sb, sb.general, "list", user="U0ALICE")
    assert refs(last_reply(sb)) == ["INC-1", "INC-2"]  # within the 60 s cache
    sb.deps.clock.advance(seconds=61)  # type: ignore[attr-defined]
    in_channel(sb, sb.general, "list", user="U0ALICE")
    assert refs(last_reply(sb)) == ["INC-1"]
    assert public["id"] != private["id"]


def stored(sb: Sandbox) -> list[Incident]:
    with sb.db.session() as s:
        return list(s.scalars(select(Incident).order_by(Incident.number)))


def test_task_dms_and_mytasks_name_a_private_incident_only_to_members(sb: Sandbox) -> None:
    sb.deps.clock.set(WED)  # type: ignore[attr-defined]
    private = open_private(sb)["id"]
    in_channel(sb, private, "task <@U0BOB|bob> Rotate the key due tomorrow")
    in_channel(sb, private, "task <@U0LEAD|lee> Audit the access log")
    assert sb.fake.wait_for(lambda: bool(dm_messages(sb, "U0BOB")))
    bob_dm = str(dm_messages(sb, "U0BOB"))
    assert "Rotate the key" in bob_dm and "a private incident" in bob_dm
    assert SECRET not in bob_dm and "INC-1" not in bob_dm and private not in bob_dm
    lead_dm = str(dm_messages(sb, "U0LEAD"))
    assert "INC-1" in lead_dm and SECRET in lead_dm and private in lead_dm
    # mytasks: the owner sees the task, but not which incident, unless a member.
    in_channel(sb, sb.general, "mytasks", user="U0BOB")
    reply = last_reply(sb)
    assert "T-1" in reply and "a private incident" in reply
    assert "INC-1" not in reply and private not in reply
    in_channel(sb, sb.general, "mytasks", user="U0LEAD")
    assert f"INC-1 <#{private}>" in last_reply(sb)
    # The reminder names it only to members too.
    sb.deps.clock.advance(days=1)  # type: ignore[attr-defined]
    before = len(dm_messages(sb, "U0BOB"))
    notify.run_reminders(sb.deps, sb.app.client, force=True)
    reminders = dm_messages(sb, "U0BOB")[before:]
    assert reminders and "Reminder" in str(reminders)
    assert SECRET not in str(reminders) and "INC-1" not in str(reminders)
    # Someone neither in the channel nor owning the task: it does not exist for them.
    in_channel(sb, sb.general, "done T-1", user="U0CARA")
    assert "There is no task T-1" in last_reply(sb)
    in_channel(sb, sb.general, "drop T-2 not needed", user="U0CARA")
    assert "There is no task T-2" in last_reply(sb)
    # The owner may close it from anywhere; the reply does not point at the channel.
    in_channel(sb, sb.general, "done T-1", user="U0BOB")
    assert last_reply(sb).startswith("OK:") and private not in last_reply(sb)
    assert "T-1 done" in everything_in(sb, private) or "T-1" in everything_in(sb, private)
    assert leaks_outside(sb, private, allowed=(str(sb.fake.dm_channel_id("U0LEAD")),)) == []


def test_publish_shortcut_and_forged_modal(sb: Sandbox) -> None:
    start(sb, "sev2 Checkout failing")
    private = open_private(sb)["id"]
    # The postmortem is published only in the incident's own channel.
    sb.fake.reset_calls()
    in_channel(sb, private, "postmortem publish")
    assert "Published version 1" in last_reply(sb)
    posts = sb.fake.calls_to("chat.postMessage")
    assert posts and {c.args["channel"] for c in posts} == {private}
    uploads = sb.fake.calls_to("files.completeUploadExternal")
    assert uploads and all(private in str(c.args.get("channel_id")) for c in uploads)
    # The shortcut used in #general by a non-member offers only the public incident.
    message = sb.fake.user_message(sb.general, "U0ALICE", "the key is in the logs")
    sb.sim.message_shortcut("add_to_timeline", user="U0ALICE", channel=sb.general,
                            message=message)
    view = sb.fake.wait_for_calls("views.open")[-1].args["view"]
    options = view["blocks"][0]["element"]["options"]
    assert [o["text"]["text"] for o in options] == ["INC-1 · SEV2 · Checkout failing"]
    # A forged submission naming the private incident is refused, and nothing is stored.
    with sb.db.session() as s:
        secret_id = s.scalars(select(Incident.id).where(Incident.is_private)).one()
    forged = {"text": {"type": "plain_text", "text": "INC-2"}, "value": str(secret_id)}
    choose = {"incident": {"value": {"type": "static_select", "selected_option": forged}}}
    assert sb.fake.wait_for(lambda: bool(kept(sb, sb.general)))
    answer = sb.sim.view_submission(view, choose, user="U0ALICE").json()
    assert answer["response_action"] == "errors"
    assert answer["errors"]["incident"] == "That incident no longer exists."
    assert pinned(sb) == []
    # A member is offered it, and may add to it.
    sb.sim.message_shortcut("add_to_timeline", user="U0LEAD", channel=sb.general,
                            message=message)
    assert sb.fake.wait_for(lambda: len(sb.fake.calls_to("views.open")) == 2)
    view = sb.fake.calls_to("views.open")[-1].args["view"]
    assert len(view["blocks"][0]["element"]["options"]) == 2
    done = sb.sim.view_submission(view, choose, user="U0LEAD").json()
    assert done["response_action"] == "update"
    assert [e.text for e in pinned(sb)] == ["the key is in the logs"]


def kept(sb: Sandbox, channel: str) -> list[ChannelMessage]:
    with sb.db.session() as s:
        return list(s.scalars(select(ChannelMessage).where(ChannelMessage.channel_id
                                                           == channel)))


def pinned(sb: Sandbox) -> list[TimelineEntry]:
    with sb.db.session() as s:
        return list(s.scalars(select(TimelineEntry).where(TimelineEntry.kind == "message")))


def test_private_channel_messages_arrive_and_are_kept(sb: Sandbox) -> None:
    private = open_private(sb)["id"]
    message = sb.fake.user_message(private, "U0LEAD", "rotating now")
    reply = sb.sim.message(message, private)
    assert reply.status == 200
    assert sb.fake.wait_for(lambda: [m.text for m in kept(sb, private)] == ["rotating now"])


def test_the_start_form_has_a_private_checkbox(sb: Sandbox) -> None:
    in_channel_no_wait(sb, "start")
    view = sb.fake.wait_for_calls("views.open")[-1].args["view"]
    assert any(b["block_id"] == "private" for b in view["blocks"])
    values = {
        "title": {"value": {"type": "plain_text_input", "value": SECRET}},
        "severity": {"value": {"type": "static_select",
                               "selected_option": {"value": "sev1"}}},
        "description": {"value": {"type": "plain_text_input", "value": None}},
        "private": {"value": {"type": "checkboxes",
                              "selected_options": [{"value": "private"}]}},
    }
    assert sb.sim.view_submission(view, values, user="U0LEAD").status == 200
    assert sb.fake.wait_for(lambda: any("is open" in r.get("text", "")
                                        for r in sb.fake.responses))
    (inc,) = stored(sb)
    assert inc.is_private and sb.fake.channel(str(inc.channel_id))["is_private"]  # type: ignore[index]
    assert all(r.get("response_type") != "in_channel" for r in sb.fake.responses)
    assert leaks_outside(sb, str(inc.channel_id)) == []


def in_channel_no_wait(sb: Sandbox, text: str) -> None:
    assert sb.sim.command(text, user="U0LEAD", channel=sb.general).status == 200
