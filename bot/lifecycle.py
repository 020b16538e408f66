"""Starting and stopping a long-running Sitrep (``serve``, ``socket``): one way in, one way out.

Start: the database is migrated (under a lock, so replicas started together take turns:
``storage.db``), the Bolt app gets its own listener pool, the scheduler starts, and with
``METRICS_PORT`` a small server answers ``GET /metrics`` and ``GET /healthz`` there.

Stop, on SIGTERM or Ctrl-C, in this order, all of it within ``SHUTDOWN_GRACE``:

1. take no new work: the caller's ``stop_intake`` closes the listening socket or the Socket
   Mode connection;
2. finish the work already acknowledged: Bolt's listener pool, then ``Deps.after_ack``
   (replies to commands, buttons and forms that Slack was told are under way), then the
   inbox's worker finishes the event it is applying (the rest stays in ``SPOOL_DIR`` and is
   applied at the next start);
3. stop the scheduler (a reminder pass in flight finishes; its leases make even a cut-short
   pass safe);
4. close the metrics port and the database pool.

The sandbox stops the same way, so the tests exercise this path on every run.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from apscheduler.schedulers.base import BaseScheduler
from slack_bolt import App

from bot.app import build_app
from bot.background import start_background
from bot.deps import Deps
from bot.inbox import Inbox
from bot.server import Server
from bot.settings import Settings
from bot.slack.client import make_client
from storage.db import is_unavailable
from storage.spool import Spool

log = logging.getLogger(__name__)

#: Seconds that stopping may take in all: below Kubernetes' 30 s between SIGTERM and SIGKILL.
SHUTDOWN_GRACE = 25.0
#: Exit status when the grace ran out with work still running.
EXIT_CUT_SHORT = 1


@dataclass
class Running:
    """What a running process must stop: the parts ``start`` made."""

    deps: Deps
    app: App
    listeners: ThreadPoolExecutor
    background: BaseScheduler | None = None
    metrics: Server | None = None


def start(settings: Settings) -> Running:
    """Migrate, build the app and start the background jobs (and the metrics port)."""
    deps = Deps.from_settings(settings)
    spool = Spool(settings.spool_dir)
    migrated = _migrate(deps, spool)
    listeners = ThreadPoolExecutor(max_workers=16, thread_name_prefix="sitrep-listener")
    deps.inbox = Inbox(spool, make_client(settings, deps.slack_health), deps.clock)
    app = build_app(deps, client=deps.inbox.client, executor=listeners)
    if not migrated:
        deps.inbox.prepare = deps.db.migrate
    running = Running(deps, app, listeners, start_background(deps, app.client))
    if settings.metrics_port:
        running.metrics = Server(None, deps.db, host=settings.host, port=settings.metrics_port,
                                 health=deps.slack_health, inbox=deps.inbox).start()
        log.info("metrics and health on %s (GET /metrics, GET /healthz)", running.metrics.url)
    return running


#: Spool fact: this process (or one before it with the same SPOOL_DIR) reached the database.
DATABASE_SEEN = "database_seen"


def _migrate(deps: Deps, spool: Spool) -> bool:
    """Migrate now; False if the database is unreachable on a restart.

    A first start with an unreachable database is a configuration to fix: it raises (the
    CLI prints one line and exits 3). A restart during an outage — its ``SPOOL_DIR`` saw
    the database before — starts anyway: it answers events into the inbox, commands hear
    "unavailable", and the inbox's worker migrates before applying anything once the
    database is back. Otherwise Slack's events would be refused for the whole outage and
    dropped after Slack's last retry.
    """
    try:
        deps.db.migrate()
    except Exception as exc:
        if not is_unavailable(exc) or spool.recall(DATABASE_SEEN) is None:
            raise
        log.warning("database unreachable at start (%s): events are kept in the inbox and "
                    "the database is migrated when it is back", exc.__class__.__name__)
        return False
    spool.remember(DATABASE_SEEN, deps.clock.now().isoformat())
    return True


def _interrupt(_signum: int, _frame: object) -> None:
    """SIGTERM ends the main loop as Ctrl-C does."""
    raise KeyboardInterrupt


def run_until_stopped(block: Callable[[], object]) -> None:
    """Run ``block`` (a server loop, a wait) until SIGTERM or Ctrl-C ends it."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        block()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def shutdown(running: Running, stop_intake: Callable[[], object],
             grace: float = SHUTDOWN_GRACE) -> bool:
    """Stop as the module says; False if the grace ran out with work still running."""
    deadline = time.monotonic() + grace
    log.info("stopping: taking no new work, finishing what was acknowledged")
    try:
        stop_intake()
    except Exception:
        log.exception("closing the connection to Slack failed; stopping anyway")
    steps: list[tuple[str, Callable[[], object]]] = [
        ("Bolt's listeners", running.listeners.shutdown),
        ("work after acks", running.deps.after_ack.shutdown),
    ]
    if running.deps.inbox is not None:
        steps.append(("the inbox's worker", running.deps.inbox.stop))
    if running.background is not None:
        steps.append(("background jobs", running.background.shutdown))
    finished = True
    for what, stop in steps:
        finished = _wait(what, stop, deadline) and finished
    if running.metrics is not None:
        running.metrics.stop()
    running.deps.db.dispose()
    log.info("stopped" if finished else "stopped, with work cut short")
    return finished


def _wait(what: str, stop: Callable[[], object], deadline: float) -> bool:
    """Run ``stop`` (a blocking shutdown) until ``deadline``; False if it is still running."""
    thread = threading.Thread(target=stop, name=f"stopping {what}", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        log.warning("%s did not finish within the shutdown grace", what)
        return False
    return True


def exit_now(status: int) -> None:
    """Exit without waiting for pool threads still running (the interpreter would)."""
    logging.shutdown()
    os._exit(status)
