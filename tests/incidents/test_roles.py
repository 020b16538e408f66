"""Incident roles and INCIDENT_RESTRICT end to end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.common.clock import FixedClock
from bot.sandbox.sandbox import Sandbox
from storage.models import Incident, TimelineEntry
from tests.incidents.test_slack import in_channel, last_reply, start


def incident(sb: Sandbox) -> Incident:
    with sb.db.session() as s:
        return s.scalars(select(Incident)).one()


def role_events(sb: Sandbox) -> list[tuple[str | None, str]]:
    with sb.db.session() as s:
        return [(e.event_type, e.text) for e in s.scalars(
            select(TimelineEntry).where(TimelineEntry.event_type.in_(("role", "lead")))
            .order_by(TimelineEntry.id))]


def card(sb: Sandbox, channel: str) -> str:
    return str(sb.fake.calls_to("chat.update")[-1].args["blocks"]) \
        if sb.fake.calls_to("chat.update") else str(sb.fake.messages(channel)[0]["blocks"])


def test_roles_are_assigned_listed_cleared_and_recorded(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = start(sb)["id"]
    assert "*Comms* _none_" in card(sb, channel) and "*Scribe* _none_" in card(sb, channel)
    in_channel(sb, channel, "role comms <@U0ALICE|alice>")
    assert "Comms set to <@U0ALICE>" in last_reply(sb)
    assert "U0ALICE" in sb.fake.members(channel)  # invited
    assert "*Comms* <@U0ALICE>" in card(sb, channel)
    in_channel(sb, channel, "role scribe <@U0BOB|bob>")
    in_channel(sb, channel, "roles")
    assert last_reply(sb).splitlines()[1:4] == ["• Lead: <@U0LEAD>", "• Comms: <@U0ALICE>",
                                                "• Scribe: <@U0BOB>"]
    in_channel(sb, channel, "role comms")
    assert "Comms cleared" in last_reply(sb)
    in_channel(sb, channel, "role comms")
    assert "Nobody is comms" in last_reply(sb)
    in_channel(sb, channel, "lead <@U0CARA|cara>")  # the short form of `role lead`
    in_channel(sb, channel, "role lead <@U0BOB|bob>")
    assert incident(sb).lead_user_id == "U0BOB"
    assert incident(sb).roles == {"scribe": "U0BOB"}
    assert role_events(sb) == [
        ("role", "Comms set to <@U0ALICE>"), ("role", "Scribe set to <@U0BOB>"),
        ("role", "Comms cleared"), ("lead", "Lead changed to <@U0CARA>"),
        ("lead", "Lead changed to <@U0BOB>")]
    for bad, says in (("role pilot <@U0BOB|bob>", "is not a role here"),
                      ("role lead", "always has a lead"), ("role", "Usage"),
                      ("role comms bob", "Mention who takes the role")):
        in_channel(sb, channel, bad)
        assert says in last_reply(sb), bad
    assert len(role_events(sb)) == 5  # refused commands change nothing


@pytest.fixture
def restricted(database_url: str, clock: FixedClock, transport: str) -> Iterator[Sandbox]:
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 incident_restrict="roles") as sb:
        yield sb


def test_restrict_roles_lets_only_role_holders_change_the_incident(restricted: Sandbox) -> None:
    sb = restricted
    channel = start(sb)["id"]
    in_channel(sb, channel, "role comms <@U0ALICE|alice>")
    for command in ("severity sev1", "status identified", "resolve", "role scribe <@U0BOB|bob>",
                    "lead <@U0BOB|bob>"):
        in_channel(sb, channel, command, user="U0BOB")
        refusal = last_reply(sb)
        assert "Only the people holding a role of INC-1" in refusal, command
        assert "<@U0LEAD> (lead)" in refusal and "<@U0ALICE> (comms)" in refusal
    inc = incident(sb)
    assert (inc.severity, inc.status, inc.lead_user_id) == ("sev2", "investigating", "U0LEAD")
    # Anyone can still note and add tasks.
    in_channel(sb, channel, "note checking the dashboards", user="U0BOB")
    assert "noted on the timeline" in last_reply(sb)
    in_channel(sb, channel, "task <@U0BOB|bob> Add an alert", user="U0BOB")
    # A role holder may.
    in_channel(sb, channel, "severity sev1", user="U0ALICE")
    in_channel(sb, channel, "resolve", user="U0ALICE")
    in_channel(sb, channel, "reopen", user="U0BOB")
    assert "Only the people holding a role" in last_reply(sb)
    assert (incident(sb).severity, incident(sb).status) == ("sev1", "resolved")
