"""Build the Bolt app: one listener module per feature, registered in ``LISTENERS``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot import metrics
from bot.deps import Deps
from bot.incidents import slack as incidents
from bot.postmortem import slack as postmortem
from bot.slack import router
from bot.slack.client import make_client
from bot.tasks import slack as tasks
from bot.timeline import slack as timeline

log = logging.getLogger(__name__)

#: Feature modules; each has ``register(app, deps)``. Subcommands register on import.
LISTENERS = [router, incidents, timeline, tasks, postmortem]


class SitrepApp(App):
    """Bolt's ``App``, measured: each request's kind, answer and ack time (``bot.metrics``).

    ``dispatch`` is where both the HTTP adapter and Socket Mode hand Bolt a request, so one
    override measures both.
    """

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
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
    """
    settings = deps.settings
    app = SitrepApp(
        signing_secret=settings.signing_secret,
        client=client or make_client(settings),
        process_before_response=True,
        token_verification_enabled=verify_token,
        listener_executor=executor or ThreadPoolExecutor(
            max_workers=16, thread_name_prefix="sitrep-listener"),
        ignoring_self_events_enabled=True,
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

    for module in LISTENERS:
        module.register(app, deps)

    @app.error
    def on_error(error: Exception) -> None:
        log.error("listener error: %s", error, exc_info=error)

    return app
