"""``bot.incidents.access``: who may see an incident, where it may be spoken of, who may
change it; and ``bot.slack.members``, the cached membership the Slack side feeds it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.common.clock import FixedClock
from bot.incidents import access
from bot.settings import SettingsError, load
from bot.slack.members import ChannelMembers
from storage.models import Incident

T0 = dt.datetime(2026, 3, 12, 15, 0, tzinfo=dt.UTC)


def incident(private: bool = False, channel: str | None = "C1", lead: str | None = "U0LEAD",
             roles: dict[str, str] | None = None, number: int = 1) -> Incident:
    return Incident(id=number, team_id="T1", number=number, title="Leaked key",
                    severity="sev1", status="investigating", lead_user_id=lead,
                    created_by="U0LEAD", channel_id=channel, is_private=private, roles=roles)


def test_a_public_incident_is_seen_by_everyone() -> None:
    assert access.may_see(incident(), "U0ANY", None)
    assert not access.members_needed(incident())


def test_a_private_incident_is_seen_only_by_its_channels_members() -> None:
    inc = incident(private=True)
    assert access.members_needed(inc)
    assert access.may_see(inc, "U0ALICE", {"U0ALICE", "U0LEAD"})
    assert not access.may_see(inc, "U0BOB", {"U0ALICE", "U0LEAD"})
    # Membership not known (Slack refused): nobody, not even the lead (fails closed).
    assert not access.may_see(inc, "U0LEAD", None)
    assert not access.may_see(inc, "", {""})


def test_a_private_incident_without_a_channel_is_its_openers_only() -> None:
    inc = incident(private=True, channel=None)
    assert not access.members_needed(inc)
    assert access.may_see(inc, "U0LEAD", None)
    assert not access.may_see(inc, "U0ALICE", None)


def test_visible_filters_and_reads_each_channel_once() -> None:
    asked: list[str] = []

    def members(channel: str) -> set[str]:
        asked.append(channel)
        return {"U0ALICE"} if channel == "C2" else set()

    items = [incident(number=1), incident(private=True, channel="C2", number=2),
             incident(private=True, channel="C3", number=3),
             incident(private=True, channel="C2", number=4)]
    assert [i.number for i in access.visible(items, "U0ALICE", members)] == [1, 2, 4]
    assert [i.number for i in access.visible(items, "U0BOB", members)] == [1]
    assert asked == ["C2", "C3", "C2", "C3"]  # public ones are never asked about
    rows = [("T-1", items[2]), ("T-2", items[0])]
    assert access.visible(rows, "U0ALICE", members, lambda r: r[1]) == [("T-2", items[0])]


def test_a_private_incident_is_spoken_of_only_in_its_channel() -> None:
    assert access.may_post_in(incident(), "C0GENERAL")
    assert access.may_post_in(incident(private=True), "C1")
    assert not access.may_post_in(incident(private=True), "C0GENERAL")
    assert not access.may_post_in(incident(private=True, channel=None), None)


def test_a_task_owner_outside_the_channel_may_act_on_their_task_only() -> None:
    inc = incident(private=True)
    assert access.may_act_on_task(inc, "U0BOB", "U0BOB", set())
    assert not access.may_act_on_task(inc, "U0BOB", "U0CARA", set())
    assert access.may_act_on_task(inc, "U0BOB", "U0CARA", {"U0CARA"})


def test_restrict_roles_lets_only_role_holders_change() -> None:
    inc = incident(roles={"comms": "U0ALICE", "scribe": ""})
    assert access.holders(inc) == {"lead": "U0LEAD", "comms": "U0ALICE"}
    for user in ("U0LEAD", "U0ALICE", "U0BOB"):
        assert access.may_change(inc, user, access.RESTRICT_ANYONE)
    assert access.may_change(inc, "U0ALICE", access.RESTRICT_ROLES)
    assert not access.may_change(inc, "U0BOB", access.RESTRICT_ROLES)
    assert access.who_may_change(inc) == [("lead", "U0LEAD"), ("comms", "U0ALICE")]
    # Nobody holds a role: nobody is locked out.
    assert access.may_change(incident(lead=None), "U0BOB", access.RESTRICT_ROLES)


def test_incident_roles_and_restrict_settings() -> None:
    assert load({}, dotenv=False).incident_roles == ("lead", "comms", "scribe")
    assert load({}, dotenv=False).incident_restrict == "anyone"
    settings = load({"INCIDENT_ROLES": "Comms, liaison,lead", "INCIDENT_RESTRICT": "Roles"},
                    dotenv=False)
    assert settings.incident_roles == ("lead", "comms", "liaison")
    assert settings.incident_restrict == "roles"
    for bad, says in (("comms,,scribe", "role names"), ("comms,comms", "twice"),
                      ("Comms Lead", "role names"), ("roles", "role names"),
                      (",".join(f"r{i}" for i in range(9)), "at most 8")):
        with pytest.raises(SettingsError, match=says):
            load({"INCIDENT_ROLES": bad}, dotenv=False)
    with pytest.raises(SettingsError, match="INCIDENT_RESTRICT must be anyone or roles"):
        load({"INCIDENT_RESTRICT": "leads"}, dotenv=False)


class _Client:
    """``conversations.members`` in pages of two, as a WebClient answers it."""

    def __init__(self, members: list[str]) -> None:
        self.members = members
        self.calls: list[dict[str, Any]] = []
        self.refuse: str | None = None

    def conversations_members(self, **args: Any) -> dict[str, Any]:
        self.calls.append(args)
        if self.refuse:
            raise SlackApiError("refused", {"ok": False, "error": self.refuse})
        start = int(args.get("cursor") or 0)
        page = self.members[start:start + 2]
        more = start + 2 < len(self.members)
        return {"ok": True, "members": page,
                "response_metadata": {"next_cursor": str(start + 2) if more else ""}}


def test_membership_is_paged_cached_and_expires() -> None:
    clock = FixedClock(T0)
    client = _Client(["U1", "U2", "U3", "U4", "U5"])
    cache = ChannelMembers(clock)
    assert cache.get(client, "C1") == {"U1", "U2", "U3", "U4", "U5"}  # type: ignore[arg-type]
    assert len(client.calls) == 3  # three pages
    client.members.remove("U5")  # removed from the channel
    clock.advance(seconds=59)
    assert "U5" in (cache.get(client, "C1") or ())  # still cached
    clock.advance(seconds=2)
    assert "U5" not in (cache.get(client, "C1") or ())  # the TTL is over: read again
    cache.forget("C1")
    client.refuse = "channel_not_found"
    assert cache.get(client, "C1") is None  # not known: the rule shows it to no one
