"""What every listener needs: settings, the database and a clock."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot import metrics
from bot.common.clock import Clock, SystemClock
from bot.settings import Settings
from bot.slack.channels import ChannelIds
from bot.slack.health import SlackHealth
from bot.slack.members import ChannelMembers
from bot.slack.people import People
from storage.db import Database

if TYPE_CHECKING:
    from bot.inbox import Inbox

log = logging.getLogger(__name__)


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    people: People = field(init=False)
    #: Channel names (``ANNOUNCE_CHANNEL``) resolved to ids, once.
    channels: ChannelIds = field(init=False)
    #: Who is in a private incident's channel (``conversations.members``, cached briefly).
    members: ChannelMembers = field(init=False)
    #: What Slack thinks of Sitrep itself (token, scopes, Messages tab); see /healthz.
    slack_health: SlackHealth = field(init=False)
    #: Work that runs after Slack has been answered (slash commands, confirmations).
    after_ack: ThreadPoolExecutor = field(init=False)
    #: Events answered after one durable append and applied by its worker (``bot.inbox``);
    #: set by ``build_app``.
    inbox: Inbox | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.people = People(self)
        self.channels = ChannelIds()
        self.members = ChannelMembers(self.clock)
        self.slack_health = SlackHealth(self.clock)
        self.after_ack = ThreadPoolExecutor(max_workers=16, thread_name_prefix="sitrep-work")

    def run_after_ack(self, work: Callable[..., object], *args: object) -> None:
        """Run ``work(*args)`` once Slack has its answer.

        A plain pool rather than a Bolt lazy listener, which deep-copies every request and
        made acks several times slower than a bare Bolt app's. Failures are logged. The
        queue's depth and the work running are the ``sitrep_work_*`` gauges.
        """

        def run() -> None:
            metrics.WORK_QUEUED.dec()
            metrics.WORK_RUNNING.inc()
            try:
                work(*args)
            except Exception:
                log.exception("work after an ack failed")
            finally:
                metrics.WORK_RUNNING.dec()

        metrics.WORK_QUEUED.inc()
        try:
            self.after_ack.submit(run)
        except RuntimeError:  # the pool is shutting down: nothing will run it
            metrics.WORK_QUEUED.dec()
            raise

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Deps:
        db = Database(settings.database_url, settings.pool)
        return cls(settings=settings, db=db, clock=clock or SystemClock())
