"""The inbox: answer each event after one durable local append, apply it afterwards.

Why: Slack wants an answer within 3 s and redelivers only three times in about five
minutes. Applying an event before answering ties the answer to the database (an outage
longer than Slack's retries loses the event) and to Slack's own Web API (a pin of a message
the bot never saw reads ``conversations.history``, which Slack rate-limits). So a listener
only appends the event to the spool (``storage.spool``, fsync'd) and returns; Bolt answers
200, over HTTP and Socket Mode alike, because the append happens in the listener.

One worker thread per process then applies the entries, in Slack's event-time order per
channel:

- the change commits to the main database with the event id claimed in the same
  transaction (``processed_events``), so an entry applied twice — by a redelivery to another
  replica, or after a crash between the commit and the spool's delete — changes nothing the
  second time; the entry is deleted from the spool after the commit;
- while the database is unreachable the worker waits, doubling its pause up to
  ``max_backoff``, and keeps everything;
- a Slack read that is rate-limited (or fails transiently) is tried again later, after
  Slack's ``Retry-After`` or a doubling pause; only its channel's later events wait for it;
- entries left by a previous run are applied when the process starts.

Commands, buttons, forms and health checks never pass through here: they have their own
workers (``Deps.after_ack``, the HTTP server's threads), so a stalled event never delays them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.common.clock import Clock
from bot.slack.client import error_code
from storage.db import is_unavailable
from storage.spool import Entry, Spool

log = logging.getLogger(__name__)

#: ``handler(client, body, event, hint)``: apply one event; raise to have it tried again.
Handler = Callable[[WebClient, dict[str, Any], dict[str, Any], "str | None"], object]

#: Slack errors that may go away: the entry waits and is tried again.
TRANSIENT_SLACK_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error",
                                    "service_unavailable", "request_timeout"})
#: Failures of an entry's own (a bug, a payload no handler can take) before it is set aside.
MAX_ATTEMPTS = 8
#: Longest pause before an entry whose Slack read failed is tried again (seconds).
MAX_SLACK_BACKOFF = 300.0


def event_time(body: dict[str, Any]) -> float:
    """Slack's time for an event: its ``event_ts`` (microseconds), else ``event_time``."""
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    for raw in (event.get("event_ts"), body.get("event_time")):
        try:
            return float(raw)
        except (TypeError, ValueError):
            continue
    return 0.0


def event_channel(event: dict[str, Any]) -> str:
    """The channel an event belongs to: reactions name it in ``item``."""
    item = event.get("item") if isinstance(event.get("item"), dict) else {}
    return str(event.get("channel") or item.get("channel") or "")


class Inbox:
    """The spool and its worker."""

    def __init__(self, spool: Spool, client: WebClient, clock: Clock, *,
                 max_backoff: float = 30.0, poll: float = 1.0) -> None:
        self.spool = spool
        self.client = client
        self.clock = clock
        self.max_backoff = max_backoff
        self.poll = poll
        self._handlers: dict[str, Handler] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._busy = False
        self._rounds = 0
        #: The database was unreachable at the last try (the worker is pausing).
        self.outage = False
        self._thread: threading.Thread | None = None
        #: Run once, successfully, before the first entry is applied (see ``lifecycle``: a
        #: process started during an outage migrates the database when it is back).
        self.prepare: Callable[[], object] | None = None
        metrics.INBOX_DEPTH.set_function(lambda: self.spool.depth)

    # -- the listener's side ------------------------------------------------------------------
    def handle(self, event_type: str, handler: Handler) -> None:
        """Apply events of ``event_type`` with ``handler`` (one per type)."""
        self._handlers[event_type] = handler

    def accept(self, body: dict[str, Any], hint: str | None = None) -> None:
        """Append ``body`` durably and wake the worker. Raises if the append failed (a full
        disk): Bolt then answers 500 and Slack redelivers."""
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        self.spool.append(body, channel=event_channel(event), event_time=event_time(body),
                          now=self.clock.now().timestamp(), hint=hint)
        if not self.outage:  # during an outage the worker's own pause decides when to look
            self._wake.set()

    # -- the worker -----------------------------------------------------------------------------
    def start(self) -> Inbox:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sitrep-inbox", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Finish the entry being applied, then stop; the rest waits in the file."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.spool.close()

    def poke(self) -> None:
        """Look again now (after the clock moved, in tests)."""
        self._wake.set()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing can be applied now: all applied, or waiting for a later try
        or for the database. For tests and the sandbox; False on timeout."""
        start = self._rounds
        self.poke()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._rounds > start and not self._busy and not self._wake.is_set() and (
                    self.outage or not self.spool.ready(self._now(), limit=1)):
                return True
            time.sleep(0.005)
        return False

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _run(self) -> None:
        pause = 0.0
        while not self._stopping.is_set():
            self._wake.clear()
            self._busy = True
            try:
                down = self.drain()
            except Exception:  # the spool itself failed: say so, and try again later
                log.exception("the inbox could not be read")
                down = True
            finally:
                self._busy = False
                self._rounds += 1
            if down:
                pause = min(self.max_backoff, max(pause * 2, 0.05))
                self._wake.wait(pause)  # new events do not wake it (see ``accept``)
                continue
            pause = 0.0
            self._wake.wait(self.poll)

    def drain(self) -> bool:
        """Apply every entry that is ready now; True if the database was unreachable."""
        if self.prepare is not None:
            try:
                self.prepare()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                self.outage = True
                return True
            self.prepare = None
        while not self._stopping.is_set():
            batch = self.spool.ready(self._now())
            if not batch:
                self.outage = False
                return False
            held: set[str] = set()
            for entry in batch:
                if self._stopping.is_set():
                    return False
                if entry.channel in held:
                    continue  # an earlier event of its channel waits: keep the order
                outcome = self._apply(entry)
                if outcome == "unavailable":
                    self.outage = True
                    return True
                if outcome == "later":
                    held.add(entry.channel)
            self.outage = False
        return False

    def _apply(self, entry: Entry) -> str:
        """``done``, ``later`` (tried again after a pause) or ``unavailable`` (database)."""
        event = entry.body.get("event") if isinstance(entry.body.get("event"), dict) else {}
        handler = self._handlers.get(str(event.get("type")))
        started = time.perf_counter()
        try:
            if handler is not None:
                handler(self.client, entry.body, event, entry.hint)
        except Exception as exc:
            return self._failed(entry, exc)
        self.spool.done(entry.id)
        metrics.INBOX_APPLIED.labels("applied").inc()
        metrics.INBOX_APPLY_SECONDS.observe(time.perf_counter() - started)
        return "done"

    def _failed(self, entry: Entry, exc: Exception) -> str:
        now = self._now()
        if is_unavailable(exc):
            log.warning("database unavailable; %d events wait in the inbox (%s)",
                        self.spool.depth, exc.__class__.__name__)
            metrics.INBOX_APPLIED.labels("database_unavailable").inc()
            return "unavailable"
        if isinstance(exc, SlackApiError) and error_code(exc) in TRANSIENT_SLACK_ERRORS:
            wait = retry_after(exc) or min(MAX_SLACK_BACKOFF, 2.0 ** (entry.attempts + 1))
            log.info("event %s waits %.0f s: Slack answered %s", entry.event_id, wait,
                     error_code(exc))
            self.spool.defer(entry.id, now + wait, error_code(exc) or "slack")
            metrics.INBOX_APPLIED.labels("slack_later").inc()
            return "later"
        if entry.attempts + 1 >= MAX_ATTEMPTS:
            log.error("event %s failed %d times; set aside in the inbox's dead table",
                      entry.event_id, entry.attempts + 1, exc_info=exc)
            self.spool.bury(entry.id, repr(exc), now)
            metrics.INBOX_APPLIED.labels("failed").inc()
            return "done"
        log.warning("applying event %s failed; trying again later", entry.event_id,
                    exc_info=exc)
        self.spool.defer(entry.id, now + min(MAX_SLACK_BACKOFF, 2.0 ** (entry.attempts + 1)),
                         repr(exc))
        metrics.INBOX_APPLIED.labels("error").inc()
        return "later"


def retry_after(exc: SlackApiError) -> float | None:
    """Slack's ``Retry-After`` (seconds) on a rate-limited answer."""
    headers = getattr(exc.response, "headers", None) or {}
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            try:
                return max(1.0, float(value if not isinstance(value, list) else value[0]))
            except (TypeError, ValueError):
                return None
    return None
