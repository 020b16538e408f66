"""The web view (``bot.web``) of a sandbox, served by waitress on loopback.

The port is bound when a ``WebView`` is made, before there is anything to serve: the demo
knows its address (for ``WEB_BASE_URL``, and to fail at once when the port is taken) before
it plays the story, and hands the Flask app over with ``serve`` afterwards. Until then every
request is answered 503.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WebView:
    """A waitress server for one WSGI app, in a background thread or the calling one."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> None:
        from waitress.server import create_server

        self.app: WSGIApp | None = None
        self._server = create_server(self._dispatch, host=host, port=port, threads=threads,
                                     ident="sitrep", channel_timeout=30)
        # waitress reports the port as getnameinfo() gives it: a string.
        self.port = int(self._server.effective_port)  # type: ignore[union-attr]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}"
        self._thread: threading.Thread | None = None
        self._stopping = False

    def serve(self, app: WSGIApp) -> WebView:
        """Answer with ``app`` from now on."""
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

    def start(self) -> WebView:
        """Serve in a background thread."""
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
        """Serve in the calling thread until ``stop`` (or an interrupt)."""
        self._server.run()

    def stop(self) -> None:
        self._stopping = True
        self._server.close()
        if self._thread:
            self._thread.join(timeout=5)
