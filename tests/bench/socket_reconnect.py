"""How soon each Socket Mode client hears Slack again after the line is lost.

For each client and each loss, against the fake Slack's Socket Mode endpoint: connect, ack
one command, break the line, send a command at that moment, and time until it is acked (the
fake queues it for the next live connection, as Slack does). CPU is this process's CPU
time over that wait, or over the first ``CPU_WINDOW`` seconds if the ack came sooner (the
fake is idle meanwhile), to catch a client that spins.

Losses: a silent drop (no more bytes either way: a proxy or NAT forgot the connection), a
TCP cut without close frame, a close frame, and a ``disconnect`` (``refresh_requested``).

Clients: slack_sdk's four (built-in, websocket-client, aiohttp, websockets) with their
defaults and an ack-only listener, and Sitrep's own (``bot.socket_mode``: aiohttp with 2 s
pings, dispatching to a Bolt app). ``python -m tests.bench socket_reconnect`` runs it alone
(about 6 minutes, most of it waiting for the slow clients); ``BENCH_SOCKET_CLIENTS=sitrep``
only Sitrep's.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.sandbox.fakeslack import FakeSlack
from bot.socket_mode import SocketModeConnection

BACKENDS = ["sqlite"]  # no database involved: once is enough
#: Seconds to wait for the ack before calling it "never".
CAP = float(os.environ.get("BENCH_SOCKET_CAP", "65"))
#: Shortest span CPU is measured over, so that a quick reconnect's own work is not a "spin".
CPU_WINDOW = 5.0
LOSSES = ("silent drop", "TCP cut", "close frame", "refresh_requested")
COMMAND = {"command": "/incident", "text": "help", "team_id": "T0001", "user_id": "U0LEAD",
           "channel_id": "C0GENERAL", "api_app_id": "A0BOT", "trigger_id": "1.2.3",
           "response_url": "https://hooks.slack.com/commands/T0001/1/x"}


def _break(fake: FakeSlack, loss: str) -> None:
    {"silent drop": fake.socket_drop_silently, "TCP cut": fake.socket_cut,
     "close frame": fake.socket_close,
     "refresh_requested": lambda: fake.socket_disconnect("refresh_requested")}[loss]()


# -- the clients: each a context manager that connects and later closes -----------------------

@contextmanager
def _sync_client(module: str, fake: FakeSlack) -> Iterator[None]:
    import importlib

    client_class = importlib.import_module(f"slack_sdk.socket_mode.{module}").SocketModeClient
    client = client_class(fake.app_token, web_client=WebClient(base_url=fake.url))

    def ack(c: Any, req: Any) -> None:
        c.send_socket_mode_response(SocketModeResponse(req.envelope_id, payload={"text": "ok"}))

    client.socket_mode_request_listeners.append(ack)
    client.connect()
    try:
        yield
    finally:
        _in_thread(client.close)


@contextmanager
def _async_client(module: str, fake: FakeSlack) -> Iterator[None]:
    import importlib

    from slack_sdk.web.async_client import AsyncWebClient

    client_class = importlib.import_module(f"slack_sdk.socket_mode.{module}").SocketModeClient
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    async def ack(c: Any, req: Any) -> None:
        await c.send_socket_mode_response(SocketModeResponse(req.envelope_id,
                                                             payload={"text": "ok"}))

    async def start() -> Any:
        client = client_class(fake.app_token, web_client=AsyncWebClient(base_url=fake.url))
        client.socket_mode_request_listeners.append(ack)
        await client.connect()
        return client

    client = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    try:
        yield
    finally:
        _in_thread(lambda: asyncio.run_coroutine_threadsafe(client.close(), loop).result(10))
        loop.call_soon_threadsafe(loop.stop)


@contextmanager
def _sitrep(fake: FakeSlack) -> Iterator[None]:
    app = App(client=WebClient(token=fake.bot_token, base_url=fake.url),
              signing_secret="unused", token_verification_enabled=False)

    @app.command("/incident")
    def _help(ack: Callable[..., None]) -> None:
        ack("ok")

    connection = SocketModeConnection(app, fake.app_token, api_url=fake.url)
    connection.connect()
    try:
        yield
    finally:
        _in_thread(connection.close)


def _in_thread(close: Callable[[], object], timeout: float = 15) -> None:
    """Close a client without hanging the benchmark on one that is stuck."""
    thread = threading.Thread(target=close, daemon=True)
    thread.start()
    thread.join(timeout)


CLIENTS: dict[str, Callable[[FakeSlack], Any]] = {
    "slack_sdk built-in": lambda fake: _sync_client("builtin", fake),
    "websocket-client": lambda fake: _sync_client("websocket_client", fake),
    "aiohttp (defaults)": lambda fake: _async_client("aiohttp", fake),
    "websockets": lambda fake: _async_client("websockets", fake),
    "sitrep (aiohttp, 2 s ping)": _sitrep,
}


def _send(fake: FakeSlack, timeout: float) -> float | None:
    """Seconds until one command is acked, or None if it never is within ``timeout``."""
    start = time.monotonic()
    envelope = fake.socket_send("slash_commands", dict(COMMAND), accepts_response_payload=True)
    if envelope.done.wait(timeout) and envelope.status == 200:
        return time.monotonic() - start
    return None


def once(client: str, loss: str) -> tuple[float | None, float]:
    """(seconds until acked or None, CPU % meanwhile) for ``client`` after ``loss``."""
    with FakeSlack(bot_token="xoxb-fake") as fake, CLIENTS[client](fake):
        fake.wait_socket_connections(1, timeout=30)
        if _send(fake, 30) is None:
            raise RuntimeError(f"{client} never acked before the loss")
        _break(fake, loss)
        cpu, wall = time.process_time(), time.monotonic()
        seconds = _send(fake, CAP)
        time.sleep(max(0.0, wall + CPU_WINDOW - time.monotonic()))
        cpu_share = 100 * (time.process_time() - cpu) / (time.monotonic() - wall)
        return seconds, cpu_share


def measure(database_url: str) -> list[tuple[str, object, str]]:
    rows: list[tuple[str, object, str]] = []
    wanted = os.environ.get("BENCH_SOCKET_CLIENTS", "").split(",")
    clients = [c for c in CLIENTS if any(w.strip() in c for w in wanted)]
    for client in clients:
        for loss in LOSSES:
            seconds, cpu = once(client, loss)
            shown: object = round(seconds, 2) if seconds is not None else f"never (>{CAP:g})"
            rows.append((f"{client}: acked after {loss}", shown, "s"))
            rows.append((f"{client}: CPU while waiting ({loss})", round(cpu, 1), "%"))
            for row in rows[-2:]:
                print(*row, sep="\t", file=sys.stderr, flush=True)
    return rows


if __name__ == "__main__":
    measure("")
