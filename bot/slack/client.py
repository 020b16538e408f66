"""The Slack Web API client, with Slack's retry rules built in."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.settings import Settings
from bot.slack.health import SlackHealth

log = logging.getLogger(__name__)


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


class HealthWatcher(RetryHandler):
    """Never retries: shows ``SlackHealth`` what Slack answered to every call.

    A retry handler is the one hook that every client shares: Bolt builds a fresh
    ``WebClient`` for each request but copies the app client's retry handlers into it.
    """

    def __init__(self, health: SlackHealth) -> None:
        super().__init__(max_retry_count=1 << 30)
        self.health = health

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if response is None or response.status_code != 200 or not response.body:
            return False
        method = request.url.rstrip("/").rsplit("/", 1)[-1]
        if response.body.get("ok"):
            if not self.health.all_clear:
                self.health.accepted(method, dm=method == "chat.postMessage"
                                     and _channel_arg(request).startswith(("D", "U", "W")))
        elif response.body.get("error"):
            needed = response.body.get("needed")
            self.health.refused(method, str(response.body["error"]),
                                needed=str(needed) if needed else None)
        return False


def _channel_arg(request: HttpRequest) -> str:
    """The ``channel`` argument of a JSON or form-encoded Web API request ("" if none)."""
    data = request.data or b""
    try:
        if data.startswith(b"{"):
            return str(json.loads(data).get("channel") or "")
        return parse_qs(data.decode()).get("channel", [""])[0]
    except (ValueError, UnicodeDecodeError, AttributeError):
        return ""


def make_client(settings: Settings, health: SlackHealth | None = None) -> WebClient:
    """A ``WebClient`` that honours ``Retry-After`` and retries 5xx and dropped connections.

    With ``health``, every answer is also shown to it (``HealthWatcher``).
    """
    watcher: list[RetryHandler] = [HealthWatcher(health)] if health is not None else []
    return WebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=int(max(1, settings.slack_timeout)),
        retry_handlers=[
            *watcher,
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
