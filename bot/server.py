"""HTTP mode: a WSGI app (``POST /slack/events``, ``GET /healthz``, ``GET /metrics``) on waitress.

The same server, without the Slack path, is the metrics and health port of ``socket`` (and
of ``serve`` when ``METRICS_PORT`` keeps ``/metrics`` off the public port).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import make_wsgi_app
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack.health import SlackHealth
from storage.db import Database

if TYPE_CHECKING:
    from bot.inbox import Inbox

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def health_report(db: Database, health: SlackHealth | None,
                  inbox: Inbox | None = None) -> tuple[bool, dict[str, Any]]:
    """``/healthz``: (database reachable, the JSON body).

    The status code follows the database only (a load balancer can route around a replica
    that lost it); a problem Slack has with the app itself (a revoked token, the Messages
    tab off, a missing scope) is the same on every replica, so it is reported in the body
    (``"ok": false``, ``"slack": [...]``) for monitoring, not by taking replicas away.
    ``"inbox"`` is the number of events answered but not applied yet (``bot.inbox``): it
    grows while the database is away and drains when it is back.
    """
    database_ok = db.healthy()
    problems = [p.as_json() for p in health.problems()] if health is not None else []
    report: dict[str, Any] = {"ok": database_ok and not problems,
                              "database": "ok" if database_ok else "unavailable",
                              "slack": problems or "ok"}
    if inbox is not None:
        report["inbox"] = inbox.spool.depth
    return database_ok, report


def wsgi_app(app: App | None, db: Database, metrics: bool = True,
             health: SlackHealth | None = None,
             inbox: Inbox | None = None) -> Callable[..., Iterable[bytes]]:
    """Route Slack's requests to Bolt (when ``app`` is given), answer health checks (with
    what ``health`` knows of Slack's view of the app) and, with ``metrics``, ``GET /metrics``
    (Prometheus' text format)."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH) if app is not None else None
    prometheus = make_wsgi_app() if metrics else None

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            ok, report = health_report(db, health, inbox)
            body = json.dumps(report).encode()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"),
                                    ("Content-Length", str(len(body)))])
            return [body]
        if path == EVENTS_PATH and slack is not None:
            return slack(environ, start_response)
        if path == "/metrics" and prometheus is not None:
            return prometheus(environ, start_response)
        body = b"not found"
        start_response("404 Not Found", [("Content-Type", "text/plain"),
                                         ("Content-Length", str(len(body)))])
        return [body]

    return application


class Server:
    """A waitress server, in a background thread (tests, the demo, the metrics port) or in
    the calling one (``serve``)."""

    def __init__(self, app: App | None, db: Database, host: str = "127.0.0.1", port: int = 0,
                 threads: int = 16, metrics: bool = True,
                 health: SlackHealth | None = None, inbox: Inbox | None = None) -> None:
        from waitress.server import create_server

        self._server = create_server(wsgi_app(app, db, metrics, health, inbox), host=host,
                                     port=port, threads=threads, ident="sitrep", channel_timeout=30,
                                     connection_limit=1000, backlog=1024)
        # waitress reports the port as getnameinfo() gives it: a string.
        self.port = int(self._server.effective_port)  # type: ignore[union-attr]
        self.host = host
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}"
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> Server:
        self._thread = threading.Thread(target=self._run, daemon=True, name="waitress")
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
        self._stopping = True
        self._server.close()
        if self._thread:
            self._thread.join(timeout=5)
