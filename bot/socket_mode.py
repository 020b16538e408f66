"""Socket Mode for the sync Bolt app: slack_sdk's aiohttp client on its own event-loop thread.

Why this client (``tests/bench/socket_reconnect.py`` measures all four against the fake
Slack; the table is in README "Operating Sitrep"): when the line is lost, slack_sdk's
built-in client stays deaf for about a minute after a silent TCP drop (spinning a core), for
~3 s after a ``refresh_requested`` and ~10 s after a close frame; websocket-client never
comes back after a refresh; the ``websockets`` client waits its 10 s ping timeout after a
cut. The aiohttp client reconnects at once on a close frame or a ``disconnect`` message, and
within two ping intervals after a cut or a silent drop: with ``ping_interval`` = 2 s, an
unanswered ping closes the connection after ~1 s and its monitor reconnects at the next tick,
about 4 s in all, sleeping in between.

Bolt's own aiohttp adapter needs an ``AsyncApp``; Sitrep's app is sync (as ``serve``
needs), so each envelope is dispatched in a thread pool and its ack sent back on the loop,
the way ``slack_bolt.adapter.socket_mode.internals`` (``run_bolt_app``, ``send_response``)
does for the sync clients.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse

log = logging.getLogger(__name__)

#: Seconds between the client's pings: a silent drop is noticed within two of them.
PING_INTERVAL = 2.0
#: Seconds ``close`` waits for envelopes already being handled to be acked.
DRAIN_SECONDS = 10.0


class AppTokenRefused(Exception):
    """Slack refused ``SLACK_APP_TOKEN`` (``apps.connections.open`` answered an error)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class SocketModeConnection:
    """The Bolt ``app`` on a Socket Mode connection: ``connect()``, later ``close()``.

    ``on_unacked(envelope_id, status)`` is told when the app answers an envelope with a
    status other than 200 (no ack is sent, so Slack delivers an event again); the sandbox
    uses it to show tests that outcome at once.
    """

    def __init__(self, app: App, app_token: str, *, api_url: str | None = None,
                 ping_interval: float = PING_INTERVAL, workers: int = 8,
                 on_unacked: Callable[[str, int], None] | None = None) -> None:
        self.app = app
        self.app_token = app_token
        self.api_url = api_url
        self.ping_interval = ping_interval
        self.on_unacked = on_unacked
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sitrep-socket")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name="sitrep-socket-mode", daemon=True)
        self._client: Any = None
        self._handling: set[asyncio.Future[Any]] = set()
        self._closing = False

    def _run(self, coro: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def connect(self, timeout: float = 60.0) -> None:
        """Open the connection; raises :class:`AppTokenRefused` if Slack refuses the token."""
        self._thread.start()
        try:
            self._run(self._open(), timeout)
        except BaseException:
            self._stop_loop()
            raise

    async def _open(self) -> None:
        from slack_sdk.errors import SlackApiError
        from slack_sdk.web.async_client import AsyncWebClient

        web = AsyncWebClient(base_url=self.api_url) if self.api_url else AsyncWebClient()
        client = _client_class()(self.app_token, web_client=web,
                                  ping_interval=self.ping_interval,
                                  logger=logging.getLogger("sitrep.socket_mode.client"))
        client.socket_mode_request_listeners.append(self._on_request)
        try:
            # Asked here rather than in connect(), which would retry a refused token forever.
            opened = await web.apps_connections_open(app_token=self.app_token)
            client.wss_uri = str(opened["url"])
        except SlackApiError as exc:
            await client.close()
            raise AppTokenRefused(str(exc.response.get("error"))) from None
        self._client = client
        await client.connect()

    async def _on_request(self, link: Any, req: Any) -> None:
        if self._closing:
            return  # not acked: Slack delivers an event again on another connection
        task = asyncio.ensure_future(self._handle(link, req))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def _handle(self, link: Any, req: Any) -> None:
        from slack_bolt.adapter.socket_mode.internals import run_bolt_app
        from slack_sdk.socket_mode.response import SocketModeResponse

        loop = asyncio.get_running_loop()
        try:
            resp: BoltResponse = await loop.run_in_executor(self._pool, run_bolt_app,
                                                            self.app, req)
        except Exception:
            log.exception("Socket Mode envelope %s failed", req.envelope_id)
            return
        if resp.status != 200:
            if self.on_unacked is not None:
                self.on_unacked(req.envelope_id, resp.status)
            return
        # As slack_bolt's send_response: the body becomes the ack's payload.
        payload: dict[str, Any] | None = None
        if resp.body:
            kind = resp.headers.get("content-type", [""])[0]
            payload = (json.loads(resp.body) if kind.startswith("application/json")
                       else {"text": resp.body})
        await link.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload=payload))

    def close(self) -> None:
        """Take no new envelopes, ack those being handled, then close the WebSocket."""
        if not self._thread.is_alive():
            return
        self._closing = True
        try:
            self._run(self._drain_and_close(), DRAIN_SECONDS + 5)
        finally:
            self._stop_loop()

    async def _drain_and_close(self) -> None:
        if self._handling:
            await asyncio.wait(set(self._handling), timeout=DRAIN_SECONDS)
        if self._client is not None:
            await self._client.close()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._pool.shutdown(wait=False)


@functools.cache
def _client_class() -> type:
    """slack_sdk's aiohttp client, except that a ``disconnect`` of reason ``warning`` is
    logged, not obeyed.

    slack_sdk reconnects on every ``disconnect``. A ``warning`` only announces the
    ``refresh_requested`` that follows about 10 s later (docs.slack.dev/apis/events-api/
    using-socket-mode), and reconnecting at once closed the old connection under any
    command still being handled there: its ack was lost, and Slack never redelivers a
    command (seen once in a CI run as a command never acked after a warning).
    """
    from slack_sdk.socket_mode.aiohttp import SocketModeClient

    class WarningsOnlyWarn(SocketModeClient):
        async def run_message_listeners(self, message: dict, raw_message: str) -> None:
            if message.get("type") == "disconnect" and message.get("reason") == "warning":
                log.info("Slack will refresh the Socket Mode connection soon (warning)")
                return
            await super().run_message_listeners(message, raw_message)

    return WarningsOnlyWarn

