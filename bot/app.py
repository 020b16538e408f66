"""Build the Bolt app: one listener module per feature, registered in ``LISTENERS``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

from bot import metrics
from bot.deps import Deps
from bot.inbox import Inbox
from bot.incidents import slack as incidents
from bot.nudges import slack as nudges
from bot.postmortem import followup_slack
from bot.postmortem import slack as postmortem
from bot.slack import router, wire
from bot.slack.client import make_client
from bot.tasks import slack as tasks
from bot.timeline import slack as timeline
from bot.updates import slack as updates
from storage.spool import Spool

log = logging.getLogger(__name__)


class _OwnClientsToken(logging.Filter):
    """Drop Bolt's start-up warning that ``SLACK_BOT_TOKEN`` "will be unused".

    Bolt reads that variable itself and warns when a client is given as well; Sitrep's client
    is made from that very token, so the warning only alarms operators.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


logging.getLogger("slack_bolt.App").addFilter(_OwnClientsToken())

#: Feature modules; each has ``register(app, deps)``. Subcommands register on import.
LISTENERS = [router, incidents, timeline, tasks, postmortem, nudges, updates, followup_slack]


class SitrepApp(App):
    """Bolt's ``App``, measured: each request's kind, answer and ack time (``bot.metrics``).

    ``dispatch`` is where both the HTTP adapter and Socket Mode hand Bolt a request, so one
    override measures both.
    """

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        try:
            # HTTP bodies were checked before parsing (``bot.server.SlackGate``); Socket
            # Mode's arrive here parsed, so the listeners' view is checked once more.
            wire.check_parsed(req.body)
        except wire.Malformed as exc:
            log.warning("malformed request from Slack (%s); not processed", exc.reason)
            resp = BoltResponse(status=200 if exc.events else 400, body="")
        else:
            resp = super().dispatch(req)
        metrics.record_request(req.body, req.headers, resp.status,
                               time.perf_counter() - started)
        return resp


def build_app(deps: Deps, client: WebClient | None = None, *, verify_token: bool = True,
              executor: ThreadPoolExecutor | None = None) -> App:
    """A Bolt app that verifies signatures and processes events before answering.

    ``process_before_response`` makes an event's HTTP status tell the truth: a handler that
    could not store it answers 500 and Slack redelivers. Slash commands and modal
    submissions still answer at once: they ack, then do their work in a lazy listener.

    Events are answered after one durable append to the inbox (``bot.inbox``), whose worker,
    started here, applies them afterwards. The bot's own messages are events like any other
    (``ignoring_self_events_enabled=False``): the incident card is kept as it is posted, so
    pinning it costs no read.

    A signed request that no listener wants (an ``app_rate_limited`` notice, a button on a
    message from an older version, an event subscribed to but not handled) is answered
    200: Slack retries anything else, and too many failed deliveries make it disable the
    app's event subscriptions (https://docs.slack.dev/reference/events/app_rate_limited).
    """
    settings = deps.settings
    app = SitrepApp(
        signing_secret=settings.signing_secret,
        client=client or make_client(settings, deps.slack_health),
        process_before_response=True,
        token_verification_enabled=verify_token,
        listener_executor=executor or ThreadPoolExecutor(
            max_workers=16, thread_name_prefix="sitrep-listener"),
        ignoring_self_events_enabled=False,
        raise_error_for_unhandled_request=True,  # to on_error, which answers 200
    )

    @app.middleware
    def shared_client(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        """Listeners get the app's own client, not Bolt's plain per-request copy of it.

        Bolt copies the client for each request so that a per-workspace token can be set
        on it; Sitrep has one static token, and its client (``make_client``) carries the
        retry rules and the Web API metrics.
        """
        context["client"] = app.client
        return next()

    if deps.inbox is None:
        deps.inbox = Inbox(Spool(settings.spool_dir), app.client, deps.clock)
    for module in LISTENERS:
        module.register(app, deps)
    deps.inbox.start()

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            return unhandled(body)
        log.error("listener error: %s", error, exc_info=error)
        return None

    return app


def unhandled(body: dict[str, Any]) -> BoltResponse:
    """The answer to a verified request no listener handles: 200, noted in the log.

    ``app_rate_limited`` is worth a warning: Slack is dropping the app's events (pins and
    messages of incident channels) for the rest of that minute.
    """
    if body.get("type") == "app_rate_limited":
        log.warning("Slack rate-limits Sitrep's events (minute %s): some events were dropped",
                    body.get("minute_rate_limited"))
    else:
        kind = body.get("type") or ("command" if body.get("command") else "unknown")
        detail = (body.get("event") or {}).get("type") or [
            a.get("action_id") for a in body.get("actions") or []] or body.get("callback_id")
        log.debug("no listener for a %s request (%s); answered 200", kind, detail)
    return BoltResponse(status=200, body="")
