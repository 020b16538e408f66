"""The fake Slack's message metadata, DM history and "applied, then answered 500" failure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.fakeslack import FakeSlack

META = {"event_type": "sitrep_reminder", "event_payload": {"task": 7, "slot": "2026-11-26T09:00"}}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.add_user("U1", "alice")
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-fake", base_url=fake.url, timeout=5)


def test_metadata_is_stored_and_read_back_only_when_asked(fake: FakeSlack,
                                                           client: WebClient) -> None:
    dm = client.conversations_open(users="U1")["channel"]["id"]
    posted = client.chat_postMessage(channel=dm, text="T-7 is due", metadata=META)
    assert "metadata" not in posted["message"]
    plain = client.conversations_history(channel=dm)["messages"]
    assert [m["ts"] for m in plain] == [posted["ts"]]
    assert "metadata" not in plain[0]
    full = client.conversations_history(channel=dm, include_all_metadata=True)["messages"]
    assert full[0]["metadata"] == META
    assert fake.messages(dm)[0]["metadata"] == META


def test_update_replaces_metadata(client: WebClient) -> None:
    channel = client.conversations_create(name="inc-1")["channel"]["id"]
    ts = client.chat_postMessage(channel=channel, text="card", metadata=META)["ts"]
    other = {"event_type": "sitrep_card", "event_payload": {"incident": 1}}
    client.chat_update(channel=channel, ts=ts, text="card v2", metadata=other)
    msgs = client.conversations_history(channel=channel, include_all_metadata=True)["messages"]
    assert msgs[0]["metadata"] == other
    assert msgs[0]["text"] == "card v2"


@pytest.mark.parametrize("metadata", [
    "not json", [1, 2], {"event_type": "x"}, {"event_payload": {}},
    {"event_type": 3, "event_payload": {}}, {"event_type": "x", "event_payload": "y"},
])
def test_malformed_metadata_is_refused(client: WebClient, metadata: object) -> None:
    channel = client.conversations_create(name="inc-2")["channel"]["id"]
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.postMessage", json={"channel": channel, "text": "hi",
                                                  "metadata": metadata})
    assert exc.value.response["error"] == "invalid_metadata_format"
    assert client.conversations_history(channel=channel)["messages"] == []


def test_event_type_with_punctuation_is_dropped_with_a_warning(client: WebClient) -> None:
    channel = client.conversations_create(name="inc-3")["channel"]["id"]
    resp = client.chat_postMessage(channel=channel, text="hi", metadata={
        "event_type": "sitrep.reminder", "event_payload": {"task": 1}})
    assert resp["warning"] == "invalid_metadata_schema"
    msgs = client.conversations_history(channel=channel, include_all_metadata=True)["messages"]
    assert len(msgs) == 1 and "metadata" not in msgs[0]


def test_http_500_after_applies_the_call_then_fails(fake: FakeSlack, client: WebClient) -> None:
    channel = client.conversations_create(name="inc-4")["channel"]["id"]
    fake.fail("chat.postMessage", "http_500_after")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=channel, text="card", metadata=META)
    assert exc.value.response.status_code == 500
    assert [m["text"] for m in fake.messages(channel)] == ["card"]
    fake.fail("conversations.create", "http_500_after")
    with pytest.raises(SlackApiError):
        client.conversations_create(name="inc-5")
    assert fake.channel_by_name("inc-5") is not None


def test_drop_after_applies_the_call_then_closes_the_connection(fake: FakeSlack,
                                                                 client: WebClient) -> None:
    channel = client.conversations_create(name="inc-6")["channel"]["id"]
    fake.fail("chat.postMessage", "drop_after")
    bare = WebClient(token="xoxb-fake", base_url=fake.url, timeout=5, retry_handlers=[])
    with pytest.raises(ConnectionError):
        bare.chat_postMessage(channel=channel, text="card", metadata=META)
    assert [m["text"] for m in fake.messages(channel)] == ["card"]
