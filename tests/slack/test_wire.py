"""Shapes of Slack's bodies (``bot.slack.wire``), and Socket Mode's path through dispatch."""

from __future__ import annotations

import dataclasses

import pytest
from slack_bolt import BoltRequest

from bot.app import build_app
from bot.deps import Deps
from bot.settings import Settings
from bot.slack import wire
from storage.db import Database


@pytest.mark.parametrize("body, events", [
    ([1], True), ("x", True), ({"type": "event_callback", "event": None}, True),
    ({"type": "event_callback", "event": {"type": "message", "channel": 1}}, True),
    ({"type": "block_actions", "user": "U1"}, False),
    ({"type": "view_submission", "user": {"id": "U1"}, "view": "v"}, False),
])
def test_malformed_parsed_bodies(body: object, events: bool) -> None:
    with pytest.raises(wire.Malformed) as raised:
        wire.check_parsed(body)
    assert raised.value.events is events


@pytest.mark.parametrize("body", [
    {"command": "/incident", "text": "help"}, {"ssl_check": "1"},
    {"type": "app_rate_limited", "minute_rate_limited": 1},
    {"type": "event_callback", "event": {"type": "message", "channel": "C1", "ts": "1.1",
                                         "text": None, "user": "U1"}},
    {"type": "block_actions", "user": {"id": "U1"}, "team": None,
     "actions": [{"action_id": "task_done", "value": "1"}]},
])
def test_wellformed_parsed_bodies(body: dict) -> None:
    wire.check_parsed(body)


def test_socket_mode_bodies_are_checked_in_dispatch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Socket Mode hands Bolt parsed bodies, not through the HTTP gate."""
    settings = dataclasses.replace(Settings(), bot_token="xoxb-x", signing_secret="s",
                                   database_url=f"sqlite:///{tmp_path}/x.db")
    app = build_app(Deps(settings=settings, db=Database(settings.database_url, settings.pool)),
                    verify_token=False)
    bad = BoltRequest(body={"type": "event_callback", "event": "x"}, mode="socket_mode")
    assert app.dispatch(bad).status == 200
    bad = BoltRequest(body={"type": "block_actions", "user": {"id": "U1"}, "actions": "x"},
                      mode="socket_mode")
    assert app.dispatch(bad).status == 400
