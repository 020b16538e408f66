"""The fake's additions for the timeline: messages from other integrations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.sandbox.fakeslack import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


def test_integration_message_is_a_bot_message_in_history(fake: FakeSlack) -> None:
    client = WebClient(token=fake.bot_token, base_url=fake.url)
    cid = fake.add_channel("alerts", members=["U0BOT"])
    alert = fake.integration_message("alerts", "PagerDuty", "",
                                     attachments=[{"fallback": "CPU high", "text": "CPU 97%"}])
    assert alert["subtype"] == "bot_message" and alert["username"] == "PagerDuty"
    assert alert["bot_id"].startswith("B") and "user" not in alert
    history = client.conversations_history(channel=cid)["messages"]
    assert [m["ts"] for m in history] == [alert["ts"]]
    assert history[0]["attachments"][0]["text"] == "CPU 97%"
    reply = fake.integration_message(cid, "PagerDuty", "resolved", thread_ts=alert["ts"])
    assert reply["thread_ts"] == alert["ts"]
    with pytest.raises(ValueError):
        fake.integration_message("nowhere", "PagerDuty", "x")
