"""What every listener needs: settings, the database and a clock."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.clock import Clock, SystemClock
from bot.settings import Settings
from storage.db import Database

if TYPE_CHECKING:
    from bot.people import People


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    people: People = field(init=False)
    #: Work that runs after Slack has been answered (slash commands, confirmations).
    after_ack: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        from bot.people import People

        self.people = People(self)
        self.after_ack = ThreadPoolExecutor(max_workers=16, thread_name_prefix="sitrep-work")

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Deps:
        db = Database(settings.database_url, settings.pool)
        return cls(settings=settings, db=db, clock=clock or SystemClock())
