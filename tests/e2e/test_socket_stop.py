"""``incident-bot socket`` stops as gracefully as ``serve`` on SIGTERM.

The first test stands in for the connection (it hands Bolt a slash command as Socket Mode
does, and records when it is closed), to see the order of the stop: the shared
``bot.lifecycle`` start, SIGTERM, then the close, the acknowledged work carried out, the
scheduler stopped. The second runs the bot's own connection (``bot.socket_mode``) against
the fake Slack's Socket Mode endpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import threading
import time
import urllib.parse
from typing import Any

import pytest
from slack_bolt import BoltRequest

from bot import cli, lifecycle
from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.simulator import SlackSimulator
from bot.settings import Settings
from tests.support import processes


class StandInConnection:
    """Plays Slack's side of Socket Mode: one slash command, then waits to be closed."""

    def __init__(self, app: Any, app_token: str, fake: FakeSlack, text: str,
                 metrics_url: str) -> None:
        self.app, self.app_token, self.fake, self.text = app, app_token, fake, text
        self.metrics_url = metrics_url
        self.log: list[str] = []
        self.metrics = ""

    def connect(self) -> None:
        sim = SlackSimulator("http://unused", "unused", team_id=self.fake.team_id,
                             fake=self.fake)
        general = self.fake.channel_by_name("general")
        body = dict(urllib.parse.parse_qsl(sim.command_body(self.text, channel=general["id"])))
        resp = self.app.dispatch(BoltRequest(body=body, mode="socket_mode"))
        self.log.append(f"acked {resp.status}")
        self.metrics = processes.get(self.metrics_url + "/metrics")[1]
        threading.Thread(target=self._sigterm_once_listening, daemon=True).start()

    def _sigterm_once_listening(self) -> None:
        """SIGTERM as an orchestrator sends it, once the command waits for it."""
        deadline = time.monotonic() + 10
        while signal.getsignal(signal.SIGTERM) is not lifecycle._interrupt:
            assert time.monotonic() < deadline, "socket never waited for SIGTERM"
            time.sleep(0.01)
        self.log.append("SIGTERM")
        os.kill(os.getpid(), signal.SIGTERM)

    def close(self) -> None:
        self.log.append(f"closed; pins.add calls so far: {len(self.fake.calls_to('pins.add'))}")


@pytest.fixture
def fake() -> Any:
    with FakeSlack(bot_token="xoxb-fake") as fake:
        fake.add_user("U0LEAD", "lee")
        fake.add_channel("general", members=["U0LEAD"])
        yield fake


def test_sigterm_closes_the_connection_then_finishes_acknowledged_work(
        database_url: str, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    metrics_port = processes.free_port()
    settings = dataclasses.replace(Settings(), bot_token="xoxb-fake", app_token="xapp-1-test",
                                   api_url=fake.url, database_url=database_url,
                                   host="127.0.0.1", metrics_port=metrics_port)
    schedulers: list[Any] = []
    real_start = lifecycle.start_background

    def start_background(*args: Any) -> Any:
        schedulers.append(real_start(*args))
        return schedulers[-1]

    monkeypatch.setattr(lifecycle, "start_background", start_background)
    connections: list[StandInConnection] = []

    def connect(app: Any, token: str) -> StandInConnection:
        connections.append(StandInConnection(app, token, fake, "start sev2 Over the socket",
                                             f"http://127.0.0.1:{metrics_port}"))
        return connections[-1]

    fake.latency = 0.3  # the work after the ack takes a couple of seconds
    previous = signal.getsignal(signal.SIGTERM)
    assert cli.cmd_socket(settings, argparse.Namespace(), handler=connect) == 0

    (connection,) = connections
    assert connection.app_token == "xapp-1-test"
    assert connection.log[:2] == ["acked 200", "SIGTERM"]
    # Closed first (nothing new comes in), while the acknowledged work was still running…
    assert connection.log[2] == "closed; pins.add calls so far: 0"
    # …and that work was finished before the command returned.
    assert len(fake.calls_to("pins.add")) == 1
    assert any("is open" in r.get("text", "") for r in fake.responses)
    assert not schedulers[0].running
    assert signal.getsignal(signal.SIGTERM) is previous
    # The metrics port served the same metrics while connected, and is closed now.
    assert 'sitrep_slack_requests_total{kind="command",status="200"}' in connection.metrics
    with pytest.raises(OSError):
        processes.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=1)


def test_sigterm_over_a_real_connection_acks_then_closes_the_websocket(
        database_url: str, fake: FakeSlack) -> None:
    """The same stop with the bot's own Socket Mode connection to the fake's WebSocket."""
    settings = dataclasses.replace(Settings(), bot_token="xoxb-fake", app_token=fake.app_token,
                                   api_url=fake.url, database_url=database_url)
    general = fake.channel_by_name("general")
    sim = SlackSimulator("http://unused", "unused", team_id=fake.team_id, fake=fake,
                         transport="socket")
    acked: list[int] = []

    def slack_side() -> None:
        fake.wait_socket_connections(1, timeout=60)
        acked.append(sim.command("start sev2 Over a real socket", channel=general["id"],
                                 ).status)
        deadline = time.monotonic() + 10
        while signal.getsignal(signal.SIGTERM) is not lifecycle._interrupt:
            assert time.monotonic() < deadline, "socket never waited for SIGTERM"
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)

    fake.latency = 0.3  # the work after the ack takes a couple of seconds
    threading.Thread(target=slack_side, daemon=True).start()
    assert cli.cmd_socket(settings, argparse.Namespace()) == 0
    assert acked == [200]
    assert fake.socket_connections() == 0  # the bot closed its WebSocket
    assert len(fake.calls_to("pins.add")) == 1  # and finished the acknowledged work
    assert any("is open" in r.get("text", "") for r in fake.responses)
