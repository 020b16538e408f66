"""Socket Mode when the line is lost: the bot's own connection to the fake Slack's WebSocket.

Every other end-to-end test runs over Socket Mode too (the ``transport`` fixture); these
break the connection the ways a network and Slack do, and check that the next envelope is
delivered and acked on a new connection, and that an event whose ack was lost, delivered
again with ``retry_attempt`` 1, changes nothing twice. Timeouts are generous and nothing is
timed here: how fast the bot reconnects is measured by ``tests/bench/socket_reconnect.py``.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import cli
from bot.common.clock import FixedClock
from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.sandbox import Sandbox
from tests.timeline.support import entries, open_incident, post

FORM = "application/x-www-form-urlencoded"
#: Seconds a test waits for an ack after breaking the line: far above the ~4 s it takes.
PATIENCE = 60


@pytest.fixture
def sb(database_url: str, clock: FixedClock) -> Iterator[Sandbox]:
    with Sandbox(database_url, clock=clock, migrate=False, transport="socket") as box:
        yield box


def _help(sb: Sandbox) -> dict:
    """``/incident help`` over the socket; its ack carries the answer, as HTTP's body does."""
    reply = sb.sim.send(sb.sim.command_body("help", channel=sb.general), FORM,
                        timeout=PATIENCE)
    assert reply.status == 200, "the command was never acked"
    return reply.json()


@pytest.mark.parametrize("loss", ["drop_silently", "cut", "close", "refresh_requested"])
def test_the_next_command_is_acked_on_a_new_connection(sb: Sandbox, loss: str) -> None:
    assert "/incident" in _help(sb)["text"]
    before = sb.fake.socket_opened
    if loss == "refresh_requested":
        assert sb.fake.socket_disconnect("refresh_requested") == 1
    else:
        assert getattr(sb.fake, f"socket_{loss}")() == 1
    # Sent at the moment of the loss: it waits for a live connection, as Slack's queue does.
    assert "/incident" in _help(sb)["text"]
    assert sb.fake.socket_opened == before + 1
    assert sb.fake.socket_connections() == 1


def test_a_warning_is_only_a_warning(sb: Sandbox) -> None:
    """``disconnect`` with reason ``warning`` comes before a refresh: nothing to do yet."""
    before = sb.fake.socket_opened
    assert sb.fake.socket_disconnect("warning") == 1
    assert "/incident" in _help(sb)["text"]
    assert sb.fake.socket_opened == before


def test_an_event_whose_ack_was_lost_is_redelivered_and_applied_once(sb: Sandbox) -> None:
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE", "the database is on fire")
    event = sb.fake.add_reaction(channel, message["ts"], "pushpin", "U0LEAD")
    sb.fake.socket_lose_acks()  # the bot acks; Slack never hears it
    body = json.loads(sb.sim.event_body(event, event_id="EvLOSTACK01"))
    envelope = sb.fake.socket_send("events_api", body, accepts_response_payload=False)
    assert sb.fake.wait_for(lambda: len(entries(sb, kind="message")) == 1, timeout=PATIENCE)
    assert not envelope.done.is_set()
    # The pin's confirmation is sent after the ack, so wait for it before counting.
    assert sb.fake.wait_for(lambda: len(sb.fake.ephemerals) == 1, timeout=PATIENCE)
    confirmations = len(sb.fake.ephemerals)

    sb.fake.socket_cut()  # the line dies; Slack delivers the event again on the next one
    assert envelope.done.wait(PATIENCE) and envelope.status == 200
    assert (envelope.retry_attempt, envelope.retry_reason, envelope.deliveries) == (
        1, "timeout", 2)
    sent = [m for m in sb.fake.socket_messages if m.get("envelope_id") == envelope.envelope_id]
    assert len(sent) == 1  # only the second delivery's ack reached the fake
    assert len(entries(sb, kind="message")) == 1
    assert len(sb.fake.ephemerals) == confirmations


def test_a_command_in_flight_when_the_line_dies_is_not_delivered_again(sb: Sandbox) -> None:
    """Slack retries only events: a person whose command was lost sees an error and types
    it again, so the fake ends the envelope unacked rather than repeat it."""
    sb.fake.socket_lose_acks()
    envelope = sb.fake.socket_send(
        "slash_commands", dict(urllib.parse.parse_qsl(sb.sim.command_body("help"))),
        accepts_response_payload=True)
    sb.fake.wait_for(lambda: envelope.deliveries == 1, timeout=PATIENCE)
    sb.fake.socket_cut()
    assert envelope.done.wait(PATIENCE) and envelope.status == 0
    assert envelope.deliveries == 1
    assert "/incident" in _help(sb)["text"]  # and the next one is answered


# -- the fake's apps.connections.open --------------------------------------------------------

@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token="xoxb-fake") as fake:
        yield fake


def test_apps_connections_open_takes_only_the_app_token(fake: FakeSlack) -> None:
    def opened(token: str) -> str:
        try:
            return WebClient(base_url=fake.url).apps_connections_open(app_token=token)["url"]
        except SlackApiError as exc:
            return str(exc.response["error"])

    assert opened(fake.bot_token) == "not_allowed_token_type"
    assert opened("xapp-1-unknown") == "invalid_auth"
    url = opened(fake.app_token)
    assert url.startswith("ws://127.0.0.1:") and "ticket=" in url
    # The app-level token is refused where a bot token is needed.
    with pytest.raises(SlackApiError) as exc:
        WebClient(token=fake.app_token, base_url=fake.url).auth_test()
    assert exc.value.response["error"] == "not_allowed_token_type"


def test_a_socket_url_opens_one_connection(fake: FakeSlack) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = WebClient(base_url=fake.url).apps_connections_open(app_token=fake.app_token)["url"]
    with connect(url) as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": fake.app_id}
        envelope = fake.socket_send("events_api", {"event": {"type": "app_mention"}},
                                    accepts_response_payload=False)
        sent = json.loads(ws.recv(timeout=10))
        assert sent == {"envelope_id": envelope.envelope_id, "type": "events_api",
                        "payload": {"event": {"type": "app_mention"}},
                        "accepts_response_payload": False, "retry_attempt": 0,
                        "retry_reason": ""}
        ws.send(json.dumps({"envelope_id": envelope.envelope_id, "payload": {"text": "x"}}))
        assert envelope.done.wait(10) and envelope.status == 200
        assert envelope.ack_payload is None  # an event's ack carries nothing back
    with pytest.raises(InvalidStatus):
        connect(url).close()  # the same URL again


# -- incident-bot socket ---------------------------------------------------------------------

def test_a_refused_app_token_exits_2_with_one_line(
        fake: FakeSlack, tmp_path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
        capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_APP_TOKEN": "xapp-1-revoked",
                        "SLACK_API_URL": fake.url,
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    assert cli.main(["socket"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and " ERROR " not in err
    assert [line for line in err.splitlines() if "SLACK_APP_TOKEN" in line] == [
        "incident-bot: Slack refused SLACK_APP_TOKEN (invalid_auth): it must be an app-level "
        "token (xapp-…) with connections:write"]

