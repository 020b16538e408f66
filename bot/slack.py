"""The Slack Web API client, with Slack's retry rules built in."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.settings import Settings

log = logging.getLogger(__name__)

#: Errors meaning the person can no longer be reached (left, deactivated, unknown).
UNREACHABLE_USER_ERRORS = frozenset(
    {"account_inactive", "user_not_found", "channel_not_found", "user_disabled", "cannot_dm_bot"}
)


def make_client(settings: Settings, timeout: int = 10) -> WebClient:
    """A ``WebClient`` that honours ``Retry-After`` and retries 5xx and dropped connections."""
    return WebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def error_code(exc: SlackApiError) -> str:
    """The ``error`` field of a failed Web API response (or ``unknown``)."""
    try:
        return str(exc.response.get("error") or "unknown")
    except Exception:
        return "unknown"


def join_and_post(client: WebClient, channel: str, **message: object) -> dict:
    """``chat.postMessage``, joining a public channel first if the bot is not in it."""
    try:
        return client.chat_postMessage(channel=channel, **message).data  # type: ignore[return-value]
    except SlackApiError as exc:
        if error_code(exc) != "not_in_channel":
            raise
        client.conversations_join(channel=channel)
        return client.chat_postMessage(channel=channel, **message).data  # type: ignore[return-value]
