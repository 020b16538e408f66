"""The web view on its own port: a waitress server, beside ``serve`` or alone (``web``).

Its own server rather than a path on ``PORT``: the Slack port's health checks, body limits
and load balancer stay as they are, and the pages can be kept off the public address.
"""

from __future__ import annotations

import threading

from bot.deps import Deps
from bot.web.app import create_app

#: ``incident-bot web``'s port when ``WEB_PORT`` is not set.
DEFAULT_PORT = 3001


class WebServer:
    """The web view on ``host``:``port``: in a background thread (``serve``) or in the
    calling one (``web``)."""

    def __init__(self, deps: Deps, host: str, port: int, threads: int = 8) -> None:
        from waitress.server import create_server

        self._server = create_server(create_app(deps), host=host, port=port, threads=threads,
                                     ident="sitrep-web", channel_timeout=30,
                                     connection_limit=200)
        self.port = int(self._server.effective_port)  # type: ignore[union-attr]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}"
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> WebServer:
        self._thread = threading.Thread(target=self._run, daemon=True, name="waitress-web")
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._server.run()
        except OSError:
            if not self._stopping:  # closing the sockets under the loop ends it this way
                raise

    def serve_forever(self) -> None:
        self._server.run()

    def stop(self) -> None:
        """Close the listening socket (pages are read-only: nothing to finish)."""
        self._stopping = True
        self._server.close()
        if self._thread:
            self._thread.join(timeout=5)
