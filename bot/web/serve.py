"""The web view on its own port: a waitress server, beside ``serve`` or alone (``web``).

Its own server rather than a path on ``PORT``: the Slack port's health checks, body limits
and load balancer stay as they are, and the pages can be kept off the public address.
"""

from __future__ import annotations

from bot.deps import Deps
from bot.server import Waitress
from bot.web.app import create_app

#: ``incident-bot web``'s port when ``WEB_PORT`` is not set.
DEFAULT_PORT = 3001


class WebServer(Waitress):
    """The web view on ``host``:``port``: in a background thread (``serve``) or in the
    calling one (``web``)."""

    def __init__(self, deps: Deps, host: str, port: int, threads: int = 8) -> None:
        super().__init__(create_app(deps), host=host, port=port, threads=threads,
                         ident="sitrep-web", connection_limit=200)
