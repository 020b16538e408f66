"""HTTP mode: a WSGI app (``POST /slack/events``, ``GET /healthz``, ``GET /metrics``) on waitress.

The same server, without the Slack path, is the metrics and health port of ``socket`` (and
of ``serve`` when ``METRICS_PORT`` keeps ``/metrics`` off the public port).
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Self

from prometheus_client import make_wsgi_app
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot import metrics as sitrep_metrics
from bot.slack import wire
from bot.slack.health import SlackHealth
from storage.db import Database

if TYPE_CHECKING:
    from bot.inbox import Inbox

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
#: Larger than anything Slack sends (a message is at most 40,000 characters, a modal's
#: state a few hundred KB); a bigger body is refused unread.
MAX_BODY = 4 * 1024 * 1024


def _answer(start_response: Callable[..., Any], status: str, body: bytes = b"",
            content_type: str = "text/plain") -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _kind_unread(environ: dict[str, Any], raw: bytes) -> str:
    """The metrics' kind of a refused request, guessed without parsing what nobody signed."""
    if (environ.get("CONTENT_TYPE") or "").startswith("application/json"):
        return "event"
    if raw.startswith(b"payload=") or b"&payload=" in raw:
        return "interaction"
    if raw.startswith(b"command=") or b"&command=" in raw:
        return "command"
    return "other"


class SlackGate:
    """Before Bolt: the signature on the raw body, then the body's shape.

    Bolt parses a body before it checks its signature, so unsigned garbage used to reach
    ``json.loads`` and answer 500 with a traceback. Here a request whose signature or
    timestamp (5 minutes either way) does not verify is answered 401 unread
    (https://docs.slack.dev/authentication/verifying-requests-from-slack).

    A signed body that no redelivery can fix (``wire.check``) is answered once, with one
    log line. An Events API delivery gets 200: Slack retries *every* answer that is not
    2xx (https://docs.slack.dev/apis/events-api/, "Failure conditions"), and counts each
    failure towards disabling the app's event subscriptions; a 4xx would only buy three
    identical retries. A slash command or interaction gets 400: Slack never retries those,
    and the person sees the command fail rather than silence. 500 keeps one meaning: "could
    not store it now, please redeliver".
    """

    def __init__(self, signing_secret: str, handler: Callable[..., Iterable[bytes]]) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.handler = handler

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return self._refuse(start_response, "413 Payload Too Large", "body too large")
        raw = environ["wsgi.input"].read(length) if length else b""
        if not self._signed(environ, raw):
            sitrep_metrics.REQUESTS.labels(_kind_unread(environ, raw), "401").inc()
            log.info("refused a request to %s: signature or timestamp does not verify",
                     EVENTS_PATH)
            return _answer(start_response, "401 Unauthorized", b"invalid signature")
        try:
            body = raw.decode("utf-8")
            wire.check(body, environ.get("CONTENT_TYPE"))
        except (UnicodeDecodeError, wire.Malformed) as exc:
            events = exc.events if isinstance(exc, wire.Malformed) else True
            reason = exc.reason if isinstance(exc, wire.Malformed) else "body is not UTF-8"
            status = "200 OK" if events else "400 Bad Request"
            sitrep_metrics.REQUESTS.labels("event" if events else "other",
                                           status[:3]).inc()
            log.warning("signed request with a malformed body answered %s (%s); not "
                        "processed", status[:3], reason)
            return _answer(start_response, status)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        return self.handler(environ, start_response)

    def _signed(self, environ: dict[str, Any], raw: bytes) -> bool:
        try:
            return self.verifier.is_valid(raw, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                                          environ.get("HTTP_X_SLACK_SIGNATURE"))
        except (ValueError, UnicodeDecodeError):  # a timestamp that is no number, bad bytes
            return False

    @staticmethod
    def _refuse(start_response: Callable[..., Any], status: str, why: str) -> list[bytes]:
        sitrep_metrics.REQUESTS.labels("other", status[:3]).inc()
        log.info("refused a request to %s: %s", EVENTS_PATH, why)
        return _answer(start_response, status)


def health_report(db: Database, health: SlackHealth | None,
                  inbox: Inbox | None = None) -> tuple[bool, dict[str, Any]]:
    """``/healthz``: (keep this replica in the load balancer, the JSON body).

    The status says whether Slack's requests should keep coming here. While the database is
    away a replica with an inbox (``bot.inbox``) still keeps every event Slack sends and
    tells commands the truth ("unavailable, try again"), and every replica shares that one
    database: a 503 would make the load balancer drop them all, and Slack's events with
    them once its retries run out. So only a replica that can neither reach the database
    nor read its inbox answers 503. The body says what is wrong (``"ok": false``) for
    monitoring: ``"database": "unavailable"``, or Slack's problems with the app itself (a
    revoked token, the Messages tab off, a missing scope), which are the same on every
    replica too. ``"inbox"`` is the number of events answered but not applied yet: it grows
    while the database is away and drains when it is back.
    """
    database_ok = db.healthy()
    problems = [p.as_json() for p in health.problems()] if health is not None else []
    report: dict[str, Any] = {"ok": database_ok and not problems,
                              "database": "ok" if database_ok else "unavailable",
                              "slack": problems or "ok"}
    inbox_ok = inbox is not None and inbox.spool.healthy()
    if inbox is not None:
        report["inbox"] = inbox.spool.depth if inbox_ok else "unavailable"
        report["ok"] = report["ok"] and inbox_ok
    return database_ok or inbox_ok, report


def wsgi_app(app: App | None, db: Database, metrics: bool = True,
             health: SlackHealth | None = None,
             inbox: Inbox | None = None) -> Callable[..., Iterable[bytes]]:
    """Route Slack's requests to Bolt (when ``app`` is given) through the ``SlackGate``,
    answer health checks (with what ``health`` knows of Slack's view of the app and the
    inbox's depth) and, with ``metrics``, ``GET /metrics`` (Prometheus' text format)."""
    slack = None
    if app is not None:
        # Bolt keeps the secret it verifies with; the gate checks with the same one.
        slack = SlackGate(app._signing_secret,
                          SlackRequestHandler(app, path=EVENTS_PATH))
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
            if environ.get("REQUEST_METHOD") != "POST":
                return _answer(start_response, "405 Method Not Allowed")
            return slack(environ, start_response)
        if path == "/metrics" and prometheus is not None:
            return prometheus(environ, start_response)
        body = b"not found"
        start_response("404 Not Found", [("Content-Type", "text/plain"),
                                         ("Content-Length", str(len(body)))])
        return [body]

    return application


class Waitress:
    """A waitress server for ``wsgi``, in a background thread (``start``/``stop``) or in the
    calling one (``serve_forever``). ``Server`` (Slack, health, metrics) and the web view's
    own server (``bot.web.serve``) are two of these."""

    def __init__(self, wsgi: Any, *, host: str, port: int, threads: int, ident: str,
                 connection_limit: int, backlog: int = 1024) -> None:
        from waitress.server import create_server

        self._server = create_server(wsgi, host=host, port=port, threads=threads, ident=ident,
                                     channel_timeout=30, connection_limit=connection_limit,
                                     backlog=backlog)
        # waitress reports the port as getnameinfo() gives it: a string.
        self.port = int(self._server.effective_port)  # type: ignore[union-attr]
        self.host = host
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}"
        self._ident = ident
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"waitress-{self._ident}")
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


class Server(Waitress):
    """Sitrep's own server: Slack's requests, ``/healthz`` and ``/metrics`` (tests, the demo and
    the metrics port run it in a background thread; ``serve`` in the calling one)."""

    def __init__(self, app: App | None, db: Database, host: str = "127.0.0.1", port: int = 0,
                 threads: int = 16, metrics: bool = True,
                 health: SlackHealth | None = None, inbox: Inbox | None = None) -> None:
        super().__init__(wsgi_app(app, db, metrics, health, inbox), host=host, port=port,
                         threads=threads, ident="sitrep", connection_limit=1000)
