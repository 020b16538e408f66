"""The Slack Web API client, with Slack's retry rules built in."""

from __future__ import annotations

import http.client
import itertools
import logging
import ssl
import time
import urllib.error
from collections.abc import Callable, Iterator
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


class _SkipsNotIdempotent(RetryHandler):
    """Retry as the base handler does, except a call that may have taken effect already.

    Slack can post a message and then answer 500 or drop the connection; repeating
    ``chat.postMessage`` or ``conversations.create`` then doubles it. Those fail here, and
    ``post_once`` / ``create_channel_once`` retry them after checking that the first attempt
    did not land.
    """

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return (_method(request.url) not in NOT_IDEMPOTENT
                and super()._can_retry(state=state, request=request, response=response,
                                       error=error))


class IdempotentServerErrorRetryHandler(_SkipsNotIdempotent, ServerErrorRetryHandler):
    """Retry a 5xx, but never a call that may have taken effect before Slack answered it."""


class IdempotentConnectionErrorRetryHandler(_SkipsNotIdempotent, ConnectionErrorRetryHandler):
    """Retry a dropped connection, except for calls that would double something."""


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

    Calls that could double something (``NOT_IDEMPOTENT``) are not retried blindly: see
    ``post_once`` and ``create_channel_once``. With ``health``, every answer is also shown
    to it.
    """
    client = MeasuredWebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=int(max(1, settings.slack_timeout)),
        retry_handlers=[
            IdempotentConnectionErrorRetryHandler(max_retry_count=2),
            MeasuredRateLimitRetryHandler(max_retry_count=3),
            IdempotentServerErrorRetryHandler(max_retry_count=2),
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


def join_and_post(client: WebClient, channel: str, **message: Any) -> dict:
    """``chat.postMessage``, joining a public channel first if the bot is not in it.

    ``channel`` must be an id: ``conversations.join`` takes no names. With ``metadata`` the
    post is safe to retry after a lost answer (``post_once``).
    """
    try:
        return post_once(client, channel, **message)
    except SlackApiError as exc:
        if error_code(exc) != "not_in_channel":
            raise
        client.conversations_join(channel=channel)
        return post_once(client, channel, **message)


# -- exactly once: Slack has no idempotency key, so message metadata is Sitrep's -----------

#: How far back in a conversation ``find_posted`` looks for a message's metadata.
LOOKBACK = 100
#: How many replies of a thread it reads (a thread's first page; Slack's default is 1,000).
THREAD_LOOKBACK = 1000


def reason(event_type: str, **payload: str | int) -> dict[str, Any]:
    """Message metadata naming why Sitrep sends a message (its idempotency key)."""
    return {"event_type": event_type, "event_payload": payload}


def answer_lost(exc: BaseException) -> bool:
    """Whether a failed call may still have taken effect: a 5xx or a dropped connection.

    A timeout is not one: the call may still be in flight, so reading history now cannot
    tell; callers leave such an item for a later check instead.
    """
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        return isinstance(status, int) and status >= 500
    return isinstance(exc, UNREACHABLE_ERRORS) and not is_timeout(exc)


def same_reason(found: Any, wanted: dict[str, Any], keys: tuple[str, ...] | None = None) -> bool:
    """Whether stored metadata ``found`` names the reason ``wanted`` (on ``keys``, or all)."""
    if not isinstance(found, dict) or found.get("event_type") != wanted["event_type"]:
        return False
    got, want = found.get("event_payload") or {}, wanted["event_payload"]
    return all(got.get(k) == want[k] for k in (keys or tuple(want)))


def find_posted(client: WebClient, channel: str, metadata: dict[str, Any], *,
                oldest: float | None = None, keys: tuple[str, ...] | None = None,
                thread_ts: str | None = None) -> dict | None:
    """The bot's message in ``channel``'s recent history that carries ``metadata``, if any.

    One ``conversations.history`` read (``include_all_metadata``), newest first; for a reply
    in a thread (``thread_ts``), one ``conversations.replies`` read of that thread instead:
    history lists only a channel's top-level messages
    (https://docs.slack.dev/reference/methods/conversations.history).
    """
    args: dict[str, Any] = {"channel": channel, "limit": LOOKBACK, "include_all_metadata": True}
    if oldest is not None:
        args["oldest"] = f"{max(0.0, oldest):.6f}"
    if thread_ts:
        args["limit"] = THREAD_LOOKBACK
        messages = client.conversations_replies(ts=thread_ts, **args).get("messages") or []
        messages = list(reversed(messages))  # oldest first, the root leading: newest first
    else:
        messages = client.conversations_history(**args).get("messages") or []
    for msg in messages:
        if same_reason(msg.get("metadata"), metadata, keys):
            return msg
    return None


def post_once(client: WebClient, channel: str, *, metadata: dict[str, Any] | None = None,
              **message: Any) -> dict:
    """``chat.postMessage`` that is repeated after a lost answer only if it did not land.

    When Slack answers 5xx or the connection drops, the message may be posted all the same;
    its ``metadata`` is looked up in the channel's recent history (a reply: in its thread), and
    the post is repeated (once) only if it is not there. Without metadata nothing is repeated.
    """
    if metadata is None:
        return client.chat_postMessage(channel=channel, **message).data  # type: ignore[return-value]
    try:
        return client.chat_postMessage(channel=channel, metadata=metadata,
                                       **message).data  # type: ignore[return-value]
    except Exception as exc:
        if not answer_lost(exc):
            raise
        log.warning("chat.postMessage in %s: answer lost (%s); checking whether it landed",
                    channel, exc.__class__.__name__)
        found = find_posted(client, channel, metadata, thread_ts=message.get("thread_ts"))
        if found is not None:
            return {"ok": True, "channel": channel, "ts": found["ts"], "message": found}
        return client.chat_postMessage(channel=channel, metadata=metadata,
                                       **message).data  # type: ignore[return-value]


def pages(method: Callable[..., Any], *, max_pages: int | None = None,
          **args: Any) -> Iterator[Any]:
    """Each page of a cursor-paginated Web API ``method`` (``client.conversations_list``).

    Follows ``response_metadata.next_cursor`` until it is empty
    (https://docs.slack.dev/apis/web-api/pagination), at most ``max_pages`` pages. Each page
    is its own call through the measured client, so every page is counted and rate-limited
    like any call (slack_sdk's own response iteration fetches later pages below that).
    """
    cursor = None
    for _ in itertools.count() if max_pages is None else range(max_pages):
        page = method(**args, **({"cursor": cursor} if cursor else {}))
        yield page
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def channel_named(client: WebClient, name: str, *, is_private: bool = False) -> dict | None:
    """The unarchived channel called ``name`` that the bot is in (``conversations.list``)."""
    for page in pages(client.conversations_list,
                      types="private_channel" if is_private else "public_channel",
                      exclude_archived=True, limit=999):
        for channel in page.get("channels") or []:
            if channel.get("name") == name and channel.get("is_member"):
                return channel
    return None


def create_channel_once(client: WebClient, name: str, *, is_private: bool = False) -> dict:
    """``conversations.create``, repeated after a lost answer only if the channel is not there.

    A channel the bot created has the bot as a member; found by name, it is the one the
    first attempt made, so no ``-2`` channel is opened beside it.
    """
    try:
        return client.conversations_create(name=name, is_private=is_private)["channel"]
    except Exception as exc:
        if not answer_lost(exc):
            raise
        log.warning("conversations.create %s: answer lost (%s); looking it up by name", name,
                    exc.__class__.__name__)
        found = channel_named(client, name, is_private=is_private)
        if found is not None:
            return found
        return client.conversations_create(name=name, is_private=is_private)["channel"]
