"""Build the Bolt app: one listener module per feature, registered in ``LISTENERS``."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

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


def build_app(deps: Deps, client: WebClient | None = None, *, verify_token: bool = True,
              executor: ThreadPoolExecutor | None = None) -> App:
    """A Bolt app that verifies signatures and processes events before answering.

    ``process_before_response`` makes an event's HTTP status tell the truth: a handler that
    could not store it answers 500 and Slack redelivers. Slash commands and modal
    submissions still answer at once: they ack, then do their work in a lazy listener.
    """
    settings = deps.settings
    app = App(
        signing_secret=settings.signing_secret,
        client=client or make_client(settings, deps.slack_health),
        process_before_response=True,
        token_verification_enabled=verify_token,
        listener_executor=executor or ThreadPoolExecutor(
            max_workers=16, thread_name_prefix="sitrep-listener"),
        ignoring_self_events_enabled=True,
    )
    for module in LISTENERS:
        module.register(app, deps)

    @app.error
    def on_error(error: Exception) -> None:
        log.error("listener error: %s", error, exc_info=error)

    return app
