"""The Slack Web API client, with Slack's retry rules built in."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
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


#: Methods that would double something in Slack if repeated after an answer was lost.
NOT_IDEMPOTENT = frozenset({"chat.postMessage", "chat.postEphemeral", "conversations.create",
                            "files.completeUploadExternal"})


class TimeoutRetryHandler(RetryHandler):
    """Retry a call whose answer timed out, unless repeating it could post twice.

    A timeout does not tell whether Slack acted; for ``chat.postMessage`` and friends a
    retry risks a duplicate, so those fail instead and the caller decides.
    """

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if not isinstance(error, TimeoutError):
            return False
        return request.url.rstrip("/").rsplit("/", 1)[-1] not in NOT_IDEMPOTENT


def make_client(settings: Settings) -> WebClient:
    """A ``WebClient`` that honours ``Retry-After`` and retries 5xx and dropped connections."""
    return WebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=int(max(1, settings.slack_timeout)),
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            TimeoutRetryHandler(max_retry_count=1),
        ],
    )


def error_code(exc: SlackApiError) -> str:
    """The ``error`` field of a failed Web API response (or ``unknown``)."""
    try:
        return str(exc.response.get("error") or "unknown")
    except Exception:
        return "unknown"


def invite(client: WebClient, channel: str, user: str) -> None:
    """Add ``user`` to ``channel``; that they are in it already counts as done.

    Slack refuses inviting someone who is already a member with ``already_in_channel``
    (https://docs.slack.dev/reference/methods/conversations.invite), which is success here.
    """
    try:
        client.conversations_invite(channel=channel, users=user)
    except SlackApiError as exc:
        if error_code(exc) != "already_in_channel":
            raise


def join_and_post(client: WebClient, channel: str, **message: object) -> dict:
    """``chat.postMessage``, joining a public channel first if the bot is not in it.

    ``channel`` must be an id: ``conversations.join`` takes no names.
    """
    try:
        return client.chat_postMessage(channel=channel, **message).data  # type: ignore[return-value]
    except SlackApiError as exc:
        if error_code(exc) != "not_in_channel":
            raise
        client.conversations_join(channel=channel)
        return client.chat_postMessage(channel=channel, **message).data  # type: ignore[return-value]
