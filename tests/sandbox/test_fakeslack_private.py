"""The fake's rules for private channels, each as Slack's documentation states it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.fakeslack.manifest import AppManifest
from tests.sandbox.test_fakeslack import EVERYTHING

SITREP = AppManifest.load()  # the project's manifest.yml


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(manifest=EVERYTHING) as server:
        server.add_user("U1", "alice")
        server.add_user("U2", "bob")
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-fake", base_url=fake.url, timeout=5)


def _refusal(call) -> dict:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as exc:
        call()
    return dict(exc.value.response.data)  # type: ignore[arg-type]


def test_creating_a_private_channel_needs_groups_write(fake: FakeSlack,
                                                       client: WebClient) -> None:
    fake.manifest = EVERYTHING.without("groups:write")
    refused = _refusal(lambda: client.conversations_create(name="secret", is_private=True))
    assert (refused["error"], refused["needed"]) == ("missing_scope", "groups:write")
    assert fake.channel_by_name("secret") is None
    assert client.conversations_create(name="open")["channel"]["is_private"] is False
    fake.manifest = EVERYTHING.without("channels:manage")
    created = client.conversations_create(name="secret", is_private=True)["channel"]
    assert created["is_private"] is True and fake.members(created["id"]) == ["U0BOT"]
    assert _refusal(lambda: client.conversations_create(name="open-2"))["needed"] == \
        "channels:manage"
    # Inviting to a private channel: groups:write (or groups:write.invites).
    fake.manifest = EVERYTHING.without("groups:write", "groups:write.invites")
    refused = _refusal(lambda: client.conversations_invite(channel=created["id"], users="U1"))
    assert (refused["error"], refused["needed"]) == ("missing_scope", "groups:write")
    fake.manifest = EVERYTHING.without("channels:manage", "channels:write.invites")
    assert client.conversations_invite(channel=created["id"], users="U1")["ok"]


def test_members_of_a_private_channel_need_groups_read_and_membership(
        fake: FakeSlack, client: WebClient) -> None:
    secret = client.conversations_create(name="secret", is_private=True)["channel"]["id"]
    client.conversations_invite(channel=secret, users="U1")
    public = fake.add_channel("general", members=["U1", "U2"])
    fake.manifest = EVERYTHING.without("groups:read")
    refused = _refusal(lambda: client.conversations_members(channel=secret))
    assert (refused["error"], refused["needed"]) == ("missing_scope", "groups:read")
    assert client.conversations_members(channel=public)["members"] == ["U1", "U2"]
    fake.manifest = EVERYTHING.without("channels:read")
    assert client.conversations_members(channel=secret)["members"] == ["U0BOT", "U1"]
    assert _refusal(lambda: client.conversations_members(channel=public))["needed"] == \
        "channels:read"
    # A private channel the app is not in does not exist for it.
    hidden = fake.add_channel("hidden", members=["U1"], is_private=True)
    assert _refusal(lambda: client.conversations_members(channel=hidden))["error"] == \
        "channel_not_found"
    assert _refusal(lambda: client.chat_postMessage(channel=hidden, text="x"))["error"] == \
        "channel_not_found"


def test_members_are_paged(fake: FakeSlack, client: WebClient) -> None:
    many = [f"U{n:03d}" for n in range(10)]
    for uid in many:
        fake.add_user(uid, uid.lower())
    cid = fake.add_channel("big", members=["U0BOT", *many], is_private=True)
    fake.page_cap = 3
    seen, cursor, pages = [], None, 0
    while True:
        resp = client.conversations_members(channel=cid, limit=1000, cursor=cursor)
        seen += resp["members"]
        pages += 1
        cursor = resp["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == ["U0BOT", *many] and pages == 4


def test_private_channel_messages_come_as_message_groups(fake: FakeSlack) -> None:
    secret = fake.add_channel("secret", members=["U0BOT", "U1"], is_private=True)
    hidden = fake.add_channel("hidden", members=["U1"], is_private=True)
    public = fake.add_channel("open", members=["U1"])
    fake.manifest = SITREP
    assert fake.channel_type(secret) == "group" and fake.channel_type(public) == "channel"
    message = {"type": "message", "user": "U1", "text": "hi", "ts": "1.000001"}
    assert fake.delivers({**message, "channel": secret})
    assert fake.delivers({**message, "channel": public})
    assert not fake.delivers({**message, "channel": hidden})  # the app is not in it
    reaction = {"type": "reaction_added", "user": "U1", "reaction": "pushpin",
                "item": {"type": "message", "channel": hidden, "ts": "1.000001"}}
    assert not fake.delivers(reaction)
    assert fake.delivers({**reaction, "item": {**reaction["item"], "channel": secret}})
    # Without the subscription (or its scope), Slack sends none of them.
    fake.manifest = AppManifest(bot_scopes=SITREP.bot_scopes,
                                bot_events=SITREP.bot_events - {"message.groups"})
    assert not fake.delivers({**message, "channel": secret})
    assert fake.delivers({**message, "channel": public})
    fake.manifest = SITREP.without("groups:history")
    assert not fake.delivers({**message, "channel": secret})
