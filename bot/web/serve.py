"""The web view on its own port: a waitress server, beside ``serve`` or alone (``web``).

Its own server rather than a path on ``PORT``: the Slack port's health checks, body limits
and load balancer stay as they are, and the pages can be kept off the public address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.deps import Deps
from bot.server import Waitress
from bot.web.app import create_app

#: ``incident-bot web``'s port when ``WEB_PORT`` is not set.
DEFAULT_PORT = 3001

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WebServer(Waitress):
    """The web view on ``host``:``port``: in a background thread (``serve``) or in the
    calling one (``web``).

    The port is bound at once. Without ``deps`` the app comes later (``serve``), and until
    then every request is answered 503: ``demo --web`` binds before its story plays, so a
    taken port fails at once and Sitrep's links (``WEB_BASE_URL``) can name the address.
    """

    def __init__(self, deps: Deps | None, host: str, port: int, threads: int = 8) -> None:
        self.app: WSGIApp | None = create_app(deps) if deps is not None else None
        super().__init__(self._dispatch, host=host, port=port, threads=threads,
                         ident="sitrep-web", connection_limit=200)

    def serve(self, app: WSGIApp) -> WebServer:
        """Answer with ``app`` (``create_app(deps)``) from now on."""
        self.app = app
        return self

    def _dispatch(self, environ: dict[str, Any],
                  start_response: Callable[..., Any]) -> Iterable[bytes]:
        app = self.app
        if app is None:
            body = b"starting"
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"),
                                                       ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)
