"""Slack posted (or created), then answered 500: the card, announcement and channel stay single.

The fake's ``http_500_after`` carries the call out and then answers 500, as when Slack's
answer is lost. The bot must not repeat such a call blindly (issue 11, item 8).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.common.clock import FixedClock
from bot.incidents.channel import ANNOUNCEMENT, CARD
from bot.sandbox.sandbox import Sandbox
from tests.incidents.test_slack import start, stored


@pytest.fixture
def sb(transport: str, database_url: str, clock: FixedClock) -> Iterator[Sandbox]:
    with Sandbox(database_url, clock=clock, migrate=False,
                 transport=transport, announce_channel="incidents") as box:
        box.incidents = box.fake.add_channel("incidents", members=[box.fake.bot_user_id])  # type: ignore[attr-defined]
        yield box


def tagged(sb: Sandbox, channel: str, event_type: str) -> list[dict[str, Any]]:
    return [m for m in sb.fake.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == event_type]


def inc_channels(sb: Sandbox) -> list[dict[str, Any]]:
    return [c for c in list(sb.fake.channels.values()) if c["name"].startswith("inc-")]


def announced(sb: Sandbox) -> bool:
    return bool(tagged(sb, sb.incidents, ANNOUNCEMENT))  # type: ignore[attr-defined]


def test_card_posted_then_500_is_not_posted_again(sb: Sandbox) -> None:
    sb.fake.fail("chat.postMessage", "http_500_after",
                 when=lambda args: args.get("channel", "").startswith("C")
                 and args.get("channel") != sb.incidents)  # type: ignore[attr-defined]
    channel = start(sb, "Card answer lost")
    assert sb.fake.wait_for(lambda: announced(sb))
    cards = tagged(sb, channel["id"], CARD)
    assert len(cards) == 1
    assert cards[0]["metadata"]["event_payload"] == {"incident": "INC-1"}
    (incident,) = stored(sb)
    assert incident.card_ts == cards[0]["ts"]
    assert sb.fake.pinned(channel["id"]) == [cards[0]["ts"]]
    reads = sb.fake.calls_to("conversations.history")
    assert [(c.args["channel"], c.args["include_all_metadata"]) for c in reads] == [
        (channel["id"], "1")]


def test_card_posted_then_connection_dropped_is_not_posted_again(sb: Sandbox) -> None:
    sb.fake.fail("chat.postMessage", "drop_after",
                 when=lambda args: args.get("channel") != sb.incidents)  # type: ignore[attr-defined]
    channel = start(sb, "Card connection dropped")
    assert sb.fake.wait_for(lambda: announced(sb))
    assert len(tagged(sb, channel["id"], CARD)) == 1
    assert len(sb.fake.calls_to("conversations.history")) == 1


def test_card_refused_with_500_is_posted_once_after_checking(sb: Sandbox) -> None:
    sb.fake.fail("chat.postMessage", "http_500",
                 when=lambda args: args.get("channel") != sb.incidents)  # type: ignore[attr-defined]
    channel = start(sb, "Card not posted")
    assert len(tagged(sb, channel["id"], CARD)) == 1
    assert len(sb.fake.calls_to("conversations.history")) == 1


def test_announcement_posted_then_500_is_not_posted_again(sb: Sandbox) -> None:
    # ANNOUNCE_CHANNEL is given by name; Sitrep resolves it and posts to the channel's id.
    sb.fake.fail("chat.postMessage", "http_500_after",
                 when=lambda args: args.get("channel") == sb.incidents)  # type: ignore[attr-defined]
    start(sb, "Announcement answer lost")
    assert sb.fake.wait_for(lambda: announced(sb))
    sb.fake.wait_for(lambda: len(sb.fake.calls_to("conversations.history")) >= 1)
    posts = [c for c in sb.fake.calls_to("chat.postMessage")
             if c.args["channel"] == sb.incidents]  # type: ignore[attr-defined]
    assert len(posts) == 1
    assert len(tagged(sb, sb.incidents, ANNOUNCEMENT)) == 1  # type: ignore[attr-defined]
    assert len([m for m in sb.fake.messages(sb.incidents)  # type: ignore[attr-defined]
                if "INC-1" in m.get("text", "")]) == 1


def test_channel_created_then_500_gives_one_channel(sb: Sandbox) -> None:
    sb.fake.fail("conversations.create", "http_500_after")
    channel = start(sb, "Create answer lost")
    assert [c["name"] for c in inc_channels(sb)] == ["inc-1-create-answer-lost"]
    assert len(sb.fake.calls_to("conversations.create")) == 1
    assert len(sb.fake.calls_to("conversations.list")) >= 1
    (incident,) = stored(sb)
    assert incident.channel_id == channel["id"]
    assert len(tagged(sb, channel["id"], CARD)) == 1


def test_channel_refused_with_500_is_created_once_after_looking(sb: Sandbox) -> None:
    sb.fake.fail("conversations.create", "http_500")
    start(sb, "Create refused")
    assert [c["name"] for c in inc_channels(sb)] == ["inc-1-create-refused"]
    assert len(sb.fake.calls_to("conversations.create")) == 2
