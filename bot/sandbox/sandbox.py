"""A whole Sitrep on loopback: fake Slack, database, the real Bolt app, a simulator.

The Bolt app takes Slack's requests over HTTP (``transport="http"``, as ``incident-bot
serve``) or over Socket Mode (``transport="socket"``, as ``incident-bot socket``: the bot's
own Socket Mode connection to the fake's WebSocket). The demo, the end-to-end tests and the
benchmark all run on this, so what they exercise is what those commands run.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot import lifecycle
from bot.app import build_app
from bot.common.clock import Clock, SystemClock
from bot.deps import Deps
from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.fakeslack.manifest import AppManifest
from bot.sandbox.simulator import SlackSimulator
from bot.server import Server
from bot.settings import Settings
from bot.socket_mode import SocketModeConnection
from storage.db import Database

SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-fake"
APP_TOKEN = "xapp-1-A0BOT-1-sandbox"
#: How the app hears from Slack: signed HTTP requests, or Socket Mode envelopes.
TRANSPORTS = ("http", "socket")

#: People in the fake workspace: id → (name, real name, time zone, offset seconds).
PEOPLE = {
    "U0LEAD": ("lee", "Lee Lead", "Europe/Paris", 3600),
    "U0ALICE": ("alice", "Alice Anders", "America/New_York", -18000),
    "U0BOB": ("bob", "Bob Brown", "Pacific/Auckland", 46800),
    "U0CARA": ("cara", "Cara Chen", "Pacific/Honolulu", -36000),
}


class Sandbox:
    """Start with ``with Sandbox(database_url) as sb:``; ``sb.sim`` sends, ``sb.fake`` records."""

    def __init__(self, database_url: str, *, clock: Clock | None = None,
                 migrate: bool = True, seed: int | None = None,
                 manifest: AppManifest | None = None, transport: str = "http",
                 **settings: Any) -> None:
        """``manifest``: the app as installed (default: the project's ``manifest.yml``);
        ``transport``: ``"http"`` or ``"socket"``."""
        if transport not in TRANSPORTS:
            raise ValueError(f"transport is one of {TRANSPORTS}")
        self.transport = transport
        self.connection: SocketModeConnection | None = None
        self._clock = clock or SystemClock()
        self.fake = FakeSlack(bot_token=BOT_TOKEN, clock=self._now, seed=seed,
                              manifest=manifest)
        self.fake.app_token = APP_TOKEN
        self._database_url = database_url
        self._migrate = migrate
        self._overrides = settings
        self.server: Server | None = None
        self._own_spool: str | None = None

    def _now(self) -> float:
        """The bot's clock in epoch seconds, so the fake stamps messages in the same time."""
        deps = getattr(self, "deps", None)
        return (deps.clock if deps is not None else self._clock).now().timestamp()

    def start(self) -> Sandbox:
        self.fake.start()
        for user_id, (name, real, tz, offset) in PEOPLE.items():
            self.fake.add_user(user_id, name, real_name=real, display_name=name, tz=tz,
                               tz_offset=offset)
        self.general = self.fake.add_channel("general", members=list(PEOPLE))
        overrides = dict(self._overrides)
        if "spool_dir" not in overrides:  # each sandbox its own inbox, removed on stop
            self._own_spool = tempfile.mkdtemp(prefix="sitrep-spool-")
            overrides["spool_dir"] = Path(self._own_spool)
        self.settings = dataclasses.replace(
            Settings(), bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET,
            app_token=APP_TOKEN, api_url=self.fake.url, database_url=self._database_url,
            **overrides)
        self.db = Database(self.settings.database_url, self.settings.pool)
        if self._migrate:
            self.db.migrate()
        self.deps = Deps(settings=self.settings, db=self.db, clock=self._clock)
        self.executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="sitrep-listener")
        self.app = build_app(self.deps, executor=self.executor)
        self.running = lifecycle.Running(self.deps, self.app, self.executor)
        # Over Socket Mode the HTTP server still answers /healthz (as METRICS_PORT does).
        self.server = Server(self.app, self.db, health=self.deps.slack_health,
                             inbox=self.deps.inbox).start()
        if self.transport == "socket":
            self.connection = SocketModeConnection(self.app, APP_TOKEN, api_url=self.fake.url,
                                                   on_unacked=self.fake.socket_unacked)
            self.connection.connect()
            self.fake.wait_socket_connections()
        self.inbox = self.deps.inbox
        assert self.inbox is not None
        self.sim = SlackSimulator(self.server.url, SIGNING_SECRET, team_id=self.fake.team_id,
                                  bot_user_id=self.fake.bot_user_id, fake=self.fake,
                                  transport=self.transport, settle=self.inbox.wait_idle)
        return self

    def _stop_intake(self) -> None:
        """What ``shutdown`` closes first: the Socket Mode connection, then the HTTP port."""
        if self.connection is not None:
            self.connection.close()
        if self.server is not None:
            self.server.stop()

    def stop(self) -> None:
        """Stop as ``serve`` does (``lifecycle.shutdown``), then the fake Slack."""
        if self.server:
            lifecycle.shutdown(self.running, self._stop_intake)
        elif getattr(self, "db", None) is not None:
            self.db.dispose()
        self.fake.stop()
        if self._own_spool:
            shutil.rmtree(self._own_spool, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def incident_channel(self, number: int) -> dict[str, Any]:
        """The fake channel created for ``INC-<number>`` (waits for it to exist)."""
        prefix = f"{self.settings.channel_prefix}-{number}-"

        def find() -> dict[str, Any] | None:
            return next((c for c in list(self.fake.channels.values())
                         if str(c.get("name") or "").startswith(prefix)), None)

        self.fake.wait_for(lambda: find() is not None)
        channel = find()
        assert channel is not None, f"no channel for INC-{number}"
        return channel
