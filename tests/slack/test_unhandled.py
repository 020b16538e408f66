"""Signed requests that no listener handles are answered 200, never 404 (issue 11, item 11).

Slack retries a delivery that is not answered 2xx, and disables the event subscriptions of
an app that fails too many (https://docs.slack.dev/reference/events/app_rate_limited).
Unsigned requests are still refused before anything else.
"""

from __future__ import annotations

import json
import logging

import pytest

from bot.sandbox.sandbox import Sandbox


def test_app_rate_limited_is_acknowledged_and_warned_about(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    sb = sandbox
    # The whole payload, with no inner event, as the app_rate_limited page shows it.
    body = json.dumps({"token": "verification-token-unused", "type": "app_rate_limited",
                       "team_id": sb.fake.team_id, "minute_rate_limited": 1795689240,
                       "api_app_id": sb.sim.app_id})
    reply = sb.sim.send(body, "application/json")
    assert (reply.status, reply.body) == (200, "")
    assert any(r.levelno == logging.WARNING and "1795689240" in r.getMessage()
               for r in caplog.records)


def test_events_buttons_and_forms_nobody_handles_get_200(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    sb = sandbox
    caplog.set_level(logging.DEBUG, logger="bot.app")
    channel = sb.general
    replies = {
        "an event subscribed to later": sb.sim.event(
            {"type": "member_joined_channel", "user": "U0ALICE", "channel": channel,
             "channel_type": "C", "team": sb.fake.team_id, "event_ts": "1795689240.000100"}),
        "a button of an old message": sb.sim.block_action(
            {"action_id": "ack_page_v0", "value": "42"}, user="U0ALICE", channel=channel,
            message={"ts": "1795689000.000100", "text": "old"}),
        "an unknown shortcut": sb.sim.message_shortcut(
            "retired_shortcut", user="U0ALICE", channel=channel,
            message={"ts": "1795689000.000100", "text": "hi", "user": "U0ALICE"}),
        "a form of an old version": sb.sim.view_submission(
            {"callback_id": "incident_start_v0", "type": "modal", "blocks": []}, {}),
    }
    assert {what: (r.status, r.body) for what, r in replies.items()} == dict.fromkeys(
        replies, (200, ""))
    noted = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    assert any("member_joined_channel" in m for m in noted)
    assert any("ack_page_v0" in m for m in noted)
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "bot.app")
    assert not [r for r in caplog.records if "Unhandled request" in r.getMessage()]


@pytest.mark.http_only  # signatures are HTTP's
def test_an_unsigned_request_is_still_refused(sandbox: Sandbox) -> None:
    sb = sandbox
    body = json.dumps({"type": "app_rate_limited", "team_id": sb.fake.team_id,
                       "minute_rate_limited": 1795689240, "api_app_id": sb.sim.app_id})
    assert sb.sim.send(body, "application/json", signature="v0=forged").status == 401
    assert sb.sim.send(body, "application/json", signature="").status == 401


def test_a_listener_that_fails_still_fails(sandbox: Sandbox,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Only unhandled requests become 200; a handled event that cannot be kept is not.

    The database is not needed to answer (the event waits in the inbox); the inbox's own
    file is: if the append fails, Slack must redeliver.
    """
    sb = sandbox

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("No space left on device")

    monkeypatch.setattr(sb.inbox.spool, "append", broken)
    message = sb.fake.user_message(sb.general, "U0ALICE", "hello")
    assert sb.sim.message(message, sb.general).status == 500
