"""The Slack Web API client, with Slack's retry rules built in."""

from __future__ import annotations

import http.client
import logging
import ssl
import time
import urllib.error
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot import metrics
from bot.settings import Settings
from bot.slack.health import SlackHealth

log = logging.getLogger(__name__)

#: What a Web API call raises when Slack could not be reached or did not answer. (Not
#: every ``OSError``: a missing file or jinja2's ``TemplateNotFound`` is one too.)
UNREACHABLE_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError, ConnectionError, urllib.error.URLError, http.client.HTTPException,
    ssl.SSLError)


def is_timeout(exc: BaseException) -> bool:
    """A Web API call that timed out (urllib wraps a connect timeout in ``URLError``)."""
    if isinstance(exc, urllib.error.URLError):
        return isinstance(exc.reason, TimeoutError)
    return isinstance(exc, TimeoutError)


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
        return _method(request.url) not in NOT_IDEMPOTENT


class MeasuredRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Slack's ``Retry-After`` wait, counted: how often and how long Sitrep was held back."""

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        started = time.monotonic()
        try:
            super().prepare_for_next_attempt(state=state, request=request, response=response,
                                             error=error)
        finally:
            method = metrics.label(_method(request.url))
            metrics.RATE_LIMITED.labels(method).inc()
            metrics.RATE_LIMIT_WAIT.labels(method).inc(time.monotonic() - started)


def _method(url: str) -> str:
    """``https://slack.com/api/chat.postMessage`` → ``chat.postMessage``."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class MeasuredWebClient(WebClient):
    """A ``WebClient`` that counts every Web API call by method and result (``bot.metrics``),
    and shows ``health`` (when set) what Slack answered, so that a refusal of Sitrep itself
    is noticed whichever listener or job met it (``bot.slack.health``).

    Every method of the client goes through ``api_call``; retries happen inside it, so a
    call is counted once, with the result its caller saw.
    """

    health: SlackHealth | None = None

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        started = time.perf_counter()
        result = "ok"
        try:
            answer = super().api_call(api_method, **kwargs)
            if self.health is not None and not self.health.all_clear:
                self.health.accepted(api_method, dm=api_method == "chat.postMessage"
                                     and _channel_arg(kwargs).startswith(("D", "U", "W")))
            return answer
        except SlackApiError as exc:
            result = error_code(exc)
            if self.health is not None:
                needed = exc.response.get("needed")
                self.health.refused(api_method, result, needed=str(needed) if needed else None)
            raise
        except Exception as exc:
            result = exc.__class__.__name__
            raise
        finally:
            method = metrics.label(api_method)
            metrics.API_CALLS.labels(method, metrics.label(result, "unknown")).inc()
            metrics.API_SECONDS.labels(method).observe(time.perf_counter() - started)


def _channel_arg(kwargs: dict[str, Any]) -> str:
    """The ``channel`` argument of an ``api_call`` (JSON body, form or query)."""
    for key in ("json", "data", "params"):
        args = kwargs.get(key)
        if isinstance(args, dict) and args.get("channel"):
            return str(args["channel"])
    return ""


def make_client(settings: Settings, health: SlackHealth | None = None) -> WebClient:
    """A ``WebClient`` that honours ``Retry-After`` and retries 5xx and dropped connections.

    With ``health``, every answer is also shown to it.
    """
    client = MeasuredWebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=int(max(1, settings.slack_timeout)),
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            MeasuredRateLimitRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            TimeoutRetryHandler(max_retry_count=1),
        ],
    )
    client.health = health
    return client


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
