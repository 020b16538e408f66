"""Socket Mode: ``apps.connections.open`` and a WebSocket server speaking Slack's envelopes.

Slack's side of https://docs.slack.dev/apis/events-api/using-socket-mode, with the wire
format of slackapi/python-slack-sdk's ``tests/slack_sdk/socket_mode/mock_socket_mode_server.py``
and bolt-python's ``tests/adapter_tests/socket_mode/``:

- ``apps.connections.open`` takes only the app-level token (``xapp-…``, scope
  ``connections:write``) and answers a single-use ``ws://`` URL on loopback;
- on connecting, the app gets ``hello`` (``num_connections``, ``debug_info``,
  ``connection_info.app_id``);
- requests come as envelopes (``slash_commands``, ``events_api``, ``interactive``) with an
  ``envelope_id``; the app acks with ``{"envelope_id": …, "payload": …}``, the payload taking
  the place of the HTTP response body where the envelope ``accepts_response_payload``;
- ``disconnect`` messages (``warning``, ``refresh_requested``, ``link_disabled``) ask it to
  reconnect, and an Events API envelope that was never acknowledged is delivered again on
  the next connection, with ``retry_attempt`` one higher and a ``retry_reason``.

Tests send with :meth:`SocketMode.socket_send` (the simulator does) and break the line with
the ``socket_*`` hooks: a silent drop (no more reading, writing or pongs: a proxy lost the
connection), a TCP cut without close frame, a close frame, a ``disconnect`` message.

The WebSocket server (the ``websockets`` library) runs on its own event loop thread, started
by the first ``apps.connections.open``, so fakes that never use Socket Mode pay nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import socket
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.sandbox.fakeslack.common import SlackError, answers
from bot.sandbox.fakeslack.state import Workspace

#: Envelope types Slack sends over Socket Mode (the using-socket-mode page).
ENVELOPE_TYPES = ("slash_commands", "events_api", "interactive")
#: Why ``disconnect`` is sent: ``warning`` comes ~10 s before ``refresh_requested`` (Slack
#: refreshes each connection every few hours); ``link_disabled`` when Socket Mode is turned off.
DISCONNECT_REASONS = ("warning", "refresh_requested", "link_disabled")
#: ``retry_reason`` of an Events API envelope delivered again because it was never acked.
RETRY_REASON = "timeout"


@dataclass
class Envelope:
    """One request Slack sends over Socket Mode, and what became of it."""

    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    envelope_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    retry_attempt: int = 0
    retry_reason: str = ""
    #: Set when acked (``status`` 200) or known never to be (``status`` the app's own).
    done: threading.Event = field(default_factory=threading.Event)
    status: int | None = None
    ack_payload: dict[str, Any] | None = None
    deliveries: int = 0

    def wire(self) -> dict[str, Any]:
        message: dict[str, Any] = {"envelope_id": self.envelope_id, "payload": self.payload,
                                   "type": self.type,
                                   "accepts_response_payload": self.accepts_response_payload}
        if self.type == "events_api":  # only events are retried, so only they say so
            message.update(retry_attempt=self.retry_attempt, retry_reason=self.retry_reason)
        return message


@dataclass
class _Link:
    """One WebSocket connection from the app."""

    number: int
    ws: Any  # websockets.asyncio.server.ServerConnection
    state: str = "live"  # live | refreshing (no new envelopes) | dropped | closed
    in_flight: dict[str, Envelope] = field(default_factory=dict)


class SocketMode(Workspace):
    """``apps.connections.open`` and the Socket Mode WebSocket server, with test hooks."""

    #: The app-level token (``xapp-…``) Socket Mode accepts; tests may set their own.
    app_token = "xapp-1-A0BOT-1-fake"
    #: Seconds after a ``refresh_requested`` before the fake closes the old connection itself.
    refresh_grace = 10.0

    _sm_loop: asyncio.AbstractEventLoop | None = None
    _sm_thread: threading.Thread | None = None
    _sm_server: Any = None
    _sm_port: int = 0

    def _sm_state(self) -> None:
        """Socket Mode's own state, made on first use (Workspace.__init__ knows nothing of it)."""
        if not hasattr(self, "_sm_links"):
            self._sm_lock = threading.RLock()
            self._sm_links: list[_Link] = []
            self._sm_pending: deque[Envelope] = deque()
            self._sm_tickets: set[str] = set()
            self._sm_numbers = itertools.count(1)
            self.socket_opened = 0  # connections opened so far
            self.envelopes: list[Envelope] = []  # every envelope sent, in order
            self.socket_messages: list[dict[str, Any]] = []  # what the app sent, in order
            self.socket_connected = threading.Condition(self._sm_lock)

    # ------------------------------------------------------------------ the Web API method

    @answers("apps.connections.open")
    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        # The token check (app-level token only) is in server.py, before any handler runs.
        self._sm_start()
        ticket = secrets.token_hex(16)
        with self._sm_lock:
            self._sm_tickets.add(ticket)
        return {"ok": True, "url": f"ws://127.0.0.1:{self._sm_port}/link/?ticket={ticket}"}

    def app_token_error(self, token: str | None) -> str | None:
        """The error ``apps.connections.open`` answers for ``token``, or None if it is ours.

        https://docs.slack.dev/reference/methods/apps.connections.open: the method takes an
        app-level token with ``connections:write``; any other token type is
        ``not_allowed_token_type``, a token Slack does not know ``invalid_auth``, none at all
        ``not_authed``.
        """
        if not token:
            return "not_authed"
        if token == self.app_token:
            return None
        if token == self.bot_token or token.startswith(("xoxb-", "xoxp-")):
            return "not_allowed_token_type"
        return "invalid_auth"

    # ------------------------------------------------------------------ the WebSocket server

    def _sm_start(self) -> None:
        self._sm_state()
        with self._sm_lock:
            if self._sm_loop is not None:
                return
            ready = threading.Event()
            loop = asyncio.new_event_loop()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.run_until_complete(self._sm_listen())
                ready.set()
                loop.run_forever()

            self._sm_loop = loop
            self._sm_thread = threading.Thread(target=run, name="fakeslack-socket-mode",
                                               daemon=True)
            self._sm_thread.start()
            if not ready.wait(10):
                raise SlackError("internal_error")

    async def _sm_listen(self) -> None:
        from websockets.asyncio.server import serve

        # Slack's own pings are left out: a client must notice a dead line by itself (its
        # pings), which is what the silent-drop hook tests.
        quiet = logging.getLogger(__name__ + ".server")
        quiet.setLevel(logging.WARNING)  # not a line per connection in every test's log
        self._sm_server = await serve(self._sm_serve, "127.0.0.1", 0, ping_interval=None,
                                      process_request=self._sm_check_ticket, logger=quiet)
        self._sm_port = self._sm_server.sockets[0].getsockname()[1]

    def _sm_check_ticket(self, connection: Any, request: Any) -> Any:
        """Refuse a URL not issued by ``apps.connections.open``, or used already."""
        ticket = parse_qs(urlsplit(request.path).query).get("ticket", [""])[0]
        with self._sm_lock:
            if ticket in self._sm_tickets:
                self._sm_tickets.discard(ticket)  # each URL opens one connection
                return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")

    async def _sm_serve(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        with self._sm_lock:
            link = _Link(next(self._sm_numbers), ws)
            self.socket_opened += 1
            self._sm_links.append(link)
            live = sum(1 for x in self._sm_links if x.state == "live")
        await ws.send(json.dumps({
            "type": "hello", "num_connections": live,
            "debug_info": {"host": f"applink-fake-{link.number}", "build_number": 1,
                           "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }))
        with self._sm_lock:
            self.socket_connected.notify_all()
        self._sm_pump()
        try:
            async for raw in ws:
                self._sm_received(link, raw)
        except ConnectionClosed:
            pass
        finally:
            self._sm_lost(link)

    def _sm_received(self, link: _Link, raw: str | bytes) -> None:
        """An ack, perhaps: ``{"envelope_id": …, "payload": …}``; anything else is ignored."""
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        with self._sm_lock:
            self.socket_messages.append(message)
            envelope = link.in_flight.pop(str(message.get("envelope_id")), None)
            if envelope is None or envelope.done.is_set():
                return  # an unknown or late ack: Slack ignores it
            payload = message.get("payload")
            # A payload counts only where the envelope accepts one (commands, view
            # submissions, option loads); Slack drops it elsewhere.
            if envelope.accepts_response_payload and isinstance(payload, dict) and payload:
                envelope.ack_payload = payload
            envelope.status = 200
            envelope.done.set()

    def _sm_lost(self, link: _Link) -> None:
        """The connection is gone: what it never acked waits for the next one."""
        with self._sm_lock:
            link.state = "closed"
            if link in self._sm_links:
                self._sm_links.remove(link)
            self._sm_requeue(link)
        self._sm_pump()

    def _sm_requeue(self, link: _Link) -> None:
        """Events ``link`` never acked go out again, one retry more; a command or an
        interaction is not retried (Slack shows the person an error), so it ends unacked."""
        for envelope in link.in_flight.values():
            if envelope.done.is_set():
                continue
            if envelope.type == "events_api":
                envelope.retry_attempt += 1
                envelope.retry_reason = RETRY_REASON
                self._sm_pending.append(envelope)
            else:
                envelope.status = 0
                envelope.done.set()
        link.in_flight.clear()

    def _sm_pump(self) -> None:
        """Send what is pending on the newest live connection (from any thread)."""
        loop = self._sm_loop
        if loop is None:
            return
        loop.call_soon_threadsafe(lambda: loop.create_task(self._sm_send_pending()))

    async def _sm_send_pending(self) -> None:
        while True:
            with self._sm_lock:
                live = [x for x in self._sm_links if x.state == "live"]
                if not live or not self._sm_pending:
                    return
                link, envelope = live[-1], self._sm_pending.popleft()
                link.in_flight[envelope.envelope_id] = envelope
                envelope.deliveries += 1
                wire = json.dumps(envelope.wire())
            with contextlib.suppress(Exception):  # closed meanwhile: _sm_lost puts it back
                await link.ws.send(wire)

    # ------------------------------------------------------------------ sending (tests)

    def socket_send(self, type: str, payload: dict[str, Any], *,
                    accepts_response_payload: bool, retry_attempt: int = 0,
                    retry_reason: str = "") -> Envelope:
        """Queue an envelope for the app; it goes out on the newest live connection."""
        if type not in ENVELOPE_TYPES:
            raise ValueError(f"not a Socket Mode envelope type: {type}")
        self._sm_state()
        envelope = Envelope(type, payload, accepts_response_payload,
                            retry_attempt=retry_attempt, retry_reason=retry_reason)
        with self._sm_lock:
            self.envelopes.append(envelope)
            self._sm_pending.append(envelope)
        self._sm_pump()
        return envelope

    def socket_unacked(self, envelope_id: str, status: int) -> None:
        """The app says it will not ack ``envelope_id`` (its handler answered ``status``).

        Slack would only wait; the sandbox tells the fake so a test sees the outcome at once.
        """
        with self._sm_lock:
            for envelope in self.envelopes:
                if envelope.envelope_id == envelope_id and not envelope.done.is_set():
                    envelope.status = status
                    envelope.done.set()

    def socket_connections(self) -> int:
        """Live connections (those new envelopes may go to)."""
        self._sm_state()
        with self._sm_lock:
            return sum(1 for x in self._sm_links if x.state == "live")

    def wait_socket_connections(self, count: int = 1, timeout: float = 30) -> None:
        """Wait until ``count`` connections are live."""
        self._sm_state()
        with self._sm_lock:
            if not self.socket_connected.wait_for(lambda: self.socket_connections() >= count,
                                                  timeout):
                raise TimeoutError(f"{count} Socket Mode connection(s) never came")

    # ------------------------------------------------------------------ breaking the line

    def _sm_each(self, action: Any, state: str | None = None) -> int:
        """Run ``action(link)`` on the loop for every live link (marking it ``state``)."""
        self._sm_state()
        loop = self._sm_loop
        with self._sm_lock:
            links = [x for x in self._sm_links if x.state == "live"]
            for link in links:
                if state is not None:
                    link.state = state
        if loop is None or not links:
            return 0

        async def run() -> None:
            for link in links:
                await action(link)

        asyncio.run_coroutine_threadsafe(run(), loop).result(10)
        return len(links)

    def socket_drop_silently(self) -> int:
        """The line goes dead with nothing said (a proxy or NAT forgot it): the fake stops
        reading, so no ack and no pong comes back, and sends nothing more on it."""

        async def drop(link: _Link) -> None:
            link.ws.transport.pause_reading()
            with self._sm_lock:
                self._sm_requeue(link)

        return self._sm_each(drop, "dropped")

    def socket_lose_acks(self) -> int:
        """What the app sends is lost from now on (the fake stops reading), while envelopes
        still go out: an ack that never reached Slack, as when the line dies mid-way."""

        async def deafen(link: _Link) -> None:
            link.ws.transport.pause_reading()

        return self._sm_each(deafen)

    def socket_cut(self) -> int:
        """The TCP connection is cut (FIN, then RST) with no close frame."""

        async def cut(link: _Link) -> None:
            sock = link.ws.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            link.ws.transport.abort()

        return self._sm_each(cut, "closed")

    def socket_close(self, code: int = 1001, reason: str = "") -> int:
        """Slack closes the WebSocket with a close frame (1001: going away)."""

        async def close(link: _Link) -> None:
            asyncio.get_running_loop().create_task(link.ws.close(code, reason))

        return self._sm_each(close, "closed")

    def socket_disconnect(self, reason: str = "refresh_requested") -> int:
        """Send ``{"type": "disconnect", "reason": …}``. After ``refresh_requested`` and
        ``link_disabled`` no new envelope goes to that connection, and the fake closes it
        after ``refresh_grace`` seconds (at once for ``link_disabled``) if the app does not."""
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"not a disconnect reason: {reason}")

        async def disconnect(link: _Link) -> None:
            await link.ws.send(json.dumps({"type": "disconnect", "reason": reason,
                                           "debug_info": {"host": f"applink-fake-{link.number}"}}))
            if reason == "warning":
                return
            grace = 0.0 if reason == "link_disabled" else self.refresh_grace
            asyncio.get_running_loop().call_later(
                grace, lambda: asyncio.ensure_future(link.ws.close(1001, reason)))

        return self._sm_each(disconnect, None if reason == "warning" else "refreshing")

    # ------------------------------------------------------------------ stopping

    def _sm_stop(self) -> None:
        loop, self._sm_loop = self._sm_loop, None
        if loop is None:
            return

        async def shut() -> None:
            with self._sm_lock:
                links = list(self._sm_links)
            for link in links:
                link.ws.transport.abort()
            self._sm_server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sm_server.wait_closed(), 3)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shut(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._sm_thread is not None:
            self._sm_thread.join(5)
        with self._sm_lock:
            for envelope in self._sm_pending:
                envelope.status = 0
                envelope.done.set()
            self._sm_pending.clear()
