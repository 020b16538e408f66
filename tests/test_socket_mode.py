"""``bot.socket_mode``: which ``disconnect`` messages make the client reconnect."""

from __future__ import annotations

import asyncio
import json

from bot.socket_mode import _client_class


def _reconnects_on(reason: str) -> bool:
    async def run() -> bool:
        client = _client_class()("xapp-1-test", ping_interval=2)
        reconnects: list[bool] = []

        async def connect_to_new_endpoint(force: bool = False) -> None:
            reconnects.append(force)

        client.connect_to_new_endpoint = connect_to_new_endpoint
        try:
            message = {"type": "disconnect", "reason": reason}
            await client.run_message_listeners(message, json.dumps(message))
        finally:
            await client.aiohttp_client_session.close()
        return bool(reconnects)

    return asyncio.run(run())


def test_a_warning_is_logged_not_obeyed() -> None:
    """Reconnecting at once would close the line under a command being handled (its ack
    lost, never redelivered); the ``refresh_requested`` that follows is obeyed."""
    assert not _reconnects_on("warning")


def test_a_refresh_or_a_disabled_link_reconnects() -> None:
    assert _reconnects_on("refresh_requested")
    assert _reconnects_on("link_disabled")
